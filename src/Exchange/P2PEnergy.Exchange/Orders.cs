namespace P2PEnergy.Exchange;

/// <summary>Submit a new order. <see cref="Product"/> matters for buys, <see cref="Source"/> for sells.</summary>
public readonly record struct SubmitOrder(
    Address Participant,
    ulong ClientOrderId,
    Side Side,
    long Slot,
    long EnergyWh,
    long LimitPriceTicks,
    Product Product,
    EnergySource Source,
    long TimestampUnixMs);

/// <summary>Cancel the rest of a live order.</summary>
public readonly record struct CancelOrder(Address Participant, long OrderId, long TimestampUnixMs);

/// <summary>Take <see cref="ReduceByWh"/> off a live order's remaining Wh, keeping its time priority.</summary>
public readonly record struct ReduceOrder(Address Participant, long OrderId, long ReduceByWh, long TimestampUnixMs);

/// <summary>An order as accepted by the exchange.</summary>
public readonly record struct Order(
    long OrderId,
    Address Participant,
    ulong ClientOrderId,
    Side Side,
    long Slot,
    long EnergyWh,
    long LimitPriceTicks,
    Product Product,
    EnergySource Source,
    int Zone);

/// <summary>A live order's state.</summary>
public readonly record struct OrderState(Order Order, long RemainingWh, long FilledWh);

/// <summary>
/// One seller → one buyer, a quantity at a price (DESIGN.md: balance per lot, 同時同量).
/// The buyer pays price + wheeling; the seller receives the price; the grid operator the wheeling.
/// </summary>
public readonly record struct Lot(
    long LotId,
    long Slot,
    Address Seller,
    Address Buyer,
    long EnergyWh,
    long PriceTicks,
    long WheelingFeeTicks,
    Product Product,
    EnergySource Source,
    long SellOrderId,
    long BuyOrderId)
{
    /// <summary>What the seller receives, in 1e-5 JPY: Wh × ticks, exact.</summary>
    public long Money => checked(EnergyWh * PriceTicks);

    /// <summary>What the grid operator receives, in 1e-5 JPY.</summary>
    public long WheelingMoney => checked(EnergyWh * WheelingFeeTicks);

    /// <summary>What the buyer pays, in 1e-5 JPY.</summary>
    public long BuyerPays => checked(Money + WheelingMoney);
}

/// <summary>One product's result at a call auction's gate closure. <see cref="ClearingPriceTicks"/> is 0 when it did not clear.</summary>
public readonly record struct ClearingResult(
    long Slot,
    Product Product,
    bool Cleared,
    long ClearingPriceTicks,
    long MatchedWh,
    long SupplyWh,
    long DemandWh,
    int LotCount);

/// <summary>Aggregated depth of one price level.</summary>
public readonly record struct DepthLevel(long PriceTicks, long EnergyWh, int Orders);

/// <summary>Aggregated depth of a slot's product: bids best (highest) first, asks best (lowest) first.</summary>
public sealed record BookDepth(long Slot, Product Product, IReadOnlyList<DepthLevel> Bids, IReadOnlyList<DepthLevel> Asks);

public readonly record struct Participant(Address Address, int Zone, ParticipantKind Kind);

public enum SlotPhase : byte
{
    Open = 1,
    Closed = 2,
}

public readonly record struct SlotInfo(long Slot, Mechanism Mechanism, SlotPhase Phase, int LiveOrders, long GateClosureUnixMs);
