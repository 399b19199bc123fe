using Grpc.Core;
using Microsoft.Extensions.Options;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Ledger;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Chain;

/// <summary>
/// Configuration section "Ledger": where the exchange records its lots. With no RpcUrl the exchange runs
/// without a chain (lots stay in memory and are served over gRPC only).
/// </summary>
public sealed class LedgerOptions
{
    public const string Section = "Ledger";

    /// <summary>The chain's JSON-RPC URL, e.g. http://127.0.0.1:8545. Empty: no chain.</summary>
    public string RpcUrl { get; set; } = "";

    /// <summary>The deployment file written by `p2penergy-ledger deploy` (chain id, ledger address, operator).</summary>
    public string DeploymentFile { get; set; } = "";

    /// <summary>The operator's private key (0x + 64 hex digits), the key the ledger lets record lots.</summary>
    public string OperatorKey { get; set; } = "";

    /// <summary>
    /// A second operator key (0x + 64 hex digits) that commits each slot's Merkle root of signed orders after
    /// its gate closes. Its own key, so that its nonces never race the lot recorder's. Empty: roots are not
    /// put on chain (the exchange still serves them with GetOrderProof).
    /// </summary>
    public string RootCommitterKey { get; set; } = "";

    /// <summary>
    /// A third operator key (0x + 64 hex digits) that puts each settled slot on chain (settleSlot) and credits
    /// deposits. Empty: settlements stay off chain (served by SettlementService only).
    /// </summary>
    public string SettlerKey { get; set; } = "";

    /// <summary>
    /// Demo deposits: with a settler key, every registered participant and the grid operator are topped up to this
    /// many JPY in the settlement token (the operator credits deposits, issue 5). 0: no deposits.
    /// </summary>
    public long DepositJpy { get; set; }

    /// <summary>Lots a transaction at most.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>
    /// Gas a settlement transaction is planned to use at most: a slot over it (thousands of parties) is settled on chain
    /// in pages each under it. Below the 16,777,216 gas a transaction may use (EIP-7825).
    /// </summary>
    public long SettlementGasBudget { get; set; } = SettlementPlan.DefaultGasBudget;

    /// <summary>How long the recorder waits for more lots before it sends a smaller batch.</summary>
    public int MaxBatchDelayMs { get; set; } = 200;

    public bool Enabled => !string.IsNullOrWhiteSpace(RpcUrl);

    /// <summary>Whether the lot recorder runs in the exchange (an operator key is set); in Redis mode it may run on its own.</summary>
    public bool RecordsInProcess => Enabled && !string.IsNullOrWhiteSpace(OperatorKey);

    /// <param name="separateRecorder">Redis mode: lots go through the Redis outbox, so the recorder may be its own process (no Ledger:OperatorKey).</param>
    public void Validate(bool separateRecorder = false)
    {
        if (!Enabled) return;
        if (!Uri.TryCreate(RpcUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:RpcUrl '{RpcUrl}' is not an http(s) URL"]);
        if (string.IsNullOrWhiteSpace(DeploymentFile) || !File.Exists(DeploymentFile))
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:DeploymentFile '{DeploymentFile}' does not exist; deploy first (p2penergy-ledger deploy ... --out FILE)"]);
        if (string.IsNullOrWhiteSpace(OperatorKey) && !separateRecorder)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), ["Ledger:OperatorKey is required with Ledger:RpcUrl (without Redis the lot recorder runs in the exchange)"]);
        var operatorKey = string.IsNullOrWhiteSpace(OperatorKey) ? null : ParseKey(nameof(OperatorKey), OperatorKey);
        if (!string.IsNullOrWhiteSpace(RootCommitterKey) && ParseKey(nameof(RootCommitterKey), RootCommitterKey).Address == operatorKey?.Address)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), ["Ledger:RootCommitterKey must be another key than Ledger:OperatorKey (their nonces would race)"]);
        if (!string.IsNullOrWhiteSpace(SettlerKey))
        {
            var settler = ParseKey(nameof(SettlerKey), SettlerKey).Address;
            if (settler == operatorKey?.Address || (!string.IsNullOrWhiteSpace(RootCommitterKey) && settler == ParseKey(nameof(RootCommitterKey), RootCommitterKey).Address))
                throw new OptionsValidationException(Section, typeof(LedgerOptions), ["Ledger:SettlerKey must be another key than Ledger:OperatorKey and Ledger:RootCommitterKey (their nonces would race)"]);
        }
        if (DepositJpy is < 0 or > 1_000_000_000)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:DepositJpy {DepositJpy} is outside 0 … 1,000,000,000"]);
        if (BatchSize is < 1 or > 1000)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:BatchSize {BatchSize} is outside 1 … 1000"]);
        if (MaxBatchDelayMs < 0)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:MaxBatchDelayMs {MaxBatchDelayMs} is negative"]);
        if (SettlementGasBudget is < SettlementPlan.MinGasBudget or > 16_777_216)
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:SettlementGasBudget {SettlementGasBudget} is outside 200,000 … 16,777,216 (the gas a transaction may use)"]);
    }

    /// <summary>The key, or an error naming the setting (never the value: it is a private key).</summary>
    private static EthKey ParseKey(string name, string hex)
    {
        try
        {
            return EthKey.FromHex(hex.Trim());
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new OptionsValidationException(Section, typeof(LedgerOptions), [$"Ledger:{name} is not a private key (0x + 64 hex digits)"]);
        }
    }

    /// <summary>The settings that differ between two bindings of the section (names only: keys are secret).</summary>
    internal IEnumerable<string> DifferencesFrom(LedgerOptions other)
    {
        if (RpcUrl != other.RpcUrl) yield return $"{Section}:{nameof(RpcUrl)}";
        if (DeploymentFile != other.DeploymentFile) yield return $"{Section}:{nameof(DeploymentFile)}";
        if (OperatorKey != other.OperatorKey) yield return $"{Section}:{nameof(OperatorKey)}";
        if (RootCommitterKey != other.RootCommitterKey) yield return $"{Section}:{nameof(RootCommitterKey)}";
        if (SettlerKey != other.SettlerKey) yield return $"{Section}:{nameof(SettlerKey)}";
        if (DepositJpy != other.DepositJpy) yield return $"{Section}:{nameof(DepositJpy)}";
        if (BatchSize != other.BatchSize) yield return $"{Section}:{nameof(BatchSize)}";
        if (MaxBatchDelayMs != other.MaxBatchDelayMs) yield return $"{Section}:{nameof(MaxBatchDelayMs)}";
    }
}

public static class ChainRecording
{
    /// <summary>
    /// With Ledger:RpcUrl set: every lot the market makes goes into the lot outbox, and the lot recorder
    /// (a hosted service in this process) puts it on chain. Without it: nothing is registered but the status.
    /// </summary>
    public static WebApplicationBuilder AddChainRecording(this WebApplicationBuilder builder)
    {
        var options = new LedgerOptions();
        builder.Configuration.GetSection(LedgerOptions.Section).Bind(options);
        // Redis mode: the journal writer puts lots in the Redis outbox once they are durable, and a recorder
        // (here with Ledger:OperatorKey, or `p2penergy-ledger record --redis`) takes them from there.
        var redisMode = !string.IsNullOrWhiteSpace(builder.Configuration[$"{Durability.RedisOptions.Section}:{nameof(Durability.RedisOptions.ConnectionString)}"]);
        options.Validate(separateRecorder: redisMode);
        builder.Services.AddSingleton(options);
        if (options.Enabled)
        {
            // Orders are signed for one ledger: the one the lots go to. An unset Exchange:LedgerAddress takes the
            // deployment's address and chain id; a different one is a configuration error.
            builder.Services.PostConfigure<ExchangeOptions>(exchange => AgreeWithDeployment(exchange, LedgerDeployment.Load(options.DeploymentFile)));
            // Read once (GetLedgerStatus needs it when the recorder runs in its own process).
            builder.Services.AddSingleton(_ => LedgerDeployment.Load(options.DeploymentFile));
            builder.Services.AddSingleton(_ => new RootCommitterClient(new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = new Uri(options.RpcUrl) })));
            if (options.RecordsInProcess)
            {
                builder.Services.AddLotRecorder(new LotRecorderSettings
                {
                    RpcUrl = new Uri(options.RpcUrl),
                    OperatorKeyHex = options.OperatorKey,
                    DeploymentPath = options.DeploymentFile,
                    Recorder = new LotRecorderOptions
                    {
                        BatchSize = options.BatchSize,
                        MaxBatchDelay = TimeSpan.FromMilliseconds(options.MaxBatchDelayMs),
                    },
                });
            }
            if (!redisMode)
            {
                builder.Services.AddSingleton<LotOutboxFeeder>();
                builder.Services.AddHostedService(sp => sp.GetRequiredService<LotOutboxFeeder>());
            }
            if (!string.IsNullOrWhiteSpace(options.RootCommitterKey))
            {
                builder.Services.AddSingleton(sp =>
                {
                    var deployment = LedgerDeployment.Load(options.DeploymentFile);
                    return new OrderRootCommitter(
                        new EnergyLedgerContract(sp.GetRequiredService<RootCommitterClient>().Client, deployment),
                        EthKey.FromHex(options.RootCommitterKey),
                        sp.GetService<ILogger<OrderRootCommitter>>(),
                        sp.GetService<TimeProvider>());
                });
                builder.Services.AddSingleton<IOrderRootSink, OrderRootCommitterSink>();
                builder.Services.AddHostedService<OrderRootCommitterService>();
            }
            if (!string.IsNullOrWhiteSpace(options.SettlerKey)) builder.Services.AddChainSettlement(options);
        }
        return builder;
    }

    /// <summary>Makes the signing domain (Exchange:ChainId, Exchange:LedgerAddress) name the deployed ledger.</summary>
    internal static void AgreeWithDeployment(ExchangeOptions exchange, LedgerDeployment deployment)
    {
        var deployed = deployment.Ledger.ToString();
        if (!P2PEnergy.Signing.MarketSigning.TryParseAddress(exchange.LedgerAddress, out var configured) || configured.IsZero)
        {
            exchange.LedgerAddress = deployed;
            exchange.ChainId = deployment.ChainId;
            return;
        }
        if (configured != deployment.Ledger || exchange.ChainId != deployment.ChainId)
        {
            throw new OptionsValidationException(LedgerOptions.Section, typeof(ExchangeOptions),
            [
                $"Exchange:LedgerAddress {exchange.LedgerAddress} on chain {exchange.ChainId} is not the ledger of Ledger:DeploymentFile " +
                $"({deployed} on chain {deployment.ChainId}): orders would be signed for another contract than the one holding the lots",
            ]);
        }
    }

    public static WebApplication MapChainRecording(this WebApplication app)
    {
        // AddChainRecording read the section while the builder was being set up (what to register depends on
        // it). Configuration added later (e.g. WebApplicationFactory's ConfigureAppConfiguration, applied when
        // the host is built) would otherwise be silently ignored: the exchange would run without its chain.
        var final = new LedgerOptions();
        app.Configuration.GetSection(LedgerOptions.Section).Bind(final);
        var changed = app.Services.GetRequiredService<LedgerOptions>().DifferencesFrom(final).ToList();
        if (changed.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", changed)} changed after the exchange read the Ledger section (configuration added after " +
                "WebApplication.CreateBuilder, e.g. with ConfigureAppConfiguration, is not seen by the chain recording); " +
                "pass Ledger:* settings as command-line arguments, environment variables, appsettings or host settings (UseSetting).");
        }
        app.MapGrpcService<LedgerStatusGrpcService>();
        return app;
    }
}

/// <summary>
/// Hands every lot the market makes to the lot outbox, in lot-id order, under the market's lock (the
/// in-memory outbox only queues, it never waits).
/// </summary>
public sealed class LotOutboxFeeder(Market market, ILotOutbox outbox, ILogger<LotOutboxFeeder> logger) : IMarketListener, IHostedService
{
    private long _lotsMade;
    private long _lotsRefused;
    private volatile string? _lastRefusal;

    public long LotsMade => Interlocked.Read(ref _lotsMade);

    /// <summary>Lots the outbox would not take (they cannot be put on chain); each is logged as an error.</summary>
    public long LotsRefused => Interlocked.Read(ref _lotsRefused);

    public string? LastRefusal => _lastRefusal;

    public bool WantsBookUpdates => false;

    public void OnUpdate(MarketUpdate update)
    {
        foreach (var e in update.Events)
        {
            if (e is not LotCreatedEvent created) continue;
            Interlocked.Increment(ref _lotsMade);
            try
            {
                var pending = outbox.AddAsync(created.Lot);
                if (!pending.IsCompletedSuccessfully)
                {
                    // The in-memory outbox completes at once; an outbox that cannot must not be used under the lock.
                    pending.AsTask().GetAwaiter().GetResult();
                }
            }
            catch (ArgumentException refused)
            {
                // The trade stands (the market made it; GetLots serves it) but the chain cannot hold it: say so
                // loudly, never throw into the market's command, which has already been applied.
                Interlocked.Increment(ref _lotsRefused);
                _lastRefusal = $"lot {created.Lot.LotId} cannot be recorded: {refused.Message}";
                logger.LogError("Lot {LotId} cannot be recorded on chain: {Reason}", created.Lot.LotId, refused.Message);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        market.AddListener(this);
        logger.LogInformation("Lots go to the chain through the lot recorder.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        market.RemoveListener(this);
        return Task.CompletedTask;
    }
}

/// <summary>The root committer's JSON-RPC client, owned (and disposed) by the container.</summary>
public sealed class RootCommitterClient(EthJsonRpcClient client) : IDisposable
{
    public EthJsonRpcClient Client { get; } = client;

    public void Dispose() => Client.Dispose();
}

/// <summary>Hands each sealed slot's order root to the committer (never blocks the market).</summary>
public sealed class OrderRootCommitterSink(OrderRootCommitter committer) : IOrderRootSink
{
    public void OrderRootReady(long slot, byte[] root, int count) => committer.Enqueue(slot, root, checked((uint)count));
}

public sealed class OrderRootCommitterService(OrderRootCommitter committer) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => committer.RunAsync(stoppingToken);
}

/// <summary>GetLedgerStatus: what the recorder has done, for operators and the demo.</summary>
public sealed class LedgerStatusGrpcService(IServiceProvider services, LedgerOptions options) : Api.LedgerStatus.LedgerStatusBase
{
    public override async Task<Api.GetLedgerStatusResponse> GetLedgerStatus(Api.GetLedgerStatusRequest request, ServerCallContext context)
    {
        if (!options.Enabled) return new Api.GetLedgerStatusResponse { Enabled = false };
        var recorder = services.GetService<LotRecorder>(); // null: the recorder runs on its own (Redis mode)
        var outbox = services.GetRequiredService<ILotOutbox>();
        var feeder = services.GetService<LotOutboxFeeder>(); // null in Redis mode: the journal feeds the outbox
        var stats = recorder?.Stats ?? new LotRecorderStats();
        var deployment = recorder?.Deployment ?? services.GetRequiredService<LedgerDeployment>();
        var roots = services.GetService<OrderRootCommitter>();
        var rootStats = roots?.Stats;
        var settler = services.GetService<ChainSettler>();
        return new Api.GetLedgerStatusResponse
        {
            Enabled = true,
            ChainId = deployment.ChainId,
            LedgerAddress = deployment.Ledger.ToString(),
            Operator = recorder?.Operator.ToString() ?? deployment.Operator.ToString(),
            LotsMade = feeder?.LotsMade ?? services.GetRequiredService<Market>().Snapshot().LotCount,
            LotsPending = await outbox.CountPendingAsync(context.CancellationToken),
            LotsRecorded = stats.LotsRecorded,
            LotsFoundOnChain = stats.LotsFoundOnChain,
            TransactionsConfirmed = stats.TransactionsConfirmed,
            GasUsed = stats.GasUsed,
            Retries = stats.Retries,
            LastBlock = stats.LastBlock,
            // The recorder's last failure, else the root committer's (a root that cannot be committed must show too).
            LastError = feeder?.LastRefusal ?? stats.LastError ?? (rootStats?.LastError is { } rootError ? $"order roots: {rootError}" : null)
                ?? (settler?.Stats.LastError is { } settleError ? $"settlement: {settleError}" : ""),
            RootsCommitted = rootStats is null ? 0 : rootStats.RootsCommitted + rootStats.RootsFoundOnChain,
            RootsPending = roots?.Pending ?? 0,
            SlotsSettledOnChain = settler is null ? 0 : settler.Stats.SlotsSettled + settler.Stats.SlotsFoundOnChain,
            SettlementsPending = settler?.Pending ?? 0,
            SettlementGasUsed = settler?.Stats.GasUsed ?? 0,
            DeployBlock = deployment.DeployBlock,
            SettlementTransactions = settler?.Stats.SettlementTransactions ?? 0,
            SlotsSettledInPages = settler?.Stats.SlotsPaged ?? 0,
        };
    }
}
