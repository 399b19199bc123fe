using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Domain;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>
/// One StreamOrders call as a market listener. It follows every participant that had a command accepted
/// on it and queues their lots (once per lot) and the OrderDone of their orders. Acks are queued by the
/// call itself through <see cref="Acknowledge"/>, which the market runs under its lock before publishing,
/// so each ack precedes what its command caused.
/// </summary>
public sealed class OrderStreamSession : IMarketListener, IDisposable
{
    private readonly Market _market;
    private readonly HashSet<Address> _followed = []; // touched only under the market's lock
    private bool _ownCommandNext; // the next update is what this call's own command did

    public OrderStreamSession(Market market)
    {
        _market = market;
        Outbox = new Outbox<Api.StreamOrdersResponse>(market.Options.StreamBufferCapacity, market.DurabilityGate);
        market.AddListener(this);
    }

    public Outbox<Api.StreamOrdersResponse> Outbox { get; }

    public bool WantsBookUpdates => false;

    private volatile bool _batching;

    /// <summary>Set once the client sent a batched request: from then on responses are sent batched too.</summary>
    public bool Batching
    {
        get => _batching;
        set => _batching = value;
    }

    /// <summary>Queues an ack; when the command was accepted, follows its participant from now on.</summary>
    public void Acknowledge(Api.OrderAck ack, Address? follow)
    {
        if (follow is { } p)
        {
            _followed.Add(p);
            _ownCommandNext = true;
        }
        Outbox.Post(new Api.StreamOrdersResponse { Ack = ack });
    }

    public void OnUpdate(MarketUpdate update)
    {
        // What our own command caused is always queued (the call waits for room before its next
        // command); what others cause is dropped with the call when the client reads too slowly.
        var own = _ownCommandNext;
        _ownCommandNext = false;
        if (_followed.Count == 0) return;
        foreach (var e in update.Events)
        {
            Api.StreamOrdersResponse? message = e switch
            {
                LotCreatedEvent lc when _followed.Contains(lc.Lot.Seller) || _followed.Contains(lc.Lot.Buyer) =>
                    new Api.StreamOrdersResponse { Lot = lc.Lot.ToWire() },
                OrderDoneEvent d when _followed.Contains(d.Participant) =>
                    new Api.StreamOrdersResponse { OrderDone = d.ToWire() },
                _ => null,
            };
            if (message is null) continue;
            var queued = own
                ? Outbox.Post(message)
                : Outbox.TryPost(message, $"order stream fell more than {Outbox.Capacity} messages behind and was dropped; read lots with GetLots");
            if (!queued) return;
        }
    }

    public void Dispose()
    {
        _market.RemoveListener(this);
        Outbox.Complete();
    }
}
