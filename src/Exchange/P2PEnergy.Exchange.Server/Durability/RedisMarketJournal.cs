using Google.Protobuf;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Ledger.Redis;
using StackExchange.Redis;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// The journal in a Redis stream (docs/redis.md). The market appends under its lock (a queue, never a wait); one
/// writer sends the queued entries to Redis in batches (one MULTI/EXEC each), then the lots they made to the lot outbox stream,
/// and only then calls them durable. Each entry goes in with the explicit id {seq}-0, so a batch retried after a
/// lost answer is idempotent: Redis refuses an id at or below the stream's last one, and the writer then checks that
/// the entry stored there is its own (another exchange writing the same market's journal stops this one).
/// </summary>
/// <remarks>
/// Durability: an entry is durable once Redis has answered its XADD. With appendonly yes, Redis has written it to the
/// AOF before answering, so a killed Redis (or exchange) loses nothing acknowledged; with appendfsync everysec a
/// crash of the machine itself can lose the last second, with appendfsync always nothing (docs/redis.md).
/// </remarks>
public sealed partial class RedisMarketJournal : IMarketJournal, IAsyncDisposable
{
    private readonly record struct Pending(long Seq, byte[] Data, Lot[] Lots);

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisOptions _options;
    private readonly Func<IReadOnlyList<Lot>, CancellationToken, Task> _addLots;
    private readonly ILogger _logger;
    private readonly RedisKey _key;
    private readonly Lock _sync = new();
    private readonly Queue<Pending> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _work = NewSignal();
    private TaskCompletionSource _progress = NewSignal();
    private long _lastSeq;
    private long _durableSeq;
    private long _entriesWritten;
    private long _batchesWritten;
    private string? _failure;
    private Task? _writer;
    private int _disposed;
    private long _snapshotRequestedAt;

    /// <param name="addLots">Puts lots in the lot outbox, idempotently (RedisLotOutbox.AddRangeAsync).</param>
    public RedisMarketJournal(IConnectionMultiplexer redis, RedisOptions options, Func<IReadOnlyList<Lot>, CancellationToken, Task> addLots, ILogger<RedisMarketJournal> logger)
    {
        _redis = redis;
        _options = options;
        _addLots = addLots;
        _logger = logger;
        _key = RedisKeys.Journal(options.Market);
    }

    public bool Enabled => true;

    public long LastSeq => Volatile.Read(ref _lastSeq);

    public long DurableSeq => Volatile.Read(ref _durableSeq);

    /// <summary>Entries applied and not yet durable.</summary>
    public long Backlog => LastSeq - DurableSeq;

    public long EntriesWritten => Interlocked.Read(ref _entriesWritten);

    public long BatchesWritten => Interlocked.Read(ref _batchesWritten);

    /// <summary>Whether the connection to Redis is up.</summary>
    public bool Connected => _redis.IsConnected;

    /// <summary>Why the journal cannot be written now, or null.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Called after each durable batch with its size and how long it took (metrics).</summary>
    public Action<int, TimeSpan>? BatchWritten { get; set; }

    /// <summary>Called (on the writer) once the durable seq has passed a multiple of the snapshot interval.</summary>
    public Func<long, CancellationToken, Task>? SnapshotDue { get; set; }

    private string Endpoint => string.Join(",", _redis.GetEndPoints().Select(e => e.ToString()));

    /// <summary>Starts the writer after replay: <paramref name="lastSeq"/> is the journal's last entry (0: empty).</summary>
    public void Start(long lastSeq)
    {
        if (_writer is not null) throw new InvalidOperationException("the journal writer is already running");
        Volatile.Write(ref _lastSeq, lastSeq);
        Volatile.Write(ref _durableSeq, lastSeq);
        _snapshotRequestedAt = lastSeq;
        _writer = Task.Run(() => WriteLoopAsync(_stop.Token));
    }

    public void EnsureAccepting()
    {
        if (_writer is null) throw new JournalUnavailableException("the exchange is still rebuilding the market from its journal");
        if (Failure is { } failure)
            throw new JournalUnavailableException($"the journal (Redis {Endpoint}) cannot be written: {failure}; no new commands are taken until it can");
        if (!_redis.IsConnected)
            throw new JournalUnavailableException($"the journal's Redis ({Endpoint}) is not connected; no new commands are taken until it is");
        if (Backlog >= _options.MaxBacklog)
            throw new JournalUnavailableException($"the journal (Redis {Endpoint}) is {Backlog} entries behind (Redis:MaxBacklog {_options.MaxBacklog}); retry shortly");
    }

    public long Append(JournalEntry entry, IReadOnlyList<Lot> lots)
    {
        var data = entry.ToByteArray();
        var lotArray = lots.Count == 0 ? [] : lots.ToArray();
        Pending pending;
        TaskCompletionSource work;
        // The market and the meter readings append under their own locks: the seq is taken under the journal's.
        lock (_sync)
        {
            pending = new Pending(LastSeq + 1, data, lotArray);
            _queue.Enqueue(pending);
            Volatile.Write(ref _lastSeq, pending.Seq);
            work = _work;
        }
        work.TrySetResult();
        return pending.Seq;
    }

    public async ValueTask WaitDurableAsync(long seq, CancellationToken cancellationToken)
    {
        if (seq <= DurableSeq) return;
        var deadline = Environment.TickCount64 + _options.AckTimeoutMs;
        while (true)
        {
            var progress = Volatile.Read(ref _progress).Task;
            if (seq <= DurableSeq) return;
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw new JournalUnavailableException(
                    $"the command was applied but is not durable after {_options.AckTimeoutMs} ms: " +
                    (Failure is { } f ? $"the journal (Redis {Endpoint}) cannot be written: {f}" : $"the journal (Redis {Endpoint}{(_redis.IsConnected ? "" : ", not connected")}) is {Backlog} entries behind") +
                    "; it takes effect once written, or not at all if the exchange stops first (a retry with the same client order id tells which)");
            }
            try
            {
                await progress.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Loop: the deadline check above says why.
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken ct)
    {
        var attempt = 0;
        var batch = new List<Pending>(_options.MaxBatch);
        while (!ct.IsCancellationRequested)
        {
            Task work;
            lock (_sync)
            {
                if (_queue.Count == 0)
                {
                    if (_work.Task.IsCompleted) _work = NewSignal();
                    work = _work.Task;
                }
                else
                {
                    work = Task.CompletedTask;
                }
            }
            try
            {
                await work.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            batch.Clear();
            lock (_sync)
            {
                foreach (var p in _queue)
                {
                    if (batch.Count == _options.MaxBatch) break;
                    batch.Add(p);
                }
            }
            if (batch.Count == 0) continue;
            var started = Environment.TickCount64;
            try
            {
                await WriteBatchAsync(batch, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not InvalidDataException)
            {
                attempt++;
                var reason = Describe(e);
                if (Failure is null) LogJournalFailing(e, Endpoint, batch[0].Seq, reason);
                Volatile.Write(ref _failure, reason);
                Pulse();
                try
                {
                    await Task.Delay(Backoff.Delay(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2), attempt), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }
            catch (InvalidDataException e)
            {
                // Another writer owns this journal: stop taking commands for good (never write over its entries).
                LogJournalForeign(e, Endpoint);
                Volatile.Write(ref _failure, e.Message);
                Pulse();
                return;
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (attempt > 0) LogJournalRecovered(Endpoint, attempt);
            attempt = 0;
            Volatile.Write(ref _failure, null);
            var last = batch[^1].Seq;
            lock (_sync)
            {
                for (var i = 0; i < batch.Count; i++) _queue.Dequeue();
            }
            Volatile.Write(ref _durableSeq, last);
            Interlocked.Add(ref _entriesWritten, batch.Count);
            Interlocked.Increment(ref _batchesWritten);
            Pulse();
            BatchWritten?.Invoke(batch.Count, TimeSpan.FromMilliseconds(Environment.TickCount64 - started));
            // At least SnapshotEveryEntries entries between two snapshot starts: a snapshot of a large market takes
            // seconds, and back-to-back snapshots would take the exchange's CPU from trading (load benchmark).
            if (SnapshotDue is { } snapshot && last - _snapshotRequestedAt >= _options.SnapshotEveryEntries)
            {
                _snapshotRequestedAt = last;
                try
                {
                    await snapshot(last, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    // A missed snapshot only makes the next restart replay more; the journal itself is intact.
                    LogSnapshotFailed(e, last);
                }
            }
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch, CancellationToken ct)
    {
        var db = _redis.GetDatabase();
        // One MULTI/EXEC: the batch is queued and run as a unit. Redis refuses the whole transaction on a queueing error
        // (out of memory, say) instead of storing entries after a missing one, and the AOF holds it as one block (a
        // block cut short by a crash is dropped whole on load): the journal never has a gap.
        var transaction = db.CreateTransaction();
        var adds = new Task<RedisValue>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            adds[i] = transaction.StreamAddAsync(_key, RedisKeys.JournalField, batch[i].Data, messageId: $"{batch[i].Seq}-0");
        }
        if (!await transaction.ExecuteAsync().WaitAsync(ct).ConfigureAwait(false))
            throw new RedisException($"the journal batch {batch[0].Seq}..{batch[^1].Seq} was not executed");
        for (var i = 0; i < adds.Length; i++)
        {
            try
            {
                await adds[i].WaitAsync(ct).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.Contains("equal or smaller", StringComparison.OrdinalIgnoreCase))
            {
                // Written by an earlier attempt whose answer was lost: check it is ours.
                await CheckAlreadyWrittenAsync(db, batch[i]).ConfigureAwait(false);
            }
        }
        var lots = batch.Where(p => p.Lots.Length > 0).SelectMany(p => p.Lots).ToArray();
        if (lots.Length > 0) await _addLots(lots, ct).ConfigureAwait(false);
    }

    private async Task CheckAlreadyWrittenAsync(IDatabase db, Pending pending)
    {
        var id = $"{pending.Seq}-0";
        var found = await db.StreamRangeAsync(_key, id, id).ConfigureAwait(false);
        var stored = found.Length == 1 ? (byte[]?)found[0][RedisKeys.JournalField] : null;
        if (stored is null || !stored.AsSpan().SequenceEqual(pending.Data))
        {
            throw new InvalidDataException(
                $"journal entry {pending.Seq} of {_key} holds another command than this exchange applied: another exchange is writing " +
                $"market '{_options.Market}' (one writer per market), or the journal was changed; this exchange takes no more commands");
        }
    }

    private void Pulse()
    {
        var done = Interlocked.Exchange(ref _progress, NewSignal());
        done.TrySetResult();
    }

    private static string Describe(Exception e) => e switch
    {
        RedisConnectionException c => $"{c.FailureType}: {c.Message}",
        RedisTimeoutException t => $"timeout: {t.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return; // stopped by the host, then disposed by the container
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_writer is not null)
        {
            try
            {
                await _writer.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    /// <summary>Waits until every entry appended so far is durable (graceful shutdown), up to <paramref name="timeout"/>.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout)
    {
        try
        {
            await WaitDurableAsync(LastSeq, CancellationToken.None).AsTask().WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is TimeoutException or JournalUnavailableException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 70, Level = LogLevel.Error, Message = "Journal (Redis {Endpoint}) cannot be written from entry {Seq}: {Reason}; new commands are refused until it can")]
    private partial void LogJournalFailing(Exception ex, string endpoint, long seq, string reason);

    [LoggerMessage(EventId = 71, Level = LogLevel.Information, Message = "Journal (Redis {Endpoint}) written again after {Attempts} failed attempts")]
    private partial void LogJournalRecovered(string endpoint, int attempts);

    [LoggerMessage(EventId = 72, Level = LogLevel.Critical, Message = "Journal (Redis {Endpoint}) is written by someone else; this exchange takes no more commands")]
    private partial void LogJournalForeign(Exception ex, string endpoint);

    [LoggerMessage(EventId = 73, Level = LogLevel.Warning, Message = "Snapshot at journal entry {Seq} failed; the next restart replays more entries")]
    private partial void LogSnapshotFailed(Exception ex, long seq);
}
