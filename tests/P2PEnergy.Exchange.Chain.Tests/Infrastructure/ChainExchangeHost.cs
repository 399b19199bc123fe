namespace P2PEnergy.Exchange.Chain.Tests.Infrastructure;

using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using P2PEnergy.Exchange.Protos.V1;

/// <summary>
/// The whole exchange host in memory (TestServer) on the simulated clock, with real gRPC clients over the
/// factory's handler. Settings go in as host settings (UseSetting), which the app's builder sees when
/// AddExchange runs, as it would see command-line flags (scripts/demo.sh).
/// </summary>
public sealed class ChainExchangeHost : WebApplicationFactory<Program>
{
    /// <summary>2026-01-01T00:00:00Z, a slot start.</summary>
    public const long StartUnixSeconds = 1_767_225_600;

    public const long Slot0 = StartUnixSeconds / 1800;

    private readonly Dictionary<string, string?> _settings;
    private readonly Dictionary<string, string?> _appSettings;
    private GrpcChannel? _channel;

    /// <param name="settings">Host settings: seen by the app's builder, like command-line flags.</param>
    /// <param name="appSettings">Added with ConfigureAppConfiguration instead, which WebApplicationFactory applies only when the app builds its host.</param>
    public ChainExchangeHost(IDictionary<string, string?>? settings = null, IDictionary<string, string?>? appSettings = null)
    {
        _appSettings = new Dictionary<string, string?>(appSettings ?? new Dictionary<string, string?>());
        _settings = new Dictionary<string, string?>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            _settings[k] = v;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (k, v) in _settings)
        {
            builder.UseSetting(k, v);
        }
        if (_appSettings.Count > 0)
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_appSettings));
        }
    }

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
    {
        HttpHandler = Server.CreateHandler(),
        MaxReceiveMessageSize = null,
    });

    public ExchangeService.ExchangeServiceClient Exchange => new(Channel);

    public MarketAdmin.MarketAdminClient Admin => new(Channel);

    public LedgerStatus.LedgerStatusClient Ledger => new(Channel);

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}
