using Org.BouncyCastle.Crypto.Digests;

namespace P2PEnergy.Ethereum;

/// <summary>
/// Keccak-256 as Ethereum uses it: the original Keccak padding (0x01), not the FIPS 202
/// SHA3-256 padding (0x06). keccak256("") = c5d246...a470.
/// </summary>
public static class Keccak
{
    public const int HashLength = 32;

    public static byte[] Hash256(ReadOnlySpan<byte> data)
    {
        var digest = new KeccakDigest(256);
        digest.BlockUpdate(data);
        var output = new byte[HashLength];
        digest.DoFinal(output, 0);
        return output;
    }

    /// <summary>Hash of the concatenation of the parts, without building the concatenation.</summary>
    public static byte[] Hash256Concat(params ReadOnlySpan<byte[]> parts)
    {
        var digest = new KeccakDigest(256);
        foreach (var part in parts)
        {
            digest.BlockUpdate(part, 0, part.Length);
        }
        var output = new byte[HashLength];
        digest.DoFinal(output, 0);
        return output;
    }

    /// <summary>Hash of the UTF-8 bytes of <paramref name="text"/> (e.g. for selectors and topics).</summary>
    public static byte[] Hash256Utf8(string text) => Hash256(System.Text.Encoding.UTF8.GetBytes(text));
}
