using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace P2PEnergy.Ledger;

/// <summary>Runs a <see cref="LotRecorder"/> for the lifetime of a host.</summary>
public sealed class LotRecorderService : BackgroundService
{
    private readonly LotRecorder _recorder;

    public LotRecorderService(LotRecorder recorder)
    {
        _recorder = recorder;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _recorder.RunAsync(stoppingToken);
}

/// <summary>What a host needs to run the recorder.</summary>
public sealed record LotRecorderSettings
{
    public required Uri RpcUrl { get; init; }

    /// <summary>The operator's private key, 0x + 64 hex digits.</summary>
    public required string OperatorKeyHex { get; init; }

    /// <summary>The deployment file the deploy command wrote.</summary>
    public required string DeploymentPath { get; init; }

    public LotRecorderOptions Recorder { get; init; } = new();
}

public static class LotRecorderServiceCollectionExtensions
{
    /// <summary>
    /// Registers the recorder as a hosted service, with an <see cref="InMemoryLotOutbox"/> as
    /// <see cref="ILotOutbox"/> unless one is registered already (the exchange adds lots to the same singleton).
    /// </summary>
    public static IServiceCollection AddLotRecorder(this IServiceCollection services, LotRecorderSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        services.TryAddSingleton<ILotOutbox>(sp => new InMemoryLotOutbox(sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => LotRecorder.Create(
            settings.RpcUrl,
            LedgerDeployment.Load(settings.DeploymentPath),
            EthKey.FromHex(settings.OperatorKeyHex),
            sp.GetRequiredService<ILotOutbox>(),
            settings.Recorder,
            sp.GetService<ILogger<LotRecorder>>(),
            sp.GetService<TimeProvider>()));
        services.AddHostedService<LotRecorderService>();
        return services;
    }
}
