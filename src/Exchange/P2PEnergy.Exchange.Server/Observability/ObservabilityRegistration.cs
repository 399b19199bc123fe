using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using P2PEnergy.Exchange.Server.Chain;
using P2PEnergy.Ledger;

namespace P2PEnergy.Exchange.Server.Observability;

/// <summary>
/// Configuration section "Observability" (docs/observability.md). Nothing here is needed for the metrics to be
/// measured: the meter is always there for any listener (dotnet-counters, tests); these settings add exporters.
/// JSON logs are ASP.NET's own setting, Logging:Console:FormatterName=json.
/// </summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>
    /// OTLP collector for metrics, logs and traces, e.g. http://localhost:4317. Empty: the standard
    /// OTEL_EXPORTER_OTLP_ENDPOINT environment variable decides (with the other OTEL_EXPORTER_OTLP_* variables);
    /// neither set: nothing is exported over OTLP.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary>With <see cref="OtlpEndpoint"/>: "grpc" (default, port 4317) or "http/protobuf" (port 4318).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>
    /// A port for a Prometheus scrape endpoint, GET /metrics over HTTP/1.1 on all interfaces (the gRPC endpoint
    /// is HTTP/2 only, which Prometheus cannot scrape). 0: off.
    /// </summary>
    public int PrometheusPort { get; set; }

    internal OtlpExportProtocol Protocol => OtlpProtocol.Trim().ToLowerInvariant() switch
    {
        "grpc" => OtlpExportProtocol.Grpc,
        "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
        _ => throw Invalid($"{Section}:{nameof(OtlpProtocol)} '{OtlpProtocol}' is neither grpc nor http/protobuf"),
    };

    public void Validate()
    {
        if (OtlpEndpoint.Length > 0 && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            throw Invalid($"{Section}:{nameof(OtlpEndpoint)} '{OtlpEndpoint}' is not an http(s) URL");
        _ = Protocol;
        if (PrometheusPort is < 0 or > 65535)
            throw Invalid($"{Section}:{nameof(PrometheusPort)} {PrometheusPort} is outside 0 … 65535");
    }

    private static OptionsValidationException Invalid(string message) => new(Section, typeof(ObservabilityOptions), [message]);

    /// <summary>The settings that differ between two bindings of the section.</summary>
    internal IEnumerable<string> DifferencesFrom(ObservabilityOptions other)
    {
        if (OtlpEndpoint != other.OtlpEndpoint) yield return $"{Section}:{nameof(OtlpEndpoint)}";
        if (OtlpProtocol != other.OtlpProtocol) yield return $"{Section}:{nameof(OtlpProtocol)}";
        if (PrometheusPort != other.PrometheusPort) yield return $"{Section}:{nameof(PrometheusPort)}";
    }
}

public static class ObservabilityRegistration
{
    /// <summary>The service name exported unless OTEL_SERVICE_NAME says otherwise.</summary>
    public const string ServiceName = "p2penergy-exchange";

    /// <summary>
    /// Registers <see cref="ExchangeMetrics"/> and OpenTelemetry: the exchange's meter with ASP.NET Core's and the
    /// runtime's metrics; OTLP export of metrics, logs and traces when an endpoint is configured; a Prometheus
    /// scrape endpoint with Observability:PrometheusPort.
    /// </summary>
    public static WebApplicationBuilder AddObservability(this WebApplicationBuilder builder)
    {
        var options = new ObservabilityOptions();
        builder.Configuration.GetSection(ObservabilityOptions.Section).Bind(options);
        options.Validate();
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddMetrics();
        services.AddSingleton<ExchangeMetrics>();
        services.AddHostedService<ChainMetricsBinding>();

        var otel = services.AddOpenTelemetry();
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_SERVICE_NAME"])) otel.ConfigureResource(r => r.AddService(ServiceName));
        otel.WithMetrics(metrics =>
        {
            metrics.AddMeter(ExchangeMetrics.MeterName).AddAspNetCoreInstrumentation().AddRuntimeInstrumentation();
            if (options.PrometheusPort > 0) metrics.AddPrometheusExporter();
        });

        var fromEnvironment = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (options.OtlpEndpoint.Length > 0 || fromEnvironment)
        {
            otel.WithLogging(configureBuilder: null, configureOptions: logs =>
            {
                // Structured: the template's named values go as attributes; the rendered message too, for people.
                logs.IncludeFormattedMessage = true;
                logs.IncludeScopes = true;
            });
            otel.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation());
            if (options.OtlpEndpoint.Length > 0) otel.UseOtlpExporter(options.Protocol, new Uri(options.OtlpEndpoint));
            else otel.UseOtlpExporter();
        }

        if (options.PrometheusPort > 0)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(options.PrometheusPort, listen => listen.Protocols = HttpProtocols.Http1));
        }
        return builder;
    }

    public static WebApplication MapObservability(this WebApplication app)
    {
        // Like the Ledger section: read while the builder was set up, so settings added later must not be lost silently.
        var final = new ObservabilityOptions();
        app.Configuration.GetSection(ObservabilityOptions.Section).Bind(final);
        var options = app.Services.GetRequiredService<ObservabilityOptions>();
        var changed = options.DifferencesFrom(final).ToList();
        if (changed.Count > 0)
        {
            throw new InvalidOperationException(
                $"{string.Join(", ", changed)} changed after the exchange read the Observability section; " +
                "pass Observability:* settings as command-line arguments, environment variables, appsettings or host settings (UseSetting).");
        }
        if (options.PrometheusPort > 0)
        {
            // Only on its own HTTP/1.1 port: the gRPC port stays gRPC only.
            app.MapPrometheusScrapingEndpoint().RequireHost($"*:{options.PrometheusPort}");
        }
        return app;
    }
}

/// <summary>
/// Points the observable instruments at the chain's parts that this process runs (none without Ledger:RpcUrl):
/// the lot outbox, the lot recorder, the order-root committer and the chain settler. Their Ledger code is not
/// touched: their stats are read when a reader collects.
/// </summary>
internal sealed class ChainMetricsBinding(ExchangeMetrics metrics, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<ILotOutbox>() is { } outbox) metrics.ObserveLotsWaiting(outbox);
        if (services.GetService<LotRecorder>() is { } recorder)
        {
            var feeder = services.GetService<LotOutboxFeeder>();
            metrics.ObserveChainErrors(ChainComponent.Recorder, () => ExchangeMetrics.ErrorCounts.Of(recorder.Stats, feeder?.LotsRefused ?? 0));
        }
        if (services.GetService<OrderRootCommitter>() is { } roots)
        {
            metrics.ObserveChainErrors(ChainComponent.RootCommitter, () => ExchangeMetrics.ErrorCounts.Of(roots.Stats));
        }
        if (services.GetService<ChainSettler>() is { } settler)
        {
            metrics.ObserveChainErrors(ChainComponent.Settler, () => ExchangeMetrics.ErrorCounts.Of(settler.Stats));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
