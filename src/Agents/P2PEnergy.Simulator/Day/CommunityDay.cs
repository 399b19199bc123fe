using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using P2PEnergy.Agents;
using P2PEnergy.Ethereum;
using P2PEnergy.Signing;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Simulator.Day;

/// <summary>How to run a community day (the `day` command's options, parsed).</summary>
public sealed record DayOptions
{
    public ulong Seed { get; init; } = 1;
    public int Days { get; init; } = 1;
    public Api.Mechanism Mechanism { get; init; } = Api.Mechanism.CallAuction;
    /// <summary>"YYYY-MM-DD", "next" or null (the scenario's start date).</summary>
    public string? StartDate { get; init; }
    /// <summary>At most this many slots in all (null: every slot of every day).</summary>
    public int? MaxSlots { get; init; }
    public string? AdminToken { get; init; }
    public TimeSpan LedgerTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan SettlementTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A run cannot go on: the message says why and what to do.</summary>
public sealed class DayRunException(string message) : Exception(message);

/// <summary>Told after each slot is traded, while the ledger catches up and while the chain is audited.</summary>
public interface IDayProgress
{
    void Start(int slots);
    void SlotTraded(long slot, string localStart);
    void Phase(string what);

    /// <summary>
    /// While waiting for the ledger at the end: this run's lots on chain of those it made, and its slots settled on
    /// chain of those that go there (0 of 0 when the exchange has no chain settler).
    /// </summary>
    void Ledger(long lotsOnChain, long lotsMade, long slotsOnChain, long slotsToSettle)
    {
    }
}

/// <summary>
/// Runs a scenario's days through a real exchange over gRPC. Per slot s (delivery [s, s+1) slot lengths):
/// the slot is opened, every agent decides from its forecast and state (SlotDecider) and submits its signed
/// orders on one StreamOrders call, the clock is advanced to the gate (the call auction clears there), the
/// slot's lots say what each agent bought and sold, delivery runs with the actual PV and load (SlotDelivery)
/// and gives each meter reading. When the clock passes the slot's delivery end, every meter's signed reading is
/// submitted, the slot is sealed and its settlement fetched. Agents decide slot s + 1 knowing how slot s ends
/// (its lots are known at its gate; assumption: the agent's own state forecast for the slot end is exact).
/// </summary>
public sealed class CommunityDay
{
    // Petrol money: km / (km/L) × JPY/L, in 1e-5 JPY, rounded half away from zero (PHEV figures: PhevSpec).
    private const decimal MoneyPerYen = 100_000m;

    // Client order ids: slot × 64 + 1 … 64, unique per participant on any exchange the same keys trade on (an
    // exchange refuses an id a participant already used, also one of an earlier run with the same seed).
    private const int ClientOrderIdsPerSlot = 64;

    private readonly Scenario _scenario;
    private readonly DayOptions _options;
    private readonly IDayProgress? _progress;
    private readonly Api.MarketAdmin.MarketAdminClient _admin;
    private readonly Api.ExchangeService.ExchangeServiceClient _market;
    private readonly Api.MeteringAdmin.MeteringAdminClient _meteringAdmin;
    private readonly Api.MeteringService.MeteringServiceClient _metering;
    private readonly Api.SettlementService.SettlementServiceClient _settlement;
    private readonly Api.LedgerStatus.LedgerStatusClient _ledger;
    private readonly Metadata _adminHeaders = new();
    private readonly List<string> _warnings = [];

    private CommunityDay(GrpcChannel channel, Scenario scenario, DayOptions options, IDayProgress? progress)
    {
        _scenario = scenario;
        _options = options;
        _progress = progress;
        _admin = new(channel);
        _market = new(channel);
        _meteringAdmin = new(channel);
        _metering = new(channel);
        _settlement = new(channel);
        _ledger = new(channel);
        if (!string.IsNullOrEmpty(options.AdminToken)) _adminHeaders.Add("x-admin-token", options.AdminToken);
    }

    public static Task<DayResult> RunAsync(GrpcChannel channel, Scenario scenario, DayOptions options, IDayProgress? progress, CancellationToken ct)
    {
        if (options.Days is < 1 or > 366) throw new DayRunException($"--days must be 1 … 366, was {options.Days}");
        return new CommunityDay(channel, scenario, options, progress).RunCoreAsync(ct);
    }

    /// <summary>An agent with its keys and its two device-state chains (with the market, and the grid-only baseline).</summary>
    private sealed class Agent(Participant participant, EthKey key, EthKey meterKey, int zone)
    {
        public Participant Participant { get; } = participant;
        public EthKey Key { get; } = key;
        public EthKey MeterKey { get; } = meterKey;
        public string Address { get; } = key.Address.ToLowerHex();
        public string Meter { get; } = meterKey.Address.ToLowerHex();
        public int Zone { get; } = zone;
        public AgentState State { get; set; } = AgentState.Initial(participant);
        public AgentState BaselineState { get; set; } = AgentState.Initial(participant);
        public DayProfile? Profile { get; set; }
    }

    /// <summary>A slot delivered and waiting for its delivery end to be metered, sealed and settled.</summary>
    private sealed record PendingSlot(long Slot, Dictionary<string, MeterReading> Readings);

    private async Task<DayResult> RunCoreAsync(CancellationToken ct)
    {
        var info = await Call(() => _admin.GetMarketInfoAsync(new Api.GetMarketInfoRequest(), _adminHeaders, cancellationToken: ct), "GetMarketInfo");
        if (!info.SimulatedClock)
            throw new DayRunException("the exchange must run on its simulated clock (--Exchange:Clock=Simulated): the simulator drives it");
        var config = info.Config;
        var slotSeconds = config.SlotSeconds;
        var clock = new SlotClock(slotSeconds, _scenario.UtcOffsetMinutes * 60);
        if (info.Tariff is { } t && t.UtcOffsetMinutes != _scenario.UtcOffsetMinutes)
            throw new DayRunException($"the scenario's utcOffset is {_scenario.UtcOffsetMinutes} min but the exchange prices time of use at {t.UtcOffsetMinutes} min (Exchange:TariffUtcOffsetMinutes)");
        if (_scenario.LotStepWh % config.LotStepWh != 0)
            throw new DayRunException($"the scenario's lotStepWh {_scenario.LotStepWh} is not a multiple of the exchange's lot step {config.LotStepWh} Wh");
        if (!MarketSigning.TryParseAddress(config.LedgerAddress, out var ledgerAddress))
            throw new DayRunException($"the exchange reports no valid ledger address (got \"{config.LedgerAddress}\"): orders could not be signed");
        var domain = new MarketDomain(config.ChainId == 0 ? MarketDomain.DevChainId : config.ChainId, ledgerAddress);
        _domain = domain;
        // The ledger's counters before the run: the wait at the end counts this run's lots and settled slots.
        var ledgerBefore = await Call(() => _ledger.GetLedgerStatusAsync(new Api.GetLedgerStatusRequest(), cancellationToken: ct), "GetLedgerStatus");

        // Which slots: whole local days from the start date, cut to the scenario's hours and --slots.
        var nowSeconds = info.NowUnixMs / 1000;
        long GateSeconds(long s) => s * slotSeconds - config.GateLeadSeconds;
        var startDay = StartLocalDay(clock, nowSeconds, GateSeconds);
        var slots = new List<long>();
        for (var d = 0; d < _options.Days; d++)
        {
            var first = clock.FirstSlotOf(startDay + d);
            for (var i = 0; i < clock.SlotsPerDay; i++)
            {
                var startMinute = clock.StartMinute(i);
                if (_scenario.Hours is { } h && (startMinute < h.FromMinute || startMinute + clock.SlotMinutes > h.ToMinute)) continue;
                slots.Add(first + i);
            }
        }
        if (_options.MaxSlots is { } max) slots = slots.Take(max).ToList();
        if (slots.Count == 0) throw new DayRunException("no slot to run: the scenario's hours hold no whole slot (or --slots is 0)");
        if (GateSeconds(slots[0]) <= nowSeconds)
            throw new DayRunException($"the first slot starts {clock.DateOf(startDay):yyyy-MM-dd} {clock.StartMinute(clock.SlotOfDay(slots[0])) / 60:00}:{clock.StartMinute(clock.SlotOfDay(slots[0])) % 60:00} local, but the exchange's clock ({DateTimeOffset.FromUnixTimeSeconds(nowSeconds):u}) is past its gate: start later (--start-date YYYY-MM-DD or next) or restart the exchange");

        // The community: keys from the seed and the id, registered, meters bound; the market's settings.
        var agents = _scenario.Participants.Select(p => new Agent(p,
            KeyOf("p2penergy-sim:participant", p.Id), KeyOf("p2penergy-sim:meter", p.Id), _scenario.ZoneOf(p))).ToList();
        var byAddress = agents.ToDictionary(a => a.Address, StringComparer.Ordinal);
        _progress?.Phase($"registering {agents.Count} participants");
        await ForEachAsync(agents, async a =>
        {
            try
            {
                await _admin.RegisterParticipantAsync(new Api.RegisterParticipantRequest { Address = a.Address, Zone = a.Zone, Kind = KindOf(a.Participant) }, _adminHeaders, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                // An earlier run with the same seed registered it: the same key, so the same participant.
            }
            await Call(() => _meteringAdmin.BindMeterAsync(new Api.BindMeterRequest { Meter = a.Meter, Participant = a.Address }, _adminHeaders, cancellationToken: ct), $"BindMeter({a.Participant.Id})");
        }, ct);
        await SetMarketSettingsAsync(ct);

        var retailAt = new Dictionary<long, long>();
        long RetailOf(long s) => retailAt.TryGetValue(s, out var r) ? r : retailAt[s] = _scenario.Tariff.RetailAt(HalfHourOfDay(s, slotSeconds));

        // Results.
        var participantSlots = new List<ParticipantSlotResult>();
        var baseline = new List<BaselineSlotResult>();
        var marketSlots = new Dictionary<long, MarketSlotResult>();
        var allLots = new List<LotResult>();
        var pending = new Queue<PendingSlot>();
        var rows = new Dictionary<(string, long), ParticipantSlotResult>();
        var checks = new RunChecks();

        if (nowSeconds < GateSeconds(slots[0]) - slotSeconds)
            await AdvanceToAsync(GateSeconds(slots[0]) - slotSeconds, ct);
        _progress?.Start(slots.Count);

        long? profileDay = null;
        foreach (var slot in slots)
        {
            // Each local day: the weather and every participant's forecast and actual profile.
            var localDay = clock.LocalDay(slot);
            if (profileDay != localDay)
            {
                var weather = WeatherDay.For(_options.Seed, localDay, clock, _scenario.DayType);
                foreach (var a in agents) a.Profile = a.Participant.Profile(_options.Seed, weather, SolarSite.HigashiFuji, clock);
                profileDay = localDay;
            }
            var slotOfDay = clock.SlotOfDay(slot);
            var retail = RetailOf(slot);
            var buyBack = _scenario.Tariff.BuyBackTicks;

            // Open, decide, sign, submit.
            await Call(() => _admin.OpenSlotAsync(new Api.OpenSlotRequest { Slot = slot, Mechanism = _options.Mechanism }, _adminHeaders, cancellationToken: ct), $"OpenSlot({slot})");
            var orders = new List<Api.NewOrder>();
            var ordersOf = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var a in agents)
            {
                var prices = new GridPrices(retail, buyBack, _scenario.AllowanceTicks(a.Zone));
                var intents = SlotDecider.Decide(a.Participant, a.State, new SlotContext(slot, a.Profile!.Forecast(slotOfDay), prices, clock, _scenario.LotStepWh));
                ordersOf[a.Participant.Id] = intents.Count;
                if (intents.Count > ClientOrderIdsPerSlot) throw new DayRunException($"{a.Participant.Id} placed {intents.Count} orders in slot {slot}");
                for (var k = 0; k < intents.Count; k++)
                {
                    var intent = intents[k];
                    if (intent.Side == OrderSide.Buy && intent.LimitPriceTicks > retail) checks = checks with { BidsAboveRetail = checks.BidsAboveRetail + 1 };
                    if (intent.Side == OrderSide.Sell && intent.LimitPriceTicks < buyBack) checks = checks with { AsksBelowBuyBack = checks.AsksBelowBuyBack + 1 };
                    orders.Add(Sign(a, slot, checked((ulong)slot * ClientOrderIdsPerSlot + (ulong)k + 1), intent, domain));
                }
            }
            var refused = await SubmitAsync(orders, ct);
            checks = checks with { OrdersRefused = checks.OrdersRefused + refused };

            // Gate closure: the call auction clears here. Then the slot's lots.
            await AdvanceToAsync(GateSeconds(slot), ct, pending, rows, marketSlots, checks, c => checks = c);
            var lots = await LotsAsync(slot, ct);
            var bought = new Dictionary<string, (long Wh, long RenewableWh)>(StringComparer.Ordinal);
            var sold = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var lot in lots)
            {
                if (!byAddress.TryGetValue(lot.Buyer, out var buyer) || !byAddress.TryGetValue(lot.Seller, out var seller))
                {
                    _warnings.Add($"slot {slot}: lot {lot.LotId} between {lot.Seller} and {lot.Buyer} is not this community's (another client trades in the slot)");
                    continue;
                }
                var b = bought.GetValueOrDefault(buyer.Address);
                bought[buyer.Address] = (b.Wh + lot.EnergyWh, b.RenewableWh + (lot.Source == Api.EnergySource.Renewable ? lot.EnergyWh : 0));
                sold[seller.Address] = sold.GetValueOrDefault(seller.Address) + lot.EnergyWh;
                allLots.Add(new LotResult(lot.LotId, lot.Slot, seller.Participant.Id, buyer.Participant.Id, lot.EnergyWh, lot.PriceTicks, lot.WheelingFeeTicks,
                    lot.Product == Api.Product.Green ? "green" : "standard", lot.Source == Api.EnergySource.Renewable ? "renewable" : "mixed"));
                if (lot.PriceTicks > retail) checks = checks with { LotsAboveRetail = checks.LotsAboveRetail + 1 };
                if (lot.PriceTicks < buyBack) checks = checks with { LotsBelowBuyBack = checks.LotsBelowBuyBack + 1 };
                if (lot.PriceTicks + lot.WheelingFeeTicks > retail) checks = checks with { LotsCostlierThanRetail = checks.LotsCostlierThanRetail + 1 };
            }
            var (clearing, nonUniform) = ClearingPrices(lots);
            checks = checks with { NonUniformAuctionLots = checks.NonUniformAuctionLots + nonUniform };
            var localStart = DateTimeOffset.FromUnixTimeSeconds(slot * slotSeconds).ToOffset(TimeSpan.FromMinutes(_scenario.UtcOffsetMinutes));
            marketSlots[slot] = new MarketSlotResult
            {
                Slot = slot,
                LocalStart = localStart.ToString("yyyy-MM-dd'T'HH:mmzzz", CultureInfo.InvariantCulture),
                RetailTicks = retail,
                BuyBackTicks = buyBack,
                ClearingPrices = clearing,
                RenewableTradedWh = lots.Where(l => l.Source == Api.EnergySource.Renewable).Sum(l => l.EnergyWh),
                MixedTradedWh = lots.Where(l => l.Source != Api.EnergySource.Renewable).Sum(l => l.EnergyWh),
                LotCount = lots.Count,
                OrdersSubmitted = orders.Count,
                OrdersRefused = refused,
            };

            // Delivery: what really happened, with the market's trades and, for the baseline, without any.
            var readings = new Dictionary<string, MeterReading>(StringComparer.Ordinal);
            foreach (var a in agents)
            {
                var actual = a.Profile!.Actual(slotOfDay);
                var forecast = a.Profile.Forecast(slotOfDay);
                var b = bought.GetValueOrDefault(a.Address);
                var traded = new SlotTrades(b.Wh, sold.GetValueOrDefault(a.Address), b.RenewableWh);
                var outcome = SlotDelivery.Advance(a.Participant, a.State, slot, clock, actual, traded);
                a.State = outcome.Next;
                readings[a.Address] = outcome.Meter;
                var row = new ParticipantSlotResult
                {
                    Participant = a.Participant.Id,
                    Slot = slot,
                    Kind = KindName(a.Participant),
                    ForecastLoadWh = forecast.LoadWh,
                    ForecastPvWh = forecast.PvWh,
                    LoadWh = actual.LoadWh,
                    PvWh = actual.PvWh,
                    ChargedWh = outcome.ChargedWh,
                    DischargedWh = outcome.DischargedWh,
                    MeterImportWh = outcome.Meter.ImportWh,
                    MeterExportWh = outcome.Meter.ExportWh,
                    OrdersSubmitted = ordersOf[a.Participant.Id],
                    TradedBoughtWh = traded.BoughtWh,
                    TradedBoughtRenewableWh = traded.BoughtRenewableWh,
                    TradedSoldWh = traded.SoldWh,
                    StorageWh = StorageWh(outcome.Next),
                    PetrolKm = outcome.PetrolKm,
                    PetrolMoney = PetrolMoney(a.Participant, outcome.PetrolKm),
                };
                rows[(a.Address, slot)] = row;

                var alone = SlotDelivery.Advance(a.Participant, a.BaselineState, slot, clock, actual, SlotTrades.None);
                a.BaselineState = alone.Next;
                baseline.Add(new BaselineSlotResult
                {
                    Participant = a.Participant.Id,
                    Slot = slot,
                    GridImportWh = alone.Meter.ImportWh,
                    GridImportMoney = checked(alone.Meter.ImportWh * retail),
                    GridExportWh = alone.Meter.ExportWh,
                    GridExportMoney = checked(alone.Meter.ExportWh * buyBack),
                    StorageWh = StorageWh(alone.Next),
                    PetrolKm = alone.PetrolKm,
                    PetrolMoney = PetrolMoney(a.Participant, alone.PetrolKm),
                });
            }
            pending.Enqueue(new PendingSlot(slot, readings));
            _progress?.SlotTraded(slot, localStart.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture));
        }

        // Meter, seal and settle the slots still in delivery.
        var lastEnd = (slots[^1] + 1) * slotSeconds;
        await AdvanceToAsync(lastEnd, ct, pending, rows, marketSlots, checks, c => checks = c);

        // Bills onto the rows.
        foreach (var a in agents)
            foreach (var slot in slots)
                participantSlots.Add(rows[(a.Address, slot)]);

        // Every slot the exchange settled with a lot or a bill goes on chain (the chain settler skips only empty ones).
        var billedSlots = participantSlots.Where(p => p.Billed).Select(p => p.Slot).ToHashSet();
        var slotsToSettle = slots.Count(s => marketSlots[s].Settled && (marketSlots[s].LotCount > 0 || billedSlots.Contains(s)));
        _progress?.Phase("waiting for the ledger");
        var (chain, caughtUp) = await WaitForLedgerAsync(ledgerBefore, allLots.Count, slotsToSettle, ct);
        checks = checks with { LedgerCaughtUp = caughtUp };

        var run = new RunInfo(_scenario.Name, _scenario.Description, _options.Seed, MechanismName(_options.Mechanism), _options.Days, _scenario.Scale,
            clock.DateOf(startDay).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), slotSeconds, _scenario.UtcOffsetMinutes,
            slots[0], slots[^1], slots.Count, _scenario.LotStepWh, domain.ChainId, ledgerAddress.ToLowerHex());
        var participants = agents.Select(a => new ParticipantInfo(a.Participant.Id, a.Address, a.Meter, KindName(a.Participant),
            a.Participant.Strategy switch { StrategyKind.Green => "green", StrategyKind.PriceFocused => "price-focused", _ => "economy" },
            a.Participant.Site, a.Zone, a.Participant.Pv is not null, a.Participant.Battery is not null,
            a.Participant.Storage is { } s ? (long)Math.Floor(s.CapacityWh) : 0)).ToList();
        return new DayResult(run, participants, slots.Select(s => marketSlots[s]).ToList(), participantSlots, baseline, allLots, chain, checks,
            Assumptions(), _warnings);

        // Flushes every pending slot whose delivery ends by the target, in order, then moves the clock there.
        async Task AdvanceToAsync(long target, CancellationToken token, Queue<PendingSlot>? queue = null,
            Dictionary<(string, long), ParticipantSlotResult>? rowsOf = null, Dictionary<long, MarketSlotResult>? market = null,
            RunChecks? current = null, Action<RunChecks>? update = null)
        {
            while (queue is { Count: > 0 } && (queue.Peek().Slot + 1) * slotSeconds <= target)
            {
                var p = queue.Dequeue();
                await ClockToAsync((p.Slot + 1) * slotSeconds, token);
                var c = await MeterAndSettleAsync(p, agents, rowsOf!, market!, RetailOf(p.Slot), current!, token);
                current = c;
                update!(c);
            }
            await ClockToAsync(target, token);
        }

        async Task ClockToAsync(long unixSeconds, CancellationToken token)
        {
            if (unixSeconds * 1000 <= nowSeconds * 1000) return;
            var r = await Call(() => _admin.AdvanceClockAsync(new Api.AdvanceClockRequest { ToUnixSeconds = unixSeconds }, _adminHeaders, cancellationToken: token), "AdvanceClock");
            nowSeconds = r.NowUnixMs / 1000;
        }
    }

    private async Task<RunChecks> MeterAndSettleAsync(PendingSlot p, List<Agent> agents, Dictionary<(string, long), ParticipantSlotResult> rows,
        Dictionary<long, MarketSlotResult> market, long retail, RunChecks checks, CancellationToken ct)
    {
        int accepted = 0, refusedReadings = 0;
        await ForEachAsync(agents, async a =>
        {
            var m = p.Readings[a.Address];
            var message = new MeterReadingMessage(a.Meter, a.Address, (ulong)p.Slot, (ulong)m.ImportWh, (ulong)m.ExportWh);
            var reading = new Api.MeterReading
            {
                Meter = a.Meter, Participant = a.Address, Slot = p.Slot, ImportWh = m.ImportWh, ExportWh = m.ExportWh,
                Signature = ByteString.CopyFrom(a.MeterKey.Sign(_domain, message)),
            };
            try
            {
                _ = await _metering.SubmitReadingAsync(new Api.SubmitReadingRequest { Reading = reading }, cancellationToken: ct);
                Interlocked.Increment(ref accepted);
            }
            catch (RpcException e)
            {
                Interlocked.Increment(ref refusedReadings);
                lock (_warnings) _warnings.Add($"slot {p.Slot}: {a.Participant.Id}'s reading was refused: {e.StatusCode}: {e.Status.Detail}");
            }
        }, ct);
        await Call(() => _meteringAdmin.SealReadingsAsync(new Api.SealReadingsRequest { Slot = p.Slot }, _adminHeaders, cancellationToken: ct), $"SealReadings({p.Slot})");

        var settlement = await SettlementAsync(p.Slot, ct);
        var slotResult = market[p.Slot] with { ReadingsAccepted = accepted, ReadingsRefused = refusedReadings };
        checks = checks with { ReadingsRefused = checks.ReadingsRefused + refusedReadings };
        if (settlement is null)
        {
            market[p.Slot] = slotResult;
            return checks with { SlotsNotSettled = checks.SlotsNotSettled + 1 };
        }
        market[p.Slot] = slotResult with { Settled = true, Conserved = settlement.Conserved, MissingReadings = settlement.MissingReadingParticipants.Count };
        checks = checks with
        {
            SlotsNotConserved = checks.SlotsNotConserved + (settlement.Conserved ? 0 : 1),
            MissingReadings = checks.MissingReadings + settlement.MissingReadingParticipants.Count,
            TariffMismatches = checks.TariffMismatches + (settlement.RetailTicks != retail || settlement.BuyBackTicks != _scenario.Tariff.BuyBackTicks ? 1 : 0),
        };
        var bills = settlement.Bills.ToDictionary(b => b.Participant, StringComparer.Ordinal);
        foreach (var a in agents)
        {
            var row = rows[(a.Address, p.Slot)];
            if (!bills.TryGetValue(a.Address, out var bill))
            {
                // No bill: the settlement names only participants with a lot or a flow; one with neither owes nothing.
                if (row.MeterImportWh != 0 || row.MeterExportWh != 0 || row.TradedBoughtWh != 0 || row.TradedSoldWh != 0)
                    checks = checks with { BillsMissing = checks.BillsMissing + 1 };
                continue;
            }
            if (bill.EnergyBoughtWh > row.TradedBoughtWh || bill.EnergySoldWh > row.TradedSoldWh)
                checks = checks with { BillsAboveLots = checks.BillsAboveLots + 1 };
            rows[(a.Address, p.Slot)] = row with
            {
                Billed = true,
                BoughtWh = bill.EnergyBoughtWh,
                BoughtMoney = bill.EnergyBoughtMoney,
                SoldWh = bill.EnergySoldWh,
                SoldMoney = bill.EnergySoldMoney,
                WheelingPaid = bill.WheelingPaid,
                GridImportWh = bill.GridImportWh,
                GridImportMoney = bill.GridImportMoney,
                GridExportWh = bill.GridExportWh,
                GridExportMoney = bill.GridExportMoney,
                CompensationPaid = bill.CompensationPaid,
                CompensationReceived = bill.CompensationReceived,
                Net = bill.Net,
            };
        }
        return checks;
    }

    private MarketDomain _domain = null!;

    private async Task<Api.GetSettlementResponse?> SettlementAsync(long slot, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + _options.SettlementTimeout;
        while (true)
        {
            try
            {
                return await _settlement.GetSettlementAsync(new Api.GetSettlementRequest { Slot = slot }, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && DateTimeOffset.UtcNow < deadline)
            {
                // Settled right after sealing, on the exchange's own thread: poll briefly.
                await Task.Delay(20, ct);
            }
            catch (RpcException e)
            {
                lock (_warnings) _warnings.Add($"slot {slot}: no settlement: {e.StatusCode}: {e.Status.Detail}");
                return null;
            }
        }
    }

    private static Api.NewOrder Sign(Agent a, long slot, ulong clientOrderId, OrderIntent intent, MarketDomain domain)
    {
        var order = new Api.NewOrder
        {
            Participant = a.Address,
            ClientOrderId = clientOrderId,
            Side = intent.Side == OrderSide.Buy ? Api.Side.Buy : Api.Side.Sell,
            Slot = slot,
            EnergyWh = intent.EnergyWh,
            LimitPriceTicks = intent.LimitPriceTicks,
            Product = intent.Side == OrderSide.Buy ? (intent.Product == Product.Green ? Api.Product.Green : Api.Product.Standard) : Api.Product.Unspecified,
            Source = intent.Side == OrderSide.Sell ? (intent.Source == EnergySource.Renewable ? Api.EnergySource.Renewable : Api.EnergySource.Mixed) : Api.EnergySource.Unspecified,
        };
        var message = new OrderMessage(order.Participant, order.ClientOrderId, (byte)order.Side, (ulong)order.Slot,
            (ulong)order.EnergyWh, (ulong)order.LimitPriceTicks, (byte)order.Product, (byte)order.Source);
        order.Signature = ByteString.CopyFrom(a.Key.Sign(domain, message));
        return order;
    }

    /// <summary>Sends a slot's orders on one StreamOrders call; returns how many were refused.</summary>
    private async Task<int> SubmitAsync(List<Api.NewOrder> orders, CancellationToken ct)
    {
        if (orders.Count == 0) return 0;
        using var call = _market.StreamOrders(cancellationToken: ct);
        var refused = 0;
        var acks = 0;
        var reader = Task.Run(async () =>
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync(ct))
            {
                foreach (var e in response.Batch.Count > 0 ? (IEnumerable<Api.StreamOrdersResponse>)response.Batch : [response])
                {
                    if (e.EventCase != Api.StreamOrdersResponse.EventOneofCase.Ack) continue;
                    acks++;
                    if (e.Ack.StatusCode != 0)
                    {
                        refused++;
                        lock (_warnings) _warnings.Add($"order {e.Ack.RequestId} refused: code {e.Ack.ResultCode}: {e.Ack.Message}");
                    }
                }
            }
        }, ct);
        for (var i = 0; i < orders.Count; i++)
            await call.RequestStream.WriteAsync(new Api.StreamOrdersRequest { RequestId = (ulong)i + 1, Submit = new Api.SubmitOrderRequest { Order = orders[i] } }, ct);
        await call.RequestStream.CompleteAsync();
        await reader;
        if (acks != orders.Count) throw new DayRunException($"StreamOrders acknowledged {acks} of {orders.Count} orders");
        return refused;
    }

    private async Task<List<Api.Lot>> LotsAsync(long slot, CancellationToken ct)
    {
        var lots = new List<Api.Lot>();
        var token = "";
        do
        {
            var page = await Call(() => _market.GetLotsAsync(new Api.GetLotsRequest { Slot = slot, PageSize = 1000, PageToken = token }, cancellationToken: ct), $"GetLots({slot})");
            lots.AddRange(page.Lots);
            token = page.NextPageToken;
        } while (token.Length > 0);
        return lots;
    }

    /// <summary>
    /// Per product: call auction, the lots' one price (lots at another price are counted); continuous, the
    /// volume-weighted average Σ(Wh × ticks) / ΣWh rounded half away from zero.
    /// </summary>
    private (IReadOnlyList<ProductPrice> Prices, int NonUniform) ClearingPrices(List<Api.Lot> lots)
    {
        var prices = new List<ProductPrice>();
        var nonUniform = 0;
        foreach (var group in lots.GroupBy(l => l.Product).OrderBy(g => g.Key))
        {
            var name = group.Key == Api.Product.Green ? "green" : "standard";
            var wh = group.Sum(l => l.EnergyWh);
            if (_options.Mechanism == Api.Mechanism.CallAuction)
            {
                var price = group.First().PriceTicks;
                nonUniform += group.Count(l => l.PriceTicks != price);
                prices.Add(new ProductPrice(name, price, wh));
            }
            else
            {
                Int128 money = 0;
                foreach (var l in group) money += (Int128)l.EnergyWh * l.PriceTicks;
                var q = money / wh;
                var r = money % wh;
                prices.Add(new ProductPrice(name, (long)(r * 2 >= wh ? q + 1 : q), wh));
            }
        }
        return (prices, nonUniform);
    }

    /// <summary>
    /// Waits until the exchange reports nothing pending on chain (lots, order roots, settlements and deposits) and,
    /// when it settles on chain, this run's settled slots all on chain (slots_settled_on_chain grown by
    /// <paramref name="slotsToSettle"/> since <paramref name="before"/>), or until the ledger timeout.
    /// </summary>
    /// <remarks>
    /// LedgerStatus cannot say whether a chain settler is configured (its counters are 0 either way): one is taken to
    /// be when any of its counters moved. The pending counts alone could read 0 in the moment between a slot being
    /// settled and its settlement being queued; the settled-slot count closes that gap.
    /// </remarks>
    private async Task<(ChainResult, bool)> WaitForLedgerAsync(Api.GetLedgerStatusResponse before, int lots, int slotsToSettle, CancellationToken ct)
    {
        var status = await Call(() => _ledger.GetLedgerStatusAsync(new Api.GetLedgerStatusRequest(), cancellationToken: ct), "GetLedgerStatus");
        var deadline = DateTimeOffset.UtcNow + _options.LedgerTimeout;
        static bool Settles(Api.GetLedgerStatusResponse s) => s.SlotsSettledOnChain > 0 || s.SettlementsPending > 0 || s.SettlementGasUsed > 0;
        long SettledNow(Api.GetLedgerStatusResponse s) => s.SlotsSettledOnChain - before.SlotsSettledOnChain;
        bool Done(Api.GetLedgerStatusResponse s) => !s.Enabled
            || (s.LotsPending == 0 && s.RootsPending == 0 && s.SettlementsPending == 0 && (!Settles(s) || SettledNow(s) >= slotsToSettle));
        void Report(Api.GetLedgerStatusResponse s)
        {
            if (!s.Enabled) return;
            var onChain = s.LotsRecorded + s.LotsFoundOnChain - before.LotsRecorded - before.LotsFoundOnChain;
            _progress?.Ledger(Math.Min(onChain, lots), lots, Math.Min(SettledNow(s), slotsToSettle), Settles(s) ? slotsToSettle : 0);
        }
        // The wait ends LedgerTimeout after the ledger last moved (a lot, a root or settlement gas more on chain), so a
        // big day whose pages take minutes is waited for while it makes progress, and a stuck one is not.
        static (long, long, long) Moved(Api.GetLedgerStatusResponse s) => (s.LotsRecorded + s.LotsFoundOnChain, s.RootsCommitted, s.SettlementGasUsed + s.SlotsSettledOnChain);
        var last = Moved(status);
        Report(status);
        while (!Done(status) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
            status = await Call(() => _ledger.GetLedgerStatusAsync(new Api.GetLedgerStatusRequest(), cancellationToken: ct), "GetLedgerStatus");
            Report(status);
            if (Moved(status) != last)
            {
                last = Moved(status);
                deadline = DateTimeOffset.UtcNow + _options.LedgerTimeout;
            }
        }
        var done = Done(status);
        if (!done)
            _warnings.Add($"the ledger made no progress for {_options.LedgerTimeout.TotalSeconds:0} s and still has {status.LotsPending} lot(s), {status.RootsPending} root(s) and {status.SettlementsPending} settlement(s) pending"
                + (Settles(status) ? $", {SettledNow(status)} of this run's {slotsToSettle} settled slot(s) on chain" : "")
                + (status.LastError.Length > 0 ? $"; last error: {status.LastError}" : ""));
        return (new ChainResult(status.Enabled, status.ChainId, status.LedgerAddress, status.LotsMade, status.LotsRecorded, status.LotsFoundOnChain,
            status.LotsPending, status.RootsCommitted, status.RootsPending, status.SlotsSettledOnChain, status.SettlementsPending,
            status.TransactionsConfirmed, status.GasUsed, status.SettlementGasUsed, status.LastError), done);
    }

    private async Task SetMarketSettingsAsync(CancellationToken ct)
    {
        var wheeling = new Api.SetWheelingTableRequest { DefaultFeeTicks = _scenario.Wheeling.DefaultFeeTicks };
        wheeling.Entries.AddRange(_scenario.Wheeling.Entries.Select(e => new Api.WheelingEntry { SellerZone = e.SellerZone, BuyerZone = e.BuyerZone, FeeTicks = e.FeeTicks }));
        await Call(() => _admin.SetWheelingTableAsync(wheeling, _adminHeaders, cancellationToken: ct), "SetWheelingTable");
        var tariff = new Api.GridTariff { RetailTicks = _scenario.Tariff.RetailTicks, BuyBackTicks = _scenario.Tariff.BuyBackTicks };
        foreach (var band in _scenario.Tariff.TimeOfUse)
            for (var hh = band.FromHalfHour; hh < band.ToHalfHour; hh++)
                tariff.TimeOfUse.Add(new Api.TimeOfUsePrice { HalfHourOfDay = hh, RetailTicks = band.RetailTicks });
        await Call(() => _admin.SetGridTariffAsync(new Api.SetGridTariffRequest { Tariff = tariff }, _adminHeaders, cancellationToken: ct), "SetGridTariff");
    }

    private long StartLocalDay(SlotClock clock, long nowSeconds, Func<long, long> gateSeconds)
    {
        var text = _options.StartDate ?? _scenario.StartDate ?? "next";
        if (text == "next")
        {
            var day = clock.LocalDay(clock.SlotAt(nowSeconds));
            while (gateSeconds(clock.FirstSlotOf(day)) <= nowSeconds) day++;
            return day;
        }
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            throw new DayRunException($"start date \"{text}\": expected YYYY-MM-DD or next");
        return date.DayNumber - new DateOnly(1970, 1, 1).DayNumber;
    }

    private int HalfHourOfDay(long slot, int slotSeconds)
    {
        var local = slot * slotSeconds + _scenario.UtcOffsetMinutes * 60L;
        var secondOfDay = ((local % 86_400) + 86_400) % 86_400;
        return (int)(secondOfDay / 1800);
    }

    private EthKey KeyOf(string label, string id) =>
        EthKey.FromPrivateKey(Keccak.Hash256Utf8($"{label}:{_options.Seed.ToString(CultureInfo.InvariantCulture)}:{id}"));

    private static long? StorageWh(AgentState state) => state.Storage is { } s ? (long)Math.Floor(s.EnergyWh + Units.ToleranceWh) : null;

    private static long PetrolMoney(Participant p, double km) =>
        p.Phev is { } phev && km > 0
            ? (long)Math.Round((decimal)km / (decimal)phev.KmPerLitre * (decimal)phev.PetrolYenPerLitre * MoneyPerYen, MidpointRounding.AwayFromZero)
            : 0;

    private static Api.ParticipantKind KindOf(Participant p) => p.Kind switch
    {
        AgentKind.Household => Api.ParticipantKind.Household,
        AgentKind.Prosumer => Api.ParticipantKind.Prosumer,
        AgentKind.Office => Api.ParticipantKind.Office,
        AgentKind.Phev => Api.ParticipantKind.Phev,
        AgentKind.Battery => Api.ParticipantKind.Battery,
        _ => throw new ArgumentOutOfRangeException(nameof(p), p.Kind, "unknown agent kind"),
    };

    /// <summary>household, prosumer, home-with-battery, office, phev, battery.</summary>
    public static string KindName(Participant p) => p.Kind switch
    {
        AgentKind.Prosumer when p.Battery is not null => "home-with-battery",
        AgentKind.Household => "household",
        AgentKind.Prosumer => "prosumer",
        AgentKind.Office => "office",
        AgentKind.Phev => "phev",
        _ => "battery",
    };

    public static string MechanismName(Api.Mechanism m) => m == Api.Mechanism.Continuous ? "continuous" : "call-auction";

    private IReadOnlyList<string> Assumptions() =>
    [
        "Device models, strategies and the community are P2PEnergy.Agents' (seed 004, Table 1; constants named there with their sources or assumptions).",
        $"Weather: {(_scenario.DayType is { } d ? $"forced {d.ToString().ToLowerInvariant()}" : "day type drawn from the seed")}; site Susono (Higashi-Fuji), PV forecast knows the day type, not the slot-to-slot clouds.",
        $"Bids are capped at retail less the wheeling allowance ({_scenario.WheelingAllowance}); asks are raised to buy-back.",
        "Agents decide slot s + 1 knowing their device state at the end of slot s (its lots are known at its gate).",
        "Grid-only baseline: the same loads, PV and device models with zero trades, import at the slot's retail and export at buy-back.",
        "PHEV petrol: km on petrol / km per litre × JPY per litre (PhevSpec), in 1e-5 JPY rounded half away from zero.",
        "Participant and meter keys: keccak256(label:seed:id), deterministic and public: for simulations only.",
    ];

    private static async Task<T> Call<T>(Func<AsyncUnaryCall<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (RpcException e)
        {
            throw new DayRunException($"{what}: the exchange refused: {e.StatusCode}: {e.Status.Detail}");
        }
    }

    private static async Task ForEachAsync<T>(IReadOnlyList<T> items, Func<T, Task> body, CancellationToken ct) =>
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = ct }, async (item, _) => await body(item));
}
