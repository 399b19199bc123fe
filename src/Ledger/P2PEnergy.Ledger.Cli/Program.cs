using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Audit;
using P2PEnergy.Ledger.Redis;
using StackExchange.Redis;
using Api = P2PEnergy.Exchange.Protos.V1;
using Lot = P2PEnergy.Exchange.Lot;
using ParticipantAddress = P2PEnergy.Exchange.Address;

return await LedgerCli.RunAsync(args);

internal static class LedgerCli
{
    private const string Help = """
        p2penergy-ledger: the P2P Energy ledger on an Ethereum-compatible chain.

        Commands:
          deploy  --rpc URL --key HEX --operator ADDRESS --out FILE [--admin ADDRESS] [--artifact FILE]
                  [--grid-operator ADDRESS]
                  Deploys EnergyLedger from the compiled artifact (default: found upwards from here at
                  contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json), signed by --key; the admin
                  is the key's address unless --admin is given. Writes the deployment file (chain id, ledger,
                  admin, operator, deploy block, transaction, time) that the other processes read.
                  --grid-operator: then, as the admin (--key; not with another --admin), sets the account that
                  receives wheeling and retail money and pays buy-back in settlements (setGridOperator).
          operator --rpc URL --key HEX --deployment FILE --address ADDRESS [--disable]
                  As the ledger's admin (--key), lets ADDRESS record (e.g. a second operator key that commits
                  the slots' order roots), or stops it with --disable.
          lots    --rpc URL --deployment FILE [--slot N]
                  Prints the lots recorded on chain (LotRecorded events), optionally of one slot.
          record  --rpc URL --key HEX --deployment FILE --lots FILE [--batch N] [--delay-ms N]
                  Runs the recorder on its own: records the lots of a JSON-lines file (one lot object a line,
                  members as in `lots --json`) with the operator key, retrying until every lot is on chain;
                  lots already on chain are skipped. Ctrl+C stops it.
          record  --redis CONN [--market NAME] --rpc URL --key HEX --deployment FILE [--min-idle-ms N]
                  [--consumer NAME] [--batch N] [--delay-ms N] [--progress-ms N] [--heartbeat-file PATH]
                  Follows the exchange's lot outbox in Redis (stream p2pe:{NAME}:lots, consumer group
                  "recorders"; docs/redis.md) and records its lots until SIGINT or SIGTERM (then exit 0).
                  A lot leaves the outbox only once it is on chain. CONN: a StackExchange.Redis configuration,
                  e.g. 127.0.0.1:6379 or host:6379,password=...; --market: default "community".
                  --consumer: this recorder's name in the group (default HOST-PID); a recorder restarted
                  under the same name takes its unacknowledged lots back at once. --min-idle-ms: lots
                  another consumer has held unacknowledged this long are taken to be a dead recorder's and
                  are recorded here (default 60000); whatever is already on chain is acknowledged without
                  a transaction. Redis or the node down: errors are logged and retried, nothing is dropped.
                  Progress (lots, gas, backlog) is logged every --progress-ms (default 5000) while it changes.
                  --heartbeat-file: rewritten (temp file + rename) every --progress-ms, at most 5 s, with one JSON
                  line {"at":UNIX_S,"cycleAt":UNIX_S,"lotsRecorded":N,"foundOnChain":N,"backlog":N|null,"lastError":""}
                  while the recording loop has gone round (read the outbox, recorded, or retried) within 15 s;
                  a stuck or dead recorder leaves it stale (a health check: deploy/heartbeat-check.sh).
                  Deleted on a clean stop.
          deposit --rpc URL --key HEX --deployment FILE --to ADDRESS[,ADDRESS...] --amount-jpy N
                  As an operator (--key), credits N JPY paid in off chain to each account (settlement token,
                  1 JPY = 100000 units; N may have up to 5 decimals) and prints each balance after.
          audit   --rpc URL (--ledger ADDRESS [--from-block N] | --deployment FILE) [--exchange URL] [--json]
                  Rebuilds lots, settlements and balances from the ledger's events alone and checks every
                  invariant (docs/settlement-rules.md; each settled slot is settled again with the settlement
                  engine). Prints each participant's statement and the slots, then "audit passed: ..." (exit 0),
                  or every discrepancy and "audit failed: ..." (exit 1). --from-block: where the ledger's events
                  start (its deploy block or earlier; default 0, or the deploy block of --deployment).
                  --exchange: also compares with every lot of the exchange at URL (ExchangeService.GetLots,
                  all pages, no slot filter): a lot missing on chain, unknown to the exchange or different is a
                  discrepancy (lots still in the recorder's outbox show as missing on chain).

        Options:
          --json  (lots) one JSON object a line instead of a table; (audit) the report as one JSON document
          -h, --help
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" || args.Contains("-h") || args.Contains("--help"))
        {
            Console.WriteLine(Help);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var options = Options.Parse(args[1..]);
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            // SIGTERM (a service manager's stop, `kill`) stops as Ctrl+C does: the current step ends, then exit.
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                cts.Cancel();
            });
            return args[0] switch
            {
                "deploy" => await DeployAsync(options, cts.Token),
                "lots" => await LotsAsync(options, cts.Token),
                "operator" => await OperatorAsync(options, cts.Token),
                "record" => await RecordAsync(options, cts.Token),
                "deposit" => await DepositAsync(options, cts.Token),
                "audit" => await AuditAsync(options, cts.Token),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"p2penergy-ledger: {e.Message} (see --help)");
            return 2;
        }
        catch (Exception e) when (e is JsonRpcException or JsonRpcTransportException or LedgerRevertException or LedgerUnavailableException or IOException or FormatException
            or InvalidDataException or LotOutboxUnavailableException or RedisException)
        {
            Console.Error.WriteLine($"p2penergy-ledger: {e.Message}");
            return 1;
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"p2penergy-ledger: the exchange's GetLots failed: {e.StatusCode}: {e.Status.Detail}");
            return 1;
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static EthJsonRpcClient Client(Options o) => new(new JsonRpcClientOptions { Endpoint = new Uri(o.Required("rpc")) });

    private static async Task<int> DeployAsync(Options o, CancellationToken ct)
    {
        var artifactPath = o.Optional("artifact") ?? EnergyLedgerArtifact.Find(Directory.GetCurrentDirectory())
            ?? EnergyLedgerArtifact.Find(AppContext.BaseDirectory)
            ?? throw new UsageException($"no artifact found upwards from here ({EnergyLedgerArtifact.RelativePath}); compile the contracts (scripts/contracts-deps.sh) or pass --artifact");
        var key = EthKey.FromHex(o.Required("key"));
        var @operator = Address.Parse(o.Required("operator"));
        Address? admin = o.Optional("admin") is { } a ? Address.Parse(a) : null;
        Address? gridOperator = o.Optional("grid-operator") is { } g ? Address.Parse(g) : null;
        if (gridOperator is not null && admin is { } other && other != key.Address)
        {
            throw new UsageException("--grid-operator is set by the admin's key: leave out --admin, or set it later with that admin's key");
        }
        var output = o.Required("out");
        using var client = Client(o);
        var deployment = await Deployer.DeployToFileAsync(client, key, admin, @operator, EnergyLedgerArtifact.Load(artifactPath), output, cancellationToken: ct);
        Console.WriteLine($"EnergyLedger deployed at {deployment.Ledger} on chain {deployment.ChainId} (block {deployment.DeployBlock}, tx {deployment.TransactionHash}); admin {deployment.Admin}, operator {deployment.Operator}.");
        Console.WriteLine($"Deployment written to {Path.GetFullPath(output)}.");
        if (gridOperator is { } grid)
        {
            var contract = new EnergyLedgerContract(client, deployment);
            var receipt = await contract.SetGridOperatorAsync(key, grid, ct);
            Console.WriteLine($"Grid operator {await contract.GridOperatorAsync(ct)} (block {receipt.BlockNumber}).");
        }
        return 0;
    }

    private static async Task<int> DepositAsync(Options o, CancellationToken ct)
    {
        var deployment = LedgerDeployment.Load(o.Required("deployment"));
        var key = EthKey.FromHex(o.Required("key"));
        var accounts = o.Required("to").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Address.Parse).ToArray();
        if (accounts.Length == 0) throw new UsageException("--to needs at least one address");
        var units = DepositUnits(o.Required("amount-jpy"));
        using var client = Client(o);
        var contract = new EnergyLedgerContract(client, deployment);
        foreach (var account in accounts)
        {
            var receipt = await contract.DepositAsync(key, account, units, ct);
            var balance = await contract.BalanceOfAsync(account, cancellationToken: ct);
            Console.WriteLine($"{account}: deposited {JpyText.Exact(units)} JPY (block {receipt.BlockNumber}); balance {JpyText.Exact(balance)} JPY ({balance} units).");
        }
        return 0;
    }

    /// <summary>JPY as typed (up to 5 decimals, the token's) in token units of 1e-5 JPY; no rounding: more decimals are refused.</summary>
    private static BigInteger DepositUnits(string jpy)
    {
        if (!decimal.TryParse(jpy, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            throw new UsageException($"--amount-jpy must be a positive amount of JPY, not '{jpy}'");
        }
        var units = amount * JpyText.UnitsPerYen;
        if (units != decimal.Truncate(units))
        {
            throw new UsageException($"--amount-jpy {jpy} has more than 5 decimals (the token's unit is 0.00001 JPY)");
        }
        return new BigInteger(units);
    }

    private static async Task<int> AuditAsync(Options o, CancellationToken ct)
    {
        Address ledger;
        ulong fromBlock;
        if (o.Optional("deployment") is { } file)
        {
            if (o.Optional("ledger") is not null) throw new UsageException("give --ledger or --deployment, not both");
            var deployment = LedgerDeployment.Load(file);
            ledger = deployment.Ledger;
            fromBlock = o.Optional("from-block") is { } f ? ParseBlock(f) : deployment.DeployBlock;
        }
        else
        {
            ledger = Address.Parse(o.Required("ledger"));
            fromBlock = o.Optional("from-block") is { } f ? ParseBlock(f) : 0;
        }
        var json = o.Flag("json");
        IReadOnlyList<Lot>? exchangeLots = null;
        if (o.Optional("exchange") is { } exchange)
        {
            if (!Uri.TryCreate(exchange, UriKind.Absolute, out var url)) throw new UsageException($"--exchange must be a URL, not '{exchange}'");
            exchangeLots = await ExchangeLotsAsync(url, ct);
            // Said on stderr so that --json keeps stdout one document.
            Console.Error.WriteLine($"Read {exchangeLots.Count} lots from the exchange at {url} (ExchangeService.GetLots, every page, no slot filter).");
        }
        using var client = Client(o);
        var report = await new LedgerAuditor(client, ledger, fromBlock).AuditAsync(exchangeLots, ct);
        if (json)
        {
            Console.WriteLine(AuditReportWriter.ToJson(report));
        }
        else
        {
            AuditReportWriter.WriteText(report, Console.Out);
        }
        return report.Passed ? 0 : 1;
    }

    private static ulong ParseBlock(string text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var block)
            ? block
            : throw new UsageException($"--from-block must be a block number, not '{text}'");

    /// <summary>Every lot of the exchange: GetLots lists all slots when no slot is given, in lot-id order, paged.</summary>
    private static async Task<IReadOnlyList<Lot>> ExchangeLotsAsync(Uri url, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var exchange = new Api.ExchangeService.ExchangeServiceClient(channel);
        var lots = new List<Lot>();
        var token = string.Empty;
        do
        {
            var page = await exchange.GetLotsAsync(new Api.GetLotsRequest { PageSize = 1000, PageToken = token }, cancellationToken: ct);
            lots.AddRange(page.Lots.Select(FromWire));
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return lots;
    }

    private static Lot FromWire(Api.Lot l) => new(
        l.LotId, l.Slot, ParticipantAddress.Parse(l.Seller), ParticipantAddress.Parse(l.Buyer), l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks,
        l.Product switch
        {
            Api.Product.Standard => P2PEnergy.Exchange.Product.Standard,
            Api.Product.Green => P2PEnergy.Exchange.Product.Green,
            _ => throw new FormatException($"the exchange's lot {l.LotId} has no product ({l.Product})"),
        },
        l.Source switch
        {
            Api.EnergySource.Mixed => P2PEnergy.Exchange.EnergySource.Mixed,
            Api.EnergySource.Renewable => P2PEnergy.Exchange.EnergySource.Renewable,
            _ => throw new FormatException($"the exchange's lot {l.LotId} has no source ({l.Source})"),
        },
        l.SellOrderId, l.BuyOrderId);

    private static async Task<int> OperatorAsync(Options o, CancellationToken ct)
    {
        var deployment = LedgerDeployment.Load(o.Required("deployment"));
        var key = EthKey.FromHex(o.Required("key"));
        var address = Address.Parse(o.Required("address"));
        var enable = !o.Flag("disable");
        using var client = Client(o);
        var contract = new EnergyLedgerContract(client, deployment);
        var receipt = await contract.SetOperatorAsync(key, address, enable, ct);
        var now = await contract.IsOperatorAsync(address, ct);
        Console.WriteLine($"{address} {(now ? "may" : "may not")} record on ledger {deployment.Ledger} (block {receipt.BlockNumber}).");
        return now == enable ? 0 : 1;
    }

    private static async Task<int> LotsAsync(Options o, CancellationToken ct)
    {
        var deployment = LedgerDeployment.Load(o.Required("deployment"));
        long? slot = o.Optional("slot") is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : null;
        using var client = Client(o);
        var contract = new EnergyLedgerContract(client, deployment);
        var lots = await contract.GetRecordedLotsAsync(deployment.DeployBlock, slot: slot, cancellationToken: ct);
        if (o.Flag("json"))
        {
            foreach (var r in lots)
            {
                Console.WriteLine(JsonSerializer.Serialize(LotJson.From(r.Lot, r), Json));
            }
            return 0;
        }
        Console.WriteLine($"{"lot",10} {"slot",10} {"seller",-42} {"buyer",-42} {"Wh",10} {"price",8} {"fee",6} {"product",-8} {"source",-9} {"sell",8} {"buy",8} {"block",7}");
        foreach (var r in lots)
        {
            var l = r.Lot;
            Console.WriteLine($"{l.LotId,10} {l.Slot,10} {l.Seller,-42} {l.Buyer,-42} {l.EnergyWh,10} {l.PriceTicks,8} {l.WheelingFeeTicks,6} {l.Product,-8} {l.Source,-9} {l.SellOrderId,8} {l.BuyOrderId,8} {r.BlockNumber,7}");
        }
        Console.WriteLine($"{lots.Count} lot(s){(slot is { } x ? $" of slot {x}" : string.Empty)}; {await contract.LotCountAsync(cancellationToken: ct)} recorded in all.");
        return 0;
    }

    private static async Task<int> RecordAsync(Options o, CancellationToken ct)
    {
        if (o.Optional("redis") is not null)
        {
            if (o.Optional("lots") is not null) throw new UsageException("give --lots (a file) or --redis (follow the outbox), not both");
            return await FollowAsync(o, ct);
        }
        foreach (var name in new[] { "market", "min-idle-ms", "consumer", "progress-ms" })
        {
            if (o.Optional(name) is not null) throw new UsageException($"--{name} goes with --redis");
        }
        var deployment = LedgerDeployment.Load(o.Required("deployment"));
        var key = EthKey.FromHex(o.Required("key"));
        var outbox = new InMemoryLotOutbox();
        int count = 0;
        foreach (var line in File.ReadLines(o.Required("lots")).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            var json = JsonSerializer.Deserialize<LotJson>(line, Json) ?? throw new FormatException($"not a lot: {line}");
            await outbox.AddAsync(json.ToLot(), ct);
            count++;
        }
        var options = RecorderOptions(o);
        using var loggers = LoggerFactory.Create(builder => builder.AddSimpleConsole(c => c.SingleLine = true));
        using var recorder = LotRecorder.Create(new Uri(o.Required("rpc")), deployment, key, outbox, options, loggers.CreateLogger<LotRecorder>());
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = recorder.RunAsync(done.Token);
        while (await outbox.CountPendingAsync(ct) > 0 && !run.IsCompleted)
        {
            await Task.WhenAny(run, Task.Delay(100, CancellationToken.None));
        }
        await done.CancelAsync();
        await run;
        var stats = recorder.Stats;
        Console.WriteLine($"{count} lot(s) read; {stats.LotsRecorded} recorded in {stats.TransactionsConfirmed} transaction(s), {stats.LotsFoundOnChain} already on chain; gas {stats.GasUsed} ({stats.GasPerLot:0} a lot); {stats.Retries} retries.");
        return await outbox.CountPendingAsync(CancellationToken.None) == 0 ? 0 : 1;
    }

    private static LotRecorderOptions RecorderOptions(Options o) => new()
    {
        BatchSize = o.Optional("batch") is { } b
            ? PositiveInt("batch", b) is var n && n <= LotPacking.MaxBatch ? n : throw new UsageException($"--batch must be 1 to {LotPacking.MaxBatch} (EnergyLedger.MAX_BATCH)")
            : 200,
        MaxBatchDelay = TimeSpan.FromMilliseconds(o.Optional("delay-ms") is { } d ? NonNegativeInt("delay-ms", d) : 200),
    };

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new UsageException($"--{name} must be a positive whole number, not '{text}'");

    private static int NonNegativeInt(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UsageException($"--{name} must be a whole number, not '{text}'");

    /// <summary>record --redis: the recorder on the Redis outbox until SIGINT/SIGTERM.</summary>
    private static async Task<int> FollowAsync(Options o, CancellationToken ct)
    {
        var market = o.Optional("market") ?? RedisKeys.DefaultMarket;
        if (RedisKeys.Problem(market) is { } problem) throw new UsageException($"--market: {problem}");
        var outboxOptions = new RedisLotOutboxOptions
        {
            ConsumerName = o.Optional("consumer"),
            MinIdle = TimeSpan.FromMilliseconds(o.Optional("min-idle-ms") is { } m ? PositiveInt("min-idle-ms", m) : 60_000),
        };
        if (outboxOptions.ConsumerName is { Length: 0 }) throw new UsageException("--consumer is empty");
        var progressEvery = TimeSpan.FromMilliseconds(o.Optional("progress-ms") is { } p ? PositiveInt("progress-ms", p) : 5000);
        var heartbeatFile = o.Optional("heartbeat-file");
        if (heartbeatFile is { Length: 0 }) throw new UsageException("--heartbeat-file is empty");
        var options = RecorderOptions(o);
        var deployment = LedgerDeployment.Load(o.Required("deployment"));
        var key = EthKey.FromHex(o.Required("key"));
        var rpc = new Uri(o.Required("rpc"));
        var configuration = o.Required("redis");
        try
        {
            ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--redis '{configuration}' is not a Redis configuration: {e.Message}");
        }

        using var loggers = LoggerFactory.Create(builder => builder.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.TimestampFormat = "HH:mm:ss.fff ";
        }));
        var log = loggers.CreateLogger("p2penergy-ledger.record");
        // abortConnect=false: starting while Redis is down is fine; the recorder logs the errors and retries.
        await using var redis = await RedisLotOutbox.ConnectAsync(configuration, "p2penergy-recorder");
        var outbox = new RedisLotOutbox(redis, market, outboxOptions);
        log.LogInformation(
            "Following {Stream} on {Redis} ({State}) as consumer {Consumer} of group {Group}; lots held unacknowledged for {MinIdle} ms by another consumer are taken over.",
            outbox.StreamKey, string.Join(", ", redis.GetEndPoints().Select(e => e.ToString())), redis.IsConnected ? "connected" : "not connected yet",
            outbox.ConsumerName, RedisKeys.RecorderGroup, outboxOptions.MinIdle.TotalMilliseconds);
        using var recorder = LotRecorder.Create(rpc, deployment, key, outbox, options, loggers.CreateLogger<LotRecorder>());
        var started = TimeProvider.System.GetTimestamp();
        var run = recorder.RunAsync(ct);
        var progress = ReportProgressAsync(recorder, outbox, configuration, progressEvery, log, ct);
        using var heartbeatStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var heartbeat = heartbeatFile is null
            ? Task.CompletedTask
            : WriteHeartbeatAsync(recorder, run, outbox, heartbeatFile, progressEvery < HeartbeatMaxInterval ? progressEvery : HeartbeatMaxInterval, log, heartbeatStop.Token);
        try
        {
            await run; // returns when ct is cancelled (SIGINT/SIGTERM); throws on what cannot be retried
        }
        finally
        {
            await heartbeatStop.CancelAsync();
            await heartbeat;
        }
        await progress;
        var stats = recorder.Stats;
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        string left;
        try
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            left = (await outbox.CountPendingAsync(quick.Token)).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is LotOutboxUnavailableException or OperationCanceledException)
        {
            left = "unknown (Redis unavailable)";
        }
        loggers.Dispose(); // flush the log before the summary
        Console.WriteLine(
            $"Stopped after {elapsed.TotalSeconds:0.0} s: {stats.LotsRecorded} lot(s) recorded in {stats.TransactionsConfirmed} transaction(s), " +
            $"{stats.LotsFoundOnChain} already on chain; gas {stats.GasUsed} ({stats.GasPerLot:0} a lot); {stats.Retries} retries, " +
            $"{stats.TransportFailures} node failures, {stats.OutboxFailures} outbox failures; lots left in the outbox: {left}.");
        return 0;
    }

    /// <summary>Logs the recorder's progress every <paramref name="every"/> while something changes; ends when <paramref name="ct"/> is cancelled.</summary>
    private static async Task ReportProgressAsync(LotRecorder recorder, RedisLotOutbox outbox, string redis, TimeSpan every, ILogger log, CancellationToken ct)
    {
        var previous = recorder.Stats;
        string? previousBacklog = null;
        var clock = TimeProvider.System.GetTimestamp();
        try
        {
            while (true)
            {
                await Task.Delay(every, ct);
                var stats = recorder.Stats;
                var interval = TimeProvider.System.GetElapsedTime(clock);
                clock = TimeProvider.System.GetTimestamp();
                string backlog;
                try
                {
                    using var quick = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    quick.CancelAfter(TimeSpan.FromSeconds(2));
                    backlog = (await outbox.CountPendingAsync(quick.Token)).ToString(CultureInfo.InvariantCulture);
                }
                catch (LotOutboxUnavailableException e)
                {
                    backlog = $"unknown ({e.Message})";
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    backlog = $"unknown (Redis at {redis.Split(',')[0]} did not answer XLEN within 2 s)";
                }
                if (stats == previous && backlog == previousBacklog)
                {
                    continue;
                }
                var done = stats.LotsRecorded + stats.LotsFoundOnChain - previous.LotsRecorded - previous.LotsFoundOnChain;
                log.LogInformation(
                    "Progress: {Recorded} lots recorded in {Transactions} transactions, {Found} found already on chain, {Rate:0} lots/s over the last {Seconds:0.0} s; " +
                    "gas {Gas} ({GasPerLot:0} a lot); {Backlog} lots in the outbox; {Retries} retries, {NodeFailures} node failures, {OutboxFailures} outbox failures{LastError}",
                    stats.LotsRecorded, stats.TransactionsConfirmed, stats.LotsFoundOnChain, done / interval.TotalSeconds, interval.TotalSeconds,
                    stats.GasUsed, stats.GasPerLot, backlog, stats.Retries, stats.TransportFailures, stats.OutboxFailures,
                    stats.LastError is { } error && stats.LastErrorAt != previous.LastErrorAt ? $"; last error: {error}" : string.Empty);
                previous = stats;
                previousBacklog = backlog;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static readonly TimeSpan HeartbeatMaxInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The loop counts as alive while its last cycle is at most this old: above the idle read (1 s) and the longest
    /// backoff (10 s); a single long step (a receipt awaited up to 60 s) lets the file age meanwhile.
    /// </summary>
    private static readonly TimeSpan HeartbeatFreshness = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Rewrites <paramref name="path"/> every <paramref name="every"/> while <paramref name="run"/> is running and its loop went
    /// round recently (<see cref="LotRecorder.LastCycleAt"/>); otherwise leaves it to age. Deletes it when stopped.
    /// </summary>
    private static async Task WriteHeartbeatAsync(LotRecorder recorder, Task run, RedisLotOutbox outbox, string path, TimeSpan every, ILogger log, CancellationToken ct)
    {
        var temp = path + ".tmp";
        string? failure = null;
        try
        {
            while (!run.IsCompleted && !ct.IsCancellationRequested)
            {
                var now = TimeProvider.System.GetUtcNow();
                if (recorder.LastCycleAt is { } cycleAt && now - cycleAt <= HeartbeatFreshness)
                {
                    long? backlog;
                    try
                    {
                        using var quick = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        quick.CancelAfter(TimeSpan.FromSeconds(1));
                        backlog = await outbox.CountPendingAsync(quick.Token);
                    }
                    catch (Exception e) when (e is LotOutboxUnavailableException || e is OperationCanceledException && !ct.IsCancellationRequested)
                    {
                        backlog = null; // Redis down is the recorder's last error to report, not a dead loop
                    }
                    var stats = recorder.Stats;
                    var line = JsonSerializer.Serialize(
                        new Heartbeat(now.ToUnixTimeSeconds(), cycleAt.ToUnixTimeSeconds(), stats.LotsRecorded, stats.LotsFoundOnChain, backlog, stats.LastError ?? string.Empty), Json);
                    try
                    {
                        // Rename replaces the file at once: a health check never reads half a line.
                        await File.WriteAllTextAsync(temp, line + "\n", ct);
                        File.Move(temp, path, overwrite: true);
                        if (failure is not null) log.LogInformation("Heartbeat file {Path} written again.", path);
                        failure = null;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        if (e.Message != failure) log.LogWarning("Cannot write the heartbeat file {Path}: {Reason}; it goes stale.", path, e.Message);
                        failure = e.Message;
                    }
                }
                await Task.WhenAny(run, Task.Delay(every, ct));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        // Stopped: not alive any more, whatever the file's age says.
        try
        {
            File.Delete(path);
            File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The heartbeat file's line (record --heartbeat-file); times in unix seconds, backlog null when Redis did not answer.</summary>
    private sealed record Heartbeat(long At, long CycleAt, long LotsRecorded, long FoundOnChain, long? Backlog, string LastError);

    /// <summary>A lot as one JSON line (lots --json, record --lots).</summary>
    private sealed record LotJson(
        long LotId, long Slot, string Seller, string Buyer, long EnergyWh, long PriceTicks, long WheelingFeeTicks,
        string Product, string Source, long SellOrderId, long BuyOrderId, ulong? Block = null, string? Tx = null)
    {
        public static LotJson From(Lot l, RecordedLot? r = null) => new(
            l.LotId, l.Slot, l.Seller.ToString(), l.Buyer.ToString(), l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks,
            l.Product.ToString(), l.Source.ToString(), l.SellOrderId, l.BuyOrderId, r?.BlockNumber, r?.TransactionHash);

        public Lot ToLot() => new(
            LotId, Slot, ParticipantAddress.Parse(Seller), ParticipantAddress.Parse(Buyer), EnergyWh, PriceTicks, WheelingFeeTicks,
            Enum.Parse<P2PEnergy.Exchange.Product>(Product, ignoreCase: true), Enum.Parse<P2PEnergy.Exchange.EnergySource>(Source, ignoreCase: true),
            SellOrderId, BuyOrderId);
    }

    private sealed class Options
    {
        private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"unexpected argument '{args[i]}'");
                }
                var name = args[i][2..];
                if (name is "json" or "disable")
                {
                    o._values[name] = null;
                    continue;
                }
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"--{name} needs a value");
                }
                o._values[name] = args[++i];
            }
            return o;
        }

        public string Required(string name) =>
            _values.TryGetValue(name, out var v) && v is not null ? v : throw new UsageException($"--{name} is required");

        public string? Optional(string name) => _values.TryGetValue(name, out var v) ? v : null;

        public bool Flag(string name) => _values.ContainsKey(name);
    }

    private sealed class UsageException(string message) : Exception(message);
}
