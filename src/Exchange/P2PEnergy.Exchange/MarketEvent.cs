namespace P2PEnergy.Exchange;

/// <summary>An event out of the core, as a value (for logs, tests and transport).</summary>
public abstract record MarketEvent;

public sealed record OrderAcceptedEvent(Order Order) : MarketEvent;

public sealed record OrderRejectedEvent(Address Participant, ulong ClientOrderId, long OrderId, ResultCode Code) : MarketEvent;

public sealed record LotCreatedEvent(Lot Lot) : MarketEvent;

public sealed record OrderDoneEvent(long OrderId, Address Participant, OrderDoneReason Reason, long FilledWh, long ReleasedWh) : MarketEvent;

public sealed record OrderReducedEvent(long OrderId, Address Participant, long RemainingWh) : MarketEvent;

public sealed record SlotClearedEvent(ClearingResult Result) : MarketEvent;

public sealed record GateClosedEvent(long Slot, Mechanism Mechanism) : MarketEvent;

/// <summary>Records every event as a <see cref="MarketEvent"/>. Clear it between commands to reuse it.</summary>
public sealed class MarketEventRecorder : IMarketEvents
{
    private readonly List<MarketEvent> _events = [];

    public IReadOnlyList<MarketEvent> Events => _events;

    public IEnumerable<Lot> Lots => _events.OfType<LotCreatedEvent>().Select(e => e.Lot);

    public void Clear() => _events.Clear();

    public void OrderAccepted(in Order order) => _events.Add(new OrderAcceptedEvent(order));

    public void OrderRejected(Address participant, ulong clientOrderId, long orderId, ResultCode code) =>
        _events.Add(new OrderRejectedEvent(participant, clientOrderId, orderId, code));

    public void LotCreated(in Lot lot) => _events.Add(new LotCreatedEvent(lot));

    public void OrderDone(long orderId, Address participant, OrderDoneReason reason, long filledWh, long releasedWh) =>
        _events.Add(new OrderDoneEvent(orderId, participant, reason, filledWh, releasedWh));

    public void OrderReduced(long orderId, Address participant, long remainingWh) =>
        _events.Add(new OrderReducedEvent(orderId, participant, remainingWh));

    public void SlotCleared(in ClearingResult result) => _events.Add(new SlotClearedEvent(result));

    public void GateClosed(long slot, Mechanism mechanism) => _events.Add(new GateClosedEvent(slot, mechanism));
}
