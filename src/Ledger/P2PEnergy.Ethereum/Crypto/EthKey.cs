using System.Security.Cryptography;
using ECPoint = Org.BouncyCastle.Math.EC.ECPoint;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace P2PEnergy.Ethereum;

/// <summary>
/// A secp256k1 private key with its public key and address. Signs 32-byte hashes with
/// deterministic nonces (RFC 6979, HMAC-SHA256) and low s (EIP-2), so the same key and hash
/// always give the same signature, matching ethers and other Ethereum libraries.
/// </summary>
public sealed class EthKey
{
    private readonly BcBigInteger _d;
    private readonly byte[] _publicKey;

    private EthKey(BcBigInteger d)
    {
        if (d.SignValue <= 0 || d.CompareTo(Secp256k1.N) >= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(d), "A private key must be in [1, n-1].");
        }
        _d = d;
        var q = new FixedPointCombMultiplier().Multiply(Secp256k1.Domain.G, d);
        _publicKey = Secp256k1.EncodeUncompressed64(q);
        Address = Address.FromPublicKey(_publicKey);
    }

    public static EthKey FromPrivateKey(ReadOnlySpan<byte> privateKey32)
    {
        if (privateKey32.Length != 32)
        {
            throw new ArgumentException($"A private key is 32 bytes, got {privateKey32.Length}.", nameof(privateKey32));
        }
        return new EthKey(new BcBigInteger(1, privateKey32.ToArray()));
    }

    public static EthKey FromHex(string privateKeyHex) => FromPrivateKey(Hex.DecodeFixed(privateKeyHex, 32));

    /// <summary>A fresh key from the OS random number generator.</summary>
    public static EthKey Generate()
    {
        Span<byte> buffer = stackalloc byte[32];
        while (true)
        {
            RandomNumberGenerator.Fill(buffer);
            var d = new BcBigInteger(1, buffer.ToArray());
            if (d.SignValue > 0 && d.CompareTo(Secp256k1.N) < 0)
            {
                return new EthKey(d);
            }
        }
    }

    public Address Address { get; }

    /// <summary>64-byte uncompressed public key x || y (no 0x04 prefix).</summary>
    public byte[] PublicKey => (byte[])_publicKey.Clone();

    public byte[] PrivateKeyBytes => PadTo32(_d.ToByteArrayUnsigned());

    /// <summary>Signs a 32-byte hash (the caller hashes; nothing is hashed here).</summary>
    public EcdsaSignature Sign(ReadOnlySpan<byte> hash32)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException($"Expected a 32-byte hash, got {hash32.Length} bytes.", nameof(hash32));
        }
        var hash = hash32.ToArray();
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, new ECPrivateKeyParameters(_d, Secp256k1.Domain));
        var rs = signer.GenerateSignature(hash);
        var r = rs[0];
        var s = rs[1];
        // EIP-2: s above n/2 is replaced by n - s (which flips the parity of R's y).
        if (s.CompareTo(Secp256k1.HalfN) > 0)
        {
            s = Secp256k1.N.Subtract(s);
        }
        var rValue = Secp256k1.ToBcl(r);
        var sValue = Secp256k1.ToBcl(s);
        for (byte parity = 0; parity <= 1; parity++)
        {
            var candidate = new EcdsaSignature(rValue, sValue, parity);
            var recovered = RecoverPoint(hash, candidate);
            if (recovered is not null && Secp256k1.EncodeUncompressed64(recovered).AsSpan().SequenceEqual(_publicKey))
            {
                return candidate;
            }
        }
        // Only possible when R.x >= n (probability about 2^-128); Ethereum cannot express that recovery id.
        throw new CryptographicException("Could not determine the recovery id of the signature.");
    }

    /// <summary>Recovers the 64-byte public key that produced <paramref name="signature"/> over <paramref name="hash32"/>.</summary>
    public static byte[] RecoverPublicKey(ReadOnlySpan<byte> hash32, EcdsaSignature signature)
    {
        if (hash32.Length != 32)
        {
            throw new ArgumentException($"Expected a 32-byte hash, got {hash32.Length} bytes.", nameof(hash32));
        }
        var point = RecoverPoint(hash32.ToArray(), signature)
            ?? throw new CryptographicException("The signature does not correspond to any public key for this hash.");
        return Secp256k1.EncodeUncompressed64(point);
    }

    public static Address RecoverAddress(ReadOnlySpan<byte> hash32, EcdsaSignature signature) =>
        Address.FromPublicKey(RecoverPublicKey(hash32, signature));

    // SEC 1 v2, section 4.1.6: R is the point with x = r and the given y parity;
    // Q = r^-1 (s R - e G).
    private static ECPoint? RecoverPoint(byte[] hash, EcdsaSignature signature)
    {
        var r = Secp256k1.ToBc(signature.R);
        var s = Secp256k1.ToBc(signature.S);
        var curve = Secp256k1.Domain.Curve;
        if (r.CompareTo(curve.Field.Characteristic) >= 0)
        {
            return null;
        }
        var compressed = new byte[33];
        compressed[0] = (byte)(0x02 + signature.YParity);
        Hex.WriteBigEndianPadded(signature.R, compressed.AsSpan(1));
        ECPoint bigR;
        try
        {
            bigR = curve.DecodePoint(compressed);
        }
        catch (ArgumentException)
        {
            return null; // r is not the x of any curve point
        }
        var n = Secp256k1.N;
        var e = new BcBigInteger(1, hash);
        var rInv = r.ModInverse(n);
        var u1 = e.Negate().Mod(n).Multiply(rInv).Mod(n);
        var u2 = s.Multiply(rInv).Mod(n);
        var q = ECAlgorithms.SumOfTwoMultiplies(Secp256k1.Domain.G, u1, bigR, u2).Normalize();
        return q.IsInfinity ? null : q;
    }

    private static byte[] PadTo32(byte[] bytes)
    {
        var result = new byte[32];
        bytes.CopyTo(result, 32 - bytes.Length);
        return result;
    }
}
