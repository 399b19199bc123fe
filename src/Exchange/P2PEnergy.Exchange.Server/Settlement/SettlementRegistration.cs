using Microsoft.Extensions.Options;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Exchange.Server.Settlement;

// In the Hosting namespace (beside ExchangeHost, which calls it), like MeteringRegistration.
namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>DI and endpoints for the off-chain settlement of slots (docs/settlement-rules.md, "In the exchange").</summary>
public static class SettlementRegistration
{
    /// <summary>
    /// Registers the policy (Exchange:Settlement:*), the <see cref="SlotSettler"/> and, as the
    /// <see cref="IReadingRootSink"/>, a <see cref="SettlingReadingRootSink"/> that wraps the sink registered before
    /// (the no-op one of <see cref="MeteringRegistration.AddMetering"/>, or any other): call it after everything
    /// that registers a reading root sink.
    /// </summary>
    public static WebApplicationBuilder AddSettlement(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SettlementOptions>()
            .Bind(builder.Configuration.GetSection(SettlementOptions.Section))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(sp => new SlotSettler(
            sp.GetRequiredService<Domain.Market>(),
            () => sp.GetRequiredService<MeterReadingStore>(),
            sp.GetRequiredService<IOptions<SettlementOptions>>().Value.ToPolicy(),
            sp.GetRequiredService<ILogger<SlotSettler>>()));

        var previous = services.LastOrDefault(d => d.ServiceType == typeof(IReadingRootSink) && !d.IsKeyedService);
        if (previous is not null) services.Remove(previous);
        services.AddSingleton<IReadingRootSink>(sp => new SettlingReadingRootSink(
            sp.GetRequiredService<SlotSettler>(),
            previous is null ? NoReadingRootSink.Instance : Create(sp, previous)));
        return builder;
    }

    public static WebApplication MapSettlement(this WebApplication app)
    {
        app.MapGrpcService<SettlementGrpcService>();
        return app;
    }

    private static IReadingRootSink Create(IServiceProvider sp, ServiceDescriptor d) => (IReadingRootSink)(
        d.ImplementationInstance
        ?? d.ImplementationFactory?.Invoke(sp)
        ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!));
}
