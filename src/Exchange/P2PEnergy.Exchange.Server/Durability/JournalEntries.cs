using Google.Protobuf;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Durability.Journal;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>Journal entries from the market's commands, and back (one mapping, used by writing and by replay).</summary>
public static class JournalEntries
{
    public static JournalEntry Submit(in SubmitOrder command, SignedOrder signed) => new()
    {
        Submit = new Journal.Submit
        {
            Participant = Bytes(command.Participant),
            ClientOrderId = command.ClientOrderId,
            Side = (int)command.Side,
            Slot = command.Slot,
            EnergyWh = command.EnergyWh,
            LimitPriceTicks = command.LimitPriceTicks,
            Product = (int)command.Product,
            Source = (int)command.Source,
            Signature = signed.Signature.Length == 0 ? ByteString.Empty : ByteString.CopyFrom(signed.Signature),
            SignedSide = signed.Message.Side,
            SignedProduct = signed.Message.Product,
            SignedSource = signed.Message.Source,
        },
    };

    public static JournalEntry Cancel(Address participant, long orderId) => new()
    {
        Cancel = new Journal.Cancel { Participant = Bytes(participant), OrderId = orderId },
    };

    public static JournalEntry Reduce(Address participant, long orderId, long reduceByWh) => new()
    {
        Reduce = new Journal.Reduce { Participant = Bytes(participant), OrderId = orderId, ReduceByWh = reduceByWh },
    };

    public static JournalEntry Register(Address address, int zone, ParticipantKind kind) => new()
    {
        Register = new Journal.Register { Address = Bytes(address), Zone = zone, Kind = (int)kind },
    };

    public static JournalEntry OpenSlots(long firstSlot, int count, Mechanism mechanism) => new()
    {
        OpenSlots = new Journal.OpenSlots { FirstSlot = firstSlot, Count = count, Mechanism = (int)mechanism },
    };

    public static JournalEntry CloseGate(long slot) => new() { CloseGate = new Journal.CloseGate { Slot = slot } };

    public static JournalEntry CloseDueGates() => new() { CloseDueGates = new Journal.CloseDueGates() };

    public static JournalEntry AdvanceClock() => new() { AdvanceClock = new Journal.AdvanceClock() };

    public static JournalEntry SetWheeling(long defaultFeeTicks, IReadOnlyList<WheelingEntry> entries)
    {
        var wheeling = new SetWheeling { DefaultFeeTicks = defaultFeeTicks };
        foreach (var e in entries)
        {
            wheeling.Entries.Add(new Journal.WheelingEntry { SellerZone = e.SellerZone, BuyerZone = e.BuyerZone, FeeTicks = e.FeeTicks });
        }
        return new JournalEntry { SetWheeling = wheeling };
    }

    public static JournalEntry SetTariff(GridTariff tariff)
    {
        var set = new SetTariff { RetailTicks = tariff.RetailTicks, BuyBackTicks = tariff.BuyBackTicks, UtcOffsetMinutes = tariff.UtcOffsetMinutes };
        foreach (var (halfHour, ticks) in tariff.TimeOfUseRetail) set.TimeOfUseRetail.Add(halfHour, ticks);
        return new JournalEntry { SetTariff = set };
    }

    public static JournalEntry BindMeter(Address meter, Address participant) => new()
    {
        BindMeter = new Journal.BindMeter { Meter = Bytes(meter), Participant = Bytes(participant) },
    };

    public static JournalEntry Reading(Metering.MeterReading reading, byte[] signature, int outcome, long readingId) => new()
    {
        Reading = new ReadingReceived
        {
            Meter = Bytes(reading.Meter),
            Participant = Bytes(reading.Participant),
            Slot = reading.Slot,
            ImportWh = reading.ImportWh,
            ExportWh = reading.ExportWh,
            Signature = ByteString.CopyFrom(signature),
            Outcome = outcome,
            ReadingId = readingId,
        },
    };

    public static JournalEntry ReadingsSealed(long slot) => new() { ReadingsSealed = new Journal.ReadingsSealed { Slot = slot } };

    /// <summary>Whether the entry belongs to the meter-reading store (else to the market).</summary>
    public static bool IsMetering(JournalEntry entry) => entry.CommandCase is JournalEntry.CommandOneofCase.BindMeter
        or JournalEntry.CommandOneofCase.Reading or JournalEntry.CommandOneofCase.ReadingsSealed;

    // ---------------------------------------------------------------- back

    public static Metering.MeterReading ToReading(ReadingReceived r) => new(
        ToAddress(r.Meter, "reading.meter"), ToAddress(r.Participant, "reading.participant"), r.Slot, r.ImportWh, r.ExportWh);

    public static SubmitOrder ToCommand(Journal.Submit s, long unixMs) => new(
        ToAddress(s.Participant, "submit.participant"),
        s.ClientOrderId,
        (Side)s.Side,
        s.Slot,
        s.EnergyWh,
        s.LimitPriceTicks,
        (Product)s.Product,
        (EnergySource)s.Source,
        unixMs);

    public static SignedOrder ToSignedOrder(Journal.Submit s, P2PEnergy.Signing.MarketDomain domain)
    {
        var message = new P2PEnergy.Signing.OrderMessage(
            ToAddress(s.Participant, "submit.participant").ToString(),
            s.ClientOrderId,
            checked((byte)s.SignedSide),
            unchecked((ulong)s.Slot),
            unchecked((ulong)s.EnergyWh),
            unchecked((ulong)s.LimitPriceTicks),
            checked((byte)s.SignedProduct),
            checked((byte)s.SignedSource));
        return new SignedOrder(message, P2PEnergy.Signing.MarketSigning.Digest(domain, message), s.Signature.ToByteArray());
    }

    public static IReadOnlyList<WheelingEntry> ToWheelingEntries(SetWheeling w) =>
        w.Entries.Select(e => new WheelingEntry(e.SellerZone, e.BuyerZone, e.FeeTicks)).ToArray();

    public static GridTariff ToTariff(SetTariff t) =>
        new(t.RetailTicks, t.BuyBackTicks, t.TimeOfUseRetail.ToDictionary(kv => kv.Key, kv => kv.Value), t.UtcOffsetMinutes);

    public static Address ToAddress(ByteString bytes, string field) =>
        bytes.Length == Address.Length
            ? Address.FromBytes(bytes.Span)
            : throw new InvalidDataException($"journal entry field {field} holds {bytes.Length} bytes, not an address");

    private static ByteString Bytes(Address address)
    {
        Span<byte> bytes = stackalloc byte[Address.Length];
        address.WriteTo(bytes);
        return ByteString.CopyFrom(bytes);
    }
}
