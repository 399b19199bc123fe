using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>An RLP item: either a byte string or a list of items. Equality is structural.</summary>
public abstract class RlpItem : IEquatable<RlpItem>
{
    private protected RlpItem()
    {
    }

    public abstract bool Equals(RlpItem? other);

    public override bool Equals(object? obj) => obj is RlpItem other && Equals(other);

    public abstract override int GetHashCode();

    public static RlpString String(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    public static RlpString Utf8(string text) => new(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>A non-negative integer as minimal big-endian bytes (0 is the empty string).</summary>
    public static RlpString Integer(BigInteger value) => new(Hex.ToMinimalBigEndian(value));

    public static RlpList List(params RlpItem[] items) => new(items);

    public RlpString AsString() => this as RlpString
        ?? throw new RlpException("Expected an RLP string but found a list.");

    public RlpList AsList() => this as RlpList
        ?? throw new RlpException("Expected an RLP list but found a string.");
}

public sealed class RlpString : RlpItem
{
    private readonly byte[] _bytes;

    public RlpString(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _bytes = bytes;
    }

    public ReadOnlySpan<byte> Span => _bytes;

    public byte[] ToArray() => (byte[])_bytes.Clone();

    public int Length => _bytes.Length;

    /// <summary>
    /// Reads a canonical integer: no leading zero bytes (zero must be the empty string).
    /// </summary>
    public BigInteger ToBigInteger()
    {
        if (_bytes.Length > 0 && _bytes[0] == 0)
        {
            throw new RlpException("RLP integer has a leading zero byte.");
        }
        return Hex.FromBigEndian(_bytes);
    }

    public ulong ToUInt64()
    {
        if (_bytes.Length > 8)
        {
            throw new RlpException($"RLP integer of {_bytes.Length} bytes does not fit in 64 bits.");
        }
        return (ulong)ToBigInteger();
    }

    public override bool Equals(RlpItem? other) => other is RlpString s && s._bytes.AsSpan().SequenceEqual(_bytes);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public override string ToString() => Hex.Encode(_bytes);
}

public sealed class RlpList : RlpItem
{
    public RlpList(IReadOnlyList<RlpItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        Items = items.ToArray();
    }

    public IReadOnlyList<RlpItem> Items { get; }

    public int Count => Items.Count;

    public RlpItem this[int index] => Items[index];

    public override bool Equals(RlpItem? other) =>
        other is RlpList list && list.Items.Count == Items.Count && Items.Zip(list.Items).All(p => p.First.Equals(p.Second));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Items.Count);
        foreach (var item in Items)
        {
            hash.Add(item.GetHashCode());
        }
        return hash.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", Items) + "]";
}

public sealed class RlpException : FormatException
{
    public RlpException(string message)
        : base(message)
    {
    }
}
