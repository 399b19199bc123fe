namespace P2PEnergy.Exchange;

/// <summary>
/// Everything a <see cref="MatchingEngine"/>'s future behaviour depends on, as plain values: restored with
/// <see cref="MatchingEngine.Restore"/>, the engine answers every later command with exactly the events,
/// codes and ids the original would have. Holds no reference into an engine; the exchange stores it
/// (protobuf) beside its command journal and replays only the commands after it.
/// Equality compares the lists element by element, so two snapshots of the same state are equal.
/// </summary>
/// <param name="Version">The shape and meaning of these fields; <see cref="CurrentVersion"/> when taken.</param>
/// <param name="Participants">In registration order.</param>
/// <param name="Slots">Every slot ever opened, open or closed, by slot index.</param>
/// <param name="Orders">Every live order, in order-id order (which is also time priority).</param>
/// <param name="ClientOrderIds">
/// Every (participant, client order id) ever accepted, live or finished, in order-id order: one per order
/// 1 … <see cref="NextOrderId"/> − 1, so that a duplicate is still refused after a restore.
/// </param>
public sealed record EngineSnapshot(
    int Version,
    MarketConfig Config,
    WheelingSnapshot Wheeling,
    IReadOnlyList<Participant> Participants,
    IReadOnlyList<SlotSnapshot> Slots,
    IReadOnlyList<OrderSnapshot> Orders,
    IReadOnlyList<ClientOrderIdEntry> ClientOrderIds,
    long NextOrderId,
    long NextLotId)
{
    public const int CurrentVersion = 1;

    public bool Equals(EngineSnapshot? other) =>
        other is not null
        && Version == other.Version
        && NextOrderId == other.NextOrderId
        && NextLotId == other.NextLotId
        && Equals(Config, other.Config)
        && Equals(Wheeling, other.Wheeling)
        && Participants.SequenceEqual(other.Participants)
        && Slots.SequenceEqual(other.Slots)
        && Orders.SequenceEqual(other.Orders)
        && ClientOrderIds.SequenceEqual(other.ClientOrderIds);

    public override int GetHashCode() =>
        HashCode.Combine(Version, NextOrderId, NextLotId, Config, Wheeling, Participants.Count, Slots.Count, Orders.Count);
}

/// <summary>
/// The wheeling table: every (seller zone, buyer zone) costs <see cref="DefaultFeeTicks"/> across zones and 0
/// within a zone, except the pairs in <see cref="Entries"/> (in seller-zone, then buyer-zone order; only
/// those that differ from that default, so a uniform table of many zones stays small). The zones are the
/// market's <see cref="MarketConfig.MaxZones"/>.
/// </summary>
public sealed record WheelingSnapshot(long DefaultFeeTicks, IReadOnlyList<WheelingEntry> Entries)
{
    public bool Equals(WheelingSnapshot? other) =>
        other is not null && DefaultFeeTicks == other.DefaultFeeTicks && Entries.SequenceEqual(other.Entries);

    public override int GetHashCode() => HashCode.Combine(DefaultFeeTicks, Entries.Count);
}

/// <summary>
/// One slot. Its live orders are in <see cref="EngineSnapshot.Orders"/>; a closed slot has none but is kept,
/// so that it can be neither opened nor closed again.
/// </summary>
public readonly record struct SlotSnapshot(long Slot, Mechanism Mechanism, long GateClosureUnixMs, SlotPhase Phase);

/// <summary>
/// One live order as it stands: the accepted order's fields, then what is left of it. Its place in a CDA
/// price level, and its rank among a call auction's ties, is its order id. <see cref="Product"/> is
/// <c>default</c> for a sell and <see cref="Source"/> for a buy, as in <see cref="Order"/>.
/// </summary>
public readonly record struct OrderSnapshot(
    long OrderId,
    Address Participant,
    ulong ClientOrderId,
    Side Side,
    long Slot,
    long EnergyWh,
    long LimitPriceTicks,
    Product Product,
    EnergySource Source,
    int Zone,
    long RemainingWh,
    long FilledWh);

/// <summary>A (participant, client order id) pair taken by order <see cref="OrderId"/>, for the life of the market.</summary>
public readonly record struct ClientOrderIdEntry(Address Participant, ulong ClientOrderId, long OrderId);
