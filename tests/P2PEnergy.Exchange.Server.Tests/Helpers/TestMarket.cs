namespace P2PEnergy.Exchange.Server.Tests.Helpers;

using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Ethereum;
using P2PEnergy.Signing;
using Core = P2PEnergy.Exchange;

/// <summary>
/// A market on a simulated clock with its services, called directly (no host). Signatures are required, as
/// in production: every test participant is a secp256k1 key (keccak256("p2penergy-test:" + name)), and
/// the order builders' orders are signed by <see cref="Submit"/> or <see cref="Signed"/> with the
/// participant's key in the default domain (chain 31337, zero ledger address).
/// </summary>
public sealed class TestMarket
{
    /// <summary>2026-01-01T00:00:00Z, a slot start.</summary>
    public const long StartUnixSeconds = 1_767_225_600;

    /// <summary>The slot whose delivery starts at <see cref="StartUnixSeconds"/>; its gate has passed.</summary>
    public const long Slot0 = StartUnixSeconds / 1800;

    // The addresses of KeyOf(name) (lower case, as the exchange returns them); TestKeys_are_the_participants checks them.
    public const string Seller = "0xbb7bfbf0370807dedbace28b213ed469f04d1433";
    public const string Buyer = "0xcb847a4971787620b4b0b397c09352120d78c206";
    public const string Other = "0x7aea7f3a789429e5b7d8bf8f7af352f96fe4ee3f";
    /// <summary>Has a key but is never registered.</summary>
    public const string Stranger = "0x338fbf34d23623197ab33b747abc9d3d69dc3e04";

    /// <summary>A key that is nobody's participant: it forges.</summary>
    public static readonly EthKey Mallory = KeyOf("mallory");

    public static EthKey KeyOf(string name) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-test:" + name));

    public static readonly IReadOnlyDictionary<string, EthKey> Keys =
        new[] { "seller", "buyer", "other", "stranger" }.Select(KeyOf).ToDictionary(k => k.Address.ToLowerHex(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The exchange's default signing domain (Exchange:ChainId 31337, Exchange:LedgerAddress zero).</summary>
    public static readonly MarketDomain DefaultDomain = new(31337, Ethereum.Address.Zero);

    /// <summary>The message a client signs for <paramref name="o"/>: the fields as sent.</summary>
    public static OrderMessage MessageOf(NewOrder o) => new(
        o.Participant, o.ClientOrderId, (byte)o.Side, unchecked((ulong)o.Slot), unchecked((ulong)o.EnergyWh),
        unchecked((ulong)o.LimitPriceTicks), (byte)o.Product, (byte)o.Source);

    /// <summary>Signs the order in place with <paramref name="by"/>, or its participant's key, and returns it.</summary>
    public static NewOrder Signed(NewOrder order, EthKey? by = null, MarketDomain? domain = null)
    {
        var key = by ?? Keys[order.Participant];
        order.Signature = ByteString.CopyFrom(key.Sign(domain ?? DefaultDomain, MessageOf(order)));
        return order;
    }

    public static CancelOrderRequest SignedCancel(string who, long orderId, EthKey? by = null) => new()
    {
        Participant = who,
        OrderId = orderId,
        Signature = ByteString.CopyFrom((by ?? Keys[who]).Sign(DefaultDomain, new CancelOrderMessage(who, (ulong)orderId))),
    };

    public static ReduceOrderRequest SignedReduce(string who, long orderId, long reduceByWh, EthKey? by = null) => new()
    {
        Participant = who,
        OrderId = orderId,
        ReduceByWh = reduceByWh,
        Signature = ByteString.CopyFrom((by ?? Keys[who]).Sign(DefaultDomain, new ReduceOrderMessage(who, (ulong)orderId, unchecked((ulong)reduceByWh)))),
    };

    public TestMarket(Action<ExchangeOptions>? configure = null, MarketClock? clock = null, IOrderRootSink? orderRoots = null)
    {
        Options = new ExchangeOptions { Clock = ClockKind.Simulated, SimulatedStartUnixSeconds = StartUnixSeconds };
        configure?.Invoke(Options);
        Clock = clock ?? ExchangeHost.CreateClock(Options);
        Market = new Market(Options, Clock, NullLogger<Market>.Instance, orderRoots);
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

    /// <summary>Submits the order, first signing it with its participant's key when it has no signature and the participant has a test key.</summary>
    public SubmitOrderResponse Submit(NewOrder order)
    {
        if (order.Signature.IsEmpty && Keys.ContainsKey(order.Participant)) Signed(order, domain: Market.SigningDomain);
        return SubmitAsIs(order);
    }

    /// <summary>Submits the order exactly as given (signed or not).</summary>
    public SubmitOrderResponse SubmitAsIs(NewOrder order) =>
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
