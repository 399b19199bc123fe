using System.Buffers.Binary;
using System.Globalization;

namespace P2PEnergy.Exchange;

/// <summary>
/// A participant's identity: the 20-byte address derived from its secp256k1 key
/// (keccak256 of the public key, last 20 bytes). Held as three integers so that
/// comparing and hashing cost nothing in the matching loop.
/// </summary>
public readonly struct Address : IEquatable<Address>, IComparable<Address>
{
    public const int Length = 20;

    private readonly ulong _a; // bytes 0..7, big-endian
    private readonly ulong _b; // bytes 8..15
    private readonly uint _c;  // bytes 16..19

    private Address(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    public static Address Zero => default;

    public bool IsZero => _a == 0 && _b == 0 && _c == 0;

    public static Address FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new ArgumentException($"an address has {Length} bytes, not {bytes.Length}", nameof(bytes));
        }
        return new Address(
            BinaryPrimitives.ReadUInt64BigEndian(bytes),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>Parses "0x" followed by 40 hex digits (any case; checksums are checked by the Ethereum layer).</summary>
    public static bool TryParse(string? text, out Address address)
    {
        address = default;
        if (text is null || text.Length != 2 + 2 * Length || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        {
            return false;
        }
        Span<byte> bytes = stackalloc byte[Length];
        for (var i = 0; i < Length; i++)
        {
            if (!byte.TryParse(text.AsSpan(2 + 2 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
            {
                return false;
            }
        }
        address = FromBytes(bytes);
        return true;
    }

    public static Address Parse(string text) =>
        TryParse(text, out var address)
            ? address
            : throw new FormatException($"'{text}' is not an address: expected 0x and 40 hex digits");

    /// <summary>Lower-case hex with 0x prefix.</summary>
    public override string ToString() => $"0x{_a:x16}{_b:x16}{_c:x8}";

    public bool Equals(Address other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is Address other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public int CompareTo(Address other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

    public static bool operator ==(Address left, Address right) => left.Equals(right);

    public static bool operator !=(Address left, Address right) => !left.Equals(right);
}
