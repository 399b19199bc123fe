using System.Globalization;
using System.Numerics;
using System.Text.Json;
using static P2PEnergy.Ethereum.Tests.TestUtil;

namespace P2PEnergy.Ethereum.Tests;

/// <summary>
/// Byte-for-byte agreement with ethers v6 (vectors/ethers-vectors.json, produced by vectors/generate.mjs).
/// Where we can decode, we also decode what ethers encoded.
/// </summary>
public class EthersVectorTests
{
    private static readonly JsonElement Vectors = Load();

    private static JsonElement Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "ethers-vectors.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static IEnumerable<JsonElement> Section(string name) => Vectors.GetProperty(name).EnumerateArray();

    private static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    private static BigInteger Int(JsonElement e) => e.ValueKind == JsonValueKind.Number
        ? BigInteger.Parse(e.GetRawText(), CultureInfo.InvariantCulture)
        : BigInteger.Parse(e.GetString()!, CultureInfo.InvariantCulture);

    [Fact]
    public void Vector_file_was_produced_by_ethers_6_and_is_not_empty()
    {
        Assert.StartsWith("ethers 6.", Vectors.GetProperty("generator").GetString(), StringComparison.Ordinal);
        Assert.True(Section("abi").Count() >= 20);
        Assert.True(Section("keys").Count() >= 5);
    }

    [Fact]
    public void Keys_give_the_same_public_key_address_and_signatures()
    {
        int signatures = 0;
        foreach (var vector in Section("keys"))
        {
            var key = EthKey.FromHex(Str(vector, "privateKey"));
            Assert.Equal(Str(vector, "publicKey"), ToHex(key.PublicKey));
            Assert.Equal(Str(vector, "address"), key.Address.ToString());
            foreach (var sig in vector.GetProperty("signatures").EnumerateArray())
            {
                var hash = H(Str(sig, "hash"));
                var signature = key.Sign(hash);
                Assert.Equal(Str(sig, "serialized"), ToHex(signature.ToBytes65()));
                Assert.Equal(sig.GetProperty("yParity").GetInt32(), signature.YParity);
                Assert.Equal(sig.GetProperty("v").GetInt32(), signature.V);
                Assert.True(signature.IsLowS);

                // And the other way: recover the signer from ethers' signature.
                var theirs = EcdsaSignature.FromBytes65(H(Str(sig, "serialized")));
                Assert.Equal(key.Address, EthKey.RecoverAddress(hash, theirs));
                signatures++;
            }
        }
        Assert.Equal(25, signatures);
    }

    [Fact]
    public void Legacy_transactions_sign_and_decode_identically()
    {
        foreach (var vector in Section("legacyTransactions"))
        {
            var fields = vector.GetProperty("fields");
            var tx = new LegacyTransaction
            {
                ChainId = (ulong)Int(fields.GetProperty("chainId")),
                Nonce = (ulong)Int(fields.GetProperty("nonce")),
                GasPrice = Int(fields.GetProperty("gasPrice")),
                GasLimit = (ulong)Int(fields.GetProperty("gasLimit")),
                To = ReadTo(fields),
                Value = Int(fields.GetProperty("value")),
                Data = H(Str(fields, "data")),
            };
            CheckTransaction(vector, tx);
            var decoded = Assert.IsType<LegacyTransaction>(SignedTransaction.Decode(Str(vector, "raw")).Transaction);
            Assert.Equal(tx.ChainId, decoded.ChainId);
            Assert.Equal(tx.GasPrice, decoded.GasPrice);
            Assert.Equal(tx.Value, decoded.Value);
            Assert.Equal(tx.To, decoded.To);
            Assert.Equal(tx.Data, decoded.Data);
        }
    }

    [Fact]
    public void Eip1559_transactions_sign_and_decode_identically()
    {
        foreach (var vector in Section("eip1559Transactions"))
        {
            var fields = vector.GetProperty("fields");
            var accessList = fields.GetProperty("accessList").EnumerateArray()
                .Select(e => new AccessListEntry(
                    Address.Parse(Str(e, "address")),
                    e.GetProperty("storageKeys").EnumerateArray().Select(k => H(k.GetString()!)).ToArray()))
                .ToArray();
            var tx = new Eip1559Transaction
            {
                ChainId = (ulong)Int(fields.GetProperty("chainId")),
                Nonce = (ulong)Int(fields.GetProperty("nonce")),
                MaxPriorityFeePerGas = Int(fields.GetProperty("maxPriorityFeePerGas")),
                MaxFeePerGas = Int(fields.GetProperty("maxFeePerGas")),
                GasLimit = (ulong)Int(fields.GetProperty("gasLimit")),
                To = ReadTo(fields),
                Value = Int(fields.GetProperty("value")),
                Data = H(Str(fields, "data")),
                AccessList = accessList,
            };
            CheckTransaction(vector, tx);
            var decoded = Assert.IsType<Eip1559Transaction>(SignedTransaction.Decode(Str(vector, "raw")).Transaction);
            Assert.Equal(tx.ChainId, decoded.ChainId);
            Assert.Equal(tx.MaxFeePerGas, decoded.MaxFeePerGas);
            Assert.Equal(tx.MaxPriorityFeePerGas, decoded.MaxPriorityFeePerGas);
            Assert.Equal(tx.AccessList.Count, decoded.AccessList.Count);
            for (int i = 0; i < tx.AccessList.Count; i++)
            {
                Assert.Equal(tx.AccessList[i].Address, decoded.AccessList[i].Address);
                Assert.Equal(tx.AccessList[i].StorageKeys.Select(ToHex), decoded.AccessList[i].StorageKeys.Select(ToHex));
            }
        }
    }

    private static Address? ReadTo(JsonElement fields) =>
        fields.GetProperty("to").ValueKind == JsonValueKind.Null ? null : Address.Parse(Str(fields, "to"));

    private static void CheckTransaction(JsonElement vector, Transaction tx)
    {
        var key = EthKey.FromHex(Str(vector, "privateKey"));
        Assert.Equal(Str(vector, "from"), key.Address.ToString());
        Assert.Equal(Str(vector, "unsignedSerialized"), ToHex(tx.GetSigningPayload()));
        Assert.Equal(Str(vector, "signingHash"), ToHex(tx.GetSigningHash()));
        var signed = tx.Sign(key);
        Assert.Equal(Str(vector, "raw"), signed.RawHex);
        Assert.Equal(Str(vector, "hash"), ToHex(signed.Hash));

        var decoded = SignedTransaction.Decode(Str(vector, "raw"));
        Assert.Equal(key.Address, decoded.RecoverSender());
        Assert.Equal(Str(vector, "hash"), ToHex(decoded.Hash));
        Assert.Equal(Str(vector, "raw"), decoded.RawHex);
        Assert.Equal(tx.Nonce, decoded.Transaction.Nonce);
        Assert.Equal(tx.GasLimit, decoded.Transaction.GasLimit);
    }

    [Fact]
    public void Abi_encodings_match_and_decode_back_to_the_values()
    {
        foreach (var vector in Section("abi"))
        {
            var types = vector.GetProperty("types").EnumerateArray().Select(t => AbiType.Parse(t.GetString()!)).ToArray();
            var values = types.Zip(vector.GetProperty("values").EnumerateArray(), (t, v) => AbiValue(t, v)).ToArray();
            var expected = Str(vector, "encoded");
            Assert.Equal(expected, ToHex(Abi.Encode(types, values)));
            AssertAbiEqual(values, Abi.Decode(types, H(expected)));
        }
    }

    /// <summary>Turns the JSON form of a value into our ABI value for that type.</summary>
    internal static object? AbiValue(AbiType type, JsonElement json) => type switch
    {
        AbiUIntType or AbiIntType => Int(json),
        AbiAddressType => Address.Parse(json.GetString()!),
        AbiBoolType => json.GetBoolean(),
        AbiFixedBytesType or AbiBytesType => H(json.GetString()!),
        AbiStringType => json.GetString(),
        AbiArrayType a => json.EnumerateArray().Select(e => AbiValue(a.Element, e)).ToArray(),
        AbiFixedArrayType fa => json.EnumerateArray().Select(e => AbiValue(fa.Element, e)).ToArray(),
        AbiTupleType t => t.Components.Zip(json.EnumerateArray(), (c, e) => AbiValue(c, e)).ToArray(),
        _ => throw new NotSupportedException(type.ToString()),
    };

    [Fact]
    public void Eip712_hashes_match()
    {
        foreach (var vector in Section("eip712"))
        {
            var types = vector.GetProperty("types").EnumerateObject().ToDictionary(
                p => p.Name,
                p => (IReadOnlyList<Eip712Field>)p.Value.EnumerateArray().Select(f => new Eip712Field(Str(f, "name"), Str(f, "type"))).ToArray());
            var primary = Str(vector, "primaryType");
            var d = vector.GetProperty("domain");
            var domain = new Eip712Domain
            {
                Name = d.TryGetProperty("name", out var n) ? n.GetString() : null,
                Version = d.TryGetProperty("version", out var v) ? v.GetString() : null,
                ChainId = d.TryGetProperty("chainId", out var c) ? Int(c) : null,
                VerifyingContract = d.TryGetProperty("verifyingContract", out var vc) ? Address.Parse(vc.GetString()!) : null,
                Salt = d.TryGetProperty("salt", out var s) ? H(s.GetString()!) : null,
            };
            var message = (IReadOnlyDictionary<string, object?>)StructValue(types, primary, vector.GetProperty("message"))!;

            Assert.Equal(Str(vector, "encodeType"), Eip712.EncodeType(types, primary));
            Assert.Equal(Str(vector, "typeHash"), ToHex(Eip712.HashType(types, primary)));
            Assert.Equal(Str(vector, "domainSeparator"), ToHex(Eip712.HashDomain(domain)));
            Assert.Equal(Str(vector, "structHash"), ToHex(Eip712.HashStruct(types, primary, message)));
            Assert.Equal(Str(vector, "hash"), ToHex(Eip712.Hash(domain, types, primary, message)));
        }
    }

    private static object? StructValue(Dictionary<string, IReadOnlyList<Eip712Field>> types, string type, JsonElement json)
    {
        if (type.EndsWith(']'))
        {
            var element = type[..type.LastIndexOf('[')];
            return json.EnumerateArray().Select(e => StructValue(types, element, e)).ToArray();
        }
        if (types.TryGetValue(type, out var fields))
        {
            return fields.ToDictionary(f => f.Name, f => StructValue(types, f.Type, json.GetProperty(f.Name)));
        }
        return AbiValue(AbiType.Parse(type), json);
    }

    [Fact]
    public void Personal_message_hashes_and_signatures_match()
    {
        var key = EthKey.FromHex("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
        int count = 0;
        foreach (var vector in Section("personal"))
        {
            byte[] message = vector.TryGetProperty("utf8", out var text)
                ? System.Text.Encoding.UTF8.GetBytes(text.GetString()!)
                : H(Str(vector, "bytes"));
            Assert.Equal(Str(vector, "hash"), ToHex(PersonalMessage.Hash(message)));
            Assert.Equal(Str(vector, "signature"), ToHex(PersonalMessage.Sign(key, message).ToBytes65()));
            Assert.Equal(key.Address, PersonalMessage.RecoverSigner(message, EcdsaSignature.FromBytes65(H(Str(vector, "signature")))));
            if (vector.TryGetProperty("utf8", out var t2))
            {
                Assert.Equal(Str(vector, "hash"), ToHex(PersonalMessage.Hash(t2.GetString()!)));
            }
            count++;
        }
        Assert.Equal(8, count);
    }

    [Fact]
    public void Function_selectors_and_event_topics_match()
    {
        foreach (var vector in Section("selectors"))
        {
            var function = new AbiFunction(Str(vector, "signature"));
            Assert.Equal(Str(vector, "signature"), function.Signature);
            Assert.Equal(Str(vector, "selector"), ToHex(function.Selector));
            Assert.Equal(Str(vector, "id"), ToHex(Keccak.Hash256Utf8(function.Signature)));
        }
        foreach (var vector in Section("topics"))
        {
            Assert.Equal(Str(vector, "topic"), ToHex(AbiEvent.ComputeTopic0(Str(vector, "signature"))));
        }
    }

    [Fact]
    public void Event_logs_encoded_by_ethers_decode_to_the_values()
    {
        foreach (var vector in Section("events"))
        {
            var abiEvent = AbiEvent.Parse(Str(vector, "declaration"));
            var topics = vector.GetProperty("topics").EnumerateArray().Select(t => H(t.GetString()!)).ToArray();
            var decoded = abiEvent.DecodeLog(topics, H(Str(vector, "data")));
            var json = vector.GetProperty("values").EnumerateArray().ToArray();
            Assert.Equal(abiEvent.Parameters.Count, decoded.Length);
            for (int i = 0; i < json.Length; i++)
            {
                var parameter = abiEvent.Parameters[i];
                var value = AbiValue(parameter.Type, json[i]);
                if (parameter.Indexed && parameter.Type is not AbiWordType)
                {
                    // Only the hash of an indexed string/bytes is in the log.
                    Assert.Equal(AbiEvent.EncodeTopic(parameter.Type, value), decoded[i]);
                }
                else
                {
                    AssertAbiEqual(value, decoded[i]);
                }
                if (parameter.Indexed)
                {
                    int topicIndex = 1 + abiEvent.Parameters.Take(i).Count(p => p.Indexed);
                    Assert.Equal(ToHex(topics[topicIndex]), ToHex(AbiEvent.EncodeTopic(parameter.Type, value)));
                }
            }
            Assert.Equal(ToHex(topics[0]), ToHex(abiEvent.Topic0));
        }
    }
}
