using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Grpc.Core;
using Grpc.Net.Client;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Bench;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Testing;
using StackExchange.Redis;

// Its own namespace, so that the wire types (Side, Product, ...) are not hidden by the core's.
namespace P2PEnergy.Bench;

/// <summary>What the load benchmark is asked to do (issue 7, load part).</summary>
internal sealed record LoadSettings(int Seconds, int Rate, int Callers, int Streams, int BatchSize, int Window, int StreamPool);

/// <summary>
/// Issue 7, load: sustained signed order flow over gRPC against the exchange as its own process, once in memory
/// (the baseline), then with the Redis journal under appendfsync everysec and always, side by side in one run.
/// Two flows per configuration, each on a fresh slot of the same market: unary SubmitOrder paced at a fixed rate
/// (ack latency = the call's round trip), and StreamOrders in batches, saturating (per-order ack latency = its
/// batch sent → its ack received). Every order is signed before any clock starts, once, and the same orders go
/// to every configuration. Client, exchange and Redis share this machine's cores.
/// </summary>
internal static class LoadBenchmark
{
    private const int Participants = 200;
    private const long StartUnixSeconds = 1_780_279_200; // 2026-06-01 02:00 UTC, a slot boundary
    private const int SlotSeconds = 1800;
    private const string MarketName = "load";
    private const int WarmUpStreamOrders = 3_000;
    private const int WarmUpUnaryOrders = 500;

    // The simulated clock never moves here, so these slots stay open (gate lead 300 s < two slots ahead).
    private const long UnarySlot = StartUnixSeconds / SlotSeconds + 2;
    private const long StreamSlot = UnarySlot + 1;
    private const long WarmUpSlot = UnarySlot + 2;

    private sealed record Configuration(string Name, string? AppendFsync);

    private static readonly Configuration[] Configurations =
    [
        new("in-memory", null),
        new("redis everysec", "everysec"),
        new("redis always", "always"),
    ];

    public static async Task<int> RunAsync(LoadSettings settings)
    {
        if (settings.Seconds < 1 || settings.Rate < 1 || settings.Callers < 1 || settings.Streams < 1 || settings.Window < 1
            || settings.BatchSize is < 1 or > 1000)
        {
            Console.Error.WriteLine("load: --seconds, --rate, --callers, --streams and --window must be at least 1, --batch 1 … 1000");
            return 2;
        }
        // Signing costs about as much as the server's check of it (about 0.2 ms of CPU an order): the pool is sized for
        // more than 2 idle cores have checked (11,000 orders/s in memory); running out before the time is up is reported.
        var streamPool = settings.StreamPool > 0 ? settings.StreamPool : settings.Seconds * 15_000;
        Console.WriteLine($"load: {Environment.ProcessorCount} cores; client (this process), exchange (its own process) and Redis on the same machine, competing for them");
        Console.WriteLine($"      {settings.Seconds} s a flow; unary SubmitOrder paced at {settings.Rate:N0}/s by {settings.Callers} callers; " +
                          $"StreamOrders on {settings.Streams} streams, {settings.BatchSize} orders a message, {settings.Window} messages in flight a stream");

        var keys = Enumerable.Range(0, Participants).Select(i => EthKey.FromPrivateKey(Keccak.Hash256Utf8($"p2penergy-bench:{i}"))).ToArray();
        var addresses = keys.Select(k => k.Address.ToLowerHex()).ToArray();
        var signing = Stopwatch.StartNew();
        var unaryOrders = WireOrders.Make(addresses, settings.Rate * settings.Seconds, UnarySlot, seed: 7, clientBase: 10_000_000, signWith: keys);
        var warmUpUnary = WireOrders.Make(addresses, WarmUpUnaryOrders, WarmUpSlot, seed: 8, clientBase: 20_000_000, signWith: keys);
        var warmUpStream = BuildMessages(WireOrders.Make(addresses, WarmUpStreamOrders, WarmUpSlot, seed: 9, clientBase: 30_000_000, signWith: keys), settings.BatchSize);
        // Each stream trades for its own participants, so that it is told of fewer of the others' lots.
        var perStream = streamPool / settings.Streams;
        var streamMessages = Enumerable.Range(0, settings.Streams)
            .Select(s => BuildMessages(WireOrders.Make(addresses, perStream, StreamSlot, seed: 100 + s, clientBase: 100_000_000 + (ulong)s * 10_000_000,
                participants: Enumerable.Range(0, Participants).Where(p => p % settings.Streams == s).ToArray(), signWith: keys), settings.BatchSize))
            .ToArray();
        var signed = unaryOrders.Length + WarmUpUnaryOrders + WarmUpStreamOrders + perStream * settings.Streams;
        Console.WriteLine($"      {signed:N0} orders signed (EIP-712, checked by the server) in {signing.Elapsed.TotalSeconds:F1} s, before any clock starts; the same orders go to each configuration");

        var results = new List<ConfigurationResult>();
        foreach (var configuration in Configurations)
        {
            Console.WriteLine();
            Console.WriteLine($"== {configuration.Name}");
            results.Add(await RunConfigurationAsync(configuration, settings, addresses, unaryOrders, warmUpUnary, warmUpStream, streamMessages));
        }

        Console.WriteLine();
        PrintTables(settings, results);
        return 0;
    }

    private sealed record ConfigurationResult(
        Configuration Configuration,
        UnaryResult Unary,
        StreamResult Stream,
        long UnaryLots,
        long StreamLots,
        long OrdersAccepted,
        JournalFacts? Journal,
        CpuUse UnaryCpu,
        CpuUse StreamCpu,
        IReadOnlyList<string> ServerWarnings,
        int Snapshots);

    private sealed record JournalFacts(string RedisVersion, string AppendFsync, string AppendOnly, long LastSeq, long Length, long EntriesAdded);

    private static async Task<ConfigurationResult> RunConfigurationAsync(
        Configuration configuration, LoadSettings settings, string[] addresses, NewOrder[] unaryOrders, NewOrder[] warmUpUnary,
        StreamOrdersRequest[] warmUpStream, StreamOrdersRequest[][] streamMessages)
    {
        await using var redis = configuration.AppendFsync is { } fsync ? await RedisServer.StartAsync(fsync) : null;
        var config = new Dictionary<string, string>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString(CultureInfo.InvariantCulture),
            ["Exchange:SlotSeconds"] = SlotSeconds.ToString(CultureInfo.InvariantCulture),
            ["Exchange:MaxMessageSizeBytes"] = "1048576",
            ["Exchange:RequireSignatures"] = "true",
        };
        if (redis is not null)
        {
            config["Redis:ConnectionString"] = redis.ConnectionString;
            config["Redis:Market"] = MarketName;
        }
        await using var exchange = await ExchangeProcess.StartAsync(config);
        Console.WriteLine($"   exchange pid {exchange.ProcessId} on {exchange.Url}" + (redis is null ? "" : $", {redis}"));
        CheckMode(configuration, exchange);

        // allowAdmin: CONFIG GET, to show the fsync policy Redis really runs with.
        using var redisClient = redis is null ? null : await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        using var channel = GrpcChannel.ForAddress(exchange.Url, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = null,
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        var admin = new MarketAdmin.MarketAdminClient(channel);
        var market = new ExchangeService.ExchangeServiceClient(channel);
        for (var i = 0; i < Participants; i++)
        {
            await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = addresses[i], Zone = i % 4, Kind = ParticipantKind.Household });
        }
        foreach (var slot in new[] { UnarySlot, StreamSlot, WarmUpSlot })
        {
            await admin.OpenSlotAsync(new OpenSlotRequest { Slot = slot, Mechanism = Mechanism.Continuous });
        }

        // Warm-up on its own slot (JIT, connections, Redis's first appends): not measured.
        await UnaryAsync(market, warmUpUnary, rate: 5_000, settings.Callers);
        await StreamsAsync(market, [warmUpStream], settings.Window, TimeSpan.FromSeconds(60), settings.BatchSize);

        var before = await admin.GetMarketInfoAsync(new GetMarketInfoRequest());
        // The pre-signed orders are a large heap: settle it now, so that the client's own collections stay out of the timed part.
        SettleHeap();
        var cpu = CpuSample.Take(exchange.ProcessId, redis?.ProcessId);
        var unary = await UnaryAsync(market, unaryOrders, settings.Rate, settings.Callers);
        var unaryCpu = cpu.Since(exchange.ProcessId, redis?.ProcessId);
        var afterUnary = await admin.GetMarketInfoAsync(new GetMarketInfoRequest());
        Console.WriteLine($"   unary:  {unary.Ok:N0} acked at {unary.OkPerSecond:N0}/s, p50 {unary.Latency.P50:F2} ms, p99 {unary.Latency.P99:F2} ms, {unary.Errors} errors{unary.ErrorText}");

        SettleHeap();
        cpu = CpuSample.Take(exchange.ProcessId, redis?.ProcessId);
        var stream = await StreamsAsync(market, streamMessages, settings.Window, TimeSpan.FromSeconds(settings.Seconds), settings.BatchSize);
        var streamCpu = cpu.Since(exchange.ProcessId, redis?.ProcessId);
        var afterStream = await admin.GetMarketInfoAsync(new GetMarketInfoRequest());
        Console.WriteLine($"   stream: {stream.Accepted:N0} acked at {stream.AcceptedPerSecond:N0}/s, p50 {stream.Latency.P50:F2} ms, p99 {stream.Latency.P99:F2} ms, " +
                          $"{stream.Refused} refused, {stream.Unavailable} unavailable{(stream.PoolExhausted ? "; ORDER POOL EXHAUSTED before the time was up (raise --stream-pool)" : "")}");

        var accepted = afterStream.NextOrderId - 1;
        JournalFacts? journal = null;
        if (redisClient is not null)
        {
            journal = await ReadJournalAsync(redisClient);
            Console.WriteLine($"   journal p2pe:{{{MarketName}}}:journal: last entry {journal.LastSeq:N0}, {journal.Length:N0} kept (trimmed after snapshots), " +
                              $"entries-added {journal.EntriesAdded:N0}; Redis {journal.RedisVersion}, appendonly {journal.AppendOnly}, appendfsync {journal.AppendFsync}");
            // Every accepted order is a journal entry (registrations and slot openings are more): fewer means it was not on.
            if (journal.LastSeq < accepted || journal.AppendFsync != configuration.AppendFsync || journal.AppendOnly != "yes")
            {
                throw new InvalidOperationException(
                    $"{configuration.Name}: the journal does not hold the run ({journal.LastSeq} entries for {accepted} accepted orders; appendonly {journal.AppendOnly}, " +
                    $"appendfsync {journal.AppendFsync}, expected {configuration.AppendFsync}):\n{exchange.RecentOutput}");
            }
        }

        // The console logger writes "warn: Category[id]" and the message on the next line.
        var output = exchange.RecentOutput.Split('\n');
        var warnings = output
            .Select((line, i) => (line, i))
            .Where(x => x.line.StartsWith("warn:", StringComparison.Ordinal) || x.line.StartsWith("fail:", StringComparison.Ordinal) || x.line.StartsWith("crit:", StringComparison.Ordinal))
            .Select(x => x.i + 1 < output.Length ? $"{x.line} {output[x.i + 1].Trim()}" : x.line)
            .ToArray();
        var snapshotLines = output.Where(l => l.Contains("Snapshot at journal entry", StringComparison.Ordinal) && l.Contains("stored", StringComparison.Ordinal)).ToArray();
        if (snapshotLines.Length > 0) Console.WriteLine($"   {snapshotLines.Length} snapshots, the last: {snapshotLines[^1].Trim()}");
        var snapshots = snapshotLines.Length;
        await exchange.StopAsync();
        return new ConfigurationResult(configuration, unary, stream,
            afterUnary.NextLotId - before.NextLotId, afterStream.NextLotId - afterUnary.NextLotId, accepted, journal, unaryCpu, streamCpu, warnings, snapshots);
    }

    /// <summary>
    /// Fails loudly unless the exchange runs in the asked mode: in Redis mode it logs that it rebuilt the market from
    /// Redis at start-up (JournalRecovery, event 74), in memory it does not.
    /// </summary>
    private static void CheckMode(Configuration configuration, ExchangeProcess exchange)
    {
        var redisMode = exchange.RecentOutput.Contains("rebuilt from Redis", StringComparison.Ordinal);
        if (redisMode != configuration.AppendFsync is not null)
        {
            throw new InvalidOperationException(
                $"{configuration.Name}: the exchange {(redisMode ? "runs" : "does not run")} in Redis mode (no 'rebuilt from Redis' in its output" +
                $"{(redisMode ? " expected" : "")}):\n{exchange.RecentOutput}");
        }
    }

    private static async Task<JournalFacts> ReadJournalAsync(ConnectionMultiplexer redis)
    {
        var db = redis.GetDatabase();
        var key = RedisKeys.Journal(MarketName);
        var info = await db.ExecuteAsync("XINFO", "STREAM", key);
        var fields = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
        var items = (RedisResult[])info!;
        for (var i = 0; i + 1 < items.Length; i += 2) fields[(string)items[i]!] = items[i + 1];
        var lastId = (string)fields["last-generated-id"]!;
        var lastSeq = long.Parse(lastId[..lastId.IndexOf('-', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
        var added = fields.TryGetValue("entries-added", out var a) ? (long)a : -1;
        var fsync = (RedisResult[])(await db.ExecuteAsync("CONFIG", "GET", "appendfsync"))!;
        var appendOnly = (RedisResult[])(await db.ExecuteAsync("CONFIG", "GET", "appendonly"))!;
        var server = (string)(await db.ExecuteAsync("INFO", "server"))!;
        var version = server.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal))?["redis_version:".Length..] ?? "?";
        return new JournalFacts(version, (string)fsync[1]!, (string)appendOnly[1]!, lastSeq, (long)fields["length"], added);
    }

    // --- orders --------------------------------------------------------------------------------------------------

    /// <summary>The stream's messages, built before the clock starts: request id = the order's index + 1.</summary>
    private static StreamOrdersRequest[] BuildMessages(NewOrder[] orders, int batchSize)
    {
        var messages = new StreamOrdersRequest[(orders.Length + batchSize - 1) / batchSize];
        for (var m = 0; m < messages.Length; m++)
        {
            var message = new StreamOrdersRequest();
            for (var k = m * batchSize; k < Math.Min(orders.Length, (m + 1) * batchSize); k++)
            {
                message.Batch.Add(new StreamOrdersRequest { RequestId = (ulong)k + 1, Submit = new SubmitOrderRequest { Order = orders[k] } });
            }
            messages[m] = message;
        }
        return messages;
    }

    // --- flows ---------------------------------------------------------------------------------------------------

    private readonly record struct Percentiles(double P50, double P90, double P99, double Max, int Count)
    {
        public static Percentiles Of(IEnumerable<double> values)
        {
            var sorted = values.Where(v => !double.IsNaN(v)).ToArray();
            if (sorted.Length == 0) return new Percentiles(double.NaN, double.NaN, double.NaN, double.NaN, 0);
            Array.Sort(sorted);
            double At(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
            return new Percentiles(At(0.50), At(0.90), At(0.99), sorted[^1], sorted.Length);
        }
    }

    private sealed record UnaryResult(int Calls, int Ok, double OkPerSecond, double Seconds, Percentiles Latency, Percentiles StartLag, Percentiles FromDue, IReadOnlyDictionary<StatusCode, int> ErrorsByStatus, long Lots)
    {
        public int Errors => ErrorsByStatus.Values.Sum();

        public string ErrorText => ErrorsByStatus.Count == 0 ? "" : " (" + string.Join(", ", ErrorsByStatus.Select(e => $"{e.Key} {e.Value}")) + ")";
    }

    /// <summary>
    /// Open loop, paced: call i is due at i / rate s from the start and is handed to the first free caller then.
    /// Latency is the call's own round trip; when every caller is busy a call starts late, which StartLag shows, and
    /// FromDue (due → answered) is what a client on a fixed schedule sees (no coordinated omission).
    /// </summary>
    private static async Task<UnaryResult> UnaryAsync(ExchangeService.ExchangeServiceClient market, NewOrder[] orders, int rate, int callers)
    {
        var count = orders.Length;
        var latency = new double[count];
        var lag = new double[count];
        var fromDue = new double[count];
        var errors = new ConcurrentDictionary<StatusCode, int>();
        long lots = 0;
        var ok = 0;
        var due = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleWriter = true });
        var start = Stopwatch.GetTimestamp();
        long DueAt(int i) => start + (long)(i * (double)Stopwatch.Frequency / rate);
        var last = start;
        var workers = Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            await foreach (var i in due.Reader.ReadAllAsync())
            {
                var t0 = Stopwatch.GetTimestamp();
                lag[i] = Milliseconds(t0 - DueAt(i));
                fromDue[i] = double.NaN;
                try
                {
                    var response = await market.SubmitOrderAsync(new SubmitOrderRequest { Order = orders[i] });
                    var t1 = Stopwatch.GetTimestamp();
                    latency[i] = Milliseconds(t1 - t0);
                    fromDue[i] = Milliseconds(t1 - DueAt(i));
                    Interlocked.Add(ref lots, response.Lots.Count);
                    Interlocked.Increment(ref ok);
                    InterlockedMax(ref last, t1);
                }
                catch (RpcException e)
                {
                    latency[i] = double.NaN;
                    errors.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
                }
            }
        })).ToArray();
        // The pacer wakes about every millisecond (no spinning: the cores are shared with the server).
        var issued = 0;
        while (issued < count)
        {
            var now = Stopwatch.GetTimestamp();
            var dueNow = (int)Math.Min(count, (now - start) * (double)rate / Stopwatch.Frequency + 1);
            for (; issued < dueNow; issued++) due.Writer.TryWrite(issued);
            if (issued < count) await Task.Delay(1);
        }
        due.Writer.Complete();
        await Task.WhenAll(workers);
        var seconds = Math.Max(1e-9, (last - start) / (double)Stopwatch.Frequency);
        return new UnaryResult(count, ok, ok / seconds, seconds, Percentiles.Of(latency), Percentiles.Of(lag), Percentiles.Of(fromDue), new Dictionary<StatusCode, int>(errors), lots);
    }

    private sealed record StreamResult(long Sent, long Accepted, long Refused, long Unavailable, double AcceptedPerSecond, double Seconds, Percentiles Latency, long LotEvents, bool PoolExhausted);

    /// <summary>
    /// Closed loop, saturating: each stream keeps <paramref name="window"/> messages in flight and sends the next as
    /// soon as every ack of an earlier one is in, until <paramref name="duration"/> is up.
    /// </summary>
    private static async Task<StreamResult> StreamsAsync(ExchangeService.ExchangeServiceClient market, StreamOrdersRequest[][] messages, int window, TimeSpan duration, int batchSize)
    {
        var start = Stopwatch.GetTimestamp();
        var stop = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var results = await Task.WhenAll(messages.Select(m => OneStreamAsync(market, m, window, start, stop, batchSize)));
        var last = results.Max(r => r.LastAck);
        var seconds = Math.Max(1e-9, (last - start) / (double)Stopwatch.Frequency);
        var accepted = results.Sum(r => r.Accepted);
        return new StreamResult(results.Sum(r => r.Sent), accepted, results.Sum(r => r.Refused), results.Sum(r => r.Unavailable), accepted / seconds, seconds,
            Percentiles.Of(results.SelectMany(r => r.Latency.Take(r.Sent))), results.Sum(r => r.LotEvents), results.Any(r => r.PoolExhausted));
    }

    private sealed record OneStream(int Sent, long Accepted, long Refused, long Unavailable, long LastAck, double[] Latency, long LotEvents, bool PoolExhausted);

    private static async Task<OneStream> OneStreamAsync(ExchangeService.ExchangeServiceClient market, StreamOrdersRequest[] messages, int window, long start, long stop, int batchSize)
    {
        var orders = messages.Sum(m => m.Batch.Count);
        var latency = new double[orders];
        var sentAt = new long[messages.Length];
        var outstanding = new int[messages.Length];
        using var room = new SemaphoreSlim(window);
        using var call = market.StreamOrders();
        long accepted = 0, refused = 0, unavailable = 0, lotEvents = 0, lastAck = start;
        var reader = Task.Run(async () =>
        {
            void Count(StreamOrdersResponse e, long now)
            {
                switch (e.EventCase)
                {
                    case StreamOrdersResponse.EventOneofCase.Ack:
                        var index = (int)e.Ack.RequestId - 1;
                        var message = index / batchSize;
                        latency[index] = Milliseconds(now - Volatile.Read(ref sentAt[message]));
                        if (e.Ack.StatusCode == (int)StatusCode.OK && e.Ack.ResultCode == 0) accepted++;
                        else if (e.Ack.StatusCode == (int)StatusCode.Unavailable) unavailable++;
                        else refused++;
                        lastAck = now;
                        if (Interlocked.Decrement(ref outstanding[message]) == 0) room.Release();
                        break;
                    case StreamOrdersResponse.EventOneofCase.Lot:
                        lotEvents++;
                        break;
                }
            }
            await foreach (var e in call.ResponseStream.ReadAllAsync())
            {
                var now = Stopwatch.GetTimestamp();
                Count(e, now);
                foreach (var inner in e.Batch) Count(inner, now);
            }
        });
        var sent = 0;
        var m = 0;
        for (; m < messages.Length; m++)
        {
            // Should the exchange end the stream (a reader fault), fail instead of waiting for room forever.
            var hasRoom = room.WaitAsync();
            if (await Task.WhenAny(hasRoom, reader) == reader)
            {
                await reader;
                throw new InvalidOperationException($"the exchange ended an order stream after {sent:N0} orders, before the run was over");
            }
            var now = Stopwatch.GetTimestamp();
            if (now >= stop) break;
            Volatile.Write(ref outstanding[m], messages[m].Batch.Count);
            Volatile.Write(ref sentAt[m], now);
            await call.RequestStream.WriteAsync(messages[m]);
            sent += messages[m].Batch.Count;
        }
        await call.RequestStream.CompleteAsync();
        await reader;
        return new OneStream(sent, accepted, refused, unavailable, lastAck, latency, lotEvents, PoolExhausted: m == messages.Length && Stopwatch.GetTimestamp() < stop);
    }

    private static void SettleHeap()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static double Milliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static void InterlockedMax(ref long target, long value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    // --- CPU -----------------------------------------------------------------------------------------------------

    private sealed record CpuUse(double ClientSeconds, double ServerSeconds, double RedisSeconds, double MachineBusyPercent, double WallSeconds, double ClientGcPauseMs, int ClientGen2)
    {
        public double OthersSeconds => Math.Max(0, MachineBusyPercent / 100 * Environment.ProcessorCount * WallSeconds - ClientSeconds - ServerSeconds - RedisSeconds);
    }

    /// <summary>CPU time of the three processes and of the whole machine (/proc/stat), to see who took the cores.</summary>
    private sealed record CpuSample(TimeSpan Client, TimeSpan Server, TimeSpan Redis, long MachineBusy, long MachineTotal, long Timestamp, TimeSpan ClientGcPause, int ClientGen2)
    {
        public static CpuSample Take(int? serverPid, int? redisPid)
        {
            var (busy, total) = MachineTicks();
            using var client = Process.GetCurrentProcess();
            return new CpuSample(client.TotalProcessorTime, ProcessorTime(serverPid), ProcessorTime(redisPid), busy, total, Stopwatch.GetTimestamp(),
                GC.GetTotalPauseDuration(), GC.CollectionCount(2));
        }

        public CpuUse Since(int? serverPid, int? redisPid)
        {
            var now = Take(serverPid, redisPid);
            var total = now.MachineTotal - MachineTotal;
            return new CpuUse(
                (now.Client - Client).TotalSeconds,
                (now.Server - Server).TotalSeconds,
                (now.Redis - Redis).TotalSeconds,
                total > 0 ? 100.0 * (now.MachineBusy - MachineBusy) / total : double.NaN,
                Milliseconds(now.Timestamp - Timestamp) / 1000,
                (now.ClientGcPause - ClientGcPause).TotalMilliseconds,
                now.ClientGen2 - ClientGen2);
        }

        private static TimeSpan ProcessorTime(int? pid)
        {
            if (pid is null) return TimeSpan.Zero;
            try
            {
                using var process = Process.GetProcessById(pid.Value);
                return process.TotalProcessorTime;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                return TimeSpan.Zero;
            }
        }

        /// <summary>The first line of /proc/stat: busy = everything but idle and iowait; zeros where there is none.</summary>
        private static (long Busy, long Total) MachineTicks()
        {
            try
            {
                var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
                var total = fields.Sum();
                return (total - fields[3] - fields[4], total);
            }
            catch (IOException)
            {
                return (0, 0);
            }
        }
    }

    // --- tables --------------------------------------------------------------------------------------------------

    private static void PrintTables(LoadSettings settings, List<ConfigurationResult> results)
    {
        var baseline = results[0];
        static string Ratio(double value, double baseline) => double.IsFinite(value / baseline) ? $"{value / baseline:F2}×" : "-";

        Console.WriteLine($"Unary SubmitOrder, paced at {settings.Rate:N0}/s for {settings.Seconds} s by {settings.Callers} callers " +
                          "(ack latency: the call's round trip, successful calls; lag p99: how late calls started behind the pace; due p99: from when the call was due to its answer)");
        Console.WriteLine($"{"configuration",-16} {"calls",8} {"acked/s",8} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8} {"errors",7} {"lag p99",8} {"due p99",8} {"lots",7} {"acked/s ×",10} {"p50 ×",7} {"p99 ×",7}");
        foreach (var r in results)
        {
            var u = r.Unary;
            Console.WriteLine($"{r.Configuration.Name,-16} {u.Calls,8:N0} {u.OkPerSecond,8:N0} {u.Latency.P50,8:F2} {u.Latency.P90,8:F2} {u.Latency.P99,8:F2} {u.Latency.Max,8:F1} {u.Errors,7:N0} {u.StartLag.P99,8:F2} {u.FromDue.P99,8:F2} {r.UnaryLots,7:N0} " +
                              $"{Ratio(u.OkPerSecond, baseline.Unary.OkPerSecond),10} {Ratio(u.Latency.P50, baseline.Unary.Latency.P50),7} {Ratio(u.Latency.P99, baseline.Unary.Latency.P99),7}");
        }
        foreach (var r in results.Where(r => r.Unary.Errors > 0)) Console.WriteLine($"  {r.Configuration.Name}: errors{r.Unary.ErrorText}");

        Console.WriteLine();
        Console.WriteLine($"StreamOrders, saturating for {settings.Seconds} s: {settings.Streams} streams, {settings.BatchSize} orders a message, {settings.Window} messages in flight a stream " +
                          "(ack latency: its message sent → its ack received; closed loop, so about the orders in flight ÷ orders/s)");
        Console.WriteLine($"{"configuration",-16} {"acked",9} {"orders/s",9} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8} {"refused",8} {"unavail",8} {"lots",8} {"orders/s ×",11} {"p50 ×",7} {"p99 ×",7}");
        foreach (var r in results)
        {
            var s = r.Stream;
            Console.WriteLine($"{r.Configuration.Name,-16} {s.Accepted,9:N0} {s.AcceptedPerSecond,9:N0} {s.Latency.P50,8:F2} {s.Latency.P90,8:F2} {s.Latency.P99,8:F2} {s.Latency.Max,8:F1} {s.Refused,8:N0} {s.Unavailable,8:N0} {r.StreamLots,8:N0} " +
                              $"{Ratio(s.AcceptedPerSecond, baseline.Stream.AcceptedPerSecond),11} {Ratio(s.Latency.P50, baseline.Stream.Latency.P50),7} {Ratio(s.Latency.P99, baseline.Stream.Latency.P99),7}");
        }
        foreach (var r in results.Where(r => r.Stream.PoolExhausted))
        {
            Console.WriteLine($"  {r.Configuration.Name}: the pre-signed orders ran out after {r.Stream.Seconds:F1} s (raise --stream-pool)");
        }

        Console.WriteLine();
        Console.WriteLine("Journal (Redis stream p2pe:{" + MarketName + "}:journal, read after the run)");
        Console.WriteLine($"{"configuration",-16} {"orders accepted",16} {"last entry (seq)",17} {"XLEN (kept)",12} {"entries-added",14} {"snapshots",10} {"appendfsync",12} {"redis",8}");
        foreach (var r in results)
        {
            var j = r.Journal;
            Console.WriteLine(j is null
                ? $"{r.Configuration.Name,-16} {r.OrdersAccepted,16:N0} {"(no journal: in memory)",-17}"
                : $"{r.Configuration.Name,-16} {r.OrdersAccepted,16:N0} {j.LastSeq,17:N0} {j.Length,12:N0} {j.EntriesAdded,14:N0} {r.Snapshots,10} {j.AppendFsync,12} {j.RedisVersion,8}");
        }

        Console.WriteLine();
        Console.WriteLine($"CPU seconds during each flow, of {Environment.ProcessorCount} cores × wall (client = this process, server = the exchange process; " +
                          "others = the machine's busy time (/proc/stat) less these three: other work on the same machine; /proc/stat samples busy time " +
                          "by ticks and misses short bursts, so read machine busy and others for the saturating stream, not for the paced unary flow; acked/CPU-s = orders acked " +
                          "per CPU second of the exchange and Redis together, which others' work on the machine does not change; client GC = the client's own pauses)");
        Console.WriteLine($"{"configuration",-16} {"flow",-7} {"wall s",7} {"client",7} {"server",7} {"redis",7} {"others",7} {"machine busy",13} {"acked/CPU-s",12} {"×",6} {"client GC ms",13}");
        static double PerCpuSecond(double acked, CpuUse c) => acked / (c.ServerSeconds + c.RedisSeconds);
        foreach (var r in results)
        {
            foreach (var (flow, c, acked, baseAcked, baseCpu) in new[]
                     {
                         ("unary", r.UnaryCpu, (double)r.Unary.Ok, (double)baseline.Unary.Ok, baseline.UnaryCpu),
                         ("stream", r.StreamCpu, r.Stream.Accepted, baseline.Stream.Accepted, baseline.StreamCpu),
                     })
            {
                var perCpu = PerCpuSecond(acked, c);
                Console.WriteLine($"{r.Configuration.Name,-16} {flow,-7} {c.WallSeconds,7:F1} {c.ClientSeconds,7:F1} {c.ServerSeconds,7:F1} {c.RedisSeconds,7:F1} {c.OthersSeconds,7:F1} {c.MachineBusyPercent,12:F0}% " +
                                  $"{perCpu,12:N0} {Ratio(perCpu, PerCpuSecond(baseAcked, baseCpu)),6} {c.ClientGcPauseMs,8:F0} ({c.ClientGen2} gen2)");
            }
        }
        foreach (var r in results.Where(r => r.ServerWarnings.Count > 0))
        {
            Console.WriteLine();
            Console.WriteLine($"{r.Configuration.Name}: the exchange logged {r.ServerWarnings.Count} warning(s)/error(s) (last lines kept):");
            foreach (var line in r.ServerWarnings.Take(10)) Console.WriteLine($"  {line}");
        }
    }
}
