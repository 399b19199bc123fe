using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace P2PEnergy.Ethereum;

/// <summary>secp256k1 curve parameters and the conversions between BouncyCastle and BCL integers.</summary>
internal static class Secp256k1
{
    internal static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");
    internal static readonly ECDomainParameters Domain = new(Curve.Curve, Curve.G, Curve.N, Curve.H);
    internal static readonly BcBigInteger N = Curve.N;
    internal static readonly BcBigInteger HalfN = Curve.N.ShiftRight(1);
    internal static readonly System.Numerics.BigInteger NValue = ToBcl(Curve.N);
    internal static readonly System.Numerics.BigInteger HalfNValue = ToBcl(HalfN);

    internal static BcBigInteger ToBc(System.Numerics.BigInteger value) =>
        new(1, value.ToByteArray(isUnsigned: true, isBigEndian: true));

    internal static System.Numerics.BigInteger ToBcl(BcBigInteger value) =>
        new(value.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);

    /// <summary>64-byte x || y of a point.</summary>
    internal static byte[] EncodeUncompressed64(ECPoint point)
    {
        var encoded = point.Normalize().GetEncoded(false); // 0x04 || x || y
        return encoded.AsSpan(1).ToArray();
    }
}
