using System.Diagnostics;
using Microsoft.Extensions.Logging;
using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Durability;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Exchange.Server.Observability;
using P2PEnergy.Signing;

namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// The one market of this process. Owns the matching core behind a lock (single writer: the core is
/// single-threaded), stamps every command with the market clock, keeps the lots, and hands what each
/// command did to the listeners (market-data subscribers, order streams) while still holding the lock,
/// so that they see updates in exactly the order the core made them.
/// </summary>
public sealed partial class Market : IDurabilityGate
{
    private readonly Lock _lock = new();
    private MatchingEngine _engine; // replaced only by RestoreState, at start-up
    private readonly IMarketJournal _journal;
    private readonly List<Lot> _commandLots = []; // lots of the command being applied, for the journal
    private bool _replaying;
    private long _replayNow;
    private readonly MarketEventRecorder _recorder = new();
    private readonly LotStore _lots = new();
    private readonly Dictionary<(long Slot, Product Product), BookDepth> _lastDepth = new();
    private readonly List<IMarketListener> _listeners = [];
    private readonly ILogger<Market> _logger;
    private readonly SignedOrderStore _signedOrders = new();
    private readonly IOrderRootSink _orderRoots;
    private readonly ExchangeMetrics? _metrics;

    /// <summary>None while the journal is replayed: those commands were measured when they were first made.</summary>
    private ExchangeMetrics? Metrics => _replaying ? null : _metrics;
    private GridTariff _tariff;

    public Market(ExchangeOptions options, MarketClock clock, ILogger<Market> logger, IOrderRootSink? orderRoots = null, IMarketJournal? journal = null, ExchangeMetrics? metrics = null)
    {
        _metrics = metrics;
        _journal = journal ?? NoMarketJournal.Instance;
        options.Validate();
        Options = options;
        Clock = clock;
        _logger = logger;
        _orderRoots = orderRoots ?? NoOrderRootSink.Instance;
        SigningDomain = options.ToMarketDomain();
        var config = options.ToMarketConfig();
        _engine = new MatchingEngine(config, WheelingTable.Uniform(config.MaxZones, options.DefaultWheelingFeeTicks));
        _tariff = new GridTariff(options.RetailPriceTicks, options.BuyBackPriceTicks, new Dictionary<int, long>(), options.TariffUtcOffsetMinutes);
    }

    public ExchangeOptions Options { get; }

    public MarketConfig Config => _engine.Config;

    public MarketClock Clock { get; }

    /// <summary>The EIP-712 domain participants sign their commands in (Exchange:ChainId, Exchange:LedgerAddress).</summary>
    public MarketDomain SigningDomain { get; }

    public GridTariff Tariff
    {
        get { lock (_lock) return _tariff; }
    }

    private long Now() => _replaying ? _replayNow : Clock.NowUnixMs;

    // ---------------------------------------------------------------- journal

    /// <summary>Where accepted commands are written before they are acknowledged (the in-memory default writes nothing).</summary>
    public IMarketJournal Journal => _journal;

    /// <summary>Completes once every command applied so far (up to <paramref name="seq"/>) is durable.</summary>
    public ValueTask WhenDurableAsync(long seq, CancellationToken cancellationToken) =>
        seq <= 0 ? ValueTask.CompletedTask : _journal.WaitDurableAsync(seq, cancellationToken);

    /// <summary>
    /// Completes once everything applied so far (by the market or the meter-reading store, which share the journal) is
    /// durable: for answers that do not know their command's seq.
    /// </summary>
    public ValueTask WhenAllDurableAsync(CancellationToken cancellationToken) => WhenDurableAsync(_journal.LastSeq, cancellationToken);

    private bool Journaling => !_replaying && _journal.Enabled;

    // Outboxes queue under the market's lock, right after the command's append: the journal's last seq covers it.
    long IDurabilityGate.CurrentSeq => _journal.LastSeq;

    long IDurabilityGate.DurableSeq => _journal.DurableSeq;

    ValueTask IDurabilityGate.WaitDurableAsync(long seq, CancellationToken cancellationToken) => WhenDurableAsync(seq, cancellationToken);

    /// <summary>The gate outboxes use, or null when nothing is journaled (no stamping, no waiting).</summary>
    public IDurabilityGate? DurabilityGate => _journal.Enabled ? this : null;

    /// <summary>Refuses a new command while the journal cannot take it (UNAVAILABLE at the edge). Under the lock.</summary>
    private void EnsureJournalAccepting()
    {
        if (Journaling) _journal.EnsureAccepting();
    }

    /// <summary>Appends the command just applied, with the lots it made, under the lock. Returns its seq (0: not journaled).</summary>
    private long JournalLocked(JournalEntry? entry, long now)
    {
        if (entry is null || !Journaling)
        {
            _commandLots.Clear();
            return 0;
        }
        entry.UnixMs = now;
        entry.NextOrderId = _engine.NextOrderId;
        entry.NextLotId = _engine.NextLotId;
        var seq = _journal.Append(entry, _commandLots.Count == 0 ? [] : _commandLots.ToArray());
        _commandLots.Clear();
        return seq;
    }

    private void AddLot(in Lot lot)
    {
        _lots.Add(lot);
        if (Journaling) _commandLots.Add(lot);
    }

    // ---------------------------------------------------------------- listeners

    public void AddListener(IMarketListener listener)
    {
        lock (_lock) _listeners.Add(listener);
    }

    public void RemoveListener(IMarketListener listener)
    {
        lock (_lock) _listeners.Remove(listener);
    }

    // ---------------------------------------------------------------- trading

    /// <summary>
    /// Submits an order stamped with the market clock (the command's own timestamp is ignored). When it is
    /// accepted, <paramref name="signed"/> (checked by the caller) joins its slot's signed orders.
    /// <paramref name="beforePublish"/> runs under the lock before listeners hear of the command, so that
    /// an order stream queues its acknowledgement ahead of the lots the command made.
    /// </summary>
    public CommandOutcome Submit(SubmitOrder command, SignedOrder signed, Action<CommandOutcome>? beforePublish = null)
    {
        ArgumentNullException.ThrowIfNull(signed);
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            _recorder.Clear();
            var started = Stopwatch.GetTimestamp();
            var code = _engine.Submit(command with { TimestampUnixMs = now }, _recorder);
            Metrics?.RecordOrderCommand(OrderCommand.Submit, code, started);
            if (code != ResultCode.Ok)
            {
                return Refused(code, 0, now, beforePublish);
            }
            var accepted = ((OrderAcceptedEvent)_recorder.Events[0]).Order;
            _signedOrders.Add(accepted.OrderId, accepted.Slot, signed);
            var outcome = Finish(accepted.OrderId, accepted, now);
            outcome = outcome with { JournalSeq = JournalLocked(Journaling ? JournalEntries.Submit(command, signed) : null, now) };
            beforePublish?.Invoke(outcome);
            Publish(now, accepted.Slot);
            return outcome;
        }
    }

    public CommandOutcome Cancel(Address participant, long orderId, Action<CommandOutcome>? beforePublish = null)
    {
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            _recorder.Clear();
            var slot = _engine.TryGetOrder(orderId, out var before) ? before.Order.Slot : (long?)null;
            var started = Stopwatch.GetTimestamp();
            var code = _engine.Cancel(new CancelOrder(participant, orderId, now), _recorder);
            Metrics?.RecordOrderCommand(OrderCommand.Cancel, code, started);
            if (code != ResultCode.Ok)
            {
                return Refused(code, orderId, now, beforePublish);
            }
            var outcome = Finish(orderId, null, now);
            outcome = outcome with { JournalSeq = JournalLocked(Journaling ? JournalEntries.Cancel(participant, orderId) : null, now) };
            beforePublish?.Invoke(outcome);
            Publish(now, slot);
            return outcome;
        }
    }

    public CommandOutcome Reduce(Address participant, long orderId, long reduceByWh, Action<CommandOutcome>? beforePublish = null)
    {
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            _recorder.Clear();
            var slot = _engine.TryGetOrder(orderId, out var before) ? before.Order.Slot : (long?)null;
            var started = Stopwatch.GetTimestamp();
            var code = _engine.Reduce(new ReduceOrder(participant, orderId, reduceByWh, now), _recorder);
            Metrics?.RecordOrderCommand(OrderCommand.Reduce, code, started);
            if (code != ResultCode.Ok)
            {
                return Refused(code, orderId, now, beforePublish);
            }
            var outcome = Finish(orderId, null, now);
            outcome = outcome with { JournalSeq = JournalLocked(Journaling ? JournalEntries.Reduce(participant, orderId, reduceByWh) : null, now) };
            beforePublish?.Invoke(outcome);
            Publish(now, slot);
            return outcome;
        }
    }

    private static CommandOutcome Refused(ResultCode code, long orderId, long now, Action<CommandOutcome>? beforePublish)
    {
        var outcome = new CommandOutcome(code, orderId, null, null, [], null, now);
        beforePublish?.Invoke(outcome);
        return outcome;
    }

    private CommandOutcome Finish(long orderId, Order? accepted, long now)
    {
        var lots = new List<Lot>();
        OrderDoneEvent? done = null;
        foreach (var e in _recorder.Events)
        {
            switch (e)
            {
                case LotCreatedEvent lc:
                    lots.Add(lc.Lot);
                    AddLot(lc.Lot);
                    break;
                case OrderDoneEvent d when d.OrderId == orderId:
                    done = d;
                    break;
            }
        }
        Metrics?.RecordLotsMatched(lots.Count);
        OrderState? live = _engine.TryGetOrder(orderId, out var state) ? state : null;
        return new CommandOutcome(ResultCode.Ok, orderId, accepted, live, lots, done, now);
    }

    // ---------------------------------------------------------------- reading

    public ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth)
    {
        lock (_lock) return _engine.GetDepth(slot, product, maxLevels, out depth);
    }

    public bool TryGetOrder(long orderId, out OrderState state)
    {
        lock (_lock) return _engine.TryGetOrder(orderId, out state);
    }

    public bool TryGetSlot(long slot, out SlotInfo info)
    {
        lock (_lock) return _engine.TryGetSlot(slot, out info);
    }

    public IReadOnlyList<Lot> GetLots(long? slot, Address? participant, long afterLotId, int pageSize, out bool more)
    {
        lock (_lock) return _lots.Page(slot, participant, afterLotId, pageSize, out more);
    }

    /// <summary>The Merkle root of a slot's accepted orders; false while its gate is open (or when it had none).</summary>
    public bool TryGetSlotOrderRoot(long slot, out byte[] root, out int count) => _signedOrders.TryGetSlotOrderRoot(slot, out root, out count);

    /// <summary>An accepted order as signed, with its proof against its slot's order root once the gate has closed.</summary>
    public OrderProofLookup TryGetOrderProof(long orderId, out OrderProof? proof) => _signedOrders.TryGetProof(orderId, out proof);

    public MarketSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new MarketSnapshot(
                _engine.Config,
                Options.DefaultMechanism,
                Now(),
                Clock.Simulated is not null,
                _engine.Slots.ToList(),
                _engine.Participants.ToList(),
                _tariff,
                _engine.Wheeling,
                _engine.NextOrderId,
                _engine.NextLotId,
                _lots.Count);
        }
    }

    /// <summary>Whether <paramref name="address"/> is a registered participant of this market.</summary>
    public bool IsParticipant(Address address)
    {
        lock (_lock) return _engine.TryGetParticipant(address, out _);
    }

    /// <summary>Reads the core and the lots under the lock (tests and diagnostics; never mutate).</summary>
    internal T Read<T>(Func<MatchingEngine, LotStore, T> read)
    {
        lock (_lock) return read(_engine, _lots);
    }

    // ---------------------------------------------------------------- operator

    /// <summary>Raised after a participant is registered (outside the market's lock), e.g. to credit its deposit.</summary>
    public event Action<Address>? ParticipantRegistered;

    public ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind)
    {
        ResultCode code;
        lock (_lock)
        {
            EnsureJournalAccepting();
            code = _engine.RegisterParticipant(address, zone, kind);
            if (code == ResultCode.Ok) JournalLocked(Journaling ? JournalEntries.Register(address, zone, kind) : null, Now());
        }
        if (code == ResultCode.Ok)
        {
            LogParticipantRegistered(address.ToString(), zone, kind);
            ParticipantRegistered?.Invoke(address);
        }
        return code;
    }

    public ResultCode OpenSlot(long slot, Mechanism? mechanism, out SlotInfo info)
    {
        var m = mechanism ?? Options.DefaultMechanism;
        ResultCode code;
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            code = _engine.OpenSlot(slot, m, now);
            info = code == ResultCode.Ok && _engine.TryGetSlot(slot, out var s) ? s : default;
            if (code == ResultCode.Ok) JournalLocked(Journaling ? JournalEntries.OpenSlots(slot, 1, m) : null, now);
        }
        if (code == ResultCode.Ok) LogSlotsOpened(slot, 1, m);
        return code;
    }

    /// <summary>
    /// Opens <paramref name="count"/> consecutive slots, all or none: every slot is checked before any is
    /// opened. <paramref name="failedSlot"/> names the slot that made it fail.
    /// </summary>
    public ResultCode OpenSlots(long firstSlot, int count, Mechanism? mechanism, out IReadOnlyList<SlotInfo> opened, out long failedSlot)
    {
        var m = mechanism ?? Options.DefaultMechanism;
        opened = [];
        failedSlot = 0;
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            for (var i = 0; i < count; i++)
            {
                var slot = checked(firstSlot + i);
                var code = CanOpen(slot, m, now);
                if (code != ResultCode.Ok)
                {
                    failedSlot = slot;
                    return code;
                }
            }
            var list = new List<SlotInfo>(count);
            for (var i = 0; i < count; i++)
            {
                var slot = firstSlot + i;
                var code = _engine.OpenSlot(slot, m, now);
                if (code != ResultCode.Ok) throw new InvalidOperationException($"slot {slot} passed the checks but the core refused it: {code}");
                _engine.TryGetSlot(slot, out var info);
                list.Add(info);
            }
            opened = list;
            JournalLocked(Journaling ? JournalEntries.OpenSlots(firstSlot, count, m) : null, now);
        }
        LogSlotsOpened(firstSlot, count, m);
        return ResultCode.Ok;
    }

    /// <summary>The checks of <see cref="MatchingEngine.OpenSlot"/>, made without opening.</summary>
    private ResultCode CanOpen(long slot, Mechanism mechanism, long now)
    {
        if (slot <= 0) return ResultCode.InvalidSlot;
        if (mechanism is not (Mechanism.CallAuction or Mechanism.Continuous)) return ResultCode.InvalidMechanism;
        if (_engine.TryGetSlot(slot, out _)) return ResultCode.SlotAlreadyOpen;
        if (now >= _engine.Config.GateClosureUnixMs(slot)) return ResultCode.SlotClosed;
        return ResultCode.Ok;
    }

    public ResultCode CloseGate(long slot, out GateClosure? closure)
    {
        var sealedSlots = new List<SealedSlot>(1);
        ResultCode code;
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            code = CloseGateLocked(slot, now, out closure, sealedSlots);
            if (code == ResultCode.Ok) JournalLocked(Journaling ? JournalEntries.CloseGate(slot) : null, now);
        }
        BuildOrderRoots(sealedSlots);
        return code;
    }

    /// <summary>Closes every gate whose time has come, in slot order (the system clock's gate closer calls this).</summary>
    public IReadOnlyList<GateClosure> CloseDueGates()
    {
        var sealedSlots = new List<SealedSlot>();
        List<GateClosure> closed;
        lock (_lock)
        {
            var now = Now();
            var due = _engine.SlotsDueForGateClosure(now);
            if (due.Count == 0) return []; // nothing to do, so nothing to refuse while the journal is down
            EnsureJournalAccepting();
            closed = CloseGatesLocked(due, now, sealedSlots);
            if (closed.Count > 0) JournalLocked(Journaling ? JournalEntries.CloseDueGates() : null, now);
        }
        BuildOrderRoots(sealedSlots);
        return closed;
    }

    /// <summary>
    /// Moves the simulated clock forward (by <paramref name="by"/>, or to <paramref name="toUnixSeconds"/>) and
    /// closes the gates that became due, in slot order, before any other command sees the new time.
    /// </summary>
    public IReadOnlyList<GateClosure> AdvanceClock(TimeSpan? by, long? toUnixSeconds, out long nowUnixMs)
    {
        var clock = Clock.Simulated ?? throw new InvalidOperationException("the market runs on the system clock");
        IReadOnlyList<GateClosure> closed;
        var sealedSlots = new List<SealedSlot>();
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = by is { } d ? clock.Advance(d) : clock.AdvanceTo(DateTimeOffset.FromUnixTimeSeconds(toUnixSeconds!.Value));
            nowUnixMs = now.ToUnixTimeMilliseconds();
            closed = CloseGatesLocked(_engine.SlotsDueForGateClosure(nowUnixMs), nowUnixMs, sealedSlots);
            JournalLocked(Journaling ? JournalEntries.AdvanceClock() : null, nowUnixMs);
        }
        BuildOrderRoots(sealedSlots);
        LogClockAdvanced(DateTimeOffset.FromUnixTimeMilliseconds(nowUnixMs), closed.Count);
        return closed;
    }

    private List<GateClosure> CloseGatesLocked(IReadOnlyList<long> dueSlots, long now, List<SealedSlot> sealedSlots)
    {
        var closed = new List<GateClosure>();
        foreach (var slot in dueSlots)
        {
            if (CloseGateLocked(slot, now, out var closure, sealedSlots) == ResultCode.Ok) closed.Add(closure!);
        }
        return closed;
    }

    /// <summary>A slot whose gate just closed, with the signed orders its tree is built from.</summary>
    private readonly record struct SealedSlot(long Slot, IReadOnlyList<(long OrderId, SignedOrder Order)> Orders);

    /// <summary>
    /// Builds the order trees of slots whose gates were just closed and tells the sink, outside the lock
    /// (hashing is CPU work; no order can join a sealed slot). The closer returns only once its slots'
    /// roots exist, so a caller of CloseGate or AdvanceClock can ask for proofs at once.
    /// </summary>
    private void BuildOrderRoots(List<SealedSlot> sealedSlots)
    {
        foreach (var (slot, orders) in sealedSlots)
        {
            var tree = _signedOrders.BuildTree(slot, orders);
            LogOrderRootBuilt(slot, tree.Count);
            try
            {
                _orderRoots.OrderRootReady(slot, tree.Root, tree.Count);
            }
            catch (Exception ex)
            {
                LogOrderRootSinkFailed(ex, slot);
            }
        }
    }

    private ResultCode CloseGateLocked(long slot, long now, out GateClosure? closure, List<SealedSlot> sealedSlots)
    {
        closure = null;
        _recorder.Clear();
        var started = Stopwatch.GetTimestamp();
        var code = _engine.CloseGate(slot, _recorder);
        Metrics?.RecordGateClosure(started);
        if (code != ResultCode.Ok) return code;
        if (_signedOrders.Seal(slot) is { } signed) sealedSlots.Add(new SealedSlot(slot, signed));
        var results = new List<ClearingResult>();
        var lots = 0;
        var matched = 0L;
        var expired = 0;
        var mechanism = Mechanism.CallAuction;
        foreach (var e in _recorder.Events)
        {
            switch (e)
            {
                case SlotClearedEvent sc:
                    results.Add(sc.Result);
                    break;
                case LotCreatedEvent lc:
                    AddLot(lc.Lot);
                    lots++;
                    matched += lc.Lot.EnergyWh;
                    break;
                case OrderDoneEvent { Reason: OrderDoneReason.Expired }:
                    expired++;
                    break;
                case GateClosedEvent gc:
                    mechanism = gc.Mechanism;
                    break;
            }
        }
        Metrics?.RecordLotsMatched(lots);
        closure = new GateClosure(slot, mechanism, results, lots, matched, expired, now);
        Publish(now, mechanism == Mechanism.Continuous ? slot : null);
        foreach (var product in (Product[])[Product.Standard, Product.Green])
        {
            _lastDepth.Remove((slot, product));
        }
        LogGateClosed(slot, mechanism, lots, matched, expired);
        return ResultCode.Ok;
    }

    public ResultCode SetWheelingTable(long defaultFeeTicks, IReadOnlyList<WheelingEntry> entries)
    {
        ResultCode code;
        lock (_lock)
        {
            if (defaultFeeTicks < 0 || defaultFeeTicks > _engine.Config.MaxPriceTicks) return ResultCode.InvalidWheelingFee;
            foreach (var e in entries)
            {
                if ((uint)e.SellerZone >= (uint)_engine.Config.MaxZones || (uint)e.BuyerZone >= (uint)_engine.Config.MaxZones) return ResultCode.InvalidZone;
                if (e.FeeTicks < 0 || e.FeeTicks > _engine.Config.MaxPriceTicks) return ResultCode.InvalidWheelingFee;
            }
            EnsureJournalAccepting();
            code = _engine.SetWheelingTable(WheelingTable.Build(_engine.Config.MaxZones, defaultFeeTicks, entries));
            if (code == ResultCode.Ok) JournalLocked(Journaling ? JournalEntries.SetWheeling(defaultFeeTicks, entries) : null, Now());
        }
        if (code == ResultCode.Ok) LogWheelingTableSet(defaultFeeTicks, entries.Count);
        return code;
    }

    /// <summary>Replaces the grid tariff; the caller has checked it.</summary>
    public void SetGridTariff(GridTariff tariff)
    {
        lock (_lock)
        {
            EnsureJournalAccepting();
            _tariff = tariff;
            JournalLocked(Journaling ? JournalEntries.SetTariff(tariff) : null, Now());
        }
        LogTariffSet(tariff.RetailTicks, tariff.BuyBackTicks, tariff.TimeOfUseRetail.Count);
    }

    // ---------------------------------------------------------------- publishing

    /// <summary>Hands what the last command did to every listener. Under the lock.</summary>
    private void Publish(long now, long? continuousSlot)
    {
        if (_listeners.Count == 0)
        {
            _lastDepth.Clear();
            return;
        }
        var wantsBooks = false;
        foreach (var l in _listeners) wantsBooks |= l.WantsBookUpdates;
        IReadOnlyList<BookDepth> books = [];
        if (!wantsBooks)
        {
            // Nobody saw the last depths: forget them so that a new subscriber gets the next change.
            _lastDepth.Clear();
        }
        else if (continuousSlot is { } slot && _engine.TryGetSlot(slot, out var info) && info.Mechanism == Mechanism.Continuous)
        {
            books = BookChanges(slot);
        }
        var update = new MarketUpdate(now, _recorder.Events.ToArray(), books);
        foreach (var l in _listeners.ToArray())
        {
            l.OnUpdate(update);
        }
    }

    private List<BookDepth> BookChanges(long slot)
    {
        var changes = new List<BookDepth>(2);
        foreach (var product in (Product[])[Product.Green, Product.Standard])
        {
            if (_engine.GetDepth(slot, product, Options.MarketDataDepthLevels, out var depth) != ResultCode.Ok) continue;
            var key = (slot, product);
            var last = _lastDepth.GetValueOrDefault(key);
            var unchanged = last is null
                ? depth!.Bids.Count == 0 && depth.Asks.Count == 0 // an empty book never shown: nothing to tell
                : last.Bids.SequenceEqual(depth!.Bids) && last.Asks.SequenceEqual(depth.Asks);
            if (unchanged) continue;
            _lastDepth[key] = depth;
            changes.Add(depth);
        }
        return changes;
    }

    // ---------------------------------------------------------------- logging

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Participant {Address} registered in zone {Zone} as {Kind}")]
    private partial void LogParticipantRegistered(string address, int zone, ParticipantKind kind);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Opened {Count} slot(s) from {FirstSlot} as {Mechanism}")]
    private partial void LogSlotsOpened(long firstSlot, int count, Mechanism mechanism);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Gate of slot {Slot} closed ({Mechanism}): {LotCount} lots, {MatchedWh} Wh matched, {ExpiredOrders} orders expired")]
    private partial void LogGateClosed(long slot, Mechanism mechanism, int lotCount, long matchedWh, int expiredOrders);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Wheeling table set: default {DefaultFeeTicks} ticks, {Entries} entries")]
    private partial void LogWheelingTableSet(long defaultFeeTicks, int entries);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Grid tariff set: retail {RetailTicks} ticks, buy-back {BuyBackTicks} ticks, {TimeOfUse} time-of-use prices")]
    private partial void LogTariffSet(long retailTicks, long buyBackTicks, int timeOfUse);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Simulated clock advanced to {Now:O}; {Closed} gate(s) closed")]
    private partial void LogClockAdvanced(DateTimeOffset now, int closed);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Order root of slot {Slot} built over {Count} signed orders")]
    private partial void LogOrderRootBuilt(long slot, int count);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "The order root sink failed for slot {Slot}")]
    private partial void LogOrderRootSinkFailed(Exception ex, long slot);
}
