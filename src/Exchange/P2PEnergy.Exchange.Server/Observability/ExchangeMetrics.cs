using System.Diagnostics;
using System.Diagnostics.Metrics;
using P2PEnergy.Exchange;
using P2PEnergy.Ledger;

namespace P2PEnergy.Exchange.Server.Observability;

/// <summary>The participants' order commands, as the market counts and times them.</summary>
public enum OrderCommand
{
    Submit,
    Cancel,
    Reduce,
}

/// <summary>The chain writers whose failures <see cref="ExchangeMetrics"/> counts (tag <c>component</c>).</summary>
public static class ChainComponent
{
    public const string Recorder = "recorder";
    public const string RootCommitter = "root_committer";
    public const string Settler = "settler";
}

/// <summary>
/// The exchange's instruments (docs/observability.md), all on one meter, <see cref="MeterName"/>. The market calls
/// the Record methods under its lock, so they only add to instruments: no allocation, no I/O, tags are cached
/// strings. The observable instruments read their sources (the lot outbox, the chain writers' stats, the journal)
/// only when a reader collects.
/// </summary>
public sealed class ExchangeMetrics
{
    public const string MeterName = "P2PEnergy.Exchange";

    // Matching one command takes microseconds; a gate closure clears a whole auction. OpenTelemetry's default
    // buckets (0 … 10,000) are made for milliseconds and would put every command in the first one.
    private static readonly double[] MatchingBucketsSeconds =
        [0.000_001, 0.000_002_5, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private static readonly double[] JournalBucketsSeconds =
        [0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    private static readonly KeyValuePair<string, object?> SubmitTag = new("command", "submit");
    private static readonly KeyValuePair<string, object?> CancelTag = new("command", "cancel");
    private static readonly KeyValuePair<string, object?> ReduceTag = new("command", "reduce");
    private static readonly KeyValuePair<string, object?> CloseGateTag = new("command", "close_gate");
    private static readonly KeyValuePair<string, object?> OkTag = new("result", "ok");
    private static readonly KeyValuePair<string, object?> InvalidTag = new("result", "invalid");
    private static readonly KeyValuePair<string, object?> NotPermittedTag = new("result", "not_permitted");
    private static readonly KeyValuePair<string, object?> MarketStateTag = new("result", "market_state");
    private static readonly KeyValuePair<string, object?> OperatorTag = new("result", "operator");
    private static readonly KeyValuePair<string, object?> OtherTag = new("result", "other");

    private readonly Counter<long> _orders;
    private readonly Histogram<double> _matchingDuration;
    private readonly Counter<long> _lotsMatched;
    private readonly Histogram<double> _journalAppendDuration;
    private readonly Counter<long> _journalEntries;
    private readonly Lock _sourcesLock = new();
    private PendingLotsReader? _lotsWaiting;
    private ChainErrorSource[] _chainErrors = [];
    private Func<long>? _journalBacklog;

    public ExchangeMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(new MeterOptions(MeterName) { Version = typeof(ExchangeMetrics).Assembly.GetName().Version?.ToString() });
        _orders = Meter.CreateCounter<long>(
            "p2penergy.orders", "{command}",
            "Order commands the market handled (submit, cancel, reduce), by command and result: ok or the result code's group.");
        _matchingDuration = Meter.CreateHistogram(
            "p2penergy.matching.duration", "s",
            "Time the matching core took for one command (submit, cancel, reduce, close_gate), under the market's lock; excludes the edge, the journal and publishing.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = MatchingBucketsSeconds });
        _lotsMatched = Meter.CreateCounter<long>(
            "p2penergy.lots.matched", "{lot}",
            "Lots the market made (continuous trades and call-auction clearings).");
        Meter.CreateObservableGauge(
            "p2penergy.lots.waiting", ObserveLotsWaiting, "{lot}",
            "Lots matched and not yet confirmed on chain (the lot outbox's pending count); absent without a chain.");
        Meter.CreateObservableCounter(
            "p2penergy.chain.errors", ObserveChainErrors, "{error}",
            "Failed attempts of the chain writers (each is retried), by component: recorder, root_committer, settler.");
        _journalAppendDuration = Meter.CreateHistogram(
            "p2penergy.journal.append.duration", "s",
            "Time one append of journal entries took to become durable.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = JournalBucketsSeconds });
        _journalEntries = Meter.CreateCounter<long>(
            "p2penergy.journal.entries", "{entry}",
            "Journal entries made durable.");
        Meter.CreateObservableGauge(
            "p2penergy.journal.backlog", ObserveJournalBacklog, "{entry}",
            "Journal entries appended and not yet durable; absent without a journal.");
    }

    /// <summary>The meter of this exchange (one per service provider: tests tell hosts apart by it).</summary>
    public Meter Meter { get; }

    // ---------------------------------------------------------------- recorded by the market (hot path)

    /// <summary>
    /// One order command: counts it by result and records the core's time since <paramref name="startedTimestamp"/>
    /// (a <see cref="Stopwatch.GetTimestamp"/> taken just before the core was called).
    /// </summary>
    public void RecordOrderCommand(OrderCommand command, ResultCode code, long startedTimestamp)
    {
        var seconds = Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds;
        var commandTag = command switch
        {
            OrderCommand.Submit => SubmitTag,
            OrderCommand.Cancel => CancelTag,
            _ => ReduceTag,
        };
        _matchingDuration.Record(seconds, commandTag);
        _orders.Add(1, commandTag, ResultTag(code));
    }

    /// <summary>A gate closure (the call auction's clearing, or the end of a continuous slot): its core time.</summary>
    public void RecordGateClosure(long startedTimestamp) =>
        _matchingDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, CloseGateTag);

    public void RecordLotsMatched(int lots)
    {
        if (lots > 0) _lotsMatched.Add(lots);
    }

    /// <summary>The result code's group (MarketTypes.cs: 1xx fields, 2xx who may do it, 3xx market state, 4xx operator).</summary>
    internal static string ResultGroup(ResultCode code) => (string)ResultTag(code).Value!;

    private static KeyValuePair<string, object?> ResultTag(ResultCode code) => (int)code switch
    {
        0 => OkTag,
        >= 100 and < 200 => InvalidTag,
        >= 200 and < 300 => NotPermittedTag,
        >= 300 and < 400 => MarketStateTag,
        >= 400 and < 500 => OperatorTag,
        _ => OtherTag,
    };

    // ---------------------------------------------------------------- journal

    /// <summary>One journal append of <paramref name="entries"/> entries, durable after <paramref name="elapsed"/>.</summary>
    public void RecordJournalAppend(int entries, TimeSpan elapsed)
    {
        _journalAppendDuration.Record(elapsed.TotalSeconds);
        if (entries > 0) _journalEntries.Add(entries);
    }

    /// <summary>Where <c>p2penergy.journal.backlog</c> reads from (called on collection, off the market's lock).</summary>
    public void ObserveJournalBacklog(Func<long> backlog)
    {
        ArgumentNullException.ThrowIfNull(backlog);
        Volatile.Write(ref _journalBacklog, backlog);
    }

    private IEnumerable<Measurement<long>> ObserveJournalBacklog()
    {
        var backlog = Volatile.Read(ref _journalBacklog);
        return backlog is null ? [] : [new Measurement<long>(backlog())];
    }

    // ---------------------------------------------------------------- chain

    /// <summary>Where <c>p2penergy.lots.waiting</c> reads from: the outbox's lots added and not acknowledged.</summary>
    public void ObserveLotsWaiting(ILotOutbox outbox)
    {
        ArgumentNullException.ThrowIfNull(outbox);
        Volatile.Write(ref _lotsWaiting, new PendingLotsReader(outbox));
    }

    private IEnumerable<Measurement<long>> ObserveLotsWaiting()
    {
        var reader = Volatile.Read(ref _lotsWaiting);
        return reader?.Read() is { } pending ? [new Measurement<long>(pending)] : [];
    }

    /// <summary>
    /// Counts <paramref name="component"/>'s failures (see <see cref="ChainComponent"/>) as <paramref name="errors"/>
    /// tells them: a running total read from the component's stats. Reported never lower than before (stats
    /// updated in two steps may dip for a moment), as a counter must.
    /// </summary>
    public void ObserveChainErrors(string component, Func<long> errors)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(component);
        ArgumentNullException.ThrowIfNull(errors);
        lock (_sourcesLock)
        {
            if (_chainErrors.Any(s => s.Component == component)) throw new InvalidOperationException($"chain errors of {component} are observed already");
            _chainErrors = [.. _chainErrors, new ChainErrorSource(component, errors)];
        }
    }

    private IEnumerable<Measurement<long>> ObserveChainErrors()
    {
        var sources = Volatile.Read(ref _chainErrors);
        var measurements = new Measurement<long>[sources.Length];
        for (var i = 0; i < sources.Length; i++)
        {
            measurements[i] = new Measurement<long>(sources[i].Read(), new KeyValuePair<string, object?>("component", sources[i].Component));
        }
        return measurements;
    }

    private sealed class ChainErrorSource(string component, Func<long> errors)
    {
        private long _highest;

        public string Component { get; } = component;

        public long Read()
        {
            var now = errors();
            long seen;
            do
            {
                seen = Interlocked.Read(ref _highest);
                if (now <= seen) return seen;
            }
            while (Interlocked.CompareExchange(ref _highest, now, seen) != seen);
            return now;
        }
    }

    /// <summary>
    /// Reads an outbox's pending count without ever blocking a collection: the in-memory outbox answers at once;
    /// one that must ask a server (Redis) is asked, and its answer is taken at the next collection (the last
    /// answer is reported meanwhile). No continuation runs anywhere: the question is only looked at.
    /// </summary>
    private sealed class PendingLotsReader(ILotOutbox outbox)
    {
        private readonly Lock _lock = new();
        private long? _last;
        private Task<long>? _asking;

        public long? Read()
        {
            lock (_lock)
            {
                if (_asking is { } asking)
                {
                    if (!asking.IsCompleted) return _last;
                    if (asking.IsCompletedSuccessfully) _last = asking.Result;
                    else _ = asking.Exception; // unreachable outbox: keep the last answer (the recorder's errors say why)
                    _asking = null;
                }
                ValueTask<long> count;
                try
                {
                    count = outbox.CountPendingAsync();
                }
                catch (Exception)
                {
                    return _last;
                }
                if (count.IsCompletedSuccessfully) _last = count.Result;
                else _asking = count.AsTask();
                return _last;
            }
        }
    }

    /// <summary>How the chain writers' stats count failures, for <see cref="ObserveChainErrors"/>.</summary>
    internal static class ErrorCounts
    {
        /// <summary>Failed recording attempts, plus lots the outbox refused (they can never be recorded).</summary>
        public static long Of(LotRecorderStats stats, long lotsRefused) => stats.Retries + lotsRefused;

        public static long Of(OrderRootCommitterStats stats) => stats.Retries;

        /// <summary>Failed attempts; waiting for the recorder to put a slot's lots on chain first is not a failure.</summary>
        public static long Of(ChainSettlerStats stats) => Math.Max(0, stats.Retries - stats.WaitsForLots);
    }
}
