using System.Diagnostics;
using System.Globalization;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Ledger.Redis;
using StackExchange.Redis;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// Start-up in Redis mode: waits for Redis, restores the last snapshot, replays every journal entry after it in seq
/// order (no gaps allowed), puts back into the lot outbox any lot of those entries it lacks (a crash between the
/// journal write and the outbox write), and only then starts the journal writer. The exchange serves nobody before.
/// </summary>
public sealed partial class JournalRecovery(
    Market market, IConnectionMultiplexer redis, RedisOptions options, RedisMarketJournal journal, RedisLotOutbox outbox,
    ILogger<JournalRecovery> logger, Metering.MeterReadingStore? readings = null)
{
    private const int PageSize = 1000;

    /// <summary>Whether lots go to the Redis lot outbox (Redis:LotOutbox, by default when there is a chain).</summary>
    public bool LotsToOutbox { get; set; } = true;

    /// <summary>What the last start-up did (diagnostics and tests).</summary>
    public RecoveryReport? Last { get; private set; }

    public RecoveryReport Run()
    {
        var watch = Stopwatch.StartNew();
        WaitForRedis();
        LogPersistence();
        var db = redis.GetDatabase();
        var seq = 0L;
        var fromSnapshot = 0L;
        var snapshot = db.HashGetAll(RedisKeys.Snapshot(options.Market));
        if (snapshot.Length > 0)
        {
            var fields = snapshot.ToDictionary(e => e.Name.ToString(), e => e.Value);
            if (!fields.TryGetValue("seq", out var seqValue) || !fields.TryGetValue("data", out var data) || !seqValue.TryParse(out long snapshotSeq))
                throw new InvalidDataException($"{RedisKeys.Snapshot(options.Market)} lacks its seq or data field");
            var state = MarketState.FromJson((byte[])data!);
            if (state.JournalSeq != snapshotSeq)
                throw new InvalidDataException($"{RedisKeys.Snapshot(options.Market)} says seq {snapshotSeq}, its data {state.JournalSeq}");
            market.RestoreState(state);
            if (state.Metering is { } metering)
            {
                (readings ?? throw new InvalidDataException("the snapshot holds meter readings, but this exchange has no metering")).Import(metering);
            }
            seq = fromSnapshot = snapshotSeq;
        }
        var key = (RedisKey)RedisKeys.Journal(options.Market);
        var replayed = 0L;
        var lotsReAdded = 0;
        while (true)
        {
            var page = db.StreamRange(key, $"{seq + 1}-0", "+", PageSize);
            if (page.Length == 0) break;
            var lots = new List<Lot>();
            foreach (var e in page)
            {
                var id = ParseSeq(e.Id);
                if (id != seq + 1)
                {
                    throw new InvalidDataException(
                        $"{key} jumps from entry {seq} to {id}: entries are missing (trimmed past the snapshot, or the snapshot is gone); " +
                        "the market cannot be rebuilt from it");
                }
                var value = e[RedisKeys.JournalField];
                if (value.IsNull) throw new InvalidDataException($"{key} entry {id} has no '{RedisKeys.JournalField}' field");
                var entry = JournalEntry.Parser.ParseFrom((byte[])value!);
                if (JournalEntries.IsMetering(entry))
                {
                    (readings ?? throw new InvalidDataException($"journal entry {id} is a meter reading, but this exchange has no metering")).Replay(id, entry);
                }
                else
                {
                    lots.AddRange(market.Replay(id, entry));
                }
                seq = id;
                replayed++;
            }
            if (lots.Count > 0 && LotsToOutbox)
            {
                lotsReAdded += outbox.AddRangeAsync(lots).AsTask().GetAwaiter().GetResult();
            }
        }
        journal.Start(seq);
        var report = new RecoveryReport(fromSnapshot, replayed, seq, lotsReAdded, watch.Elapsed);
        Last = report;
        LogRecovered(options.Market, fromSnapshot, replayed, seq, lotsReAdded, watch.ElapsedMilliseconds);
        return report;
    }

    private void WaitForRedis()
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.ElapsedMilliseconds < options.ConnectTimeoutMs)
        {
            try
            {
                redis.GetDatabase().Ping();
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
            {
                last = e;
                Thread.Sleep(200);
            }
        }
        throw new InvalidOperationException(
            $"Redis at {options.ConnectionString} did not answer within {options.ConnectTimeoutMs} ms (Redis:ConnectTimeoutMs): " +
            $"{last?.Message ?? "no answer"}. The exchange does not start without its journal; start Redis or empty Redis:ConnectionString for the in-memory mode.",
            last);
    }

    /// <summary>Says what "durable" means with this Redis (docs/redis.md, "Durability and fsync"); warns when the AOF is off.</summary>
    private void LogPersistence()
    {
        try
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var config = server.ConfigGet("append*").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
            var appendOnly = config.GetValueOrDefault("appendonly", "?");
            var fsync = config.GetValueOrDefault("appendfsync", "?");
            if (appendOnly.Equals("yes", StringComparison.OrdinalIgnoreCase)) LogPersistencePolicy(appendOnly, fsync);
            else LogNoAof(appendOnly);
        }
        catch (Exception e) when (e is RedisException or RedisCommandException or InvalidOperationException)
        {
            LogPersistenceUnknown(e.Message); // CONFIG may be renamed or forbidden: say so, do not stop
        }
    }

    private static long ParseSeq(RedisValue id)
    {
        var text = id.ToString();
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash <= 0 || text[(dash + 1)..] != "0" || !long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            throw new InvalidDataException($"journal entry id '{text}' is not seq-0: the stream holds entries this exchange did not write");
        return seq;
    }

    [LoggerMessage(EventId = 78, Level = LogLevel.Information, Message = "Redis persistence: appendonly {AppendOnly}, appendfsync {AppendFsync} (docs/redis.md: what an acknowledgement survives)")]
    private partial void LogPersistencePolicy(string appendOnly, string appendFsync);

    [LoggerMessage(EventId = 79, Level = LogLevel.Warning, Message = "Redis runs without its append-only file (appendonly {AppendOnly}): acknowledged commands are lost when Redis restarts; run it with --appendonly yes")]
    private partial void LogNoAof(string appendOnly);

    [LoggerMessage(EventId = 80, Level = LogLevel.Warning, Message = "Could not read Redis's persistence settings ({Reason}); make sure it runs with appendonly yes")]
    private partial void LogPersistenceUnknown(string reason);

    [LoggerMessage(EventId = 74, Level = LogLevel.Information,
        Message = "Market {Market} rebuilt from Redis: snapshot at entry {SnapshotSeq}, {Replayed} entries replayed, journal at {Seq}, {LotsReAdded} lots put back in the outbox, {ElapsedMs} ms")]
    private partial void LogRecovered(string market, long snapshotSeq, long replayed, long seq, int lotsReAdded, long elapsedMs);
}

/// <summary>What a start-up in Redis mode found and did.</summary>
public sealed record RecoveryReport(long SnapshotSeq, long EntriesReplayed, long JournalSeq, int LotsReAdded, TimeSpan Elapsed);

/// <summary>
/// Stores a snapshot of the market every Redis:SnapshotEveryEntries entries (one at a time, off the writer), then trims
/// the journal to the entries after the previous snapshot: restart time stays bounded, one snapshot's worth is kept.
/// </summary>
public sealed partial class JournalSnapshots(
    Market market, IConnectionMultiplexer redis, RedisOptions options, RedisMarketJournal journal, ILogger<JournalSnapshots> logger,
    Metering.MeterReadingStore? readings = null)
{
    private int _running;
    private long _previousSeq;

    public long SnapshotsWritten { get; private set; }

    public long LastSnapshotSeq { get; private set; }

    /// <summary>The journal writer's hook: starts a snapshot unless one is being written.</summary>
    public Task OnSnapshotDue(long seq, CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0) return Task.CompletedTask;
        _ = Task.Run(async () =>
        {
            try
            {
                await WriteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSnapshotFailed(e);
            }
            finally
            {
                Volatile.Write(ref _running, 0);
            }
        }, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Takes and stores a snapshot now; returns the journal seq it covers.</summary>
    public async Task<long> WriteAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        // Store lock, then market lock (the order every path takes them): no entry of either falls between the two.
        var state = readings is null
            ? market.CaptureState()
            : readings.UnderLock(() => market.CaptureState(readings.ExportLocked));
        var captureMs = watch.ElapsedMilliseconds; // the part under the market's lock: trading waits this long
        var json = state.ToJson();
        // A snapshot may only cover durable entries: one that ran ahead of the journal could hold a command a crash undoes.
        await journal.WaitDurableAsync(state.JournalSeq, cancellationToken).ConfigureAwait(false);
        var db = redis.GetDatabase();
        await db.HashSetAsync(RedisKeys.Snapshot(options.Market), [new HashEntry("seq", state.JournalSeq), new HashEntry("data", json)]).ConfigureAwait(false);
        if (options.TrimJournal && _previousSeq > 0)
        {
            await db.ExecuteAsync("XTRIM", RedisKeys.Journal(options.Market), "MINID", $"{_previousSeq + 1}-0").ConfigureAwait(false);
        }
        _previousSeq = state.JournalSeq;
        LastSnapshotSeq = state.JournalSeq;
        SnapshotsWritten++;
        LogSnapshotWritten(state.JournalSeq, json.Length, captureMs, watch.ElapsedMilliseconds);
        return state.JournalSeq;
    }

    [LoggerMessage(EventId = 75, Level = LogLevel.Information, Message = "Snapshot at journal entry {Seq} stored ({Bytes} bytes; {CaptureMs} ms under the market's lock, {ElapsedMs} ms in all)")]
    private partial void LogSnapshotWritten(long seq, int bytes, long captureMs, long elapsedMs);

    [LoggerMessage(EventId = 76, Level = LogLevel.Warning, Message = "Snapshot failed; the next restart replays more entries")]
    private partial void LogSnapshotFailed(Exception ex);
}
