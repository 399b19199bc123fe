namespace P2PEnergy.Exchange.Tests.Reference;

/// <summary>
/// A slow, obviously-correct matching core written from docs/matching-rules.md alone: every order ever
/// accepted sits in one list, and every decision re-reads and re-sorts that list with LINQ. Commands, result
/// codes and events are those of <see cref="MatchingEngine"/>, so whole event streams can be compared.
/// </summary>
public sealed partial class ReferenceEngine : IMarket
{
    /// <summary>An order and what has happened to it.</summary>
    private sealed class RefOrder(Order order)
    {
        public Order Order { get; } = order;

        public long RemainingWh { get; set; } = order.EnergyWh;

        public long FilledWh { get; set; }

        public bool Live { get; set; } = true;

        public long Id => Order.OrderId;

        public Address Owner => Order.Participant;

        public long Price => Order.LimitPriceTicks;

        public bool IsBuy => Order.Side == Side.Buy;

        public bool IsSell => Order.Side == Side.Sell;

        public bool IsGreenBuy => IsBuy && Order.Product == Product.Green;

        public bool IsStandardBuy => IsBuy && Order.Product == Product.Standard;

        public bool IsRenewableSell => IsSell && Order.Source == EnergySource.Renewable;

        public bool IsMixedSell => IsSell && Order.Source == EnergySource.Mixed;

        public OrderState State => new(Order, RemainingWh, FilledWh);
    }

    private sealed class RefSlot(long slot, Mechanism mechanism, long gateClosureUnixMs)
    {
        public long Slot { get; } = slot;

        public Mechanism Mechanism { get; } = mechanism;

        public long GateClosureUnixMs { get; } = gateClosureUnixMs;

        public bool GateClosed { get; set; }

        /// <summary>matching-rules.md, gate closure: by timestamp or by the operator, whichever comes first.</summary>
        public bool IsOpenAt(long unixMs) => !GateClosed && unixMs < GateClosureUnixMs;
    }

    private readonly List<Participant> _participants = [];
    private readonly List<RefSlot> _slots = [];
    private readonly List<RefOrder> _orders = [];
    private readonly HashSet<(Address Participant, ulong ClientOrderId)> _clientOrderIds = [];

    public ReferenceEngine(MarketConfig config, WheelingTable? wheeling = null)
    {
        Config = config;
        Wheeling = wheeling ?? WheelingTable.Uniform(config.MaxZones);
    }

    public MarketConfig Config { get; }

    public WheelingTable Wheeling { get; private set; }

    /// <summary>Order ids are 1, 2, 3, … in acceptance order, and the list holds every accepted order.</summary>
    public long NextOrderId => _orders.Count + 1;

    public long NextLotId { get; private set; } = 1;

    public IEnumerable<SlotInfo> Slots => _slots.OrderBy(s => s.Slot).Select(Info).ToList();

    private SlotInfo Info(RefSlot s) =>
        new(s.Slot, s.Mechanism, s.GateClosed ? SlotPhase.Closed : SlotPhase.Open, _orders.Count(o => o.Live && o.Order.Slot == s.Slot), s.GateClosureUnixMs);

    private Participant? FindParticipant(Address address) =>
        _participants.Where(p => p.Address == address).Select(p => (Participant?)p).FirstOrDefault();

    private RefSlot? FindSlot(long slot) => _slots.FirstOrDefault(s => s.Slot == slot);

    private long Fee(RefOrder sell, RefOrder buy) => Wheeling.Fee(sell.Order.Zone, buy.Order.Zone);

    public ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind)
    {
        if (address.IsZero) return ResultCode.InvalidParticipant;
        if (zone < 0 || zone >= Config.MaxZones) return ResultCode.InvalidZone;
        if (!Enum.IsDefined(kind)) return ResultCode.InvalidKind;
        if (FindParticipant(address) is not null) return ResultCode.ParticipantAlreadyRegistered;
        _participants.Add(new Participant(address, zone, kind));
        return ResultCode.Ok;
    }

    public ResultCode SetWheelingTable(WheelingTable table)
    {
        if (table.Zones != Config.MaxZones) return ResultCode.InvalidZone;
        if (table.Entries().Any(e => e.FeeTicks < 0 || e.FeeTicks > Config.MaxPriceTicks)) return ResultCode.InvalidWheelingFee;
        Wheeling = table;
        return ResultCode.Ok;
    }

    public ResultCode OpenSlot(long slot, Mechanism mechanism, long nowUnixMs)
    {
        if (slot <= 0) return ResultCode.InvalidSlot;
        if (mechanism != Mechanism.CallAuction && mechanism != Mechanism.Continuous) return ResultCode.InvalidMechanism;
        if (FindSlot(slot) is not null) return ResultCode.SlotAlreadyOpen;
        var gate = (slot * Config.SlotSeconds - Config.GateLeadSeconds) * 1000L;
        if (nowUnixMs >= gate) return ResultCode.SlotClosed;
        _slots.Add(new RefSlot(slot, mechanism, gate));
        return ResultCode.Ok;
    }

    public bool TryGetSlot(long slot, out SlotInfo info)
    {
        var s = FindSlot(slot);
        info = s is null ? default : Info(s);
        return s is not null;
    }

    public bool TryGetOrder(long orderId, out OrderState state)
    {
        var o = _orders.FirstOrDefault(x => x.Live && x.Id == orderId);
        state = o?.State ?? default;
        return o is not null;
    }

    public IReadOnlyList<OrderState> LiveOrders(long slot) =>
        _orders.Where(o => o.Live && o.Order.Slot == slot).OrderBy(o => o.Id).Select(o => o.State).ToList();

    public IReadOnlyList<long> SlotsDueForGateClosure(long nowUnixMs) =>
        _slots.Where(s => !s.GateClosed && nowUnixMs >= s.GateClosureUnixMs).Select(s => s.Slot).Order().ToList();

    public ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth)
    {
        depth = null;
        if (product != Product.Standard && product != Product.Green) return ResultCode.InvalidProduct;
        var s = FindSlot(slot);
        if (s is null) return ResultCode.UnknownSlot;
        // matching-rules.md: the book of a call-auction slot is not shown before clearing.
        if (s.Mechanism == Mechanism.CallAuction && !s.GateClosed) return ResultCode.BookNotVisible;
        var live = _orders.Where(o => o.Live && o.Order.Slot == slot).ToList();
        var bids = live.Where(o => o.IsBuy && o.Order.Product == product);
        var asks = live.Where(o => o.IsSell && (product == Product.Standard || o.IsRenewableSell));
        var take = maxLevels <= 0 ? int.MaxValue : maxLevels;
        depth = new BookDepth(
            slot,
            product,
            Levels(bids).OrderByDescending(l => l.PriceTicks).Take(take).ToList(),
            Levels(asks).OrderBy(l => l.PriceTicks).Take(take).ToList());
        return ResultCode.Ok;

        static IEnumerable<DepthLevel> Levels(IEnumerable<RefOrder> orders) =>
            orders.GroupBy(o => o.Price).Select(g => new DepthLevel(g.Key, g.Sum(o => o.RemainingWh), g.Count()));
    }

    public ResultCode Submit(in SubmitOrder cmd, IMarketEvents events)
    {
        var code = ValidateSubmit(cmd);
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, cmd.ClientOrderId, 0, code);
            return code;
        }
        var participant = FindParticipant(cmd.Participant)!.Value;
        var slot = FindSlot(cmd.Slot)!;
        // Only the field that applies is kept: a sell's product and a buy's source are default.
        var order = new Order(
            NextOrderId,
            cmd.Participant,
            cmd.ClientOrderId,
            cmd.Side,
            cmd.Slot,
            cmd.EnergyWh,
            cmd.LimitPriceTicks,
            cmd.Side == Side.Buy ? cmd.Product : default,
            cmd.Side == Side.Sell ? cmd.Source : default,
            participant.Zone);
        var incoming = new RefOrder(order);
        _orders.Add(incoming);
        _clientOrderIds.Add((cmd.Participant, cmd.ClientOrderId));
        events.OrderAccepted(order);
        if (slot.Mechanism == Mechanism.Continuous)
        {
            MatchContinuous(incoming, events);
        }
        return ResultCode.Ok;
    }

    /// <summary>Field checks first (1xx), then who (2xx), then market state (3xx) — as the engine orders them.</summary>
    private ResultCode ValidateSubmit(in SubmitOrder cmd)
    {
        if (cmd.Side != Side.Buy && cmd.Side != Side.Sell) return ResultCode.InvalidSide;
        if (cmd.Side == Side.Buy && cmd.Product != Product.Standard && cmd.Product != Product.Green) return ResultCode.InvalidProduct;
        if (cmd.Side == Side.Sell && cmd.Source != EnergySource.Renewable && cmd.Source != EnergySource.Mixed) return ResultCode.InvalidSource;
        if (cmd.EnergyWh <= 0) return ResultCode.QuantityNotPositive;
        if (cmd.EnergyWh % Config.LotStepWh != 0) return ResultCode.QuantityNotLotMultiple;
        if (cmd.EnergyWh > Config.MaxOrderWh) return ResultCode.QuantityTooLarge;
        if (cmd.LimitPriceTicks < Config.MinPriceTicks || cmd.LimitPriceTicks > Config.MaxPriceTicks) return ResultCode.PriceOutOfRange;
        if (cmd.Participant.IsZero) return ResultCode.InvalidParticipant;
        if (FindParticipant(cmd.Participant) is null) return ResultCode.UnknownParticipant;
        var slot = FindSlot(cmd.Slot);
        if (slot is null) return ResultCode.UnknownSlot;
        if (!slot.IsOpenAt(cmd.TimestampUnixMs)) return ResultCode.SlotClosed;
        if (_clientOrderIds.Contains((cmd.Participant, cmd.ClientOrderId))) return ResultCode.DuplicateClientOrderId;
        return ResultCode.Ok;
    }

    private ResultCode ValidateOwnedLiveOrder(Address participant, long orderId, long timestampUnixMs, out RefOrder? order)
    {
        order = null;
        if (participant.IsZero) return ResultCode.InvalidParticipant;
        if (FindParticipant(participant) is null) return ResultCode.UnknownParticipant;
        var o = _orders.FirstOrDefault(x => x.Live && x.Id == orderId);
        if (o is null) return ResultCode.OrderNotFound;
        if (o.Owner != participant) return ResultCode.NotOrderOwner;
        if (!FindSlot(o.Order.Slot)!.IsOpenAt(timestampUnixMs)) return ResultCode.SlotClosed;
        order = o;
        return ResultCode.Ok;
    }

    public ResultCode Cancel(in CancelOrder cmd, IMarketEvents events)
    {
        var code = ValidateOwnedLiveOrder(cmd.Participant, cmd.OrderId, cmd.TimestampUnixMs, out var order);
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, 0, cmd.OrderId, code);
            return code;
        }
        order!.Live = false;
        events.OrderDone(order.Id, order.Owner, OrderDoneReason.Cancelled, order.FilledWh, order.RemainingWh);
        order.RemainingWh = 0;
        return ResultCode.Ok;
    }

    public ResultCode Reduce(in ReduceOrder cmd, IMarketEvents events)
    {
        var code = ValidateOwnedLiveOrder(cmd.Participant, cmd.OrderId, cmd.TimestampUnixMs, out var order);
        if (code == ResultCode.Ok && (cmd.ReduceByWh <= 0 || cmd.ReduceByWh % Config.LotStepWh != 0 || cmd.ReduceByWh >= order!.RemainingWh))
        {
            code = ResultCode.ReduceNotBelowRemaining;
        }
        if (code != ResultCode.Ok)
        {
            events.OrderRejected(cmd.Participant, 0, cmd.OrderId, code);
            return code;
        }
        // Priority is the order id, which a reduction does not change.
        order!.RemainingWh -= cmd.ReduceByWh;
        events.OrderReduced(order.Id, order.Owner, order.RemainingWh);
        return ResultCode.Ok;
    }

    public ResultCode CloseGate(long slot, IMarketEvents events)
    {
        var s = FindSlot(slot);
        if (s is null) return ResultCode.UnknownSlot;
        if (s.GateClosed) return ResultCode.SlotClosed;
        if (s.Mechanism == Mechanism.Continuous)
        {
            foreach (var o in _orders.Where(o => o.Live && o.Order.Slot == slot).OrderBy(o => o.Id).ToList())
            {
                o.Live = false;
                events.OrderDone(o.Id, o.Owner, OrderDoneReason.Expired, o.FilledWh, o.RemainingWh);
            }
        }
        else
        {
            RunCallAuction(slot, events);
        }
        s.GateClosed = true;
        events.GateClosed(slot, s.Mechanism);
        return ResultCode.Ok;
    }

    private Lot MakeLot(long slot, RefOrder sell, RefOrder buy, long wh, long price, Product product) => new(
        NextLotId++,
        slot,
        sell.Owner,
        buy.Owner,
        wh,
        price,
        Fee(sell, buy),
        product,
        sell.Order.Source,
        sell.Id,
        buy.Id);
}
