using System.Text.Json;
using System.Text.Json.Serialization;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Signing;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// A snapshot of the whole market after journal entry <see cref="JournalSeq"/>: the matching core, the lots, the
/// signed orders (order trees are rebuilt from them), the tariff and the simulated clock. Stored as JSON (written
/// once every Redis:SnapshotEveryEntries entries, read once at start-up: clarity over size).
/// </summary>
public sealed record MarketState(
    int Version,
    long JournalSeq,
    long ClockUnixMs,
    EngineSnapshot Engine,
    IReadOnlyList<Lot> Lots,
    IReadOnlyList<SignedOrderRecord> SignedOrders,
    IReadOnlyList<long> SealedSlots,
    GridTariff Tariff,
    MeteringState? Metering)
{
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new AddressJsonConverter(), new JsonStringEnumConverter() },
        IgnoreReadOnlyProperties = true,
    };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static MarketState FromJson(ReadOnlySpan<byte> json)
    {
        var state = JsonSerializer.Deserialize<MarketState>(json, Json) ?? throw new InvalidDataException("the snapshot is empty");
        if (state.Version != CurrentVersion)
            throw new InvalidDataException($"the snapshot has version {state.Version}; this exchange reads version {CurrentVersion}");
        return state;
    }

    private sealed class AddressJsonConverter : JsonConverter<Address>
    {
        public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Address.TryParse(reader.GetString(), out var a) ? a : throw new JsonException($"'{reader.GetString()}' is not an address");

        public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}

/// <summary>An accepted order's signed form in a snapshot.</summary>
public sealed record SignedOrderRecord(long OrderId, long Slot, OrderMessage Message, byte[] Digest, byte[] Signature);

/// <summary>The meter-reading store in a snapshot: bindings, accepted readings (by reading id), refusals kept for audit, sealed slots.</summary>
public sealed record MeteringState(
    IReadOnlyList<MeterBinding> Bindings,
    IReadOnlyList<AcceptedReadingRecord> Accepted,
    IReadOnlyList<RejectedReadingRecord> Rejected,
    IReadOnlyList<long> SealedSlots,
    long NextReadingId);

public sealed record MeterBinding(Address Meter, Address Participant);

public sealed record AcceptedReadingRecord(long ReadingId, Metering.MeterReading Reading, byte[] Signature, long ReceivedUnixMs);

public sealed record RejectedReadingRecord(Metering.MeterReading Reading, byte[] Signature, Metering.ReadingRejection Reason, long ReceivedUnixMs);
