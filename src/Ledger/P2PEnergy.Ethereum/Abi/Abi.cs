using System.Collections;
using System.Numerics;
using System.Text;

namespace P2PEnergy.Ethereum;

/// <summary>
/// Solidity contract ABI encoding and decoding ("Formal Specification of the Encoding",
/// docs.soliditylang.org/en/latest/abi-spec.html).
/// </summary>
/// <remarks>
/// Values going in: integers as <see cref="BigInteger"/> or any built-in integer type,
/// <see cref="Ethereum.Address"/>, <see cref="bool"/>, <c>byte[]</c> for bytes and bytesN,
/// <see cref="string"/>, and any <see cref="IList"/> (e.g. <c>object[]</c>) for arrays and tuples.
/// Values coming out: <see cref="BigInteger"/>, <see cref="Ethereum.Address"/>, <see cref="bool"/>,
/// <c>byte[]</c>, <see cref="string"/>, and <c>object?[]</c> for arrays and tuples.
/// Decoding is strict: values must fit their type and padding must be zero.
/// </remarks>
public static class Abi
{
    private const int Word = 32;
    private static readonly BigInteger TwoTo256 = BigInteger.One << 256;
    private static readonly BigInteger MaxInt256 = (BigInteger.One << 255) - 1;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes values as the parameters of a function call (a tuple of the given types).</summary>
    public static byte[] Encode(IReadOnlyList<AbiType> types, IReadOnlyList<object?> values)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(values);
        return EncodeSequence(types, values, "parameters");
    }

    /// <summary>Encodes one value of one type (a top-level dynamic value has no leading offset).</summary>
    public static byte[] EncodeValue(AbiType type, object? value) => EncodeCore(type, value, "value");

    public static object?[] Decode(IReadOnlyList<AbiType> types, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(types);
        return DecodeSequence(types, data, 0);
    }

    /// <summary>The 32-byte word of a static elementary value (for event topics and EIP-712).</summary>
    internal static byte[] EncodeWord(AbiWordType type, object? value) => EncodeCore(type, value, "value");

    internal static object DecodeWord(AbiWordType type, ReadOnlySpan<byte> word) => DecodeCore(type, word, 0);

    // ---- encoding ----

    private static byte[] EncodeCore(AbiType type, object? value, string path)
    {
        switch (type)
        {
            case AbiUIntType u:
            {
                var n = ToInteger(value, path, type);
                if (n.Sign < 0 || n > u.MaxValue)
                {
                    throw new ArgumentOutOfRangeException(path, n, $"{path}: {n} does not fit in {type}.");
                }
                return WordOf(n);
            }
            case AbiIntType i:
            {
                var n = ToInteger(value, path, type);
                if (n < i.MinValue || n > i.MaxValue)
                {
                    throw new ArgumentOutOfRangeException(path, n, $"{path}: {n} does not fit in {type}.");
                }
                return WordOf(n.Sign < 0 ? n + TwoTo256 : n);
            }
            case AbiAddressType:
            {
                var address = value is Address a ? a : throw TypeError(path, type, value);
                var word = new byte[Word];
                address.WriteTo(word.AsSpan(Word - Address.Length));
                return word;
            }
            case AbiBoolType:
            {
                var b = value is bool flag ? flag : throw TypeError(path, type, value);
                var word = new byte[Word];
                word[Word - 1] = b ? (byte)1 : (byte)0;
                return word;
            }
            case AbiFixedBytesType fb:
            {
                var bytes = value as byte[] ?? throw TypeError(path, type, value);
                if (bytes.Length != fb.Size)
                {
                    throw new ArgumentException($"{path}: {type} needs exactly {fb.Size} bytes, got {bytes.Length}.", path);
                }
                var word = new byte[Word];
                bytes.CopyTo(word, 0);
                return word;
            }
            case AbiBytesType:
                return EncodeDynamicBytes(value as byte[] ?? throw TypeError(path, type, value));
            case AbiStringType:
                return EncodeDynamicBytes(StrictUtf8.GetBytes(value as string ?? throw TypeError(path, type, value)));
            case AbiArrayType array:
            {
                var items = AsList(value, path, type);
                var body = EncodeSequence(Enumerable.Repeat(array.Element, items.Count).ToArray(), items, path);
                return [.. WordOf(items.Count), .. body];
            }
            case AbiFixedArrayType fixedArray:
            {
                var items = AsList(value, path, type);
                if (items.Count != fixedArray.Length)
                {
                    throw new ArgumentException($"{path}: {type} needs {fixedArray.Length} elements, got {items.Count}.", path);
                }
                return EncodeSequence(Enumerable.Repeat(fixedArray.Element, items.Count).ToArray(), items, path);
            }
            case AbiTupleType tuple:
            {
                var items = AsList(value, path, type);
                return EncodeSequence(tuple.Components, items, path);
            }
            default:
                throw new NotSupportedException($"ABI type {type} is not supported.");
        }
    }

    // enc((X1..Xk)) = head(X1)..head(Xk) tail(X1)..tail(Xk), where a dynamic Xi's head is the
    // offset of its tail from the start of this encoding.
    private static byte[] EncodeSequence(IReadOnlyList<AbiType> types, IReadOnlyList<object?> values, string path)
    {
        if (types.Count != values.Count)
        {
            throw new ArgumentException($"{path}: expected {types.Count} values, got {values.Count}.", path);
        }
        int headLength = types.Sum(t => t.HeadSize);
        var heads = new List<byte[]>(types.Count);
        var tails = new List<byte[]>();
        int tailOffset = headLength;
        for (int i = 0; i < types.Count; i++)
        {
            var encoded = EncodeCore(types[i], values[i], $"{path}[{i}]");
            if (types[i].IsDynamic)
            {
                heads.Add(WordOf(tailOffset));
                tails.Add(encoded);
                tailOffset = checked(tailOffset + encoded.Length);
            }
            else
            {
                heads.Add(encoded);
            }
        }
        var output = new byte[tailOffset];
        int position = 0;
        foreach (var part in heads.Concat(tails))
        {
            part.CopyTo(output, position);
            position += part.Length;
        }
        return output;
    }

    private static byte[] EncodeDynamicBytes(byte[] bytes)
    {
        int padded = checked((bytes.Length + Word - 1) / Word * Word);
        var output = new byte[Word + padded];
        WordOf(bytes.Length).CopyTo(output, 0);
        bytes.CopyTo(output, Word);
        return output;
    }

    private static byte[] WordOf(BigInteger nonNegative)
    {
        var word = new byte[Word];
        Hex.WriteBigEndianPadded(nonNegative, word);
        return word;
    }

    private static BigInteger ToInteger(object? value, string path, AbiType type) => value switch
    {
        BigInteger b => b,
        int i => i,
        long l => l,
        uint u => u,
        ulong ul => ul,
        short s => s,
        ushort us => us,
        byte by => by,
        sbyte sb => sb,
        _ => throw TypeError(path, type, value),
    };

    private static IReadOnlyList<object?> AsList(object? value, string path, AbiType type)
    {
        if (value is IList list and not byte[])
        {
            var items = new object?[list.Count];
            list.CopyTo(items, 0);
            return items;
        }
        throw TypeError(path, type, value);
    }

    private static ArgumentException TypeError(string path, AbiType type, object? value) =>
        new($"{path}: a value of .NET type {value?.GetType().Name ?? "null"} cannot be encoded as {type}.", path);

    // ---- decoding ----

    private static object?[] DecodeSequence(IReadOnlyList<AbiType> types, ReadOnlySpan<byte> data, int start)
    {
        var result = new object?[types.Count];
        int head = start;
        foreach (var (type, i) in types.Select((t, i) => (t, i)))
        {
            if (type.IsDynamic)
            {
                int offset = ReadLength(data, head, "offset");
                int target = start + offset;
                if (target > data.Length)
                {
                    throw new AbiDecodingException($"Offset {offset} at byte {head} points past the end of the data ({data.Length} bytes).");
                }
                result[i] = DecodeCore(type, data, target);
            }
            else
            {
                result[i] = DecodeCore(type, data, head);
            }
            head += type.HeadSize;
        }
        return result;
    }

    private static object DecodeCore(AbiType type, ReadOnlySpan<byte> data, int position)
    {
        switch (type)
        {
            case AbiUIntType u:
            {
                var n = Hex.FromBigEndian(ReadWord(data, position));
                if (n > u.MaxValue)
                {
                    throw new AbiDecodingException($"Value at byte {position} does not fit in {type}.");
                }
                return n;
            }
            case AbiIntType i:
            {
                var n = Hex.FromBigEndian(ReadWord(data, position));
                if (n > MaxInt256)
                {
                    n -= TwoTo256;
                }
                if (n < i.MinValue || n > i.MaxValue)
                {
                    throw new AbiDecodingException($"Value at byte {position} is not a sign-extended {type}.");
                }
                return n;
            }
            case AbiAddressType:
            {
                var word = ReadWord(data, position);
                RequireZero(word[..(Word - Address.Length)], position, type);
                return new Address(word[(Word - Address.Length)..]);
            }
            case AbiBoolType:
            {
                var word = ReadWord(data, position);
                RequireZero(word[..(Word - 1)], position, type);
                return word[Word - 1] switch
                {
                    0 => false,
                    1 => true,
                    _ => throw new AbiDecodingException($"Bool at byte {position} is neither 0 nor 1."),
                };
            }
            case AbiFixedBytesType fb:
            {
                var word = ReadWord(data, position);
                RequireZero(word[fb.Size..], position, type);
                return word[..fb.Size].ToArray();
            }
            case AbiBytesType:
                return ReadDynamicBytes(data, position);
            case AbiStringType:
                try
                {
                    return StrictUtf8.GetString(ReadDynamicBytes(data, position));
                }
                catch (DecoderFallbackException e)
                {
                    throw new AbiDecodingException($"String at byte {position} is not valid UTF-8: {e.Message}");
                }
            case AbiArrayType array:
            {
                int count = ReadLength(data, position, "array length");
                CheckRoom(data, position + Word, count, array.Element.HeadSize, type);
                return DecodeSequence(Enumerable.Repeat(array.Element, count).ToArray(), data, position + Word);
            }
            case AbiFixedArrayType fixedArray:
                CheckRoom(data, position, fixedArray.Length, fixedArray.Element.HeadSize, type);
                return DecodeSequence(Enumerable.Repeat(fixedArray.Element, fixedArray.Length).ToArray(), data, position);
            case AbiTupleType tuple:
                return DecodeSequence(tuple.Components, data, position);
            default:
                throw new NotSupportedException($"ABI type {type} is not supported.");
        }
    }

    private static byte[] ReadDynamicBytes(ReadOnlySpan<byte> data, int position)
    {
        int length = ReadLength(data, position, "byte length");
        int start = position + Word;
        int padded = (length + Word - 1) / Word * Word;
        if ((long)start + padded > data.Length)
        {
            throw new AbiDecodingException($"Byte string at {position} of length {length} runs past the end of the data.");
        }
        RequireZero(data.Slice(start + length, padded - length), position, AbiType.Bytes);
        return data.Slice(start, length).ToArray();
    }

    private static void CheckRoom(ReadOnlySpan<byte> data, int position, int count, int elementHeadSize, AbiType type)
    {
        if ((long)count * elementHeadSize > data.Length - position)
        {
            throw new AbiDecodingException($"{type} at byte {position} claims {count} elements, more than the data can hold.");
        }
    }

    private static ReadOnlySpan<byte> ReadWord(ReadOnlySpan<byte> data, int position)
    {
        if (position < 0 || (long)position + Word > data.Length)
        {
            throw new AbiDecodingException($"Data too short: need a word at byte {position} but only {data.Length} bytes.");
        }
        return data.Slice(position, Word);
    }

    private static int ReadLength(ReadOnlySpan<byte> data, int position, string what)
    {
        var value = Hex.FromBigEndian(ReadWord(data, position));
        if (value > data.Length)
        {
            throw new AbiDecodingException($"{what} {value} at byte {position} exceeds the data length {data.Length}.");
        }
        return (int)value;
    }

    private static void RequireZero(ReadOnlySpan<byte> padding, int position, AbiType type)
    {
        if (padding.ContainsAnyExcept((byte)0))
        {
            throw new AbiDecodingException($"Non-zero padding in {type} at byte {position}.");
        }
    }
}

public sealed class AbiDecodingException : FormatException
{
    public AbiDecodingException(string message)
        : base(message)
    {
    }
}
