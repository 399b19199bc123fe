using System.Numerics;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Exchange.Server.Settlement;
using P2PEnergy.Ledger;
using EthAddress = P2PEnergy.Ethereum.Address;
using EthJsonRpcClient = P2PEnergy.Ethereum.EthJsonRpcClient;
using EthKey = P2PEnergy.Ethereum.EthKey;
using JsonRpcClientOptions = P2PEnergy.Ethereum.JsonRpcClientOptions;

namespace P2PEnergy.Exchange.Server.Chain;

/// <summary>Settled slots to the chain (settleSlot) and demo deposits, with Ledger:SettlerKey (docs/settlement-rules.md, "On chain").</summary>
public static class ChainSettlementRegistration
{
    /// <summary>1 JPY in token units (1e-5 JPY, DESIGN.md Units).</summary>
    public const long UnitsPerJpy = 100_000;

    internal static IServiceCollection AddChainSettlement(this IServiceCollection services, LedgerOptions options)
    {
        services.AddSingleton(_ => new SettlerClient(new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = new Uri(options.RpcUrl) })));
        services.AddSingleton(sp =>
        {
            var deployment = LedgerDeployment.Load(options.DeploymentFile);
            return new ChainSettler(
                new EnergyLedgerContract(sp.GetRequiredService<SettlerClient>().Client, deployment),
                EthKey.FromHex(options.SettlerKey),
                deployment.DeployBlock,
                sp.GetService<ILogger<ChainSettler>>(),
                sp.GetService<TimeProvider>())
            {
                GasBudget = options.SettlementGasBudget,
            };
        });
        services.AddSingleton<ChainSettlementFeeder>();
        services.AddHostedService(sp => sp.GetRequiredService<ChainSettlementFeeder>());
        return services;
    }
}

/// <summary>The settler's JSON-RPC client, owned (and disposed) by the container.</summary>
public sealed class SettlerClient(EthJsonRpcClient client) : IDisposable
{
    public EthJsonRpcClient Client { get; } = client;

    public void Dispose() => Client.Dispose();
}

/// <summary>
/// Hands each slot the exchange settles to the <see cref="ChainSettler"/> (the engine's per-lot flows, every bill's
/// reading with its meter, the slot's prices and policy, and the slot's lots), runs the settler, and with
/// Ledger:DepositJpy tops up every participant at registration and the grid operator at start.
/// </summary>
public sealed class ChainSettlementFeeder(
    IServiceProvider services, ChainSettler settler, Market market, LedgerOptions options, ILogger<ChainSettlementFeeder> logger) : BackgroundService
{
    private SlotSettler? _settler;

    private BigInteger Minimum => new BigInteger(options.DepositJpy) * ChainSettlementRegistration.UnitsPerJpy;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _settler = services.GetRequiredService<SlotSettler>();
        _settler.Settled += OnSettled;
        if (options.DepositJpy > 0)
        {
            market.ParticipantRegistered += OnRegistered;
            foreach (var participant in market.Snapshot().Participants) OnRegistered(participant.Address);
        }
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stopping may follow a failed start, after the container is gone: touch only what StartAsync kept.
        if (_settler is not null) _settler.Settled -= OnSettled;
        market.ParticipantRegistered -= OnRegistered;
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.DepositJpy > 0)
        {
            try
            {
                var grid = await settler.Contract.GridOperatorAsync(stoppingToken);
                if (grid == EthAddress.Zero) logger.LogWarning("The ledger has no grid operator: settleSlot will refuse every slot until the admin sets one.");
                else settler.EnqueueDeposit(grid, Minimum);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("Could not read the ledger's grid operator for its deposit: {Reason}", e.Message);
            }
        }
        await settler.RunAsync(stoppingToken);
    }

    private void OnRegistered(Address participant) => settler.EnqueueDeposit(new EthAddress(participant.ToBytes()), Minimum);

    private void OnSettled(SettledSlot settled)
    {
        // Nothing traded and no meter reported: nothing to put on chain.
        if (settled.Lots.Count == 0 && settled.Settlement.Bills.Count == 0) return;
        var store = services.GetRequiredService<MeterReadingStore>();
        var missing = settled.MissingReadings.ToHashSet();
        var order = SlotSettlementOrder.From(
            settled.Settlement,
            participant => store.TryGetMeterOf(participant, out var meter) ? new EthAddress(meter.ToBytes()) : null,
            missing);
        settler.EnqueueSettlement(order, settled.Lots);
    }
}
