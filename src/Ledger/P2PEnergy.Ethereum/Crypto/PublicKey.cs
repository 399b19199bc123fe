using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace P2PEnergy.Ethereum;

/// <summary>
/// A secp256k1 public key kept for verifying many signatures. Verifying against a known key costs about
/// half of recovering the key from a signature, and BouncyCastle keeps the key's precomputed multiples on
/// this instance, so one instance per signer is the fast path. Thread-safe.
/// </summary>
public sealed class PublicKey
{
    private readonly ECPublicKeyParameters _parameters;

    private PublicKey(ECPublicKeyParameters parameters, byte[] encoded)
    {
        _parameters = parameters;
        Encoded = encoded;
        Address = Address.FromPublicKey(encoded);
    }

    /// <summary>The 64-byte x || y form.</summary>
    public byte[] Encoded { get; }

    public Address Address { get; }

    /// <summary>From the 64-byte x || y form; refuses a point that is not on the curve.</summary>
    public static PublicKey FromBytes64(ReadOnlySpan<byte> xy)
    {
        if (xy.Length != 64) throw new ArgumentException($"a public key has 64 bytes (x || y), not {xy.Length}", nameof(xy));
        var point = Secp256k1.Curve.Curve.CreatePoint(new BcBigInteger(1, xy[..32].ToArray()), new BcBigInteger(1, xy[32..].ToArray()));
        if (!point.IsValid()) throw new ArgumentException("the point is not on secp256k1", nameof(xy));
        return new PublicKey(new ECPublicKeyParameters(point, Secp256k1.Domain), xy.ToArray());
    }

    /// <summary>True when <paramref name="signature"/> (r, s; v is not needed) over <paramref name="hash32"/> was made by this key.</summary>
    public bool Verify(ReadOnlySpan<byte> hash32, EcdsaSignature signature)
    {
        if (hash32.Length != 32) throw new ArgumentException($"Expected a 32-byte hash, got {hash32.Length} bytes.", nameof(hash32));
        var signer = new ECDsaSigner();
        signer.Init(false, _parameters);
        return signer.VerifySignature(hash32.ToArray(), Secp256k1.ToBc(signature.R), Secp256k1.ToBc(signature.S));
    }
}
