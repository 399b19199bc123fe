namespace P2PEnergy.Ethereum;

/// <summary>
/// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B). Decoding is strict:
/// only the canonical encoding of an item is accepted, and the input must hold exactly one item.
/// </summary>
public static class Rlp
{
    /// <summary>
    /// Deepest list nesting accepted when decoding. Real payloads nest a few levels; the limit keeps
    /// hostile input (thousands of 0xc1 bytes) from exhausting the stack.
    /// </summary>
    public const int MaxDepth = 64;

    public static byte[] Encode(RlpItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var output = new byte[EncodedLength(item)];
        int written = Write(item, output);
        System.Diagnostics.Debug.Assert(written == output.Length);
        return output;
    }

    public static RlpItem Decode(ReadOnlySpan<byte> encoded)
    {
        int consumed = ReadItem(encoded, 0, out var item);
        if (consumed != encoded.Length)
        {
            throw new RlpException($"{encoded.Length - consumed} trailing bytes after the RLP item.");
        }
        return item;
    }

    public static int EncodedLength(RlpItem item)
    {
        switch (item)
        {
            case RlpString s:
                if (s.Length == 1 && s.Span[0] < 0x80)
                {
                    return 1;
                }
                return PrefixLength(s.Length) + s.Length;
            case RlpList list:
                int payload = PayloadLength(list);
                return PrefixLength(payload) + payload;
            default:
                throw new ArgumentException("Unknown RLP item type.", nameof(item));
        }
    }

    private static int PayloadLength(RlpList list)
    {
        int payload = 0;
        foreach (var child in list.Items)
        {
            payload = checked(payload + EncodedLength(child));
        }
        return payload;
    }

    private static int PrefixLength(int length) => length < 56 ? 1 : 1 + ByteCount(length);

    private static int ByteCount(int value)
    {
        int count = 0;
        for (uint v = (uint)value; v != 0; v >>= 8)
        {
            count++;
        }
        return count;
    }

    private static int Write(RlpItem item, Span<byte> output)
    {
        switch (item)
        {
            case RlpString s:
                if (s.Length == 1 && s.Span[0] < 0x80)
                {
                    output[0] = s.Span[0];
                    return 1;
                }
                int offset = WritePrefix(0x80, s.Length, output);
                s.Span.CopyTo(output[offset..]);
                return offset + s.Length;
            case RlpList list:
                int position = WritePrefix(0xc0, PayloadLength(list), output);
                foreach (var child in list.Items)
                {
                    position += Write(child, output[position..]);
                }
                return position;
            default:
                throw new ArgumentException("Unknown RLP item type.", nameof(item));
        }
    }

    // Short form: offset + length for payloads under 56 bytes; long form: offset + 55 + length-of-length,
    // followed by the big-endian length.
    private static int WritePrefix(byte offset, int length, Span<byte> output)
    {
        if (length < 56)
        {
            output[0] = (byte)(offset + length);
            return 1;
        }
        int lengthBytes = ByteCount(length);
        output[0] = (byte)(offset + 55 + lengthBytes);
        for (int i = 0; i < lengthBytes; i++)
        {
            output[lengthBytes - i] = (byte)((length >> (8 * i)) & 0xFF);
        }
        return 1 + lengthBytes;
    }

    private static int ReadItem(ReadOnlySpan<byte> input, int depth, out RlpItem item)
    {
        if (input.IsEmpty)
        {
            throw new RlpException("Unexpected end of RLP input.");
        }
        byte prefix = input[0];
        if (prefix < 0x80)
        {
            item = new RlpString([prefix]);
            return 1;
        }
        if (prefix < 0xc0)
        {
            var (headerLength, length) = ReadLength(input, 0x80);
            var payload = input.Slice(headerLength, length);
            if (length == 1 && payload[0] < 0x80)
            {
                throw new RlpException($"Non-canonical RLP: single byte 0x{payload[0]:x2} must be encoded as itself.");
            }
            item = new RlpString(payload.ToArray());
            return headerLength + length;
        }
        if (depth >= MaxDepth)
        {
            throw new RlpException($"RLP lists nested deeper than {MaxDepth} levels.");
        }
        var (listHeader, listLength) = ReadLength(input, 0xc0);
        var listPayload = input.Slice(listHeader, listLength);
        var items = new List<RlpItem>();
        int position = 0;
        while (position < listPayload.Length)
        {
            position += ReadItem(listPayload[position..], depth + 1, out var child);
            items.Add(child);
        }
        item = new RlpList(items);
        return listHeader + listLength;
    }

    private static (int HeaderLength, int Length) ReadLength(ReadOnlySpan<byte> input, byte offset)
    {
        int shortOrLong = input[0] - offset;
        if (shortOrLong <= 55)
        {
            if (input.Length < 1 + shortOrLong)
            {
                throw new RlpException($"RLP item claims {shortOrLong} bytes but only {input.Length - 1} remain.");
            }
            return (1, shortOrLong);
        }
        int lengthBytes = shortOrLong - 55;
        if (input.Length < 1 + lengthBytes)
        {
            throw new RlpException("Unexpected end of RLP input inside a length prefix.");
        }
        if (input[1] == 0)
        {
            throw new RlpException("Non-canonical RLP: length prefix has a leading zero byte.");
        }
        if (lengthBytes > 4)
        {
            throw new RlpException($"RLP length of {lengthBytes} bytes is too large.");
        }
        long length = 0;
        for (int i = 0; i < lengthBytes; i++)
        {
            length = (length << 8) | input[1 + i];
        }
        if (length < 56)
        {
            throw new RlpException($"Non-canonical RLP: length {length} must use the short form.");
        }
        if (length > input.Length - 1 - lengthBytes)
        {
            throw new RlpException($"RLP item claims {length} bytes but only {input.Length - 1 - lengthBytes} remain.");
        }
        return (1 + lengthBytes, (int)length);
    }
}
