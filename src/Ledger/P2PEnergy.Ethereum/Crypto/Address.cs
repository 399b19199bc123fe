using System.Buffers.Binary;

namespace P2PEnergy.Ethereum;

/// <summary>
/// A 20-byte Ethereum account address. A true value type: <c>default</c> is the zero address.
/// <see cref="ToString"/> gives the EIP-55 mixed-case checksum form.
/// </summary>
public readonly struct Address : IEquatable<Address>
{
    public const int Length = 20;

    // 20 bytes held as 8 + 8 + 4 so the struct has no reference field and no null state.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public static Address Zero => default;

    public Address(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"An address is {Length} bytes, got {bytes.Length}.", nameof(bytes));
        }
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    public bool IsZero => _a == 0 && _b == 0 && _c == 0;

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    /// <summary>The address of a 64-byte uncompressed public key (x || y, no 0x04 prefix): last 20 bytes of its keccak.</summary>
    public static Address FromPublicKey(ReadOnlySpan<byte> publicKey64)
    {
        if (publicKey64.Length != 64)
        {
            throw new ArgumentException($"Expected a 64-byte uncompressed public key without prefix, got {publicKey64.Length} bytes.", nameof(publicKey64));
        }
        return new Address(Keccak.Hash256(publicKey64).AsSpan(12));
    }

    /// <summary>
    /// Parses "0x" + 40 hex digits. All-lower or all-upper input is accepted as is; mixed case must
    /// carry a valid EIP-55 checksum, since mixed case is how a checksum is claimed.
    /// </summary>
    public static Address Parse(string text)
    {
        if (!TryParseCore(text, out var address, out var error))
        {
            throw new FormatException(error);
        }
        return address;
    }

    public static bool TryParse(string? text, out Address address)
    {
        if (text is null)
        {
            address = default;
            return false;
        }
        return TryParseCore(text, out address, out _);
    }

    /// <summary>Lower-case 0x form, as JSON-RPC sends it.</summary>
    public string ToLowerHex() => Hex.Encode(ToBytes());

    /// <summary>EIP-55 checksummed form.</summary>
    public override string ToString() => ToChecksum(Convert.ToHexStringLower(ToBytes()));

    public bool Equals(Address other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public static bool operator ==(Address left, Address right) => left.Equals(right);

    public static bool operator !=(Address left, Address right) => !left.Equals(right);

    // EIP-55: hex digit i is upper-cased when nibble i of keccak(lower-case hex) is >= 8.
    private static string ToChecksum(string lowerHex40)
    {
        var hash = Keccak.Hash256(System.Text.Encoding.ASCII.GetBytes(lowerHex40));
        var chars = new char[2 + 40];
        chars[0] = '0';
        chars[1] = 'x';
        for (int i = 0; i < 40; i++)
        {
            char c = lowerHex40[i];
            int nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0xF;
            chars[2 + i] = c >= 'a' && nibble >= 8 ? char.ToUpperInvariant(c) : c;
        }
        return new string(chars);
    }

    private static bool TryParseCore(string text, out Address address, out string error)
    {
        address = default;
        if (text.Length != 42 || !text.StartsWith("0x", StringComparison.Ordinal))
        {
            error = $"Address '{text}' must be 0x followed by 40 hex digits.";
            return false;
        }
        if (!Hex.TryDecode(text, out var bytes))
        {
            error = $"Address '{text}' contains a non-hex character.";
            return false;
        }
        var digits = text.AsSpan(2);
        bool hasLower = digits.ContainsAny("abcdef");
        bool hasUpper = digits.ContainsAny("ABCDEF");
        if (hasLower && hasUpper)
        {
            var expected = ToChecksum(digits.ToString().ToLowerInvariant());
            if (!string.Equals(expected, text, StringComparison.Ordinal))
            {
                error = $"Address '{text}' has an invalid EIP-55 checksum (expected {expected}).";
                return false;
            }
        }
        address = new Address(bytes);
        error = string.Empty;
        return true;
    }
}
