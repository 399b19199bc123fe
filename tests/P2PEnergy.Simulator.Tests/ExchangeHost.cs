namespace P2PEnergy.Simulator.Tests;

using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

/// <summary>
/// The whole exchange host in memory (TestServer) on the simulated clock and without a chain, with a real gRPC
/// channel over the factory's handler (after tests/P2PEnergy.Exchange.Chain.Tests' ChainExchangeHost).
/// </summary>
public sealed class ExchangeHost : WebApplicationFactory<P2PEnergy.Exchange.Server.Settlement.SlotSettler>
{
    /// <summary>2026-01-01T00:00:00Z (09:00 JST), a slot start.</summary>
    public const long StartUnixSeconds = 1_767_225_600;

    private readonly Dictionary<string, string?> _settings;
    private GrpcChannel? _channel;

    public ExchangeHost(IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) _settings[k] = v;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
    }

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = Server.CreateHandler(),
        MaxReceiveMessageSize = null,
    });

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}
