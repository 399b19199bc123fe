namespace P2PEnergy.Exchange.Server.Tests.Helpers;

using System.Text;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using Core = P2PEnergy.Exchange;
using IReadingRootSink = P2PEnergy.Exchange.Server.Metering.IReadingRootSink;
using MeteringAdminGrpcService = P2PEnergy.Exchange.Server.Metering.MeteringAdminGrpcService;
using MeteringGrpcService = P2PEnergy.Exchange.Server.Metering.MeteringGrpcService;
using MeteringOptions = P2PEnergy.Exchange.Server.Metering.MeteringOptions;
using ReadingStore = P2PEnergy.Exchange.Server.Metering.MeterReadingStore;

/// <summary>
/// Metering on a <see cref="TestMarket"/> (simulated clock at <see cref="TestMarket.StartUnixSeconds"/>), its
/// services called directly. Each test meter is a key of its own (keccak256("p2penergy-test:meter:" + name)).
/// At the start, slot <see cref="Ended"/> has just been delivered and <see cref="TestMarket.Slot0"/> is being delivered.
/// </summary>
public sealed class TestMetering
{
    /// <summary>The slot whose delivery ended exactly at the start: readings for it are on time for an hour.</summary>
    public const long Ended = Slot0 - 1;

    public static EthKey MeterKey(string name) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-test:meter:" + name));

    public static readonly EthKey SellerMeter = MeterKey("seller");
    public static readonly EthKey BuyerMeter = MeterKey("buyer");
    public static readonly EthKey OtherMeter = MeterKey("other");

    public static string AddressOf(EthKey key) => key.Address.ToLowerHex();

    public TestMetering(Action<Hosting.ExchangeOptions>? configure = null, MeteringOptions? options = null, IReadingRootSink? sink = null,
        Domain.MarketClock? clock = null)
    {
        Market = new TestMarket(configure, clock);
        Options = options ?? new MeteringOptions();
        Store = new ReadingStore(Market.Market, Options, NullLogger<ReadingStore>.Instance, sink);
        Service = new MeteringGrpcService(Store);
        Admin = new MeteringAdminGrpcService(Store, Market.Market);
    }

    public TestMarket Market { get; }
    public MeteringOptions Options { get; }
    public ReadingStore Store { get; }
    public MeteringGrpcService Service { get; }
    public MeteringAdminGrpcService Admin { get; }

    /// <summary>Registers seller, buyer and other and binds each its meter.</summary>
    public TestMetering WithMeters()
    {
        Market.Register(Seller, 0);
        Market.Register(Buyer, 1, ParticipantKind.Household);
        Market.Register(Other, 2, ParticipantKind.Office);
        Bind(AddressOf(SellerMeter), Seller);
        Bind(AddressOf(BuyerMeter), Buyer);
        Bind(AddressOf(OtherMeter), Other);
        return this;
    }

    public BindMeterResponse Bind(string meter, string participant) =>
        Admin.BindMeter(new BindMeterRequest { Meter = meter, Participant = participant }, Context(Market.Options.AdminToken)).GetAwaiter().GetResult();

    /// <summary>A reading signed by <paramref name="by"/> (default: the meter whose address it names) in the default domain.</summary>
    public static MeterReading Reading(EthKey meter, string participant, long slot, long importWh, long exportWh, EthKey? by = null)
    {
        var reading = new MeterReading
        {
            Meter = AddressOf(meter), Participant = participant, Slot = slot, ImportWh = importWh, ExportWh = exportWh,
        };
        return Signed(reading, by ?? meter);
    }

    public static MeterReading Signed(MeterReading reading, EthKey by)
    {
        var message = new MeterReadingMessage(reading.Meter, reading.Participant, unchecked((ulong)reading.Slot),
            unchecked((ulong)reading.ImportWh), unchecked((ulong)reading.ExportWh));
        reading.Signature = ByteString.CopyFrom(by.Sign(DefaultDomain, message));
        return reading;
    }

    public SubmitReadingResponse Submit(MeterReading reading) =>
        Service.SubmitReading(new SubmitReadingRequest { Reading = reading.Clone() }, Context()).GetAwaiter().GetResult();

    public GetReadingResponse Get(string meter, long slot) =>
        Service.GetReading(new GetReadingRequest { Meter = meter, Slot = slot }, Context()).GetAwaiter().GetResult();

    public GetReadingResponse Get(GetReadingRequest request) => Service.GetReading(request, Context()).GetAwaiter().GetResult();

    public GetReadingProofResponse Proof(string participant, long slot) =>
        Service.GetReadingProof(new GetReadingProofRequest { Participant = participant, Slot = slot }, Context()).GetAwaiter().GetResult();

    public SealReadingsResponse Seal(long slot) =>
        Admin.SealReadings(new SealReadingsRequest { Slot = slot }, Context(Market.Options.AdminToken)).GetAwaiter().GetResult();

    public IReadOnlyList<RejectedReading> Rejected(long slot) =>
        Admin.GetRejectedReadings(new GetRejectedReadingsRequest { Slot = slot }, Context(Market.Options.AdminToken)).GetAwaiter().GetResult().Readings;

    public void Advance(TimeSpan by) => Market.Market.AdvanceClock(by, null, out _);

    /// <summary>Everything a refused reading must leave as it was: every test meter's accepted reading and the audit list of the slots around the start.</summary>
    public string Fingerprint(bool withRejected = true)
    {
        var sb = new StringBuilder();
        foreach (var meter in new[] { SellerMeter, BuyerMeter, OtherMeter })
        {
            var address = Core.Address.Parse(AddressOf(meter));
            sb.Append(AddressOf(meter)).Append(" → ").Append(Store.TryGetParticipantOf(address, out var p) ? p.ToString() : "unbound").Append('\n');
            for (var slot = Ended - 2; slot <= Slot0 + 2; slot++)
            {
                var lookup = Store.TryGetReading(address, slot, out var reading, out var isSealed);
                sb.Append($"  {slot}: {lookup} {reading?.ReadingId} {reading?.Reading} {(reading is null ? "" : Hex.Encode(reading.Signature))} sealed={isSealed}\n");
            }
        }
        for (var slot = Ended - 2; withRejected && slot <= Slot0 + 2; slot++)
        {
            foreach (var r in Store.GetRejected(slot)) sb.Append($"rejected {slot}: {r.Reason} {r.Reading} {Hex.Encode(r.Signature)}\n");
        }
        return sb.ToString();
    }
}
