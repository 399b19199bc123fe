using System.Numerics;
using static P2PEnergy.Ethereum.Tests.TestUtil;

namespace P2PEnergy.Ethereum.Tests;

/// <summary>Round-trip properties over seeded random inputs (fixed seeds: failures reproduce).</summary>
public class PropertyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Sign_then_recover_gives_the_signer(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            var key = EthKey.FromPrivateKey(RandomKeyBytes(random));
            var hash = new byte[32];
            random.NextBytes(hash);
            var signature = key.Sign(hash);
            Assert.True(signature.IsLowS);
            Assert.Equal(key.Address, EthKey.RecoverAddress(hash, signature));
            Assert.Equal(key.PublicKey, EthKey.RecoverPublicKey(hash, signature));
            Assert.Equal(signature, EcdsaSignature.FromBytes65(signature.ToBytes65()));
            // Deterministic nonce: signing again gives the same signature.
            Assert.Equal(signature, key.Sign(hash));

            // A different hash recovers some other address.
            hash[0] ^= 1;
            Assert.NotEqual(key.Address, EthKey.RecoverAddress(hash, signature));
        }
    }

    private static byte[] RandomKeyBytes(Random random)
    {
        var bytes = new byte[32];
        random.NextBytes(bytes);
        bytes[0] &= 0x7f; // stays below the curve order
        bytes[31] |= 1;   // and above zero
        return bytes;
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void Rlp_decode_of_encode_is_identity(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 200; i++)
        {
            var item = RandomRlp(random, depth: 0);
            var encoded = Rlp.Encode(item);
            Assert.Equal(Rlp.EncodedLength(item), encoded.Length);
            Assert.Equal(item, Rlp.Decode(encoded));
        }
    }

    private static RlpItem RandomRlp(Random random, int depth)
    {
        if (depth > 3 || random.Next(3) > 0)
        {
            // Lengths around the 1-byte / 55-byte / long-form boundaries.
            int length = random.Next(6) switch
            {
                0 => 0,
                1 => 1,
                2 => random.Next(54, 58),
                3 => random.Next(250, 300),
                _ => random.Next(2, 40),
            };
            var bytes = new byte[length];
            random.NextBytes(bytes);
            return new RlpString(bytes);
        }
        int count = random.Next(0, depth == 0 ? 30 : 6);
        return new RlpList(Enumerable.Range(0, count).Select(_ => RandomRlp(random, depth + 1)).ToArray());
    }

    [Theory]
    [InlineData(20)]
    [InlineData(21)]
    [InlineData(22)]
    public void Abi_decode_of_encode_is_identity(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 150; i++)
        {
            var types = Enumerable.Range(0, random.Next(1, 5)).Select(_ => RandomType(random, 0)).ToArray();
            var values = types.Select(t => RandomValue(random, t)).ToArray();
            var encoded = Abi.Encode(types, values);
            Assert.Equal(0, encoded.Length % 32);
            var decoded = Abi.Decode(types, encoded);
            AssertAbiEqual(values, decoded);

            // The canonical name re-parses to the same type.
            foreach (var type in types)
            {
                Assert.Equal(type, AbiType.Parse(type.CanonicalName));
            }
        }
    }

    private static AbiType RandomType(Random random, int depth)
    {
        int choice = random.Next(depth > 2 ? 7 : 10);
        return choice switch
        {
            0 => AbiType.UInt(8 * random.Next(1, 33)),
            1 => AbiType.Int(8 * random.Next(1, 33)),
            2 => AbiType.Address,
            3 => AbiType.Bool,
            4 => AbiType.FixedBytes(random.Next(1, 33)),
            5 => AbiType.Bytes,
            6 => AbiType.String,
            7 => AbiType.ArrayOf(RandomType(random, depth + 1)),
            8 => AbiType.FixedArrayOf(RandomType(random, depth + 1), random.Next(1, 4)),
            _ => AbiType.Tuple(Enumerable.Range(0, random.Next(1, 4)).Select(_ => RandomType(random, depth + 1)).ToArray()),
        };
    }

    private static object? RandomValue(Random random, AbiType type)
    {
        switch (type)
        {
            case AbiUIntType u:
                return random.Next(4) == 0 ? u.MaxValue : RandomBigInteger(random, u.Bits);
            case AbiIntType i:
                return random.Next(5) switch
                {
                    0 => i.MinValue,
                    1 => i.MaxValue,
                    _ => RandomBigInteger(random, i.Bits - 1) * (random.Next(2) == 0 ? -1 : 1),
                };
            case AbiAddressType:
                var address = new byte[20];
                random.NextBytes(address);
                return new Address(address);
            case AbiBoolType:
                return random.Next(2) == 0;
            case AbiFixedBytesType fb:
                var fixedBytes = new byte[fb.Size];
                random.NextBytes(fixedBytes);
                return fixedBytes;
            case AbiBytesType:
                var bytes = new byte[random.Next(0, 70)];
                random.NextBytes(bytes);
                return bytes;
            case AbiStringType:
                const string alphabet = "abcXYZ 0123 äöü€⚡日本";
                return new string(Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            case AbiArrayType a:
                return Enumerable.Range(0, random.Next(0, 4)).Select(_ => RandomValue(random, a.Element)).ToArray();
            case AbiFixedArrayType fa:
                return Enumerable.Range(0, fa.Length).Select(_ => RandomValue(random, fa.Element)).ToArray();
            case AbiTupleType t:
                return t.Components.Select(c => RandomValue(random, c)).ToArray();
            default:
                throw new NotSupportedException(type.ToString());
        }
    }

    private static BigInteger RandomBigInteger(Random random, int bits)
    {
        var bytes = new byte[(bits + 7) / 8];
        random.NextBytes(bytes);
        return new BigInteger(bytes, isUnsigned: true) & ((BigInteger.One << bits) - 1);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(31)]
    public void Signed_transactions_decode_to_the_same_fields_and_sender(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 30; i++)
        {
            var key = EthKey.FromPrivateKey(RandomKeyBytes(random));
            Address? to = random.Next(4) == 0 ? null : (Address)RandomValue(random, AbiType.Address)!;
            var data = (byte[])RandomValue(random, AbiType.Bytes)!;
            var value = RandomBigInteger(random, random.Next(1, 256));
            ulong nonce = (ulong)random.NextInt64();
            ulong chainId = (ulong)random.Next(1, int.MaxValue);
            Transaction tx = random.Next(2) == 0
                ? new LegacyTransaction { Nonce = nonce, GasPrice = RandomBigInteger(random, 80), GasLimit = 21000, To = to, Value = value, Data = data, ChainId = random.Next(5) == 0 ? null : chainId }
                : new Eip1559Transaction { ChainId = chainId, Nonce = nonce, MaxPriorityFeePerGas = 7, MaxFeePerGas = RandomBigInteger(random, 70) + 7, GasLimit = 1_000_000, To = to, Value = value, Data = data };
            var signed = tx.Sign(key);
            var decoded = SignedTransaction.Decode(signed.RawBytes);
            Assert.Equal(tx.GetType(), decoded.Transaction.GetType());
            Assert.Equal(signed.RawHex, decoded.RawHex);
            Assert.Equal(tx.GetSigningHash(), decoded.Transaction.GetSigningHash());
            Assert.Equal(key.Address, decoded.RecoverSender());
            Assert.Equal(nonce, decoded.Transaction.Nonce);
            Assert.Equal(to, decoded.Transaction.To);
            Assert.Equal(value, decoded.Transaction.Value);
            Assert.Equal(data, decoded.Transaction.Data);
        }
    }

    [Theory]
    [InlineData(40)]
    public void Hex_quantities_and_data_round_trip(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            var value = RandomBigInteger(random, random.Next(1, 300));
            Assert.Equal(value, Hex.DecodeQuantity(Hex.EncodeQuantity(value)));
            var bytes = new byte[random.Next(0, 50)];
            random.NextBytes(bytes);
            Assert.Equal(bytes, Hex.Decode(Hex.Encode(bytes)));
            Assert.Equal(bytes, Hex.Decode(Hex.Encode(bytes).ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal)));
        }
    }
}
