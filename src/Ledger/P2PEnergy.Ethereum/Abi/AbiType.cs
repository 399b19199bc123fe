using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>
/// A Solidity ABI type. <see cref="CanonicalName"/> is the form used in function signatures
/// ("uint256", "(uint64,address)[]"); <see cref="IsDynamic"/> and the head size follow the
/// "Formal Specification of the Encoding" in the Solidity ABI spec.
/// </summary>
public abstract class AbiType : IEquatable<AbiType>
{
    private protected AbiType()
    {
    }

    public abstract string CanonicalName { get; }

    public abstract bool IsDynamic { get; }

    /// <summary>Bytes this type occupies in the head of an enclosing tuple: 32 for dynamic types (an offset).</summary>
    public int HeadSize => IsDynamic ? 32 : StaticSize;

    /// <summary>Size of the encoding of a static type.</summary>
    internal abstract int StaticSize { get; }

    /// <summary>Parses a type such as "uint256", "bytes32[]" or "(uint64,address,bytes32)[]".</summary>
    public static AbiType Parse(string type) => AbiTypeParser.ParseType(type);

    /// <summary>Parses each of several type strings.</summary>
    public static IReadOnlyList<AbiType> ParseList(params string[] types) => types.Select(Parse).ToArray();

    public static AbiUIntType UInt(int bits) => new(bits);

    public static AbiIntType Int(int bits) => new(bits);

    public static AbiAddressType Address { get; } = new();

    public static AbiBoolType Bool { get; } = new();

    public static AbiBytesType Bytes { get; } = new();

    public static AbiStringType String { get; } = new();

    public static AbiFixedBytesType FixedBytes(int size) => new(size);

    public static AbiArrayType ArrayOf(AbiType element) => new(element);

    public static AbiFixedArrayType FixedArrayOf(AbiType element, int length) => new(element, length);

    public static AbiTupleType Tuple(params AbiType[] components) => new(components);

    public bool Equals(AbiType? other) => other is not null && other.CanonicalName == CanonicalName;

    public override bool Equals(object? obj) => obj is AbiType other && Equals(other);

    public override int GetHashCode() => CanonicalName.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => CanonicalName;
}

/// <summary>Elementary types encoded in exactly one 32-byte word.</summary>
public abstract class AbiWordType : AbiType
{
    public override bool IsDynamic => false;

    internal override int StaticSize => 32;
}

public sealed class AbiUIntType : AbiWordType
{
    public AbiUIntType(int bits)
    {
        if (bits < 8 || bits > 256 || bits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "uint<M> needs M in 8..256, a multiple of 8.");
        }
        Bits = bits;
        MaxValue = (BigInteger.One << bits) - 1;
    }

    public int Bits { get; }

    public BigInteger MaxValue { get; }

    public override string CanonicalName => "uint" + Bits;
}

public sealed class AbiIntType : AbiWordType
{
    public AbiIntType(int bits)
    {
        if (bits < 8 || bits > 256 || bits % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "int<M> needs M in 8..256, a multiple of 8.");
        }
        Bits = bits;
        MaxValue = (BigInteger.One << (bits - 1)) - 1;
        MinValue = -(BigInteger.One << (bits - 1));
    }

    public int Bits { get; }

    public BigInteger MinValue { get; }

    public BigInteger MaxValue { get; }

    public override string CanonicalName => "int" + Bits;
}

public sealed class AbiAddressType : AbiWordType
{
    public override string CanonicalName => "address";
}

public sealed class AbiBoolType : AbiWordType
{
    public override string CanonicalName => "bool";
}

public sealed class AbiFixedBytesType : AbiWordType
{
    public AbiFixedBytesType(int size)
    {
        if (size < 1 || size > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "bytes<N> needs N in 1..32.");
        }
        Size = size;
    }

    public int Size { get; }

    public override string CanonicalName => "bytes" + Size;
}

public sealed class AbiBytesType : AbiType
{
    public override string CanonicalName => "bytes";

    public override bool IsDynamic => true;

    internal override int StaticSize => throw new InvalidOperationException("bytes is dynamic.");
}

public sealed class AbiStringType : AbiType
{
    public override string CanonicalName => "string";

    public override bool IsDynamic => true;

    internal override int StaticSize => throw new InvalidOperationException("string is dynamic.");
}

/// <summary>T[]: always dynamic.</summary>
public sealed class AbiArrayType : AbiType
{
    public AbiArrayType(AbiType element)
    {
        Element = element ?? throw new ArgumentNullException(nameof(element));
        CanonicalName = element.CanonicalName + "[]";
    }

    public AbiType Element { get; }

    public override string CanonicalName { get; }

    public override bool IsDynamic => true;

    internal override int StaticSize => throw new InvalidOperationException($"{CanonicalName} is dynamic.");
}

/// <summary>T[k]: dynamic exactly when T is.</summary>
public sealed class AbiFixedArrayType : AbiType
{
    public AbiFixedArrayType(AbiType element, int length)
    {
        Element = element ?? throw new ArgumentNullException(nameof(element));
        if (length < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A fixed array needs at least one element.");
        }
        Length = length;
        CanonicalName = element.CanonicalName + "[" + length + "]";
    }

    public AbiType Element { get; }

    public int Length { get; }

    public override string CanonicalName { get; }

    public override bool IsDynamic => Element.IsDynamic;

    internal override int StaticSize => checked(Element.StaticSize * Length);
}

/// <summary>(T1,...,Tk): dynamic when any component is.</summary>
public sealed class AbiTupleType : AbiType
{
    public AbiTupleType(IReadOnlyList<AbiType> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        Components = components.ToArray();
        CanonicalName = "(" + string.Join(",", Components.Select(c => c.CanonicalName)) + ")";
        IsDynamic = Components.Any(c => c.IsDynamic);
    }

    public IReadOnlyList<AbiType> Components { get; }

    public override string CanonicalName { get; }

    public override bool IsDynamic { get; }

    internal override int StaticSize => Components.Sum(c => c.StaticSize);
}
