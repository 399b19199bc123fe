namespace P2PEnergy.Exchange.Server.Tests.Helpers;

using System.Text;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Hosting;
using Core = P2PEnergy.Exchange;

/// <summary>A market on a simulated clock with its services, called directly (no host).</summary>
public sealed class TestMarket
{
    /// <summary>2026-01-01T00:00:00Z, a slot start.</summary>
    public const long StartUnixSeconds = 1_767_225_600;

    /// <summary>The slot whose delivery starts at <see cref="StartUnixSeconds"/>; its gate has passed.</summary>
    public const long Slot0 = StartUnixSeconds / 1800;

    public const string Seller = "0x1111111111111111111111111111111111111111";
    public const string Buyer = "0x2222222222222222222222222222222222222222";
    public const string Other = "0x3333333333333333333333333333333333333333";
    public const string Stranger = "0x9999999999999999999999999999999999999999";

    public TestMarket(Action<ExchangeOptions>? configure = null, MarketClock? clock = null)
    {
        Options = new ExchangeOptions { Clock = ClockKind.Simulated, SimulatedStartUnixSeconds = StartUnixSeconds };
        configure?.Invoke(Options);
        Clock = clock ?? ExchangeHost.CreateClock(Options);
        Market = new Market(Options, Clock, NullLogger<Market>.Instance);
        Hub = new MarketDataHub(Market);
        Exchange = new ExchangeGrpcService(Market, Hub);
        Admin = new MarketAdminGrpcService(Market);
    }

    public ExchangeOptions Options { get; }
    public MarketClock Clock { get; }
    public Market Market { get; }
    public MarketDataHub Hub { get; }
    public ExchangeGrpcService Exchange { get; }
    public MarketAdminGrpcService Admin { get; }

    public static ServerCallContext Context(string? adminToken = null)
    {
        var headers = new Metadata();
        if (adminToken is not null) headers.Add(AdminGuard.Header, adminToken);
        return TestServerCallContext.Create(headers);
    }

    public void Register(string address, int zone, ParticipantKind kind = ParticipantKind.Prosumer) =>
        Admin.RegisterParticipant(new RegisterParticipantRequest { Address = address, Zone = zone, Kind = kind }, Context(Options.AdminToken)).GetAwaiter().GetResult();

    public void Open(long slot, Mechanism mechanism) =>
        Admin.OpenSlot(new OpenSlotRequest { Slot = slot, Mechanism = mechanism }, Context(Options.AdminToken)).GetAwaiter().GetResult();

    public static NewOrder Sell(string who, ulong clientId, long slot, long wh, long price, EnergySource source = EnergySource.Renewable) => new()
    {
        Participant = who, ClientOrderId = clientId, Side = Side.Sell, Slot = slot, EnergyWh = wh, LimitPriceTicks = price, Source = source,
    };

    public static NewOrder Buy(string who, ulong clientId, long slot, long wh, long price, Product product = Product.Standard) => new()
    {
        Participant = who, ClientOrderId = clientId, Side = Side.Buy, Slot = slot, EnergyWh = wh, LimitPriceTicks = price, Product = product,
    };

    public SubmitOrderResponse Submit(NewOrder order) =>
        Exchange.SubmitOrder(new SubmitOrderRequest { Order = order }, Context()).GetAwaiter().GetResult();

    /// <summary>Everything a refused command must leave as it was: ids, lots, every slot's live orders and books.</summary>
    public string Fingerprint() => Market.Read((engine, lots) =>
    {
        var sb = new StringBuilder();
        sb.Append($"next order {engine.NextOrderId}, next lot {engine.NextLotId}, lots {lots.Count}, participants {engine.Participants.Count}\n");
        foreach (var slot in engine.Slots)
        {
            sb.Append(slot).Append('\n');
            foreach (var o in engine.LiveOrders(slot.Slot)) sb.Append("  ").Append(o).Append('\n');
            foreach (var product in (Core.Product[])[Core.Product.Standard, Core.Product.Green])
            {
                if (engine.GetDepth(slot.Slot, product, 0, out var depth) == Core.ResultCode.Ok)
                {
                    sb.Append("  bids ").AppendJoin(',', depth!.Bids).Append(" asks ").AppendJoin(',', depth.Asks).Append('\n');
                }
            }
        }
        return sb.ToString();
    });
}
