using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using P2PEnergy.Deployment.Tests.Infrastructure;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Ledger;

namespace P2PEnergy.Deployment.Tests;

/// <summary>The exchange's container environment against the options classes the server binds, and its ports against everyone else's URLs.</summary>
public sealed partial class ExchangeConfigurationTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load();
    private static readonly Assembly Server = typeof(ExchangeOptions).Assembly;
    private const string AppSettings = "src/Exchange/P2PEnergy.Exchange.Server/appsettings.json";

    /// <summary>The exchange's environment: the image's ENV, then compose's (which wins).</summary>
    private static Dictionary<string, string> ExchangeEnvironment()
    {
        var exchange = Compose["exchange"];
        var environment = new Dictionary<string, string>(exchange.Dockerfile!.Final.Environment, StringComparer.Ordinal);
        foreach (var (key, value) in exchange.Environment) environment[key] = value;
        return environment;
    }

    /// <summary>Every class of the server with a <c>public const string Section</c>, by section (several may share one).</summary>
    private static ILookup<string, Type> OptionsClasses() => Server.GetTypes()
        .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
        .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
        .ToLookup(x => (string)x.Field!.GetRawConstantValue()!, x => x.Type, StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void The_Redis_options_class_exists_with_the_settings_compose_uses()
    {
        var redis = OptionsClasses()["Redis"].SingleOrDefault();
        Assert.True(redis is not null, "the exchange has no options class with Section = \"Redis\"");
        Assert.NotNull(redis!.GetProperty("ConnectionString"));
        Assert.NotNull(redis.GetProperty("Market"));
    }

    [Fact]
    public void Every_setting_in_the_exchange_environment_is_one_the_server_reads()
    {
        var sections = OptionsClasses();
        var endpoints = KestrelEndpoints();
        foreach (var key in ExchangeEnvironment().Keys)
        {
            if (key.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || key.StartsWith("DOTNET_", StringComparison.Ordinal) || key.StartsWith("OTEL_", StringComparison.Ordinal)) continue;
            Assert.True(key.Contains("__", StringComparison.Ordinal), $"exchange: '{key}' is no configuration key (SECTION__NAME)");
            var path = key.Split("__");
            switch (path[0])
            {
                case "Logging":
                    continue;
                case "Kestrel":
                    // Another endpoint name would add a second endpoint beside appsettings' own (localhost only in a container).
                    Assert.True(path is ["Kestrel", "Endpoints", var name, "Url"] && endpoints.Contains(name),
                        $"exchange: {key} names no endpoint of {AppSettings} ({string.Join(", ", endpoints)})");
                    continue;
            }
            Assert.True(Binds(sections, path), $"exchange: {key} ({string.Join(':', path)}) is no property of the server's options classes ({string.Join(", ", sections.Select(g => g.Key))})");
        }
    }

    /// <summary>Some section is a prefix of the path, and the rest walks down public settable properties of one of its classes.</summary>
    private static bool Binds(ILookup<string, Type> sections, string[] path)
    {
        for (var length = 1; length < path.Length; length++)
        {
            var section = string.Join(':', path[..length]);
            foreach (var type in sections[section])
            {
                var current = type;
                var found = true;
                foreach (var name in path[length..])
                {
                    var property = current.GetProperty(name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                    if (property is null || (property.SetMethod?.IsPublic != true && property.PropertyType.IsValueType))
                    {
                        found = false;
                        break;
                    }
                    current = property.PropertyType;
                }
                if (found) return true;
            }
        }
        return false;
    }

    [Fact]
    public async Task The_exchange_accepts_its_compose_configuration()
    {
        // The server's own registration and validation (options, Redis, ledger, observability), with the compose
        // environment; only the deployment file is a stand-in (the deploy job writes the real one). Nothing connects.
        var folder = Directory.CreateTempSubdirectory("p2pe-deployment-tests-");
        try
        {
            var deploymentFile = Path.Combine(folder.FullName, "deployment.json");
            new LedgerDeployment
            {
                ChainId = 31337,
                Ledger = P2PEnergy.Ethereum.Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
                Admin = P2PEnergy.Ethereum.Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
                Operator = P2PEnergy.Ethereum.Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
                DeployBlock = 1,
                TransactionHash = "0x" + new string('1', 64),
                DeployedAt = DateTimeOffset.UnixEpoch,
            }.Save(deploymentFile);
            var settings = ExchangeEnvironment()
                .Where(kv => kv.Key.Contains("__", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
            Assert.True(settings.ContainsKey("Ledger:DeploymentFile"));
            settings["Ledger:DeploymentFile"] = deploymentFile;

            var builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                EnvironmentName = "Production",
                ApplicationName = Server.GetName().Name,
                ContentRootPath = Path.GetDirectoryName(Repo.PathOf(AppSettings)),
            });
            builder.Configuration.AddInMemoryCollection(settings);
            builder.AddExchange();
            await using var app = builder.Build();
            var exchange = app.Services.GetRequiredService<IOptions<ExchangeOptions>>().Value;
            Assert.Equal(ClockKind.Simulated, exchange.Clock);
            Assert.Equal("0x5FbDB2315678afecb367f032d93F642f64180aa3", exchange.LedgerAddress, ignoreCase: true);
            foreach (var type in OptionsClasses().SelectMany(g => g).Where(t => t.GetConstructor(Type.EmptyTypes) is not null))
            {
                // Each options class the server validates on first use, as it will at start-up.
                var options = typeof(IOptions<>).MakeGenericType(type);
                _ = options.GetProperty(nameof(IOptions<object>.Value))!.GetValue(app.Services.GetRequiredService(options));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_exchange_port_is_the_one_the_image_exposes_checks_and_everyone_calls()
    {
        var exchange = Compose["exchange"];
        var image = exchange.Dockerfile!.Final;
        var environment = ExchangeEnvironment();
        var url = environment.GetValueOrDefault("Kestrel__Endpoints__Grpc__Url") ?? throw new Xunit.Sdk.XunitException("exchange: no Kestrel__Endpoints__Grpc__Url in the image or compose");
        var port = PortOf(url);
        Assert.Matches(@"^http://(\+|\*|0\.0\.0\.0|\[::\]):\d+$", url); // all interfaces: localhost would be unreachable from the other containers

        Assert.Contains(port, image.ExposedPorts);
        Assert.Contains(port, exchange.PublishedContainerPorts);
        var health = ComposeTopologyTests.HealthcheckOf(exchange) ?? throw new Xunit.Sdk.XunitException("exchange: no health check");
        Assert.Contains(health, w => w == $"http://127.0.0.1:{port}" || w == $"http://localhost:{port}");

        // Every port published is one the exchange listens on: gRPC, and the Prometheus port when it is set.
        var listening = new HashSet<int> { port };
        if (environment.TryGetValue("Observability__PrometheusPort", out var prometheus) && int.Parse(prometheus, System.Globalization.CultureInfo.InvariantCulture) > 0)
        {
            listening.Add(int.Parse(prometheus, System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Empty(exchange.PublishedContainerPorts.Except(listening));

        var callers = UrlsOf("exchange").ToList();
        Assert.Contains(callers, c => c.Service == "agents");
        foreach (var (service, callerUrl) in callers)
        {
            Assert.True(callerUrl == $"http://exchange:{port}", $"{service} calls {callerUrl}; the exchange listens on {port} (h2c)");
        }
    }

    [Fact]
    public void The_gRPC_endpoint_speaks_HTTP2_without_TLS_as_the_probe_and_the_agents_expect()
    {
        using var json = JsonDocument.Parse(Repo.Read(AppSettings));
        Assert.Equal("Http2", json.RootElement.GetProperty("Kestrel").GetProperty("EndpointDefaults").GetProperty("Protocols").GetString());
    }

    [Fact]
    public void Chain_URLs_use_the_port_the_node_listens_on_and_it_answers_the_devnet_chain_id()
    {
        var chain = Compose["chain"];
        var image = chain.Dockerfile!.Final;
        var entrypoint = image.Entrypoint ?? throw new Xunit.Sdk.XunitException("chain: no ENTRYPOINT");
        Assert.Contains("node", entrypoint);
        var port = int.Parse(entrypoint[entrypoint.ToList().IndexOf("--port") + 1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("0.0.0.0", entrypoint[entrypoint.ToList().IndexOf("--hostname") + 1]); // 127.0.0.1 is unreachable from other containers
        Assert.Contains(port, image.ExposedPorts);
        Assert.All(chain.PublishedContainerPorts, p => Assert.Equal(port, p));

        var health = image.Healthcheck ?? throw new Xunit.Sdk.XunitException("chain: no HEALTHCHECK");
        Assert.Contains($"http://127.0.0.1:{port}", health);
        var chainId = HardhatChainId().Match(Repo.Read("contracts/hardhat.config.js")).Groups[1].Value;
        Assert.Equal(chainId, health[^1]);

        var callers = UrlsOf("chain").ToList();
        Assert.Contains(callers, c => c.Service == "exchange");
        Assert.Contains(callers, c => c.Service == "recorder");
        Assert.Contains(callers, c => c.Service == "deploy");
        foreach (var (service, url) in callers)
        {
            Assert.True(url == $"http://chain:{port}", $"{service} calls {url}; the node listens on {port}");
        }
    }

    [Fact]
    public void Exchange_and_recorder_share_the_Redis_server_and_the_market()
    {
        var environment = Compose["exchange"].Environment;
        var recorder = Compose["recorder"];
        var connection = environment.GetValueOrDefault("Redis__ConnectionString");
        Assert.False(string.IsNullOrEmpty(connection), "exchange: no Redis__ConnectionString: it would run in memory and the recorder would wait for nothing");
        Assert.Equal("redis:6379", connection!.Split(',')[0]);
        Assert.DoesNotContain("--port", Compose["redis"].Command ?? []);
        Assert.Equal("record", recorder.Command?[0]);
        Assert.Equal(connection, recorder.Option("--redis"));
        var market = environment.GetValueOrDefault("Redis__Market") ?? P2PEnergy.Ledger.Redis.RedisKeys.DefaultMarket;
        Assert.Equal(market, recorder.Option("--market") ?? P2PEnergy.Ledger.Redis.RedisKeys.DefaultMarket);
        Assert.Null(P2PEnergy.Ledger.Redis.RedisKeys.Problem(market));
        Assert.Contains("redis", recorder.DependsOn.Keys);
        Assert.Contains("redis", Compose["exchange"].DependsOn.Keys);
    }

    [Fact]
    public void The_agents_drive_the_exchange_clock_with_its_admin_token()
    {
        var environment = Compose["exchange"].Environment;
        var agents = Compose["agents"];
        Assert.Equal("day", agents.Command?[0]);
        // `day` needs the simulated clock (it advances it through MarketAdmin).
        Assert.Equal("Simulated", environment.GetValueOrDefault("Exchange__Clock"), ignoreCase: true);
        var token = environment.GetValueOrDefault("Exchange__AdminToken");
        Assert.False(string.IsNullOrEmpty(token), "exchange: no Exchange__AdminToken: anyone reaching the port could move the clock");
        Assert.Equal(token, agents.Option("--admin-token"));
    }

    /// <summary>Every http://HOST:PORT naming <paramref name="host"/> in a command, entrypoint or environment of another service.</summary>
    private static IEnumerable<(string Service, string Url)> UrlsOf(string host)
    {
        foreach (var service in Compose.Services.Values.Where(s => s.Name != host))
        {
            var words = (service.Command ?? []).Concat(service.Entrypoint ?? []).Concat(service.Environment.Values);
            foreach (var word in words)
            {
                foreach (Match m in Regex.Matches(word, $@"\bhttps?://{Regex.Escape(host)}(:\d+)?[^\s,]*"))
                {
                    yield return (service.Name, m.Value);
                }
            }
        }
    }

    private static int PortOf(string url) => int.Parse(PortSuffix().Match(url).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    private static HashSet<string> KestrelEndpoints()
    {
        using var json = JsonDocument.Parse(Repo.Read(AppSettings));
        return json.RootElement.GetProperty("Kestrel").GetProperty("Endpoints").EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@":(\d+)/?$")]
    private static partial Regex PortSuffix();

    [GeneratedRegex(@"chainId:\s*(\d+)")]
    private static partial Regex HardhatChainId();
}
