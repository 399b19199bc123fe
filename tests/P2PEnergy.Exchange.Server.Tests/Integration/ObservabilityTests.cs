namespace P2PEnergy.Exchange.Server.Tests.Integration;

using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Chain;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Observability;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using P2PEnergy.Exchange.Server.Tests.Unit;
using P2PEnergy.Ledger;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>Tests whose OpenTelemetry pipeline sees every meter of its name in the process: run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ObservabilityCollection
{
    public const string Name = "observability";
}

/// <summary>
/// The exchange's metrics and logs through the whole host (TestServer, real gRPC client): what orders, trades
/// and the lot outbox record, that the OpenTelemetry pipeline and the Prometheus endpoint export them, and that
/// configuration turns on JSON console logs and OTLP log export.
/// </summary>
[Collection(ObservabilityCollection.Name)]
public sealed class ObservabilityTests : IDisposable
{
    private const long Cda = Slot0 + 2;

    private readonly ExchangeHostFactory _host = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private readonly List<IDisposable> _disposables = [];

    public void Dispose()
    {
        foreach (var d in Enumerable.Reverse(_disposables)) d.Dispose();
        _timeout.Dispose();
        _host.Dispose();
    }

    private CancellationToken Ct => _timeout.Token;

    /// <summary>The test host with more host settings or services; its own gRPC channel.</summary>
    private (WebApplicationFactory<Program> Host, GrpcChannel Channel) Customized(
        IDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        var host = _host.WithWebHostBuilder(builder =>
        {
            foreach (var (k, v) in settings ?? new Dictionary<string, string>()) builder.UseSetting(k, v);
            if (services is not null) builder.ConfigureTestServices(services);
        });
        _disposables.Add(host);
        var channel = GrpcChannel.ForAddress(host.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = host.Server.CreateHandler() });
        _disposables.Add(channel);
        return (host, channel);
    }

    private MetricCapture Capture(IServiceProvider services)
    {
        var capture = new MetricCapture(services.GetRequiredService<ExchangeMetrics>().Meter);
        _disposables.Add(capture);
        return capture;
    }

    private async Task SetUpAsync(GrpcChannel channel)
    {
        var admin = new MarketAdmin.MarketAdminClient(channel);
        await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Seller, Zone = 0, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);
        await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Buyer, Zone = 1, Kind = ParticipantKind.Household }, cancellationToken: Ct);
        await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Other, Zone = 1, Kind = ParticipantKind.Phev }, cancellationToken: Ct);
        await admin.OpenSlotAsync(new OpenSlotRequest { Slot = Cda, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
    }

    private Task<SubmitOrderResponse> SubmitAsync(GrpcChannel channel, NewOrder order) =>
        new ExchangeService.ExchangeServiceClient(channel).SubmitOrderAsync(new SubmitOrderRequest { Order = Signed(order) }, cancellationToken: Ct).ResponseAsync;

    [Fact]
    public async Task Orders_over_grpc_are_counted_by_result()
    {
        var capture = Capture(_host.Services);
        await SetUpAsync(_host.Channel);

        await SubmitAsync(_host.Channel, Sell(Seller, 1, Cda, 1000, 2000));
        var refused = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(_host.Channel, Buy(Buyer, 1, Cda, 150, 2000)));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);

        Assert.Equal(1, capture.Sum("p2penergy.orders", ("command", "submit"), ("result", "ok")));
        Assert.Equal(1, capture.Sum("p2penergy.orders", ("command", "submit"), ("result", "invalid")));
        Assert.Equal(2, capture.Sum("p2penergy.orders"));
    }

    [Fact]
    public async Task A_trade_counts_its_lots_and_every_command_is_timed_once()
    {
        var capture = Capture(_host.Services);
        await SetUpAsync(_host.Channel);

        var sell = await SubmitAsync(_host.Channel, Sell(Seller, 1, Cda, 400, 2000));
        var other = await SubmitAsync(_host.Channel, Sell(Other, 1, Cda, 400, 2100, EnergySource.Mixed));
        var buy = await SubmitAsync(_host.Channel, Buy(Buyer, 1, Cda, 600, 2500));
        Assert.Equal(2, buy.Lots.Count);
        Assert.Equal(buy.Lots.Count, capture.Sum("p2penergy.lots.matched"));

        await new ExchangeService.ExchangeServiceClient(_host.Channel).CancelOrderAsync(SignedCancel(Other, other.Order.OrderId), cancellationToken: Ct);
        await Assert.ThrowsAsync<RpcException>(() =>
            new ExchangeService.ExchangeServiceClient(_host.Channel).CancelOrderAsync(SignedCancel(Seller, sell.Order.OrderId), cancellationToken: Ct).ResponseAsync);

        var durations = capture.Of("p2penergy.matching.duration");
        Assert.Equal(5, durations.Count);
        Assert.Equal(3, durations.Count(m => m.Tags["command"] == "submit"));
        Assert.Equal(2, durations.Count(m => m.Tags["command"] == "cancel"));
        Assert.Equal(buy.Lots.Count, capture.Sum("p2penergy.lots.matched"));
    }

    [Fact]
    public async Task Lots_waiting_follows_the_lot_outbox_the_market_feeds()
    {
        var outbox = new InMemoryLotOutbox();
        var (host, channel) = Customized(services: s =>
        {
            s.RemoveAll<ILotOutbox>();
            s.AddSingleton<ILotOutbox>(outbox);
            s.AddSingleton<LotOutboxFeeder>();
            s.AddHostedService(sp => sp.GetRequiredService<LotOutboxFeeder>());
        });
        var capture = Capture(host.Services);
        await SetUpAsync(channel);
        Assert.Equal(0, capture.Observe("p2penergy.lots.waiting"));

        await SubmitAsync(channel, Sell(Seller, 1, Cda, 1000, 2000));
        await SubmitAsync(channel, Buy(Buyer, 1, Cda, 600, 2500));
        await SubmitAsync(channel, Buy(Other, 1, Cda, 200, 2000));
        Assert.Equal(2, capture.Observe("p2penergy.lots.waiting"));

        // The recorder's part: a lot confirmed on chain is acknowledged and no longer waits.
        using var reader = outbox.OpenReader();
        var first = await reader.ReadAsync(1, TimeSpan.Zero, Ct);
        await reader.AckAsync([first.Single().LotId], Ct);
        Assert.Equal(1, capture.Observe("p2penergy.lots.waiting"));
    }

    [Fact]
    public async Task The_exchange_meter_reaches_the_OpenTelemetry_pipeline_with_its_buckets()
    {
        var exported = new List<MetricSnapshot>();
        var (host, channel) = Customized(services: s => s.ConfigureOpenTelemetryMeterProvider(b => b.AddInMemoryExporter(exported)));
        await SetUpAsync(channel);
        await SubmitAsync(channel, Sell(Seller, 1, Cda, 1000, 2000));

        Assert.True(host.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000));

        var orders = Assert.Single(exported, m => m.Name == "p2penergy.orders");
        Assert.Equal("P2PEnergy.Exchange", orders.MeterName);
        var point = Assert.Single(orders.MetricPoints);
        Assert.Equal(1, point.GetSumLong());
        Assert.Equal(new Dictionary<string, object?> { ["command"] = "submit", ["result"] = "ok" }, Tags(point));

        var matching = Assert.Single(exported, m => m.Name == "p2penergy.matching.duration");
        Assert.Equal("s", matching.Unit);
        var histogram = Assert.Single(matching.MetricPoints);
        Assert.Equal(1, histogram.GetHistogramCount());
        var bounds = new List<double>();
        foreach (var bucket in histogram.GetHistogramBuckets()) bounds.Add(bucket.ExplicitBound);
        Assert.Equal(0.000_001, bounds[0]); // microsecond buckets, not OpenTelemetry's millisecond defaults
    }

    private static Dictionary<string, object?> Tags(MetricPoint point)
    {
        var tags = new Dictionary<string, object?>();
        foreach (var tag in point.Tags) tags[tag.Key] = tag.Value;
        return tags;
    }

    [Fact]
    public async Task Prometheus_scrape_endpoint_serves_on_its_own_port_only_when_configured()
    {
        var none = await _host.CreateClient().GetAsync(new Uri("http://localhost:9464/metrics"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);

        var (host, channel) = Customized(new Dictionary<string, string> { ["Observability:PrometheusPort"] = "9464" });
        await SetUpAsync(channel);
        await SubmitAsync(channel, Sell(Seller, 1, Cda, 1000, 2000));
        using var client = host.CreateClient();

        var scrape = await client.GetAsync(new Uri("http://localhost:9464/metrics"), Ct);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var text = await scrape.Content.ReadAsStringAsync(Ct);
        Assert.Contains("# TYPE p2penergy_orders_total counter", text);
        Assert.Contains("p2penergy_orders_total{otel_scope_name=\"P2PEnergy.Exchange\"", text);
        Assert.Contains("p2penergy_matching_duration_seconds_bucket", text);

        var otherPort = await client.GetAsync(new Uri("http://localhost:5080/metrics"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, otherPort.StatusCode);
    }

    [Fact]
    public void Observability_settings_added_after_the_builder_ran_are_refused()
    {
        using var late = new ExchangeHostFactory(new Dictionary<string, string?> { ["Observability:PrometheusPort"] = "9464" });
        var e = Assert.ThrowsAny<Exception>(() => late.Server);
        Assert.Contains("Observability:PrometheusPort changed after the exchange read the Observability section", e.ToString());
    }

    [Fact]
    public async Task Json_console_logs_are_turned_on_by_configuration_and_carry_our_event_fields()
    {
        Assert.NotEqual("json", _host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);

        var captured = new CapturingLoggerProvider();
        using var json = new ExchangeHostFactory(new Dictionary<string, string?> { ["Logging:Console:FormatterName"] = "json" });
        var host = json.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<ILoggerProvider>(captured)));
        _disposables.Add(host);
        Assert.Contains(host.Services.GetServices<ILoggerProvider>(), p => p is ConsoleLoggerProvider);
        var options = host.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        Assert.Equal("json", options.FormatterName);
        var formatter = Assert.Single(host.Services.GetServices<ConsoleFormatter>(), f => f.Name == options.FormatterName);

        using var channel = GrpcChannel.ForAddress(host.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = host.Server.CreateHandler() });
        await new MarketAdmin.MarketAdminClient(channel).RegisterParticipantAsync(
            new RegisterParticipantRequest { Address = Seller, Zone = 3, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);

        var registered = Assert.Single(captured.Entries, e => e.Category == typeof(Market).FullName && e.EventId == 1);
        using var line = JsonDocument.Parse(registered.Format(formatter));
        var root = line.RootElement;
        Assert.Equal(1, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("P2PEnergy.Exchange.Server.Domain.Market", root.GetProperty("Category").GetString());
        var state = root.GetProperty("State");
        Assert.Equal(Seller, state.GetProperty("Address").GetString());
        Assert.Equal(3, state.GetProperty("Zone").GetInt32());
        Assert.Equal("Prosumer", state.GetProperty("Kind").GetString());
        Assert.Equal("Participant {Address} registered in zone {Zone} as {Kind}", state.GetProperty("{OriginalFormat}").GetString());
    }

    [Fact]
    public void An_otlp_endpoint_turns_on_log_export_and_none_leaves_it_off()
    {
        Assert.DoesNotContain(_host.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);

        // Nothing listens there: the exporter's attempts fail quietly; only the wiring is checked.
        var (host, _) = Customized(new Dictionary<string, string> { ["Observability:OtlpEndpoint"] = "http://127.0.0.1:4317" });
        Assert.Contains(host.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);

        var (fromEnvironment, _) = Customized(new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317" });
        Assert.Contains(fromEnvironment.Services.GetServices<ILoggerProvider>(), p => p is OpenTelemetryLoggerProvider);
    }

    /// <summary>Keeps every log entry, so that a test can format it with the host's console formatter.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<CapturedLog> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                provider.Entries.Enqueue(new CapturedLog(category, eventId.Id, console =>
                {
                    using var text = new StringWriter();
                    console.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), scopeProvider: null, text);
                    return text.ToString();
                }));
            }
        }
    }

    private sealed record CapturedLog(string Category, int EventId, Func<ConsoleFormatter, string> Format);
}
