namespace P2PEnergy.Exchange.Server.Tests.Helpers;

using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using P2PEnergy.Exchange.Protos.V1;

/// <summary>The whole exchange host in memory (TestServer), on the simulated clock, with real gRPC clients.</summary>
public sealed class ExchangeHostFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private GrpcChannel? _channel;

    public ExchangeHostFactory(IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = TestMarket.StartUnixSeconds.ToString(),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) _settings[k] = v;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
    }

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = Server.CreateHandler(),
        MaxReceiveMessageSize = null,
    });

    public ExchangeService.ExchangeServiceClient Exchange => new(Channel);

    public MarketAdmin.MarketAdminClient Admin => new(Channel);

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}
