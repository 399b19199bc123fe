using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Domain;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>
/// Turns market updates into public market-data events once, and queues them for every subscriber.
/// Policy for a slow subscriber: it is dropped (its call ends with RESOURCE_EXHAUSTED) when
/// <see cref="Hosting.ExchangeOptions.StreamBufferCapacity"/> events wait for it. Trading never waits, and
/// a subscriber never sees a silent gap: it either has every event it asked for or knows it lost some.
/// </summary>
public sealed class MarketDataHub : IMarketListener
{
    private readonly Lock _sync = new();
    private readonly int _capacity;
    private readonly P2PEnergy.Exchange.Server.Durability.IDurabilityGate? _durability;
    private MarketDataSubscription[] _subscribers = [];
    private ulong _sequence;

    public MarketDataHub(Market market)
    {
        _capacity = market.Options.StreamBufferCapacity;
        _durability = market.DurabilityGate;
        market.AddListener(this);
    }

    public int SubscriberCount => Volatile.Read(ref _subscribers).Length;

    public bool WantsBookUpdates => SubscriberCount > 0;

    public MarketDataSubscription Subscribe(long? slot)
    {
        var subscription = new MarketDataSubscription(this, slot, new Outbox<Api.MarketDataEvent>(_capacity, _durability));
        lock (_sync) _subscribers = [.. _subscribers, subscription];
        return subscription;
    }

    internal void Unsubscribe(MarketDataSubscription subscription)
    {
        lock (_sync) _subscribers = _subscribers.Where(s => s != subscription).ToArray();
        subscription.Outbox.Complete();
    }

    /// <summary>Under the market's lock.</summary>
    public void OnUpdate(MarketUpdate update)
    {
        var subscribers = Volatile.Read(ref _subscribers);
        if (subscribers.Length == 0) return;

        // Trades and clearing results in core order, then the books as they now stand, then the gate.
        var events = new List<(long Slot, Api.MarketDataEvent Event)>();
        var gates = new List<GateClosedEvent>();
        foreach (var e in update.Events)
        {
            switch (e)
            {
                case LotCreatedEvent lc:
                    events.Add((lc.Lot.Slot, Next(update, new Api.MarketDataEvent { Trade = lc.Lot.ToWire() })));
                    break;
                case SlotClearedEvent sc:
                    events.Add((sc.Result.Slot, Next(update, new Api.MarketDataEvent { Clearing = sc.Result.ToWire() })));
                    break;
                case GateClosedEvent gc:
                    gates.Add(gc);
                    break;
            }
        }
        foreach (var depth in update.BookChanges)
        {
            events.Add((depth.Slot, Next(update, new Api.MarketDataEvent { Book = new Api.BookUpdate { Depth = depth.ToWire() } })));
        }
        foreach (var gc in gates)
        {
            events.Add((gc.Slot, Next(update, new Api.MarketDataEvent { GateClosed = new Api.GateClosed { Slot = gc.Slot, Mechanism = gc.Mechanism.ToWire() } })));
        }

        foreach (var subscriber in subscribers)
        {
            foreach (var (slot, e) in events)
            {
                if (subscriber.Slot is { } only && only != slot) continue;
                if (!subscriber.Outbox.TryPost(e, $"market-data subscriber fell more than {_capacity} events behind and was dropped; subscribe again and re-read the book with GetOrderBook"))
                {
                    break;
                }
            }
        }
    }

    private Api.MarketDataEvent Next(MarketUpdate update, Api.MarketDataEvent e)
    {
        e.Sequence = ++_sequence;
        e.UnixMs = update.UnixMs;
        return e;
    }
}

/// <summary>One SubscribeMarketData call. Dispose to stop receiving.</summary>
public sealed class MarketDataSubscription : IDisposable
{
    private readonly MarketDataHub _hub;

    internal MarketDataSubscription(MarketDataHub hub, long? slot, Outbox<Api.MarketDataEvent> outbox)
    {
        _hub = hub;
        Slot = slot;
        Outbox = outbox;
    }

    public long? Slot { get; }

    public Outbox<Api.MarketDataEvent> Outbox { get; }

    public void Dispose() => _hub.Unsubscribe(this);
}
