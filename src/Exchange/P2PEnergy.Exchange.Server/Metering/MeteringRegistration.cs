using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using P2PEnergy.Exchange.Server.Metering;

// In the Hosting namespace (beside ExchangeHost, which calls it) so that plugging metering in is two lines there.
namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>DI and endpoints for meter readings; ExchangeHost calls these two.</summary>
public static class MeteringRegistration
{
    /// <summary>
    /// Registers the store, its options (Exchange:ReadingDeadlineSeconds) and the no-op
    /// <see cref="IReadingRootSink"/> unless one is registered already (the last registration wins).
    /// </summary>
    public static WebApplicationBuilder AddMetering(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MeteringOptions>()
            .Bind(builder.Configuration.GetSection(MeteringOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MeteringOptions>>().Value);
        services.TryAddSingleton<IReadingRootSink>(NoReadingRootSink.Instance);
        services.AddSingleton(sp => new MeterReadingStore(
            sp.GetRequiredService<Domain.Market>(),
            sp.GetRequiredService<MeteringOptions>(),
            sp.GetRequiredService<ILogger<MeterReadingStore>>(),
            sp.GetRequiredService<IReadingRootSink>()));
        services.AddHostedService<MeteringDeadlineService>();
        return builder;
    }

    public static WebApplication MapMetering(this WebApplication app)
    {
        app.MapGrpcService<MeteringGrpcService>();
        app.MapGrpcService<MeteringAdminGrpcService>();
        return app;
    }
}
