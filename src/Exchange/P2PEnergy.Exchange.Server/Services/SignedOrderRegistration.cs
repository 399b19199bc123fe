using Microsoft.Extensions.DependencyInjection.Extensions;
using P2PEnergy.Exchange.Server.Domain;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>DI for signed orders; ExchangeHost.AddExchange calls it.</summary>
public static class SignedOrderRegistration
{
    /// <summary>
    /// Registers the no-op <see cref="IOrderRootSink"/> unless one is registered already; a component that
    /// commits order roots on chain registers its own (before or after this call: the last registration wins).
    /// </summary>
    public static IServiceCollection AddSignedOrders(this IServiceCollection services)
    {
        services.TryAddSingleton<IOrderRootSink>(NoOrderRootSink.Instance);
        return services;
    }
}
