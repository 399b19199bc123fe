using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Settlement;
using EngineReading = P2PEnergy.Settlement.MeterReading;

namespace P2PEnergy.Exchange.Server.Settlement;

/// <summary>
/// A settled slot as the exchange serves it: the engine's result, the lot parties whose meter did not report
/// (settled as import 0 / export 0), how many sealed readings went in, and when it was settled (market clock).
/// </summary>
public sealed record SettledSlot(SlotSettlement Settlement, IReadOnlyList<Address> MissingReadings, int ReadingCount, long SettledUnixMs)
{
    /// <summary>The slot's lots as the market made them (what the chain must hold), ascending lot id.</summary>
    public IReadOnlyList<Lot> Lots { get; init; } = [];

    /// <summary>Whether <paramref name="participant"/> is one of <see cref="MissingReadings"/>.</summary>
    public bool IsMissing(Address participant) => MissingReadings.Contains(participant);
}

public enum SettlementLookup
{
    Settled,

    /// <summary>The slot's readings are not sealed yet (or its gate is still open): nothing to serve yet.</summary>
    NotSettled,

    /// <summary>The slot was never opened in this market.</summary>
    UnknownSlot,

    /// <summary>The slot is sealed and its gate closed, but the engine refused its inputs or the result did not conserve (logged).</summary>
    Failed,
}

/// <summary>
/// Settles each slot once, off chain (issue 5; docs/settlement-rules.md, "In the exchange"), when its meter
/// readings are sealed and its gate is closed: all the slot's lots, the sealed readings (a lot party without one
/// is settled as 0/0, <see cref="MissingReadings.TreatAsZero"/>), the slot's grid prices (retail by time of use
/// for the slot's delivery start, buy-back) and the policy go into <see cref="SettlementEngine.Settle"/>; the
/// result must conserve and is kept in memory, never recomputed.
/// </summary>
/// <remarks>
/// The metering store tells <see cref="OnReadingsSealed"/> (through <see cref="SettlingReadingRootSink"/>) on the
/// sealing thread; the settlement is queued on the thread pool, and a query for a sealed slot not settled yet
/// settles it inline, so an answer never depends on the race. One lock serialises settling: a slot is settled at
/// most once. A slot sealed with no reading at all is not reported by the store and so is not settled.
/// </remarks>
public sealed partial class SlotSettler
{
    private const int LotPageSize = 1000;

    private readonly Lock _lock = new();
    private readonly Lock _settle = new();
    private readonly Dictionary<long, SettledSlot> _settled = new();
    private readonly HashSet<long> _sealed = [];
    private readonly Market _market;
    private readonly Func<MeterReadingStore> _store;
    private readonly ILogger<SlotSettler> _logger;

    /// <param name="store">The metering store, resolved lazily (the store is built with the sink that calls this settler).</param>
    public SlotSettler(Market market, Func<MeterReadingStore> store, SettlementPolicy policy, ILogger<SlotSettler> logger)
    {
        _market = market;
        _store = store;
        Policy = policy;
        _logger = logger;
    }

    public SettlementPolicy Policy { get; }

    /// <summary>
    /// Called once per slot right after it is settled (outside the settler's locks, on the settling thread), e.g.
    /// to put the settlement on chain. A throwing listener is logged and does not undo the settlement.
    /// </summary>
    public event Action<SettledSlot>? Settled;

    /// <summary>The slot's readings are sealed: remember it and settle it in the background.</summary>
    public void OnReadingsSealed(long slot)
    {
        lock (_lock)
        {
            if (_settled.ContainsKey(slot) || !_sealed.Add(slot)) return;
        }
        ThreadPool.QueueUserWorkItem(static state => state.settler.TrySettle(state.slot, out _), (settler: this, slot), preferLocal: false);
    }

    /// <summary>The slot's settlement; a sealed slot whose gate is closed is settled now if the background has not yet.</summary>
    public SettlementLookup TryGet(long slot, out SettledSlot? settled)
    {
        // As every metering call does: slots whose reading deadline has passed are sealed first.
        _store().SealDue();
        lock (_lock)
        {
            if (_settled.TryGetValue(slot, out settled)) return SettlementLookup.Settled;
        }
        if (!_market.TryGetSlot(slot, out _)) return SettlementLookup.UnknownSlot;
        return TrySettle(slot, out settled);
    }

    /// <summary>Settles the slot if its readings are sealed and its gate closed; once.</summary>
    internal SettlementLookup TrySettle(long slot, out SettledSlot? settled)
    {
        // _settle serialises the work (each slot at most once); _lock only guards the maps, so that the store's
        // sealing thread (OnReadingsSealed) never waits for a settlement being computed.
        lock (_settle)
        {
            lock (_lock)
            {
                if (_settled.TryGetValue(slot, out settled)) return SettlementLookup.Settled;
            }
            // Sealed with readings (the store told us), or final without any: no meter reported before the deadline,
            // which the store never reports (an empty slot has no root); it is settled as all 0/0.
            bool final;
            lock (_lock) final = _sealed.Contains(slot);
            if (!final && !_store().IsFinal(slot)) return SettlementLookup.NotSettled;
            if (!_market.TryGetSlot(slot, out var info)) return SettlementLookup.UnknownSlot;
            // Readings are accepted only after delivery ended, so this cannot happen in practice: guard it anyway.
            if (info.Phase != SlotPhase.Closed)
            {
                LogGateOpen(slot);
                return SettlementLookup.NotSettled;
            }
            try
            {
                settled = Settle(slot);
            }
            catch (Exception ex) when (ex is SettlementInputException or OverflowException or InvalidOperationException)
            {
                LogSettlementFailed(ex, slot);
                return SettlementLookup.Failed;
            }
            lock (_lock)
            {
                _settled.Add(slot, settled);
                _sealed.Remove(slot);
            }
        }
        LogSettled(slot, settled.Settlement.Lots.Count, settled.Settlement.Bills.Count, settled.MissingReadings.Count);
        try
        {
            Settled?.Invoke(settled);
        }
        catch (Exception ex)
        {
            LogListenerFailed(ex, slot);
        }
        return SettlementLookup.Settled;
    }

    private SettledSlot Settle(long slot)
    {
        var lots = new List<Lot>();
        long after = 0;
        bool more;
        do
        {
            var page = _market.GetLots(slot, null, after, LotPageSize, out more);
            lots.AddRange(page);
            if (page.Count > 0) after = page[^1].LotId;
        }
        while (more);

        // The sealed readings: every bound meter belongs to a registered participant, so asking each participant's
        // meter finds them all, also those of participants without a lot (settled against the grid alone).
        var store = _store();
        var readings = new List<EngineReading>();
        foreach (var participant in _market.Snapshot().Participants)
        {
            if (!store.TryGetMeterOf(participant.Address, out var meter)) continue;
            if (store.TryGetReading(meter, slot, out var accepted, out var isSealed) == ReadingLookup.Found && isSealed)
            {
                readings.Add(new EngineReading(participant.Address, slot, accepted!.Reading.ImportWh, accepted.Reading.ExportWh));
            }
        }
        var withReading = readings.Select(r => r.Participant).ToHashSet();
        var missing = lots.SelectMany(l => new[] { l.Seller, l.Buyer }).Where(p => !withReading.Contains(p)).Distinct().Order().ToList();

        var prices = PricesOf(slot);
        var settlement = SettlementEngine.Settle(slot, lots, MissingReadings.TreatAsZero(slot, lots, readings), prices, Policy);
        settlement.EnsureConserved();
        return new SettledSlot(settlement, missing, readings.Count, _market.Clock.NowUnixMs) { Lots = lots };
    }

    /// <summary>The slot's grid prices: retail by time of use for the half hour its delivery starts in, and buy-back.</summary>
    public GridPrices PricesOf(long slot)
    {
        var tariff = _market.Tariff;
        return new GridPrices(tariff.RetailTicksAt(_market.Config.DeliveryStartUnixSeconds(slot)), tariff.BuyBackTicks);
    }

    [LoggerMessage(EventId = 130, Level = LogLevel.Information, Message = "Slot {Slot} settled: {Lots} lots, {Bills} bills, {Missing} lot parties without a reading")]
    private partial void LogSettled(long slot, int lots, int bills, int missing);

    [LoggerMessage(EventId = 131, Level = LogLevel.Warning, Message = "Readings of slot {Slot} are sealed but its gate is open: not settled yet")]
    private partial void LogGateOpen(long slot);

    [LoggerMessage(EventId = 133, Level = LogLevel.Error, Message = "A listener of settled slots failed on slot {Slot}")]
    private partial void LogListenerFailed(Exception ex, long slot);

    [LoggerMessage(EventId = 132, Level = LogLevel.Error, Message = "Slot {Slot} could not be settled")]
    private partial void LogSettlementFailed(Exception ex, long slot);
}
