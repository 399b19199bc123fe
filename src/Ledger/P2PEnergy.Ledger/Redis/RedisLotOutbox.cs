using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace P2PEnergy.Ledger.Redis;

public sealed record RedisLotOutboxOptions
{
    /// <summary>The consumer name of readers in the recorders' group; null: "{host name}-{process id}".</summary>
    public string? ConsumerName { get; init; }

    /// <summary>
    /// An entry handed to another consumer and not acknowledged for this long is taken to be a dead recorder's and
    /// claimed (XAUTOCLAIM). Longer than a recorder ever holds a batch while it is healthy; a live recorder that loses
    /// a batch this way costs nothing but a look at the chain (the contract refuses a lot twice).
    /// </summary>
    public TimeSpan MinIdle { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a reader looks for entries to claim; null: <see cref="MinIdle"/>, at most 10 s.</summary>
    public TimeSpan? ReclaimInterval { get; init; }

    /// <summary>
    /// How often a waiting read asks again. StackExchange.Redis multiplexes one connection and has no blocking
    /// XREADGROUP, so a wait is a poll; 50 ms costs Redis 20 small commands a second.
    /// </summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeProvider? Time { get; init; }

    internal TimeSpan EffectiveReclaimInterval => ReclaimInterval ?? (MinIdle < TimeSpan.FromSeconds(10) ? MinIdle : TimeSpan.FromSeconds(10));

    internal void Validate()
    {
        if (MinIdle <= TimeSpan.Zero || PollInterval <= TimeSpan.Zero || ReclaimInterval is { } r && r <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MinIdle), "MinIdle, ReclaimInterval and PollInterval must be positive.");
        }
        if (ConsumerName is { Length: 0 })
        {
            throw new ArgumentException("The consumer name is empty.", nameof(ConsumerName));
        }
    }
}

/// <summary>
/// The outbox of matched lots in a Redis stream (docs/redis.md): <c>p2pe:{market}:lots</c>, entry id <c>{lotId}-0</c>,
/// field <c>lot</c> = the 75-byte packed lot, read by the recorders' consumer group.
/// </summary>
/// <remarks>
/// <para>Adding is idempotent and atomic per call (up to 1,000 lots; one script, so a dropped connection leaves no
/// gap below the last id): the explicit entry id makes Redis refuse a lot id at or below the stream's last id. A
/// refused lot that is still in the stream is compared with the one added (the same: nothing to do; another lot: an
/// <see cref="ArgumentException"/>); one no longer in the stream was acknowledged, that is on chain. Lots are therefore
/// to be added in lot-id order, as the exchange matches them: a lot id below the stream's last one that was never
/// added cannot be told from an acknowledged one and is taken for it.</para>
/// <para>Acknowledging is XACK and XDEL together (one script, atomic, and so in the AOF): the stream holds exactly
/// the lots not yet on chain. XLEN is the backlog; an operator can read it with XRANGE; a consumer group lost or
/// created again from 0 re-delivers exactly the unacknowledged lots. Trimming instead (keeping acknowledged entries,
/// XTRIM MINID) would need the lowest unacknowledged id, which is not the head of the stream once a dead recorder's
/// batch is claimed behind newer acknowledged ones, and a trim by length can cut unacknowledged lots. The stream's
/// last id survives XDEL (and an AOF rewrite, which writes XSETID), so re-adding an acknowledged lot stays a no-op.</para>
/// <para>A reader is a consumer of the group. It reads, in this order: entries pending with its own consumer name
/// (a recorder restarted under the same name gets its unacknowledged lots back at once), entries pending with other
/// consumers idle longer than <see cref="RedisLotOutboxOptions.MinIdle"/> (XAUTOCLAIM: a dead recorder's lots; looked
/// for when the reader starts and every <see cref="RedisLotOutboxOptions.ReclaimInterval"/>), then new entries.
/// Lots it hands out again are reported by <see cref="IRedeliveringLotOutboxReader.MayBeRecorded"/> so that the
/// recorder asks the chain before sending them. Consumers with nothing pending and idle longer than MinIdle are
/// removed from the group after a reclaim pass (a recorder named after its process id leaves one behind when it stops).</para>
/// <para>Redis unreachable, loading its AOF or too slow: <see cref="LotOutboxUnavailableException"/> naming the endpoint.</para>
/// </remarks>
public sealed class RedisLotOutbox : ILotOutbox
{
    // All of a chunk's XADDs in one script: applied entirely or not at all, so that no connection failure can leave a
    // gap below the stream's last id (a lot in such a gap would later be taken for an acknowledged one). Refused ids
    // (at or below the last one) are compared with what is there. ARGV: field, then id and packed lot per lot.
    private const string AddScript = """
        local added = 0
        local conflicts = {}
        for i = 2, #ARGV, 2 do
          local r = redis.pcall('XADD', KEYS[1], ARGV[i], ARGV[1], ARGV[i + 1])
          if type(r) == 'table' and r.err then
            if not string.find(r.err, 'equal or smaller', 1, true) then return redis.error_reply(r.err) end
            local e = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
            if #e > 0 then
              local f = e[1][2]
              if #f ~= 2 or f[1] ~= ARGV[1] or f[2] ~= ARGV[i + 1] then conflicts[#conflicts + 1] = ARGV[i] end
            end
          else
            added = added + 1
          end
        end
        return {added, conflicts}
        """;

    private const int AddChunk = 1000;

    // Atomic, so that no crash leaves an acknowledged entry in the stream (counted by XLEN, never delivered again).
    private const string AckScript = """
        redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
        return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
        """;

    // Atomic, so that a consumer that reads between the check and the delete cannot lose its pending entries.
    private const string RemoveIdleConsumersScript = """
        local removed = 0
        for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local f = {}
          for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
          if f['name'] ~= ARGV[2] and f['pending'] == 0 and f['idle'] >= tonumber(ARGV[3]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
            removed = removed + 1
          end
        end
        return removed
        """;

    private const int AckChunk = 500;

    private readonly IConnectionMultiplexer _redis;
    private readonly RedisLotOutboxOptions _options;
    private readonly TimeProvider _time;
    private readonly RedisKey _key;

    public RedisLotOutbox(IConnectionMultiplexer redis, string market = RedisKeys.DefaultMarket, RedisLotOutboxOptions? options = null)
    {
        _redis = redis ?? throw new ArgumentNullException(nameof(redis));
        _options = options ?? new RedisLotOutboxOptions();
        _options.Validate();
        Market = market;
        StreamKey = RedisKeys.Lots(market); // checks the market's name
        _key = StreamKey;
        _time = _options.Time ?? TimeProvider.System;
        ConsumerName = _options.ConsumerName ?? DefaultConsumerName();
    }

    public string Market { get; }

    /// <summary>p2pe:{market}:lots</summary>
    public string StreamKey { get; }

    /// <summary>The consumer name of readers opened with <see cref="OpenReader()"/>.</summary>
    public string ConsumerName { get; }

    public RedisLotOutboxOptions Options => _options;

    /// <summary>"{host name}-{process id}": unique among live recorders, and tells an operator where a consumer ran.</summary>
    public static string DefaultConsumerName() => $"{Environment.MachineName}-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Connects with abortConnect=false: the connection is made (and made again after an outage) in the background,
    /// and while Redis is away each command fails by itself (<see cref="LotOutboxUnavailableException"/> here).
    /// </summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string configuration, string clientName = "p2penergy", TextWriter? log = null)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ClientName ??= clientName;
        return await ConnectionMultiplexer.ConnectAsync(options, log).ConfigureAwait(false);
    }

    /// <summary>The stream entry id of a lot: "{lotId}-0".</summary>
    public static string EntryId(long lotId) => $"{lotId.ToString(CultureInfo.InvariantCulture)}-0";

    public ValueTask AddAsync(Lot lot, CancellationToken cancellationToken = default) =>
        new(AddRangeAsync([lot], cancellationToken).AsTask());

    /// <summary>
    /// Adds lots in lot-id order, up to 1,000 in one atomic script (one round trip); idempotent. Returns how many were
    /// new (the others were in the outbox, or acknowledged). Throws <see cref="ArgumentException"/> before writing
    /// anything when a lot cannot be recorded on chain or two lots share an id, and after writing the others when
    /// another lot is pending under a lot's id. Calls must not overlap (one writer, lots in lot-id order).
    /// </summary>
    public async ValueTask<int> AddRangeAsync(IReadOnlyList<Lot> lots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lots);
        if (lots.Count == 0)
        {
            return 0;
        }
        var sorted = lots.ToArray();
        Array.Sort(sorted, (a, b) => a.LotId.CompareTo(b.LotId));
        var packed = new byte[sorted.Length][];
        for (int i = 0; i < sorted.Length; i++)
        {
            packed[i] = LotPacking.Pack(sorted[i]); // validates
            if (i > 0 && sorted[i].LotId == sorted[i - 1].LotId && sorted[i] != sorted[i - 1])
            {
                throw new ArgumentException($"Two different lots with id {sorted[i].LotId} in one add.", nameof(lots));
            }
        }
        var db = _redis.GetDatabase();
        int added = 0;
        var conflicts = new List<string>();
        for (int from = 0; from < sorted.Length; from += AddChunk)
        {
            int count = Math.Min(AddChunk, sorted.Length - from);
            var args = new RedisValue[1 + 2 * count];
            args[0] = RedisKeys.LotField;
            for (int i = 0; i < count; i++)
            {
                args[1 + 2 * i] = EntryId(sorted[from + i].LotId);
                args[2 + 2 * i] = packed[from + i];
            }
            // One chunk after the other: a chunk is sent only once the one before is in.
            var result = (RedisResult[])(await Observe(
                db.ScriptEvaluateAsync(AddScript, [_key], args), $"XADD of lots {sorted[from].LotId}..{sorted[from + count - 1].LotId}", cancellationToken).ConfigureAwait(false))!;
            added += (int)result[0];
            conflicts.AddRange(((RedisResult[])result[1]!).Select(r => ((string?)r ?? "?").Split('-')[0]));
        }
        if (conflicts.Count > 0)
        {
            throw new ArgumentException($"Another lot with id {string.Join(", ", conflicts)} is pending in {StreamKey}.", nameof(lots));
        }
        return added;
    }

    /// <summary>Entries in the stream: lots added and not yet acknowledged (acknowledging deletes them).</summary>
    public async ValueTask<long> CountPendingAsync(CancellationToken cancellationToken = default) =>
        await Observe(_redis.GetDatabase().StreamLengthAsync(_key), "XLEN", cancellationToken).ConfigureAwait(false);

    /// <summary>The outbox's lots, lowest id first (for reports and tests; reads the whole stream).</summary>
    public async Task<IReadOnlyList<Lot>> PendingLotsAsync(CancellationToken cancellationToken = default)
    {
        var entries = await Observe(_redis.GetDatabase().StreamRangeAsync(_key), "XRANGE", cancellationToken).ConfigureAwait(false);
        return entries.Select(ToLot).ToArray();
    }

    public ILotOutboxReader OpenReader() => OpenReader(ConsumerName);

    /// <summary>A reader under another consumer name (two recorders in one process, tests).</summary>
    public ILotOutboxReader OpenReader(string consumerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(consumerName);
        return new Reader(this, consumerName);
    }

    private string Endpoint()
    {
        var endpoints = _redis.GetEndPoints();
        return "redis " + (endpoints.Length == 0 ? "(no endpoint)" : string.Join(", ", endpoints.Select(Text)));

        static string Text(EndPoint e) => e switch
        {
            DnsEndPoint d => $"{d.Host}:{d.Port}",
            _ => e.ToString() ?? "?",
        };
    }

    /// <summary>Awaits a command, turning "Redis is not there (now)" into <see cref="LotOutboxUnavailableException"/>.</summary>
    private async Task<T> Observe<T>(Task<T> command, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await command.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new LotOutboxUnavailableException(Endpoint(), $"{operation} on {StreamKey}", e, FirstClause(e.Message));
        }
    }

    /// <summary>
    /// StackExchange.Redis's messages run to a screenful of counters after their first clause ("UnableToConnect on
    /// host:port/Interactive, Initializing/NotStarted, last: ..."): a log line keeps that clause.
    /// </summary>
    internal static string FirstClause(string message)
    {
        int depth = 0;
        for (int i = 0; i < message.Length - 1; i++)
        {
            switch (message[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth = Math.Max(0, depth - 1);
                    break;
                case ',' when depth == 0 && message[i + 1] == ' ':
                    return message[..i];
            }
        }
        return message.Length <= 400 ? message : message[..400] + "...";
    }

    private static bool IsUnavailable(Exception e) =>
        e is RedisConnectionException or RedisTimeoutException
        || e is RedisServerException s && (s.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || s.Message.StartsWith("BUSY ", StringComparison.Ordinal)
            || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal));

    private static long LotIdOf(RedisValue entryId)
    {
        var text = (string?)entryId;
        int dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (dash <= 0 || !long.TryParse(text.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw new InvalidDataException($"Stream entry id '{text}' is not '{{lotId}}-0'.");
        }
        return id;
    }

    private Lot ToLot(StreamEntry entry)
    {
        var bytes = (byte[]?)entry[RedisKeys.LotField];
        if (bytes is null || bytes.Length != LotPacking.LotBytes)
        {
            throw new InvalidDataException($"Entry {entry.Id} of {StreamKey} has no '{RedisKeys.LotField}' field of {LotPacking.LotBytes} bytes.");
        }
        var lot = LotPacking.Unpack(bytes);
        if (lot.LotId != LotIdOf(entry.Id))
        {
            throw new InvalidDataException($"Entry {entry.Id} of {StreamKey} holds lot {lot.LotId}.");
        }
        return lot;
    }

    private sealed class Reader : IRedeliveringLotOutboxReader
    {
        private readonly RedisLotOutbox _outbox;
        private readonly string _consumer;
        private readonly object _gate = new();
        private readonly HashSet<long> _handedOut = new();
        private readonly HashSet<long> _redelivered = new();
        private bool _groupReady;
        private bool _ownPendingDone;
        private RedisValue _ownCursor = "0-0";
        private RedisValue _claimCursor = "0-0";
        private long? _lastReclaimPass;
        private bool _disposed;

        public Reader(RedisLotOutbox outbox, string consumer)
        {
            _outbox = outbox;
            _consumer = consumer;
        }

        private RedisKey Key => _outbox._key;

        public bool MayBeRecorded(long lotId)
        {
            lock (_gate)
            {
                return _redelivered.Contains(lotId);
            }
        }

        public async ValueTask<IReadOnlyList<Lot>> ReadAsync(int maxCount, TimeSpan wait, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
            var time = _outbox._time;
            long start = time.GetTimestamp();
            while (true)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var lots = await ReadOnceAsync(maxCount, cancellationToken).ConfigureAwait(false);
                if (lots.Count > 0)
                {
                    return lots;
                }
                var delay = _outbox._options.PollInterval;
                if (wait != Timeout.InfiniteTimeSpan)
                {
                    var left = wait - time.GetElapsedTime(start);
                    if (left <= TimeSpan.Zero)
                    {
                        return [];
                    }
                    delay = left < delay ? left : delay;
                }
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }

        public async ValueTask AckAsync(IReadOnlyCollection<long> lotIds, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lotIds);
            ObjectDisposedException.ThrowIf(_disposed, this);
            var db = _outbox._redis.GetDatabase();
            foreach (var chunk in lotIds.Chunk(AckChunk))
            {
                var args = new RedisValue[chunk.Length + 1];
                args[0] = RedisKeys.RecorderGroup;
                for (int i = 0; i < chunk.Length; i++)
                {
                    args[i + 1] = EntryId(chunk[i]);
                }
                await _outbox.Observe(db.ScriptEvaluateAsync(AckScript, [Key], args), "XACK+XDEL", cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    foreach (var id in chunk)
                    {
                        _handedOut.Remove(id);
                        _redelivered.Remove(id);
                    }
                }
            }
        }

        public void Dispose() => _disposed = true;

        private async Task<IReadOnlyList<Lot>> ReadOnceAsync(int maxCount, CancellationToken cancellationToken)
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    return await ReadPhasesAsync(maxCount, cancellationToken).ConfigureAwait(false);
                }
                catch (RedisServerException e) when (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal) && attempt == 0)
                {
                    // The stream or the group went away (deleted by hand, or Redis lost its data): create them again, from 0.
                    _groupReady = false;
                }
                catch (LotOutboxUnavailableException)
                {
                    // A read whose answer was lost left entries pending with us: look at our own pending entries again.
                    _ownPendingDone = false;
                    _ownCursor = "0-0";
                    throw;
                }
            }
        }

        /// <summary>Own pending entries, then claimable ones of dead consumers, then new ones; handed out only once all went through.</summary>
        private async Task<IReadOnlyList<Lot>> ReadPhasesAsync(int maxCount, CancellationToken ct)
        {
            var db = _outbox._redis.GetDatabase();
            if (!_groupReady)
            {
                await EnsureGroupAsync(db, ct).ConfigureAwait(false);
            }
            var again = new List<StreamEntry>();
            var fresh = new List<StreamEntry>();
            var own = _ownCursor;
            bool ownDone = _ownPendingDone;
            while (!ownDone && again.Count < maxCount)
            {
                var entries = await _outbox.Observe(
                    db.StreamReadGroupAsync(Key, RedisKeys.RecorderGroup, _consumer, own, maxCount - again.Count), "XREADGROUP (own pending)", ct).ConfigureAwait(false);
                if (entries.Length == 0)
                {
                    ownDone = true;
                    own = "0-0";
                    break;
                }
                own = entries[^1].Id;
                again.AddRange(entries);
            }
            var claim = _claimCursor;
            long? reclaimPass = _lastReclaimPass;
            var time = _outbox._time;
            if (again.Count < maxCount && (reclaimPass is null || time.GetElapsedTime(reclaimPass.Value) >= _outbox._options.EffectiveReclaimInterval))
            {
                while (again.Count < maxCount)
                {
                    var result = await _outbox.Observe(
                        db.StreamAutoClaimAsync(Key, RedisKeys.RecorderGroup, _consumer, (long)_outbox._options.MinIdle.TotalMilliseconds, claim, maxCount - again.Count),
                        "XAUTOCLAIM", ct).ConfigureAwait(false);
                    again.AddRange(result.ClaimedEntries);
                    claim = result.NextStartId;
                    if (claim.IsNull || claim == "0-0")
                    {
                        claim = "0-0";
                        reclaimPass = time.GetTimestamp();
                        await _outbox.Observe(
                            db.ScriptEvaluateAsync(RemoveIdleConsumersScript, [Key],
                                [RedisKeys.RecorderGroup, _consumer, (long)_outbox._options.MinIdle.TotalMilliseconds]),
                            "removing idle consumers", ct).ConfigureAwait(false);
                        break;
                    }
                }
            }
            if (again.Count < maxCount)
            {
                fresh.AddRange(await _outbox.Observe(
                    db.StreamReadGroupAsync(Key, RedisKeys.RecorderGroup, _consumer, StreamPosition.NewMessages, maxCount - again.Count), "XREADGROUP", ct).ConfigureAwait(false));
            }

            // Everything went through: hand out.
            _ownCursor = own;
            _ownPendingDone = ownDone;
            _claimCursor = claim;
            _lastReclaimPass = reclaimPass;
            var lots = new List<Lot>(again.Count + fresh.Count);
            var deletedWhilePending = new List<long>();
            lock (_gate)
            {
                foreach (var entry in again)
                {
                    if (entry.IsNull || entry.Values is null || entry.Values.Length == 0)
                    {
                        deletedWhilePending.Add(LotIdOf(entry.Id));
                        continue;
                    }
                    var lot = _outbox.ToLot(entry);
                    // Our own entries in flight come back from our own pending list or a claim: not again.
                    if (_handedOut.Add(lot.LotId))
                    {
                        _redelivered.Add(lot.LotId);
                        lots.Add(lot);
                    }
                }
                foreach (var entry in fresh)
                {
                    var lot = _outbox.ToLot(entry);
                    if (_handedOut.Add(lot.LotId))
                    {
                        lots.Add(lot);
                    }
                }
            }
            if (deletedWhilePending.Count > 0)
            {
                // Deleted from the stream but still pending (deleted by hand): nothing to record, clear the pending entry.
                await AckAsync(deletedWhilePending, ct).ConfigureAwait(false);
            }
            lots.Sort((a, b) => a.LotId.CompareTo(b.LotId));
            return lots;
        }

        private async Task EnsureGroupAsync(IDatabase db, CancellationToken ct)
        {
            try
            {
                await _outbox.Observe(db.StreamCreateConsumerGroupAsync(Key, RedisKeys.RecorderGroup, "0-0", createStream: true), "XGROUP CREATE", ct).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
                // There already.
            }
            _groupReady = true;
        }
    }
}
