namespace P2PEnergy.Ethereum;

/// <summary>A transaction with its signature: raw bytes for eth_sendRawTransaction, hash, sender.</summary>
public sealed class SignedTransaction
{
    private readonly byte[] _raw;

    internal SignedTransaction(Transaction transaction, EcdsaSignature signature)
    {
        Transaction = transaction;
        Signature = signature;
        _raw = transaction.Serialize(signature);
        Hash = Keccak.Hash256(_raw);
    }

    public Transaction Transaction { get; }

    public EcdsaSignature Signature { get; }

    /// <summary>keccak256 of the raw bytes: the transaction hash nodes report.</summary>
    public byte[] Hash { get; }

    public byte[] RawBytes => (byte[])_raw.Clone();

    public string RawHex => Hex.Encode(_raw);

    public Address RecoverSender() => EthKey.RecoverAddress(Transaction.GetSigningHash(), Signature);

    public static SignedTransaction Decode(string rawHex) => Decode(Hex.Decode(rawHex));

    /// <summary>
    /// Decodes a raw signed transaction: an RLP list (legacy) or a type byte followed by an RLP list
    /// (EIP-2718 envelope; only type 2 is supported).
    /// </summary>
    public static SignedTransaction Decode(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            throw new RlpException("Empty raw transaction.");
        }
        if (raw[0] >= 0xc0)
        {
            return LegacyTransaction.Decode(Rlp.Decode(raw).AsList());
        }
        if (raw[0] == (byte)TransactionType.Eip1559)
        {
            return Eip1559Transaction.Decode(Rlp.Decode(raw[1..]).AsList());
        }
        throw new NotSupportedException($"Transaction type 0x{raw[0]:x2} is not supported (only legacy and type 2).");
    }

    internal static EcdsaSignature ReadSignature(byte parity, RlpItem rItem, RlpItem sItem)
    {
        var r = rItem.AsString().ToBigInteger();
        var s = sItem.AsString().ToBigInteger();
        if (r.Sign == 0 || r >= Secp256k1.NValue || s.Sign == 0 || s >= Secp256k1.NValue)
        {
            throw new RlpException("Transaction signature r or s is out of range.");
        }
        var signature = new EcdsaSignature(r, s, parity);
        if (!signature.IsLowS)
        {
            throw new RlpException("Transaction signature has a high s value, which EIP-2 forbids.");
        }
        return signature;
    }
}
