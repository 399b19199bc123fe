namespace P2PEnergy.Exchange;

public sealed partial class MatchingEngine
{
    /// <summary>
    /// The engine's whole state as plain values, to be stored and later given to <see cref="Restore"/>.
    /// Take it between commands. What is left out only ever affects speed, never events: node handles and
    /// the free list, index pages, the auction's scratch buffers, empty CDA books, and call-auction orders
    /// already cancelled (kept in the slot until its gate closes, but skipped by the auction).
    /// </summary>
    public EngineSnapshot Snapshot()
    {
        var wheeling = new List<WheelingEntry>();
        foreach (var e in Wheeling.Entries())
        {
            if (e.FeeTicks != DefaultFee(e.SellerZone, e.BuyerZone, Wheeling.DefaultFeeTicks)) wheeling.Add(e);
        }

        var slots = _slots.Values
            .OrderBy(s => s.Slot)
            .Select(s => new SlotSnapshot(s.Slot, s.Mechanism, s.GateClosureUnixMs, s.Phase))
            .ToList();

        var orders = new List<OrderSnapshot>(_liveOrders.Count);
        foreach (var (_, handle) in _liveOrders.Items())
        {
            ref var n = ref _pool.Items[handle];
            orders.Add(new OrderSnapshot(n.OrderId, _participants[n.Participant].Address, n.ClientOrderId, n.Side, n.Slot,
                n.OriginalWh, n.Price, n.Product, n.Source, n.Zone, n.RemainingWh, n.FilledWh));
        }

        var clientOrderIds = _clientOrderIds
            .Select(kv => new ClientOrderIdEntry(_participants[kv.Key.Participant].Address, kv.Key.ClientOrderId, kv.Value))
            .OrderBy(e => e.OrderId)
            .ToList();

        return new EngineSnapshot(
            EngineSnapshot.CurrentVersion,
            Config,
            new WheelingSnapshot(Wheeling.DefaultFeeTicks, wheeling.AsReadOnly()),
            _participants.ToList().AsReadOnly(),
            slots.AsReadOnly(),
            orders.AsReadOnly(),
            clientOrderIds.AsReadOnly(),
            _nextOrderId,
            _nextLotId);
    }

    /// <summary>
    /// An engine in exactly the state the snapshot was taken in: from here on it answers every command as the
    /// original would have. The snapshot comes from storage, so it is checked first, and one that no engine
    /// could have been in is refused (<see cref="ArgumentException"/>) rather than restored half-right.
    /// </summary>
    public static MatchingEngine Restore(EngineSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Version != EngineSnapshot.CurrentVersion)
            throw Invalid($"version {snapshot.Version} is not {EngineSnapshot.CurrentVersion}");
        var config = snapshot.Config ?? throw Invalid("no config");
        config.Validate();
        if (snapshot.Wheeling is null) throw Invalid("no wheeling table");
        WheelingTable table;
        try
        {
            table = WheelingTable.Build(config.MaxZones, snapshot.Wheeling.DefaultFeeTicks, snapshot.Wheeling.Entries);
        }
        catch (ArgumentException ex)
        {
            throw Invalid($"wheeling table: {ex.Message}");
        }
        var engine = new MatchingEngine(config, table);
        engine.RestoreState(snapshot);
        return engine;
    }

    private static long DefaultFee(int sellerZone, int buyerZone, long acrossFee) => sellerZone == buyerZone ? 0 : acrossFee;

    private static ArgumentException Invalid(string message) => new($"engine snapshot: {message}", "snapshot");

    private void RestoreState(EngineSnapshot snapshot)
    {
        if (snapshot.NextOrderId < 1) throw Invalid($"next order id {snapshot.NextOrderId}");
        if (snapshot.NextLotId < 1) throw Invalid($"next lot id {snapshot.NextLotId}");

        foreach (var p in snapshot.Participants)
        {
            var code = RegisterParticipant(p.Address, p.Zone, p.Kind);
            if (code != ResultCode.Ok) throw Invalid($"participant {p}: {code}");
        }

        foreach (var s in snapshot.Slots)
        {
            if (s.Slot <= 0 || s.Mechanism is not (Mechanism.CallAuction or Mechanism.Continuous) || s.Phase is not (SlotPhase.Open or SlotPhase.Closed))
                throw Invalid($"slot {s}");
            if (s.GateClosureUnixMs != Config.GateClosureUnixMs(s.Slot))
                throw Invalid($"slot {s.Slot}: gate at {s.GateClosureUnixMs}, the config says {Config.GateClosureUnixMs(s.Slot)}");
            if (!_slots.TryAdd(s.Slot, new SlotState(s.Slot, s.Mechanism, s.GateClosureUnixMs) { Phase = s.Phase }))
                throw Invalid($"slot {s.Slot} twice");
        }

        // Every accepted order took one pair, and none is ever forgotten: the pairs are exactly orders 1 … next − 1.
        if (snapshot.ClientOrderIds.Count != snapshot.NextOrderId - 1)
            throw Invalid($"{snapshot.ClientOrderIds.Count} client order ids for {snapshot.NextOrderId - 1} orders");
        for (var i = 0; i < snapshot.ClientOrderIds.Count; i++)
        {
            var e = snapshot.ClientOrderIds[i];
            if (e.OrderId != i + 1) throw Invalid($"client order id of order {e.OrderId} where order {i + 1} belongs");
            if (!_participantIndex.TryGetValue(e.Participant, out var p)) throw Invalid($"client order id {e}: unknown participant");
            if (!_clientOrderIds.TryAdd(new ClientKey(p, e.ClientOrderId), e.OrderId)) throw Invalid($"client order id {e} twice");
        }

        // In order-id order, so that each CDA price level is rebuilt in time priority and each call auction's
        // handles are in the order-id order its rationing ties rely on.
        long previous = 0;
        foreach (var o in snapshot.Orders)
        {
            if (o.OrderId <= previous || o.OrderId >= snapshot.NextOrderId) throw Invalid($"order {o.OrderId} out of order or not yet issued");
            previous = o.OrderId;
            RestoreOrder(o);
        }
        foreach (var slot in _slots.Values)
        {
            if (slot.Mechanism == Mechanism.Continuous && Crossed(slot)) throw Invalid($"CDA slot {slot.Slot} holds orders that would have traded");
        }

        _nextOrderId = snapshot.NextOrderId;
        _nextLotId = snapshot.NextLotId;
    }

    /// <summary>A CDA book is never left crossed: an incoming order trades until nothing crosses (docs/matching-rules.md).</summary>
    private static bool Crossed(SlotState slot)
    {
        long Best(BookClass c, bool isBuy)
        {
            var best = isBuy ? long.MinValue : long.MaxValue;
            foreach (var book in slot.BooksByClass[(int)c])
            {
                if (!book.IsEmpty) best = isBuy ? Math.Max(best, book.BestPrice) : Math.Min(best, book.BestPrice);
            }
            return best;
        }
        var renewableAsk = Best(BookClass.RenewableSell, isBuy: false);
        var anyAsk = Math.Min(renewableAsk, Best(BookClass.MixedSell, isBuy: false));
        return Best(BookClass.GreenBuy, isBuy: true) >= renewableAsk || Best(BookClass.StandardBuy, isBuy: true) >= anyAsk;
    }

    private void RestoreOrder(in OrderSnapshot o)
    {
        var step = Config.LotStepWh;
        var valid =
            (o.Side == Side.Buy
                ? (o.Product is Product.Standard or Product.Green) && o.Source == default
                : o.Side == Side.Sell && (o.Source is EnergySource.Renewable or EnergySource.Mixed) && o.Product == default)
            && o.EnergyWh > 0 && o.EnergyWh % step == 0 && o.EnergyWh <= Config.MaxOrderWh
            && o.LimitPriceTicks >= Config.MinPriceTicks && o.LimitPriceTicks <= Config.MaxPriceTicks
            && o.RemainingWh > 0 && o.RemainingWh % step == 0
            && o.FilledWh >= 0 && o.FilledWh % step == 0
            && o.RemainingWh + o.FilledWh <= o.EnergyWh
            && o.Zone >= 0 && o.Zone < Config.MaxZones;
        if (!valid) throw Invalid($"order {o}");
        if (!_participantIndex.TryGetValue(o.Participant, out var participant)) throw Invalid($"order {o.OrderId}: unknown participant");
        if (!_clientOrderIds.TryGetValue(new ClientKey(participant, o.ClientOrderId), out var owner) || owner != o.OrderId)
            throw Invalid($"order {o.OrderId}: its client order id {o.ClientOrderId} is not recorded as its own");
        if (!_slots.TryGetValue(o.Slot, out var slot) || slot.Phase != SlotPhase.Open)
            throw Invalid($"order {o.OrderId}: slot {o.Slot} is not open");
        // A call-auction order trades only when its gate closes.
        if (slot.Mechanism == Mechanism.CallAuction && o.FilledWh != 0) throw Invalid($"order {o.OrderId}: filled before its call auction");

        var handle = _pool.Allocate();
        ref var node = ref _pool.Items[handle];
        node.OrderId = o.OrderId;
        node.Slot = o.Slot;
        node.ClientOrderId = o.ClientOrderId;
        node.Price = o.LimitPriceTicks;
        node.OriginalWh = o.EnergyWh;
        node.RemainingWh = o.RemainingWh;
        node.FilledWh = o.FilledWh;
        node.Participant = participant;
        node.Zone = o.Zone;
        node.Side = o.Side;
        node.Product = o.Product;
        node.Source = o.Source;
        node.Class = ClassOf(o.Side, o.Product, o.Source);
        node.Live = true;
        node.Next = OrderNodePool.None;
        node.Prev = OrderNodePool.None;

        _liveOrders.Add(o.OrderId, handle);
        slot.LiveOrders++;
        if (slot.Mechanism == Mechanism.CallAuction)
        {
            slot.AuctionHandles.Add(handle);
        }
        else
        {
            // Appended at the tail of its price level: orders come in order-id order, so time priority holds.
            slot.GetOrCreateBook(_pool, node.Class, node.Zone, Config.MaxZones).Add(handle);
        }
    }
}
