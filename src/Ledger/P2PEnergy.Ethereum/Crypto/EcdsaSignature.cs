using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>
/// A secp256k1 signature in Ethereum form: r, s (low-s as EIP-2 requires for signing) and the
/// y-parity of the nonce point R (0 or 1), which lets the public key be recovered.
/// </summary>
public readonly record struct EcdsaSignature
{
    public EcdsaSignature(BigInteger r, BigInteger s, byte yParity)
    {
        if (r.Sign <= 0 || r >= Secp256k1.NValue)
        {
            throw new ArgumentOutOfRangeException(nameof(r), "r must be in [1, n-1].");
        }
        if (s.Sign <= 0 || s >= Secp256k1.NValue)
        {
            throw new ArgumentOutOfRangeException(nameof(s), "s must be in [1, n-1].");
        }
        if (yParity > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(yParity), yParity, "y-parity must be 0 or 1.");
        }
        R = r;
        S = s;
        YParity = yParity;
    }

    public BigInteger R { get; }

    public BigInteger S { get; }

    /// <summary>Recovery id: 0 or 1.</summary>
    public byte YParity { get; }

    /// <summary>The pre-EIP-155 / personal_sign v: 27 + y-parity.</summary>
    public byte V => (byte)(27 + YParity);

    /// <summary>True when s is in the lower half of the order, as EIP-2 requires of transactions.</summary>
    public bool IsLowS => S <= Secp256k1.HalfNValue;

    /// <summary>65 bytes r || s || v with v = 27 or 28 (the eth_sign / ethers "serialized" form).</summary>
    public byte[] ToBytes65()
    {
        var bytes = new byte[65];
        Hex.WriteBigEndianPadded(R, bytes.AsSpan(0, 32));
        Hex.WriteBigEndianPadded(S, bytes.AsSpan(32, 32));
        bytes[64] = V;
        return bytes;
    }

    /// <summary>Reads r || s || v where v is 0, 1, 27 or 28.</summary>
    public static EcdsaSignature FromBytes65(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 65)
        {
            throw new ArgumentException($"A signature is 65 bytes, got {bytes.Length}.", nameof(bytes));
        }
        byte v = bytes[64];
        byte parity = v switch
        {
            0 or 1 => v,
            27 or 28 => (byte)(v - 27),
            _ => throw new ArgumentException($"Signature v must be 0, 1, 27 or 28, got {v}.", nameof(bytes)),
        };
        return new EcdsaSignature(Hex.FromBigEndian(bytes[..32]), Hex.FromBigEndian(bytes.Slice(32, 32)), parity);
    }
}
