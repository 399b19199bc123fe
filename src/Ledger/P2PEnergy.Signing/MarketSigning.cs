using System.Buffers.Binary;
using System.Security.Cryptography;
using P2PEnergy.Ethereum;

namespace P2PEnergy.Signing;

/// <summary>
/// EIP-712 digests, signatures and signer recovery for the market's messages (<see cref="OrderMessage"/>,
/// <see cref="CancelOrderMessage"/>, <see cref="ReduceOrderMessage"/>) in a <see cref="MarketDomain"/>.
/// A signature is 65 bytes r || s || v with v = 27 or 28 (ethers' serialized form); only low-s
/// signatures (EIP-2, as OpenZeppelin's ECDSA.recover) are accepted, so each signed message has one
/// valid signature per key.
/// </summary>
public static class MarketSigning
{
    public const int SignatureLength = 65;

    public const string OrderType =
        "Order(address participant,uint64 clientOrderId,uint8 side,uint64 slot,uint64 energyWh,uint64 limitPriceTicks,uint8 product,uint8 source)";

    public const string CancelOrderType = "CancelOrder(address participant,uint64 orderId)";

    public const string ReduceOrderType = "ReduceOrder(address participant,uint64 orderId,uint64 reduceByWh)";

    /// <summary>The EIP-712 types (without EIP712Domain), for wallets and for <see cref="Eip712.Hash"/>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> Types { get; } = new Dictionary<string, IReadOnlyList<Eip712Field>>
    {
        ["Order"] =
        [
            new("participant", "address"),
            new("clientOrderId", "uint64"),
            new("side", "uint8"),
            new("slot", "uint64"),
            new("energyWh", "uint64"),
            new("limitPriceTicks", "uint64"),
            new("product", "uint8"),
            new("source", "uint8"),
        ],
        ["CancelOrder"] = [new("participant", "address"), new("orderId", "uint64")],
        ["ReduceOrder"] = [new("participant", "address"), new("orderId", "uint64"), new("reduceByWh", "uint64")],
    };

    private static readonly byte[] OrderTypeHash = Keccak.Hash256Utf8(OrderType);
    private static readonly byte[] CancelOrderTypeHash = Keccak.Hash256Utf8(CancelOrderType);
    private static readonly byte[] ReduceOrderTypeHash = Keccak.Hash256Utf8(ReduceOrderType);

    // ---------------------------------------------------------------- digests

    /// <summary>hashStruct(Order): keccak256(typeHash || the eight members, one 32-byte word each).</summary>
    public static byte[] HashStruct(OrderMessage order)
    {
        ArgumentNullException.ThrowIfNull(order);
        Span<byte> words = stackalloc byte[9 * 32];
        words.Clear();
        OrderTypeHash.CopyTo(words);
        WriteAddress(words[32..64], order.Participant);
        WriteUInt(words[64..96], order.ClientOrderId);
        WriteUInt(words[96..128], order.Side);
        WriteUInt(words[128..160], order.Slot);
        WriteUInt(words[160..192], order.EnergyWh);
        WriteUInt(words[192..224], order.LimitPriceTicks);
        WriteUInt(words[224..256], order.Product);
        WriteUInt(words[256..288], order.Source);
        return Keccak.Hash256(words);
    }

    public static byte[] HashStruct(CancelOrderMessage cancel)
    {
        ArgumentNullException.ThrowIfNull(cancel);
        Span<byte> words = stackalloc byte[3 * 32];
        words.Clear();
        CancelOrderTypeHash.CopyTo(words);
        WriteAddress(words[32..64], cancel.Participant);
        WriteUInt(words[64..96], cancel.OrderId);
        return Keccak.Hash256(words);
    }

    public static byte[] HashStruct(ReduceOrderMessage reduce)
    {
        ArgumentNullException.ThrowIfNull(reduce);
        Span<byte> words = stackalloc byte[4 * 32];
        words.Clear();
        ReduceOrderTypeHash.CopyTo(words);
        WriteAddress(words[32..64], reduce.Participant);
        WriteUInt(words[64..96], reduce.OrderId);
        WriteUInt(words[96..128], reduce.ReduceByWh);
        return Keccak.Hash256(words);
    }

    /// <summary>The order's EIP-712 digest (what is signed; also the order's leaf data in the slot's order tree).</summary>
    public static byte[] Digest(MarketDomain domain, OrderMessage order) => Digest(domain, HashStruct(order));

    public static byte[] Digest(MarketDomain domain, CancelOrderMessage cancel) => Digest(domain, HashStruct(cancel));

    public static byte[] Digest(MarketDomain domain, ReduceOrderMessage reduce) => Digest(domain, HashStruct(reduce));

    /// <summary>keccak256(0x19 0x01 || domainSeparator || structHash).</summary>
    private static byte[] Digest(MarketDomain domain, ReadOnlySpan<byte> structHash)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Span<byte> buffer = stackalloc byte[2 + 32 + 32];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        domain.SeparatorSpan.CopyTo(buffer[2..34]);
        structHash.CopyTo(buffer[34..]);
        return Keccak.Hash256(buffer);
    }

    // ---------------------------------------------------------------- signing

    /// <summary>Signs a 32-byte digest: 65 bytes r || s || v, v = 27 or 28, low s (deterministic, RFC 6979).</summary>
    public static byte[] SignDigest(EthKey key, ReadOnlySpan<byte> digest)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Sign(digest).ToBytes65();
    }

    public static byte[] Sign(this EthKey key, MarketDomain domain, OrderMessage order) => SignDigest(key, Digest(domain, order));

    public static byte[] Sign(this EthKey key, MarketDomain domain, CancelOrderMessage cancel) => SignDigest(key, Digest(domain, cancel));

    public static byte[] Sign(this EthKey key, MarketDomain domain, ReduceOrderMessage reduce) => SignDigest(key, Digest(domain, reduce));

    // ---------------------------------------------------------------- verifying

    /// <summary>
    /// The address whose key made <paramref name="signature"/> over <paramref name="digest"/>; false when the
    /// signature is malformed (not 65 bytes, v not 27/28, r or s out of range, high s) or recovers no key.
    /// </summary>
    public static bool TryRecoverSigner(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, out Address signer)
    {
        signer = default;
        if (digest.Length != 32 || signature.Length != SignatureLength || signature[64] is not (27 or 28)) return false;
        EcdsaSignature parsed;
        try
        {
            parsed = EcdsaSignature.FromBytes65(signature);
        }
        catch (ArgumentException)
        {
            return false; // r or s is 0 or not below the curve order
        }
        if (!parsed.IsLowS) return false;
        try
        {
            signer = EthKey.RecoverAddress(digest, parsed);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="signature"/> over <paramref name="digest"/> was made by <paramref name="expected"/>'s key.</summary>
    public static bool IsSignedBy(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, Address expected) =>
        !expected.IsZero && TryRecoverSigner(digest, signature, out var signer) && signer == expected;

    // ---------------------------------------------------------------- encoding

    private static void WriteAddress(Span<byte> word, string participant)
    {
        if (!TryParseAddress(participant, out var address))
        {
            throw new FormatException($"participant {(participant is null ? "null" : $"\"{participant}\"")} is not 0x and 40 hex digits");
        }
        address.WriteTo(word[12..]);
    }

    private static void WriteUInt(Span<byte> word, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(word[24..], value);

    /// <summary>"0x" + 40 hex digits in any case (no EIP-55 check: the exchange accepts any case too).</summary>
    public static bool TryParseAddress(string? text, out Address address)
    {
        address = default;
        if (text is null || text.Length != 42 || text[0] != '0' || (text[1] is not ('x' or 'X'))) return false;
        return Address.TryParse("0x" + text[2..].ToLowerInvariant(), out address);
    }
}
