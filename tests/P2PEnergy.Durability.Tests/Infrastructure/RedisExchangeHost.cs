using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Durability;

namespace P2PEnergy.Durability.Tests.Infrastructure;

/// <summary>
/// The whole exchange host in memory (TestServer) on the simulated clock, in Redis mode against a real redis-server.
/// Settings go in as host settings (UseSetting): the Redis and Ledger sections are read while the host is built.
/// </summary>
public sealed class RedisExchangeHost : WebApplicationFactory<Program>
{
    public const long StartUnixSeconds = 1_767_225_600; // 2026-01-01T00:00:00Z, a slot start

    private readonly Dictionary<string, string> _settings;
    private GrpcChannel? _channel;

    public RedisExchangeHost(string redisConnection, string market, IDictionary<string, string>? settings = null)
    {
        _settings = new Dictionary<string, string>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Exchange:DefaultMechanism"] = "Continuous",
            ["Redis:ConnectionString"] = redisConnection,
            ["Redis:Market"] = market,
            ["Redis:AckTimeoutMs"] = "2000",
            ["Redis:ConnectTimeoutMs"] = "5000",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>()) _settings[k] = v;
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

    public ExchangeService.ExchangeServiceClient Exchange => new(Channel);

    public MarketAdmin.MarketAdminClient Admin => new(Channel);

    public RecoveryReport? Recovery => Services.GetRequiredService<JournalRecovery>().Last;

    public RedisMarketJournal Journal => Services.GetRequiredService<RedisMarketJournal>();

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}
