using System.Collections;
using System.Numerics;

namespace P2PEnergy.Ethereum.Tests;

internal static class TestUtil
{
    public static byte[] H(string hex) => Hex.Decode(hex.StartsWith("0x", StringComparison.Ordinal) ? hex : "0x" + hex);

    public static string ToHex(byte[] bytes) => Hex.Encode(bytes);

    /// <summary>Structural equality for ABI values (BigInteger, Address, bool, byte[], string, lists).</summary>
    public static bool AbiEquals(object? expected, object? actual)
    {
        switch (expected)
        {
            case null:
                return actual is null;
            case byte[] eb:
                return actual is byte[] ab && eb.AsSpan().SequenceEqual(ab);
            case string es:
                return actual is string s && s == es;
            case IList el:
                if (actual is not IList al || al.Count != el.Count)
                {
                    return false;
                }
                for (int i = 0; i < el.Count; i++)
                {
                    if (!AbiEquals(el[i], al[i]))
                    {
                        return false;
                    }
                }
                return true;
            case int or long or uint or ulong or short or ushort or byte or sbyte:
                return actual is BigInteger b && b == new BigInteger(Convert.ToDecimal(expected, System.Globalization.CultureInfo.InvariantCulture));
            default:
                return expected.Equals(actual);
        }
    }

    public static void AssertAbiEqual(object? expected, object? actual)
    {
        Assert.True(AbiEquals(expected, actual), $"ABI values differ:\nexpected {Describe(expected)}\nactual   {Describe(actual)}");
    }

    public static string Describe(object? value) => value switch
    {
        null => "null",
        byte[] b => Hex.Encode(b),
        string s => "\"" + s + "\"",
        IList l => "[" + string.Join(", ", l.Cast<object?>().Select(Describe)) + "]",
        _ => value.ToString() ?? "?",
    };
}
