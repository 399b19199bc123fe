namespace P2PEnergy.Exchange.Tests.Reference;

/// <summary>
/// The commands and queries of a matching core, so that one test suite runs against the fast engine and
/// the slow reference alike (exchange-core: one suite, two books).
/// </summary>
public interface IMarket
{
    MarketConfig Config { get; }

    WheelingTable Wheeling { get; }

    long NextOrderId { get; }

    long NextLotId { get; }

    IEnumerable<SlotInfo> Slots { get; }

    ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind);

    ResultCode SetWheelingTable(WheelingTable table);

    ResultCode OpenSlot(long slot, Mechanism mechanism, long nowUnixMs);

    ResultCode Submit(in SubmitOrder cmd, IMarketEvents events);

    ResultCode Cancel(in CancelOrder cmd, IMarketEvents events);

    ResultCode Reduce(in ReduceOrder cmd, IMarketEvents events);

    ResultCode CloseGate(long slot, IMarketEvents events);

    bool TryGetSlot(long slot, out SlotInfo info);

    bool TryGetOrder(long orderId, out OrderState state);

    IReadOnlyList<OrderState> LiveOrders(long slot);

    IReadOnlyList<long> SlotsDueForGateClosure(long nowUnixMs);

    ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth);
}

/// <summary>The fast engine behind <see cref="IMarket"/>.</summary>
public sealed class EngineMarket(MatchingEngine engine) : IMarket
{
    public EngineMarket(MarketConfig config, WheelingTable? wheeling = null)
        : this(new MatchingEngine(config, wheeling))
    {
    }

    public MatchingEngine Engine { get; } = engine;

    public MarketConfig Config => Engine.Config;

    public WheelingTable Wheeling => Engine.Wheeling;

    public long NextOrderId => Engine.NextOrderId;

    public long NextLotId => Engine.NextLotId;

    public IEnumerable<SlotInfo> Slots => Engine.Slots;

    public ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind) => Engine.RegisterParticipant(address, zone, kind);

    public ResultCode SetWheelingTable(WheelingTable table) => Engine.SetWheelingTable(table);

    public ResultCode OpenSlot(long slot, Mechanism mechanism, long nowUnixMs) => Engine.OpenSlot(slot, mechanism, nowUnixMs);

    public ResultCode Submit(in SubmitOrder cmd, IMarketEvents events) => Engine.Submit(cmd, events);

    public ResultCode Cancel(in CancelOrder cmd, IMarketEvents events) => Engine.Cancel(cmd, events);

    public ResultCode Reduce(in ReduceOrder cmd, IMarketEvents events) => Engine.Reduce(cmd, events);

    public ResultCode CloseGate(long slot, IMarketEvents events) => Engine.CloseGate(slot, events);

    public bool TryGetSlot(long slot, out SlotInfo info) => Engine.TryGetSlot(slot, out info);

    public bool TryGetOrder(long orderId, out OrderState state) => Engine.TryGetOrder(orderId, out state);

    public IReadOnlyList<OrderState> LiveOrders(long slot) => Engine.LiveOrders(slot);

    public IReadOnlyList<long> SlotsDueForGateClosure(long nowUnixMs) => Engine.SlotsDueForGateClosure(nowUnixMs);

    public ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth) =>
        Engine.GetDepth(slot, product, maxLevels, out depth);
}
