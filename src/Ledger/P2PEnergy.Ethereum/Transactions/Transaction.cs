using System.Numerics;

namespace P2PEnergy.Ethereum;

public enum TransactionType : byte
{
    Legacy = 0,
    Eip1559 = 2,
}

/// <summary>One entry of an EIP-2930 access list, as carried by type-2 transactions.</summary>
public sealed record AccessListEntry
{
    public AccessListEntry(Address address, IReadOnlyList<byte[]> storageKeys)
    {
        ArgumentNullException.ThrowIfNull(storageKeys);
        foreach (var key in storageKeys)
        {
            if (key is null || key.Length != 32)
            {
                throw new ArgumentException("Every access-list storage key must be 32 bytes.", nameof(storageKeys));
            }
        }
        Address = address;
        StorageKeys = storageKeys.Select(k => (byte[])k.Clone()).ToArray();
    }

    public Address Address { get; }

    public IReadOnlyList<byte[]> StorageKeys { get; }
}

/// <summary>
/// Fields common to every transaction type. Subclasses define the signing payload and the signed
/// serialisation; signing and hashing are the same for all.
/// </summary>
public abstract class Transaction
{
    private static readonly BigInteger MaxUInt256 = (BigInteger.One << 256) - 1;

    public ulong Nonce { get; init; }

    public ulong GasLimit { get; init; }

    /// <summary>Recipient; null for contract creation.</summary>
    public Address? To { get; init; }

    public BigInteger Value { get; init; }

    public byte[] Data { get; init; } = [];

    public abstract TransactionType Type { get; }

    /// <summary>The exact bytes whose keccak is signed.</summary>
    public abstract byte[] GetSigningPayload();

    public byte[] GetSigningHash() => Keccak.Hash256(GetSigningPayload());

    public SignedTransaction Sign(EthKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var signature = key.Sign(GetSigningHash());
        return new SignedTransaction(this, signature);
    }

    /// <summary>The raw (network) form of this transaction with the given signature.</summary>
    internal abstract byte[] Serialize(EcdsaSignature signature);

    private protected static RlpString Quantity(BigInteger value, string field)
    {
        if (value.Sign < 0 || value > MaxUInt256)
        {
            throw new ArgumentOutOfRangeException(field, value, $"{field} must be in [0, 2^256-1].");
        }
        return RlpItem.Integer(value);
    }

    private protected RlpString ToItem() => To is { } to ? RlpItem.String(to.ToBytes()) : new RlpString([]);

    private protected RlpString DataItem() => RlpItem.String(Data ?? []);

    private protected static Address? ReadTo(RlpItem item)
    {
        var bytes = item.AsString();
        return bytes.Length switch
        {
            0 => null,
            Address.Length => new Address(bytes.Span),
            _ => throw new RlpException($"Transaction 'to' must be empty or 20 bytes, got {bytes.Length}."),
        };
    }
}

/// <summary>
/// A type-0 transaction. With a chain id it is signed as EIP-155 prescribes
/// (rlp of the six fields plus chainId, 0, 0; v = chainId * 2 + 35 + y-parity);
/// without one it is the original Homestead form (v = 27 + y-parity).
/// </summary>
public sealed class LegacyTransaction : Transaction
{
    public BigInteger GasPrice { get; init; }

    public ulong? ChainId { get; init; }

    public override TransactionType Type => TransactionType.Legacy;

    public override byte[] GetSigningPayload()
    {
        var fields = CommonFields();
        if (ChainId is { } chainId)
        {
            fields.Add(RlpItem.Integer(chainId));
            fields.Add(RlpItem.Integer(0));
            fields.Add(RlpItem.Integer(0));
        }
        return Rlp.Encode(new RlpList(fields));
    }

    internal override byte[] Serialize(EcdsaSignature signature)
    {
        var fields = CommonFields();
        BigInteger v = ChainId is { } chainId
            ? new BigInteger(chainId) * 2 + 35 + signature.YParity
            : 27 + signature.YParity;
        fields.Add(RlpItem.Integer(v));
        fields.Add(RlpItem.Integer(signature.R));
        fields.Add(RlpItem.Integer(signature.S));
        return Rlp.Encode(new RlpList(fields));
    }

    private List<RlpItem> CommonFields() =>
    [
        RlpItem.Integer(Nonce),
        Quantity(GasPrice, nameof(GasPrice)),
        RlpItem.Integer(GasLimit),
        ToItem(),
        Quantity(Value, nameof(Value)),
        DataItem(),
    ];

    internal static SignedTransaction Decode(RlpList list)
    {
        if (list.Count != 9)
        {
            throw new RlpException($"A signed legacy transaction has 9 fields, got {list.Count}.");
        }
        var v = list[6].AsString().ToBigInteger();
        ulong? chainId;
        byte parity;
        if (v == 27 || v == 28)
        {
            chainId = null;
            parity = (byte)(v - 27);
        }
        else if (v >= 35)
        {
            var chain = (v - 35) / 2;
            if (chain > ulong.MaxValue)
            {
                throw new RlpException("Legacy transaction chain id does not fit in 64 bits.");
            }
            chainId = (ulong)chain;
            parity = (byte)((v - 35) % 2);
        }
        else
        {
            throw new RlpException($"Legacy transaction has invalid v = {v}.");
        }
        var tx = new LegacyTransaction
        {
            Nonce = list[0].AsString().ToUInt64(),
            GasPrice = list[1].AsString().ToBigInteger(),
            GasLimit = list[2].AsString().ToUInt64(),
            To = ReadTo(list[3]),
            Value = list[4].AsString().ToBigInteger(),
            Data = list[5].AsString().ToArray(),
            ChainId = chainId,
        };
        var signature = SignedTransaction.ReadSignature(parity, list[7], list[8]);
        return new SignedTransaction(tx, signature);
    }
}

/// <summary>
/// A type-2 transaction (EIP-1559): 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas,
/// gasLimit, to, value, data, accessList]) is signed; the signed form appends yParity, r, s.
/// </summary>
public sealed class Eip1559Transaction : Transaction
{
    public required ulong ChainId { get; init; }

    public BigInteger MaxPriorityFeePerGas { get; init; }

    public BigInteger MaxFeePerGas { get; init; }

    public IReadOnlyList<AccessListEntry> AccessList { get; init; } = [];

    public override TransactionType Type => TransactionType.Eip1559;

    public override byte[] GetSigningPayload() => Typed(new RlpList(Fields()));

    internal override byte[] Serialize(EcdsaSignature signature)
    {
        var fields = Fields();
        fields.Add(RlpItem.Integer(signature.YParity));
        fields.Add(RlpItem.Integer(signature.R));
        fields.Add(RlpItem.Integer(signature.S));
        return Typed(new RlpList(fields));
    }

    private static byte[] Typed(RlpList list)
    {
        var body = Rlp.Encode(list);
        var result = new byte[body.Length + 1];
        result[0] = (byte)TransactionType.Eip1559;
        body.CopyTo(result, 1);
        return result;
    }

    private List<RlpItem> Fields()
    {
        if (MaxPriorityFeePerGas > MaxFeePerGas)
        {
            throw new InvalidOperationException(
                $"maxPriorityFeePerGas ({MaxPriorityFeePerGas}) exceeds maxFeePerGas ({MaxFeePerGas}).");
        }
        var accessList = (AccessList ?? []).Select(entry => (RlpItem)new RlpList(
        [
            RlpItem.String(entry.Address.ToBytes()),
            new RlpList(entry.StorageKeys.Select(k => (RlpItem)RlpItem.String(k)).ToArray()),
        ])).ToArray();
        return
        [
            RlpItem.Integer(ChainId),
            RlpItem.Integer(Nonce),
            Quantity(MaxPriorityFeePerGas, nameof(MaxPriorityFeePerGas)),
            Quantity(MaxFeePerGas, nameof(MaxFeePerGas)),
            RlpItem.Integer(GasLimit),
            ToItem(),
            Quantity(Value, nameof(Value)),
            DataItem(),
            new RlpList(accessList),
        ];
    }

    internal static SignedTransaction Decode(RlpList list)
    {
        if (list.Count != 12)
        {
            throw new RlpException($"A signed EIP-1559 transaction has 12 fields, got {list.Count}.");
        }
        var accessList = list[8].AsList().Items.Select(entryItem =>
        {
            var entry = entryItem.AsList();
            if (entry.Count != 2)
            {
                throw new RlpException("An access-list entry has 2 fields.");
            }
            var addressBytes = entry[0].AsString();
            if (addressBytes.Length != Address.Length)
            {
                throw new RlpException("An access-list address must be 20 bytes.");
            }
            var keys = entry[1].AsList().Items.Select(k =>
            {
                var key = k.AsString();
                return key.Length == 32 ? key.ToArray() : throw new RlpException("An access-list storage key must be 32 bytes.");
            }).ToArray();
            return new AccessListEntry(new Address(addressBytes.Span), keys);
        }).ToArray();
        var tx = new Eip1559Transaction
        {
            ChainId = list[0].AsString().ToUInt64(),
            Nonce = list[1].AsString().ToUInt64(),
            MaxPriorityFeePerGas = list[2].AsString().ToBigInteger(),
            MaxFeePerGas = list[3].AsString().ToBigInteger(),
            GasLimit = list[4].AsString().ToUInt64(),
            To = ReadTo(list[5]),
            Value = list[6].AsString().ToBigInteger(),
            Data = list[7].AsString().ToArray(),
            AccessList = accessList,
        };
        var parity = list[9].AsString().ToBigInteger();
        if (parity > 1)
        {
            throw new RlpException($"EIP-1559 y-parity must be 0 or 1, got {parity}.");
        }
        var signature = SignedTransaction.ReadSignature((byte)parity, list[10], list[11]);
        return new SignedTransaction(tx, signature);
    }
}
