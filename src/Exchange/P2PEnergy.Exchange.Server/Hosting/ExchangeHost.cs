using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Chain;
using P2PEnergy.Exchange.Server.Durability;
using P2PEnergy.Exchange.Server.Observability;
using P2PEnergy.Exchange.Server.Services;

namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>How the exchange is put together; Program.cs calls these two.</summary>
public static class ExchangeHost
{
    public static WebApplicationBuilder AddExchange(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ExchangeOptions>()
            .Bind(builder.Configuration.GetSection(ExchangeOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ExchangeOptions>>().Value);
        services.AddSingleton(sp => CreateClock(sp.GetRequiredService<ExchangeOptions>()));
        services.AddSignedOrders();
        services.AddSingleton<Market>();
        services.AddSingleton<MarketDataHub>();
        services.AddHostedService<GateClosingService>();

        services.AddGrpc(grpc => grpc.Interceptors.Add<JournalUnavailableInterceptor>());
        services.AddOptions<GrpcServiceOptions>()
            .Configure<ExchangeOptions>((grpc, exchange) => grpc.MaxReceiveMessageSize = exchange.MaxMessageSizeBytes);
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks().AddCheck<MarketHealthCheck>("market");
        builder.AddDurability(); // before the chain recording: in Redis mode the lot outbox is Redis's
        builder.AddChainRecording();
        builder.AddMetering();
        builder.AddSettlement();
        builder.AddObservability();
        return builder;
    }

    public static WebApplication MapExchange(this WebApplication app)
    {
        // Resolve the market at start-up so that a bad configuration fails now, not at the first call.
        app.Services.GetRequiredService<MarketDataHub>();
        // Redis mode: the market is rebuilt from its journal before any service answers.
        app.RecoverFromJournal();
        app.MapGrpcService<ExchangeGrpcService>();
        app.MapGrpcService<MarketAdminGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapChainRecording();
        app.MapMetering();
        app.MapSettlement();
        app.MapObservability();
        return app;
    }

    internal static MarketClock CreateClock(ExchangeOptions options)
    {
        if (options.Clock != ClockKind.Simulated) return MarketClock.System;
        var start = options.SimulatedStartUnixSeconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(options.SimulatedStartUnixSeconds)
            : DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds() / options.SlotSeconds * options.SlotSeconds);
        return MarketClock.Simulate(new SimulatedClock(start));
    }
}

/// <summary>The market answers (its lock is not stuck) and tells its clock.</summary>
internal sealed class MarketHealthCheck(Market market) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        market.TryGetSlot(0, out _);
        var data = new Dictionary<string, object>
        {
            ["clock"] = market.Clock.Simulated is null ? "system" : "simulated",
            ["nowUnixMs"] = market.Clock.NowUnixMs,
        };
        return Task.FromResult(HealthCheckResult.Healthy("market is trading", data));
    }
}
