namespace P2PEnergy.Exchange.Server.Tests.Unit;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Exchange.Server.Observability;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Ledger;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using Core = P2PEnergy.Exchange;

/// <summary>
/// <see cref="ExchangeMetrics"/> on a market called directly (no host): what each command records, the
/// observable instruments' sources, and that the market's hot path allocates nothing for its measurements.
/// </summary>
public sealed class ExchangeMetricsTests : IDisposable
{
    private const long Cda = Slot0 + 2;
    private const long Auction = Slot0 + 3;

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ExchangeMetrics _metrics;
    private readonly MetricCapture _capture;
    private readonly Market _market;
    private readonly ExchangeGrpcService _exchange;
    private readonly MarketAdminGrpcService _admin;

    public ExchangeMetricsTests()
    {
        _metrics = new ExchangeMetrics(_services.GetRequiredService<IMeterFactory>());
        _capture = new MetricCapture(_metrics.Meter);
        var options = new ExchangeOptions { Clock = ClockKind.Simulated, SimulatedStartUnixSeconds = StartUnixSeconds };
        _market = new Market(options, ExchangeHost.CreateClock(options), NullLogger<Market>.Instance, metrics: _metrics);
        _exchange = new ExchangeGrpcService(_market, new MarketDataHub(_market));
        _admin = new MarketAdminGrpcService(_market);
        _admin.RegisterParticipant(new RegisterParticipantRequest { Address = Seller, Zone = 0, Kind = ParticipantKind.Prosumer }, Context()).GetAwaiter().GetResult();
        _admin.RegisterParticipant(new RegisterParticipantRequest { Address = Buyer, Zone = 1, Kind = ParticipantKind.Household }, Context()).GetAwaiter().GetResult();
        _admin.RegisterParticipant(new RegisterParticipantRequest { Address = Other, Zone = 1, Kind = ParticipantKind.Office }, Context()).GetAwaiter().GetResult();
        _admin.OpenSlot(new OpenSlotRequest { Slot = Cda, Mechanism = Mechanism.Continuous }, Context()).GetAwaiter().GetResult();
        _admin.OpenSlot(new OpenSlotRequest { Slot = Auction, Mechanism = Mechanism.CallAuction }, Context()).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _capture.Dispose();
        _services.Dispose();
    }

    private Task<SubmitOrderResponse> SubmitAsync(NewOrder order) => _exchange.SubmitOrder(new SubmitOrderRequest { Order = Signed(order) }, Context());

    private static async Task<StatusCode> RefusedAsync(Func<Task> call) => (await Assert.ThrowsAsync<RpcException>(call)).StatusCode;

    [Fact]
    public async Task Orders_are_counted_by_command_and_result_group()
    {
        var sell = (await SubmitAsync(Sell(Seller, 1, Cda, 1000, 2000))).Order.OrderId;
        Assert.Equal(StatusCode.InvalidArgument, await RefusedAsync(() => _exchange.SubmitOrder(new SubmitOrderRequest { Order = Signed(Buy(Buyer, 1, Cda, 150, 2000)) }, Context())));
        Assert.Equal(StatusCode.NotFound, await RefusedAsync(() => _exchange.SubmitOrder(new SubmitOrderRequest { Order = Signed(Buy(Buyer, 2, Slot0 + 40, 100, 2000)) }, Context())));
        Assert.Equal(StatusCode.PermissionDenied, await RefusedAsync(() => _exchange.CancelOrder(SignedCancel(Buyer, sell), Context())));
        Assert.Equal(StatusCode.NotFound, await RefusedAsync(() => _exchange.CancelOrder(SignedCancel(Seller, 999), Context())));
        await _exchange.ReduceOrder(SignedReduce(Seller, sell, 100), Context());
        await _exchange.CancelOrder(SignedCancel(Seller, sell), Context());

        var counted = _capture.Of("p2penergy.orders")
            .GroupBy(m => $"{m.Tags["command"]} {m.Tags["result"]}")
            .Select(g => $"{g.Key}: {g.Sum(m => m.Value)}");
        string[] expected =
        [
            "submit ok: 1",
            "submit invalid: 1",       // 102 QuantityNotLotMultiple
            "submit market_state: 1",  // 301 UnknownSlot
            "cancel not_permitted: 1", // 202 NotOrderOwner
            "cancel market_state: 1",  // 304 OrderNotFound
            "reduce ok: 1",
            "cancel ok: 1",
        ];
        Assert.Equal(expected.Order(), counted.Order());
    }

    [Fact]
    public async Task Matching_duration_is_measured_once_per_command_in_seconds()
    {
        var sell = (await SubmitAsync(Sell(Seller, 1, Cda, 1000, 2000))).Order.OrderId;
        await SubmitAsync(Buy(Buyer, 1, Cda, 300, 2100));
        await RefusedAsync(() => _exchange.SubmitOrder(new SubmitOrderRequest { Order = Signed(Buy(Buyer, 2, Cda, 150, 2000)) }, Context()));
        await _exchange.ReduceOrder(SignedReduce(Seller, sell, 100), Context());
        await _exchange.CancelOrder(SignedCancel(Seller, sell), Context());
        await _admin.CloseGate(new CloseGateRequest { Slot = Auction }, Context());

        var durations = _capture.Of("p2penergy.matching.duration");
        Assert.Equal(
            [("cancel", 1), ("close_gate", 1), ("reduce", 1), ("submit", 3)],
            durations.GroupBy(m => m.Tags["command"]!).Select(g => (g.Key, g.Count())).OrderBy(x => x.Key));
        Assert.All(durations, m => Assert.InRange(m.Value, 0, 1)); // seconds: no single command takes a second
        Assert.Equal("s", _capture.Instrument("p2penergy.matching.duration").Unit);
        Assert.Equal("{command}", _capture.Instrument("p2penergy.orders").Unit);
    }

    [Fact]
    public async Task Lots_matched_counts_every_lot_of_continuous_trades_and_auction_clearings()
    {
        await SubmitAsync(Sell(Seller, 1, Cda, 400, 2000));
        Assert.Equal(0, _capture.Sum("p2penergy.lots.matched"));
        Assert.Single((await SubmitAsync(Buy(Buyer, 1, Cda, 100, 2500))).Lots);
        Assert.Equal(1, _capture.Sum("p2penergy.lots.matched"));

        await SubmitAsync(Sell(Other, 1, Cda, 300, 2100, EnergySource.Mixed));
        var buy = await SubmitAsync(Buy(Buyer, 3, Cda, 600, 2500));
        Assert.Equal(2, buy.Lots.Count);
        Assert.Equal(3, _capture.Sum("p2penergy.lots.matched"));

        await RefusedAsync(() => _exchange.SubmitOrder(new SubmitOrderRequest { Order = Signed(Buy(Buyer, 2, Cda, 150, 2500)) }, Context()));
        Assert.Equal(3, _capture.Sum("p2penergy.lots.matched"));

        await SubmitAsync(Sell(Seller, 2, Auction, 1000, 1500, EnergySource.Mixed));
        await SubmitAsync(Buy(Buyer, 2, Auction, 600, 2500));
        await SubmitAsync(Buy(Other, 2, Auction, 300, 2000));
        var closure = (await _admin.CloseGate(new CloseGateRequest { Slot = Auction }, Context())).Closure;
        Assert.True(closure.LotCount >= 2);
        Assert.Equal(3 + closure.LotCount, _capture.Sum("p2penergy.lots.matched"));
    }

    [Fact]
    public async Task Lots_waiting_is_the_outbox_pending_count_and_absent_without_an_outbox()
    {
        _capture.Collect();
        Assert.Empty(_capture.Of("p2penergy.lots.waiting"));

        await SubmitAsync(Sell(Seller, 1, Cda, 300, 2000));
        await SubmitAsync(Sell(Other, 1, Cda, 300, 2100, EnergySource.Mixed));
        await SubmitAsync(Buy(Buyer, 1, Cda, 600, 2500));
        var lots = _market.GetLots(Cda, null, 0, 10, out _);
        var outbox = new InMemoryLotOutbox();
        _metrics.ObserveLotsWaiting(outbox);
        Assert.Equal(0, _capture.Observe("p2penergy.lots.waiting"));
        foreach (var lot in lots) await outbox.AddAsync(lot);
        Assert.Equal(2, _capture.Observe("p2penergy.lots.waiting"));

        using var reader = outbox.OpenReader();
        var read = await reader.ReadAsync(1, TimeSpan.Zero);
        await reader.AckAsync([read.Single().LotId]);
        Assert.Equal(1, _capture.Observe("p2penergy.lots.waiting"));
    }

    [Fact]
    public void Lots_waiting_of_an_outbox_that_answers_later_reports_its_last_answer_without_blocking()
    {
        var outbox = new SlowOutbox();
        _metrics.ObserveLotsWaiting(outbox);
        Assert.Null(_capture.Observe("p2penergy.lots.waiting")); // asked, no answer yet: nothing to report
        Assert.Equal(1, outbox.Asked);
        Assert.Null(_capture.Observe("p2penergy.lots.waiting")); // still asking: not asked twice
        Assert.Equal(1, outbox.Asked);

        outbox.Answer(7);
        Assert.Equal(7, _capture.Observe("p2penergy.lots.waiting"));
        Assert.Equal(2, outbox.Asked); // the answer taken, and asked again (answered at once this time)
        outbox.Fail();
        Assert.Equal(7, _capture.Observe("p2penergy.lots.waiting")); // asked, failed at once: the last answer stands
        Assert.Equal(3, outbox.Asked);
        Assert.Equal(7, _capture.Observe("p2penergy.lots.waiting"));
        Assert.Equal(4, outbox.Asked);
    }

    [Fact]
    public void Chain_errors_are_reported_per_component_and_never_go_down()
    {
        _capture.Collect();
        Assert.Empty(_capture.Of("p2penergy.chain.errors"));

        long recorder = 3, settler = 0;
        _metrics.ObserveChainErrors(ChainComponent.Recorder, () => recorder);
        _metrics.ObserveChainErrors(ChainComponent.Settler, () => settler);
        Assert.Throws<InvalidOperationException>(() => _metrics.ObserveChainErrors(ChainComponent.Recorder, () => 0));
        Assert.Equal(3, _capture.Observe("p2penergy.chain.errors", ("component", "recorder")));
        Assert.Equal(0, _capture.Observe("p2penergy.chain.errors", ("component", "settler")));

        recorder = 2; // a stats snapshot taken between two of its updates
        settler = 5;
        Assert.Equal(3, _capture.Observe("p2penergy.chain.errors", ("component", "recorder")));
        Assert.Equal(5, _capture.Observe("p2penergy.chain.errors", ("component", "settler")));
        Assert.Equal(ObservableCounterKind, _capture.Instrument("p2penergy.chain.errors").GetType().GetGenericTypeDefinition());
    }

    private static readonly Type ObservableCounterKind = typeof(ObservableCounter<>);

    [Fact]
    public void Chain_error_counts_come_from_the_writers_stats()
    {
        Assert.Equal(5, ExchangeMetrics.ErrorCounts.Of(new LotRecorderStats { Retries = 3, LotsRecorded = 100 }, lotsRefused: 2));
        Assert.Equal(4, ExchangeMetrics.ErrorCounts.Of(new OrderRootCommitterStats { Retries = 4, RootsCommitted = 9 }));
        // Waiting for the recorder is counted as a retry by the settler, but it is no failure.
        Assert.Equal(2, ExchangeMetrics.ErrorCounts.Of(new ChainSettlerStats { Retries = 7, WaitsForLots = 5 }));
        Assert.Equal(0, ExchangeMetrics.ErrorCounts.Of(new ChainSettlerStats { Retries = 5, WaitsForLots = 6 }));
    }

    [Fact]
    public void Journal_appends_are_timed_and_counted_and_the_backlog_is_observed_once_registered()
    {
        _metrics.RecordJournalAppend(5, TimeSpan.FromMilliseconds(2));
        _metrics.RecordJournalAppend(1, TimeSpan.FromMilliseconds(4));
        Assert.Equal([0.002, 0.004], _capture.Of("p2penergy.journal.append.duration").Select(m => Math.Round(m.Value, 6)));
        Assert.Equal(6, _capture.Sum("p2penergy.journal.entries"));

        Assert.Null(_capture.Observe("p2penergy.journal.backlog"));
        var backlog = 12L;
        _metrics.ObserveJournalBacklog(() => backlog);
        Assert.Equal(12, _capture.Observe("p2penergy.journal.backlog"));
        backlog = 0;
        Assert.Equal(0, _capture.Observe("p2penergy.journal.backlog"));
    }

    [Fact]
    public void Result_groups_follow_the_numbered_code_groups()
    {
        foreach (var code in Enum.GetValues<Core.ResultCode>())
        {
            var expected = ((int)code / 100) switch
            {
                0 => "ok",
                1 => "invalid",
                2 => "not_permitted",
                3 => "market_state",
                4 => "operator",
                _ => "other",
            };
            Assert.Equal(expected, ExchangeMetrics.ResultGroup(code));
        }
    }

    [Fact]
    public void Recording_commands_allocates_nothing_while_a_listener_listens()
    {
        _capture.Dispose(); // it keeps every measurement: only the market's side is measured here
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, _metrics.Meter)) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        listener.Start();

        void Commands()
        {
            var started = Stopwatch.GetTimestamp();
            _metrics.RecordOrderCommand(OrderCommand.Submit, Core.ResultCode.Ok, started);
            _metrics.RecordOrderCommand(OrderCommand.Cancel, Core.ResultCode.OrderNotFound, started);
            _metrics.RecordOrderCommand(OrderCommand.Reduce, Core.ResultCode.QuantityNotLotMultiple, started);
            _metrics.RecordGateClosure(started);
            _metrics.RecordLotsMatched(3);
        }

        // Warm up until tiered compilation has settled: the first calls JIT-compile, and after 30 calls the runtime
        // recompiles the methods in the background (after a 100 ms delay) and then patches their call sites.
        for (var i = 0; i < 1_000; i++) Commands();
        Thread.Sleep(500);
        for (var i = 0; i < 1_000; i++) Commands();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++) Commands();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>An outbox whose pending count comes back later (as a server's would).</summary>
    private sealed class SlowOutbox : ILotOutbox
    {
        private TaskCompletionSource<long> _answer = new();

        public int Asked { get; private set; }

        public void Answer(long pending) => _answer.SetResult(pending);

        public void Fail() => _answer = CompletedWith(new TimeoutException("the outbox does not answer"));

        private static TaskCompletionSource<long> CompletedWith(Exception e)
        {
            var failed = new TaskCompletionSource<long>();
            failed.SetException(e);
            return failed;
        }

        public ValueTask<long> CountPendingAsync(CancellationToken cancellationToken = default)
        {
            Asked++;
            return new ValueTask<long>(_answer.Task);
        }

        public ValueTask AddAsync(Core.Lot lot, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ILotOutboxReader OpenReader() => throw new NotSupportedException();
    }
}

/// <summary>One measurement a <see cref="MetricCapture"/> saw.</summary>
public sealed record CapturedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, string?> Tags);

/// <summary>
/// Every measurement of one <see cref="Meter"/> instance (not every meter of that name: tests run hosts in
/// parallel, each with its own meter from its own IMeterFactory).
/// </summary>
public sealed class MetricCapture : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<CapturedMeasurement> _measurements = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();

    public MetricCapture(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!ReferenceEquals(instrument.Meter, meter)) return;
            _instruments[instrument.Name] = instrument;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _listener.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, string?>();
        foreach (var (k, v) in tags) map[k] = v?.ToString();
        _measurements.Enqueue(new CapturedMeasurement(instrument.Name, value, map));
    }

    public Instrument Instrument(string name) => _instruments[name];

    /// <summary>Runs the observable instruments' callbacks (what a reader does when it collects).</summary>
    public void Collect() => _listener.RecordObservableInstruments();

    public IReadOnlyList<CapturedMeasurement> Of(string name) => _measurements.Where(m => m.Instrument == name).ToList();

    public double Sum(string name, params (string Key, string Value)[] tags) =>
        Of(name).Where(m => tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value)).Sum(m => m.Value);

    /// <summary>Collects once and returns what <paramref name="name"/> reported (with the tags), or null when it reported nothing.</summary>
    public double? Observe(string name, params (string Key, string Value)[] tags)
    {
        _measurements.Clear();
        Collect();
        var reported = Of(name).Where(m => tags.All(t => m.Tags.GetValueOrDefault(t.Key) == t.Value)).ToList();
        return reported.Count == 0 ? null : Assert.Single(reported).Value;
    }

    public void Dispose() => _listener.Dispose();
}
