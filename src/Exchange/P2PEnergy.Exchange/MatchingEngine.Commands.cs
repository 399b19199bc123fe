namespace P2PEnergy.Exchange;

public sealed partial class MatchingEngine
{
    private readonly record struct ClientKey(int Participant, ulong ClientOrderId);

    private readonly Dictionary<Address, int> _participantIndex = new();
    private readonly List<Participant> _participants = [];
    private readonly Dictionary<long, SlotState> _slots = new();
    private OrderIndex _liveOrders = null!;
    private Dictionary<ClientKey, long> _clientOrderIds = null!;
    private OrderNodePool _pool = null!;
    private long _nextOrderId = 1;
    private long _nextLotId = 1;
    private SlotState? _lastSlot;

    private void InitStorage()
    {
        var capacity = Math.Max(16, Config.InitialOrderCapacity);
        _pool = new OrderNodePool(capacity);
        _liveOrders = new OrderIndex(capacity);
        _clientOrderIds = new Dictionary<ClientKey, long>(capacity);
    }

    public IReadOnlyList<Participant> Participants => _participants;

    public bool TryGetParticipant(Address address, out Participant participant)
    {
        if (_participantIndex.TryGetValue(address, out var i))
        {
            participant = _participants[i];
            return true;
        }
        participant = default;
        return false;
    }

    public ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind)
    {
        if (address.IsZero) return ResultCode.InvalidParticipant;
        // Not (uint)zone: the build checks overflow, and a negative zone must be refused, not thrown.
        if (zone < 0 || zone >= Config.MaxZones) return ResultCode.InvalidZone;
        if (!Enum.IsDefined(kind)) return ResultCode.InvalidKind;
        if (_participantIndex.ContainsKey(address)) return ResultCode.ParticipantAlreadyRegistered;
        _participantIndex.Add(address, _participants.Count);
        _participants.Add(new Participant(address, zone, kind));
        return ResultCode.Ok;
    }

    /// <summary>Replaces the wheeling table; lots made from now on use it.</summary>
    public ResultCode SetWheelingTable(WheelingTable table)
    {
        if (table.Zones != Config.MaxZones) return ResultCode.InvalidZone;
        foreach (var e in table.Entries())
        {
            if (e.FeeTicks < 0 || e.FeeTicks > Config.MaxPriceTicks) return ResultCode.InvalidWheelingFee;
        }
        Wheeling = table;
        return ResultCode.Ok;
    }

    /// <summary>Opens a slot for orders. A slot whose gate has already passed at <paramref name="nowUnixMs"/> cannot be opened.</summary>
    public ResultCode OpenSlot(long slot, Mechanism mechanism, long nowUnixMs)
    {
        if (slot <= 0) return ResultCode.InvalidSlot;
        if (mechanism is not (Mechanism.CallAuction or Mechanism.Continuous)) return ResultCode.InvalidMechanism;
        if (_slots.ContainsKey(slot)) return ResultCode.SlotAlreadyOpen;
        var gate = Config.GateClosureUnixMs(slot);
        if (nowUnixMs >= gate) return ResultCode.SlotClosed;
        _slots.Add(slot, new SlotState(slot, mechanism, gate));
        return ResultCode.Ok;
    }

    public bool TryGetSlot(long slot, out SlotInfo info)
    {
        if (_slots.TryGetValue(slot, out var s))
        {
            info = Info(s);
            return true;
        }
        info = default;
        return false;
    }

    public IEnumerable<SlotInfo> Slots => _slots.Values.OrderBy(s => s.Slot).Select(Info);

    private static SlotInfo Info(SlotState s) => new(s.Slot, s.Mechanism, s.Phase, s.LiveOrders, s.GateClosureUnixMs);

    /// <summary>Slots still open whose gate time has come at <paramref name="nowUnixMs"/>, earliest first.</summary>
    public IReadOnlyList<long> SlotsDueForGateClosure(long nowUnixMs) =>
        _slots.Values.Where(s => s.Phase == SlotPhase.Open && nowUnixMs >= s.GateClosureUnixMs)
            .Select(s => s.Slot).Order().ToList();

    private SlotState? FindSlot(long slot)
    {
        var last = _lastSlot;
        if (last is not null && last.Slot == slot) return last;
        if (_slots.TryGetValue(slot, out var s))
        {
            _lastSlot = s;
            return s;
        }
        return null;
    }

    public ResultCode Submit(in SubmitOrder cmd, IMarketEvents events)
    {
        var code = ValidateSubmit(cmd, out var participant, out var slot);
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, cmd.ClientOrderId, 0, code);
            return code;
        }

        var p = _participants[participant];
        var orderId = _nextOrderId++;
        var handle = _pool.Allocate();
        ref var node = ref _pool.Items[handle];
        node.OrderId = orderId;
        node.Slot = cmd.Slot;
        node.ClientOrderId = cmd.ClientOrderId;
        node.Price = cmd.LimitPriceTicks;
        node.OriginalWh = cmd.EnergyWh;
        node.RemainingWh = cmd.EnergyWh;
        node.FilledWh = 0;
        node.Participant = participant;
        node.Zone = p.Zone;
        node.Side = cmd.Side;
        node.Product = cmd.Side == Side.Buy ? cmd.Product : default;
        node.Source = cmd.Side == Side.Sell ? cmd.Source : default;
        node.Class = ClassOf(cmd.Side, node.Product, node.Source);
        node.Live = true;
        node.Next = OrderNodePool.None;
        node.Prev = OrderNodePool.None;

        _clientOrderIds.Add(new ClientKey(participant, cmd.ClientOrderId), orderId);
        _liveOrders.Add(orderId, handle);
        slot!.LiveOrders++;
        var order = ToOrder(ref node);
        events.OrderAccepted(order);

        if (slot.Mechanism == Mechanism.CallAuction)
        {
            slot.AuctionHandles.Add(handle);
        }
        else
        {
            MatchIncoming(slot, handle, events);
        }
        return ResultCode.Ok;
    }

    private ResultCode ValidateSubmit(in SubmitOrder cmd, out int participant, out SlotState? slot)
    {
        participant = -1;
        slot = null;
        if (cmd.Side is not (Side.Buy or Side.Sell)) return ResultCode.InvalidSide;
        if (cmd.Side == Side.Buy && cmd.Product is not (Product.Standard or Product.Green)) return ResultCode.InvalidProduct;
        if (cmd.Side == Side.Sell && cmd.Source is not (EnergySource.Renewable or EnergySource.Mixed)) return ResultCode.InvalidSource;
        if (cmd.EnergyWh <= 0) return ResultCode.QuantityNotPositive;
        if (cmd.EnergyWh % Config.LotStepWh != 0) return ResultCode.QuantityNotLotMultiple;
        if (cmd.EnergyWh > Config.MaxOrderWh) return ResultCode.QuantityTooLarge;
        if (cmd.LimitPriceTicks < Config.MinPriceTicks || cmd.LimitPriceTicks > Config.MaxPriceTicks) return ResultCode.PriceOutOfRange;
        if (cmd.Participant.IsZero) return ResultCode.InvalidParticipant;
        if (!_participantIndex.TryGetValue(cmd.Participant, out participant)) return ResultCode.UnknownParticipant;
        slot = FindSlot(cmd.Slot);
        if (slot is null) return ResultCode.UnknownSlot;
        if (!slot.IsOpenAt(cmd.TimestampUnixMs)) return ResultCode.SlotClosed;
        if (_clientOrderIds.ContainsKey(new ClientKey(participant, cmd.ClientOrderId))) return ResultCode.DuplicateClientOrderId;
        return ResultCode.Ok;
    }

    public ResultCode Cancel(in CancelOrder cmd, IMarketEvents events)
    {
        var code = ValidateOwnedLiveOrder(cmd.Participant, cmd.OrderId, cmd.TimestampUnixMs, out var handle, out var slot);
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, 0, cmd.OrderId, code);
            return code;
        }
        ref var node = ref _pool.Items[handle];
        var released = node.RemainingWh;
        var filled = node.FilledWh;
        var orderId = node.OrderId;
        if (slot!.Mechanism == Mechanism.Continuous)
        {
            slot.GetBook(node.Class, node.Zone).Remove(handle);
            Retire(slot, handle);
        }
        else
        {
            // Kept (not live) until the gate closes: see SlotState.AuctionHandles.
            node.Live = false;
            node.RemainingWh = 0;
            _liveOrders.Remove(orderId);
            slot.LiveOrders--;
        }
        events.OrderDone(orderId, cmd.Participant, OrderDoneReason.Cancelled, filled, released);
        return ResultCode.Ok;
    }

    public ResultCode Reduce(in ReduceOrder cmd, IMarketEvents events)
    {
        var code = ValidateOwnedLiveOrder(cmd.Participant, cmd.OrderId, cmd.TimestampUnixMs, out var handle, out var slot);
        if (code == ResultCode.Ok)
        {
            var remaining = _pool.Items[handle].RemainingWh;
            if (cmd.ReduceByWh <= 0 || cmd.ReduceByWh % Config.LotStepWh != 0 || cmd.ReduceByWh >= remaining)
            {
                code = ResultCode.ReduceNotBelowRemaining;
            }
        }
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, 0, cmd.OrderId, code);
            return code;
        }
        ref var node = ref _pool.Items[handle];
        if (slot!.Mechanism == Mechanism.Continuous)
        {
            slot.GetBook(node.Class, node.Zone).Reduce(node.Price, cmd.ReduceByWh);
        }
        node.RemainingWh -= cmd.ReduceByWh;
        events.OrderReduced(node.OrderId, cmd.Participant, node.RemainingWh);
        return ResultCode.Ok;
    }

    private ResultCode ValidateOwnedLiveOrder(Address participant, long orderId, long timestampUnixMs, out int handle, out SlotState? slot)
    {
        handle = OrderNodePool.None;
        slot = null;
        if (participant.IsZero) return ResultCode.InvalidParticipant;
        if (!_participantIndex.TryGetValue(participant, out var p)) return ResultCode.UnknownParticipant;
        if (!_liveOrders.TryGet(orderId, out handle)) return ResultCode.OrderNotFound;
        ref var node = ref _pool.Items[handle];
        if (node.Participant != p) return ResultCode.NotOrderOwner;
        slot = FindSlot(node.Slot)!;
        if (!slot.IsOpenAt(timestampUnixMs)) return ResultCode.SlotClosed;
        return ResultCode.Ok;
    }

    /// <summary>Closes a slot's gate: runs its call auction, or expires a CDA slot's resting orders.</summary>
    public ResultCode CloseGate(long slot, IMarketEvents events)
    {
        var s = FindSlot(slot);
        if (s is null) return ResultCode.UnknownSlot;
        if (s.Phase == SlotPhase.Closed) return ResultCode.SlotClosed;
        if (s.Mechanism == Mechanism.CallAuction)
        {
            RunCallAuction(s, events);
        }
        else
        {
            ExpireContinuous(s, events);
        }
        s.Phase = SlotPhase.Closed;
        events.GateClosed(slot, s.Mechanism);
        return ResultCode.Ok;
    }

    private void ExpireContinuous(SlotState s, IMarketEvents events)
    {
        var handles = new List<int>(s.LiveOrders);
        foreach (var books in s.BooksByClass)
        {
            foreach (var book in books)
            {
                handles.AddRange(book.Handles());
            }
        }
        handles.Sort((a, b) => _pool.Items[a].OrderId.CompareTo(_pool.Items[b].OrderId));
        foreach (var h in handles)
        {
            ref var node = ref _pool.Items[h];
            events.OrderDone(node.OrderId, _participants[node.Participant].Address, OrderDoneReason.Expired, node.FilledWh, node.RemainingWh);
            Retire(s, h);
        }
        for (var c = 0; c < 4; c++)
        {
            s.BooksByClass[c].Clear();
            s.BookIndex[c] = null;
        }
    }

    /// <summary>Forgets a finished order and returns its node.</summary>
    private void Retire(SlotState slot, int handle)
    {
        _liveOrders.Remove(_pool.Items[handle].OrderId);
        slot.LiveOrders--;
        _pool.Free(handle);
    }

    private static BookClass ClassOf(Side side, Product product, EnergySource source) => side == Side.Sell
        ? source == EnergySource.Renewable ? BookClass.RenewableSell : BookClass.MixedSell
        : product == Product.Green ? BookClass.GreenBuy : BookClass.StandardBuy;

    private Order ToOrder(ref OrderNode node) => new(
        node.OrderId,
        _participants[node.Participant].Address,
        node.ClientOrderId,
        node.Side,
        node.Slot,
        node.OriginalWh,
        node.Price,
        node.Product,
        node.Source,
        node.Zone);

    public bool TryGetOrder(long orderId, out OrderState state)
    {
        if (_liveOrders.TryGet(orderId, out var handle))
        {
            ref var node = ref _pool.Items[handle];
            state = new OrderState(ToOrder(ref node), node.RemainingWh, node.FilledWh);
            return true;
        }
        state = default;
        return false;
    }

    /// <summary>Live orders of a slot in order-id order.</summary>
    public IReadOnlyList<OrderState> LiveOrders(long slot)
    {
        var list = new List<OrderState>();
        foreach (var (_, handle) in _liveOrders.Items())
        {
            ref var node = ref _pool.Items[handle];
            if (node.Slot == slot)
            {
                list.Add(new OrderState(ToOrder(ref node), node.RemainingWh, node.FilledWh));
            }
        }
        return list;
    }

    /// <summary>Aggregated depth of a slot's product. A call auction's book is blind while its gate is open.</summary>
    public ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth)
    {
        depth = null;
        if (product is not (Product.Standard or Product.Green)) return ResultCode.InvalidProduct;
        var s = FindSlot(slot);
        if (s is null) return ResultCode.UnknownSlot;
        if (s.Mechanism == Mechanism.CallAuction && s.Phase == SlotPhase.Open) return ResultCode.BookNotVisible;
        var bidClasses = product == Product.Green ? new[] { BookClass.GreenBuy } : [BookClass.StandardBuy];
        var askClasses = product == Product.Green ? new[] { BookClass.RenewableSell } : [BookClass.RenewableSell, BookClass.MixedSell];
        depth = new BookDepth(slot, product, Aggregate(s, bidClasses, descending: true, maxLevels), Aggregate(s, askClasses, descending: false, maxLevels));
        return ResultCode.Ok;
    }

    private static List<DepthLevel> Aggregate(SlotState s, BookClass[] classes, bool descending, int maxLevels)
    {
        var byPrice = new SortedDictionary<long, (long Wh, int Orders)>();
        foreach (var c in classes)
        {
            foreach (var book in s.BooksByClass[(int)c])
            {
                foreach (var level in book.Levels())
                {
                    byPrice.TryGetValue(level.PriceTicks, out var agg);
                    byPrice[level.PriceTicks] = (agg.Wh + level.EnergyWh, agg.Orders + level.Orders);
                }
            }
        }
        var levels = byPrice.Select(kv => new DepthLevel(kv.Key, kv.Value.Wh, kv.Value.Orders));
        if (descending) levels = levels.Reverse();
        return levels.Take(maxLevels <= 0 ? int.MaxValue : maxLevels).ToList();
    }
}
