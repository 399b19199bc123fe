using System.Buffers.Binary;

namespace P2PEnergy.Ledger;

/// <summary>
/// The packed form of a lot in EnergyLedger.recordLots calldata and in the LotRecorded event's
/// <c>lot</c> word, exactly as the contract's header gives it (contracts/contracts/EnergyLedger.sol).
/// </summary>
/// <remarks>
/// Calldata, 75 bytes a lot, big-endian, no padding:
/// <code>
/// [0,8) lot id | [8,12) slot | [12,32) seller | [32,52) buyer | [52,57) energy Wh | [57,61) price ticks
/// | [61,64) wheeling fee ticks | [64] flags | [65,70) sell order id | [70,75) buy order id
/// </code>
/// flags: bit 0 = green product, bit 1 = renewable source.
/// The event's 32-byte <c>lot</c> word, from the most significant byte: lot id (8), energy Wh (5),
/// price ticks (4), wheeling fee ticks (3), flags (1), sell order id (5), buy order id (5), 0 (1);
/// slot, seller and buyer are the event's indexed topics.
/// </remarks>
public static class LotPacking
{
    public const int LotBytes = 75;

    /// <summary>EnergyLedger.MAX_BATCH.</summary>
    public const int MaxBatch = 1000;

    public const byte FlagGreen = 1;
    public const byte FlagRenewable = 2;

    private const long Max40 = (1L << 40) - 1;
    private const long Max32 = (1L << 32) - 1;
    private const long Max24 = (1L << 24) - 1;

    /// <summary>Why a lot cannot be recorded (a field does not fit its packed width, or the contract would refuse it), or null.</summary>
    public static string? Problem(in Lot lot)
    {
        if (lot.LotId <= 0) return $"lot id {lot.LotId} must be positive";
        if (lot.Slot < 0 || lot.Slot > Max32) return $"slot {lot.Slot} does not fit in 4 bytes";
        if (lot.Seller == lot.Buyer) return "seller is buyer";
        if (lot.EnergyWh <= 0 || lot.EnergyWh > Max40) return $"energy {lot.EnergyWh} Wh is not in [1, 2^40)";
        if (lot.PriceTicks < 0 || lot.PriceTicks > Max32) return $"price {lot.PriceTicks} ticks does not fit in 4 bytes";
        if (lot.WheelingFeeTicks < 0 || lot.WheelingFeeTicks > Max24) return $"wheeling fee {lot.WheelingFeeTicks} ticks does not fit in 3 bytes";
        if (lot.Product is not (Product.Standard or Product.Green)) return $"unknown product {lot.Product}";
        if (lot.Source is not (EnergySource.Mixed or EnergySource.Renewable)) return $"unknown source {lot.Source}";
        if (lot.SellOrderId < 0 || lot.SellOrderId > Max40) return $"sell order id {lot.SellOrderId} does not fit in 5 bytes";
        if (lot.BuyOrderId < 0 || lot.BuyOrderId > Max40) return $"buy order id {lot.BuyOrderId} does not fit in 5 bytes";
        return null;
    }

    public static void Validate(in Lot lot)
    {
        if (Problem(lot) is { } problem)
        {
            throw new ArgumentException($"Lot {lot.LotId} cannot be recorded on chain: {problem}.", nameof(lot));
        }
    }

    public static byte Flags(Product product, EnergySource source) =>
        (byte)((product == Product.Green ? FlagGreen : 0) | (source == EnergySource.Renewable ? FlagRenewable : 0));

    public static void Pack(in Lot lot, Span<byte> destination)
    {
        Validate(lot);
        if (destination.Length < LotBytes)
        {
            throw new ArgumentException($"A packed lot needs {LotBytes} bytes.", nameof(destination));
        }
        BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)lot.LotId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], (uint)lot.Slot);
        lot.Seller.WriteTo(destination[12..32]);
        lot.Buyer.WriteTo(destination[32..52]);
        WriteUInt40(destination[52..], lot.EnergyWh);
        BinaryPrimitives.WriteUInt32BigEndian(destination[57..], (uint)lot.PriceTicks);
        WriteUInt24(destination[61..], lot.WheelingFeeTicks);
        destination[64] = Flags(lot.Product, lot.Source);
        WriteUInt40(destination[65..], lot.SellOrderId);
        WriteUInt40(destination[70..], lot.BuyOrderId);
    }

    public static byte[] Pack(in Lot lot)
    {
        var bytes = new byte[LotBytes];
        Pack(lot, bytes);
        return bytes;
    }

    /// <summary>The <c>batch</c> argument of recordLots: the lots' packed forms, concatenated in the given order.</summary>
    public static byte[] PackBatch(IReadOnlyList<Lot> lots)
    {
        ArgumentNullException.ThrowIfNull(lots);
        var bytes = new byte[checked(lots.Count * LotBytes)];
        for (int i = 0; i < lots.Count; i++)
        {
            Pack(lots[i], bytes.AsSpan(i * LotBytes, LotBytes));
        }
        return bytes;
    }

    /// <summary>Reads one packed lot back (the inverse of <see cref="Pack(in Lot, Span{byte})"/>).</summary>
    public static Lot Unpack(ReadOnlySpan<byte> packed)
    {
        if (packed.Length != LotBytes)
        {
            throw new ArgumentException($"A packed lot has {LotBytes} bytes, not {packed.Length}.", nameof(packed));
        }
        byte flags = packed[64];
        return new Lot(
            LotId: checked((long)BinaryPrimitives.ReadUInt64BigEndian(packed)),
            Slot: BinaryPrimitives.ReadUInt32BigEndian(packed[8..]),
            Seller: ParticipantAddress.FromBytes(packed[12..32]),
            Buyer: ParticipantAddress.FromBytes(packed[32..52]),
            EnergyWh: ReadUInt40(packed[52..]),
            PriceTicks: BinaryPrimitives.ReadUInt32BigEndian(packed[57..]),
            WheelingFeeTicks: (packed[61] << 16) | (packed[62] << 8) | packed[63],
            Product: ProductOf(flags),
            Source: SourceOf(flags),
            SellOrderId: ReadUInt40(packed[65..]),
            BuyOrderId: ReadUInt40(packed[70..]));
    }

    /// <summary>
    /// Unpacks the event's <c>lot</c> word together with its indexed slot, seller and buyer (the contract's decodeLot, in C#).
    /// </summary>
    public static Lot FromEventWord(ReadOnlySpan<byte> word, long slot, ParticipantAddress seller, ParticipantAddress buyer)
    {
        if (word.Length != 32)
        {
            throw new ArgumentException("The lot word has 32 bytes.", nameof(word));
        }
        if (word[31] != 0)
        {
            throw new FormatException("The lot word's last byte must be 0.");
        }
        byte flags = word[20];
        return new Lot(
            LotId: checked((long)BinaryPrimitives.ReadUInt64BigEndian(word)),
            Slot: slot,
            Seller: seller,
            Buyer: buyer,
            EnergyWh: ReadUInt40(word[8..]),
            PriceTicks: BinaryPrimitives.ReadUInt32BigEndian(word[13..]),
            WheelingFeeTicks: (word[17] << 16) | (word[18] << 8) | word[19],
            Product: ProductOf(flags),
            Source: SourceOf(flags),
            SellOrderId: ReadUInt40(word[21..]),
            BuyOrderId: ReadUInt40(word[26..]));
    }

    public static Product ProductOf(byte flags) => (flags & FlagGreen) != 0 ? Product.Green : Product.Standard;

    public static EnergySource SourceOf(byte flags) => (flags & FlagRenewable) != 0 ? EnergySource.Renewable : EnergySource.Mixed;

    private static void WriteUInt40(Span<byte> destination, long value)
    {
        for (int i = 4; i >= 0; i--)
        {
            destination[i] = unchecked((byte)value);
            value >>= 8;
        }
    }

    private static void WriteUInt24(Span<byte> destination, long value)
    {
        // Checked arithmetic is on project-wide: truncation to a byte is meant here.
        destination[0] = unchecked((byte)(value >> 16));
        destination[1] = unchecked((byte)(value >> 8));
        destination[2] = unchecked((byte)value);
    }

    private static long ReadUInt40(ReadOnlySpan<byte> source)
    {
        long value = 0;
        for (int i = 0; i < 5; i++)
        {
            value = (value << 8) | source[i];
        }
        return value;
    }
}
