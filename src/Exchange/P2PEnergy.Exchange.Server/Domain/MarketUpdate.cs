using P2PEnergy.Exchange;

namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// What one command or gate closure did, as the market publishes it: the core's events in order, and the
/// aggregated depth of every continuous book whose depth changed (only when a listener wants depth).
/// </summary>
public sealed record MarketUpdate(long UnixMs, IReadOnlyList<MarketEvent> Events, IReadOnlyList<BookDepth> BookChanges);

/// <summary>
/// Receives every <see cref="MarketUpdate"/>, in order, under the market's lock: it must only queue
/// (never block, never call back into the market).
/// </summary>
public interface IMarketListener
{
    /// <summary>True when the market should compute <see cref="MarketUpdate.BookChanges"/> for this listener.</summary>
    bool WantsBookUpdates { get; }

    void OnUpdate(MarketUpdate update);
}

/// <summary>The outcome of a submit, cancel or reduce.</summary>
/// <param name="Code">Ok, or why it was refused (then nothing changed).</param>
/// <param name="OrderId">The new order's id (submit, 0 when refused) or the order's id (cancel, reduce).</param>
/// <param name="Accepted">Submit: the order as accepted.</param>
/// <param name="Live">The order's state after the command, while it is live.</param>
/// <param name="Lots">Lots the command made, in lot-id order.</param>
/// <param name="Done">The order's own OrderDone when the command finished it.</param>
public sealed record CommandOutcome(
    ResultCode Code,
    long OrderId,
    Order? Accepted,
    OrderState? Live,
    IReadOnlyList<Lot> Lots,
    OrderDoneEvent? Done,
    long UnixMs)
{
    public bool Ok => Code == ResultCode.Ok;

    /// <summary>The command's journal seq (0: not journaled); answer the client once it is durable.</summary>
    public long JournalSeq { get; init; }
}

/// <summary>What closing one slot's gate did.</summary>
public sealed record GateClosure(
    long Slot,
    Mechanism Mechanism,
    IReadOnlyList<ClearingResult> Results,
    int LotCount,
    long MatchedWh,
    int ExpiredOrders,
    long UnixMs);

/// <summary>A consistent picture of the market for the operator.</summary>
public sealed record MarketSnapshot(
    MarketConfig Config,
    Mechanism DefaultMechanism,
    long NowUnixMs,
    bool SimulatedClock,
    IReadOnlyList<SlotInfo> Slots,
    IReadOnlyList<Participant> Participants,
    GridTariff Tariff,
    WheelingTable Wheeling,
    long NextOrderId,
    long NextLotId,
    int LotCount);
