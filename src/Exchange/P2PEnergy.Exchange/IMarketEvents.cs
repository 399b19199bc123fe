namespace P2PEnergy.Exchange;

/// <summary>
/// Events out of the matching core, in the order docs/matching-rules.md gives. Implementations must
/// not call back into the engine. Structs are passed by reference so that the hot path allocates nothing.
/// </summary>
public interface IMarketEvents
{
    void OrderAccepted(in Order order);

    /// <summary>A refused submit, cancel or reduce; <paramref name="orderId"/> is 0 for a submit.</summary>
    void OrderRejected(Address participant, ulong clientOrderId, long orderId, ResultCode code);

    void LotCreated(in Lot lot);

    /// <summary>An order left the book: <paramref name="filledWh"/> traded in all, <paramref name="releasedWh"/> not traded.</summary>
    void OrderDone(long orderId, Address participant, OrderDoneReason reason, long filledWh, long releasedWh);

    void OrderReduced(long orderId, Address participant, long remainingWh);

    void SlotCleared(in ClearingResult result);

    void GateClosed(long slot, Mechanism mechanism);
}

/// <summary>Ignores every event; handy where only the state matters.</summary>
public sealed class NoMarketEvents : IMarketEvents
{
    public static readonly NoMarketEvents Instance = new();

    public void OrderAccepted(in Order order) { }
    public void OrderRejected(Address participant, ulong clientOrderId, long orderId, ResultCode code) { }
    public void LotCreated(in Lot lot) { }
    public void OrderDone(long orderId, Address participant, OrderDoneReason reason, long filledWh, long releasedWh) { }
    public void OrderReduced(long orderId, Address participant, long remainingWh) { }
    public void SlotCleared(in ClearingResult result) { }
    public void GateClosed(long slot, Mechanism mechanism) { }
}
