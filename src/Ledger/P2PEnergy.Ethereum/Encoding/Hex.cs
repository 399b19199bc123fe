using System.Globalization;
using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>
/// 0x-prefixed hex as used by Ethereum JSON-RPC. Two flavours, as in the execution-apis spec:
/// byte data ("0x" + two digits per byte, any leading zeros kept) and quantities
/// ("0x" + shortest digits, "0x0" for zero).
/// </summary>
public static class Hex
{
    /// <summary>Lower-case, 0x-prefixed, two digits per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return "0x" + Convert.ToHexStringLower(bytes);
    }

    /// <summary>
    /// Decodes 0x-prefixed byte data. The prefix is required, the digit count must be even,
    /// both letter cases are accepted.
    /// </summary>
    public static byte[] Decode(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (!TryDecodeCore(hex, out var bytes, out var error))
        {
            throw new FormatException(error);
        }
        return bytes;
    }

    public static bool TryDecode(string? hex, out byte[] bytes)
    {
        if (hex is null)
        {
            bytes = [];
            return false;
        }
        return TryDecodeCore(hex, out bytes, out _);
    }

    /// <summary>Decodes byte data that must be exactly <paramref name="length"/> bytes long.</summary>
    public static byte[] DecodeFixed(string hex, int length)
    {
        var bytes = Decode(hex);
        if (bytes.Length != length)
        {
            throw new FormatException($"Expected {length} bytes of hex data but got {bytes.Length}: '{Shorten(hex)}'.");
        }
        return bytes;
    }

    /// <summary>Encodes a non-negative quantity in the JSON-RPC form: "0x0", "0x1a", no leading zeros.</summary>
    public static string EncodeQuantity(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A quantity cannot be negative.");
        }
        if (value.IsZero)
        {
            return "0x0";
        }
        // BigInteger's "x" format may add a leading 0 to keep the sign bit clear; strip it.
        var digits = value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
        return "0x" + digits;
    }

    public static string EncodeQuantity(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a JSON-RPC quantity strictly: "0x" prefix, at least one digit, no leading zeros
    /// (except "0x0"), hex digits only.
    /// </summary>
    public static BigInteger DecodeQuantity(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (!hex.StartsWith("0x", StringComparison.Ordinal))
        {
            throw new FormatException($"Quantity '{Shorten(hex)}' is missing the 0x prefix.");
        }
        if (hex.Length == 2)
        {
            throw new FormatException("Quantity '0x' has no digits.");
        }
        if (hex.Length > 3 && hex[2] == '0')
        {
            throw new FormatException($"Quantity '{Shorten(hex)}' has leading zeros.");
        }
        BigInteger result = BigInteger.Zero;
        for (int i = 2; i < hex.Length; i++)
        {
            int d = DigitValue(hex[i]);
            if (d < 0)
            {
                throw new FormatException($"Quantity '{Shorten(hex)}' has a non-hex character '{hex[i]}' at position {i}.");
            }
            result = (result << 4) | d;
        }
        return result;
    }

    /// <summary>Parses a quantity that must fit in 64 bits.</summary>
    public static ulong DecodeQuantityUInt64(string hex)
    {
        var value = DecodeQuantity(hex);
        if (value > ulong.MaxValue)
        {
            throw new FormatException($"Quantity '{Shorten(hex)}' does not fit in 64 bits.");
        }
        return (ulong)value;
    }

    /// <summary>Big-endian unsigned bytes with no leading zeros (zero is the empty array), as RLP wants.</summary>
    public static byte[] ToMinimalBigEndian(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Value cannot be negative.");
        }
        return value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Interprets big-endian bytes as an unsigned integer.</summary>
    public static BigInteger FromBigEndian(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    /// <summary>Writes <paramref name="value"/> big-endian, left-padded with zeros to fill <paramref name="destination"/>.</summary>
    public static void WriteBigEndianPadded(BigInteger value, Span<byte> destination)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Value cannot be negative.");
        }
        int length = value.IsZero ? 0 : value.GetByteCount(isUnsigned: true);
        if (length > destination.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(value), $"Value needs {length} bytes but only {destination.Length} are available.");
        }
        destination.Clear();
        if (length > 0)
        {
            value.TryWriteBytes(destination[(destination.Length - length)..], out _, isUnsigned: true, isBigEndian: true);
        }
    }

    private static bool TryDecodeCore(string hex, out byte[] bytes, out string error)
    {
        bytes = [];
        if (!hex.StartsWith("0x", StringComparison.Ordinal))
        {
            error = $"Hex string '{Shorten(hex)}' is missing the 0x prefix.";
            return false;
        }
        int digits = hex.Length - 2;
        if (digits % 2 != 0)
        {
            error = $"Hex string '{Shorten(hex)}' has an odd number of digits ({digits}).";
            return false;
        }
        var result = new byte[digits / 2];
        for (int i = 0; i < result.Length; i++)
        {
            int hi = DigitValue(hex[2 + 2 * i]);
            int lo = DigitValue(hex[3 + 2 * i]);
            if (hi < 0 || lo < 0)
            {
                int pos = hi < 0 ? 2 + 2 * i : 3 + 2 * i;
                error = $"Hex string '{Shorten(hex)}' has a non-hex character '{hex[pos]}' at position {pos}.";
                return false;
            }
            result[i] = (byte)((hi << 4) | lo);
        }
        bytes = result;
        error = string.Empty;
        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
