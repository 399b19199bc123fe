using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Mvc.Testing;
using P2PEnergy.HealthProbe;

namespace P2PEnergy.Deployment.Tests;

/// <summary>p2penergy-healthprobe, the exchange image's HEALTHCHECK, against the exchange host itself.</summary>
public sealed class HealthProbeTests : IClassFixture<WebApplicationFactory<global::Program>>
{
    private readonly WebApplicationFactory<global::Program> _exchange;

    public HealthProbeTests(WebApplicationFactory<global::Program> exchange) => _exchange = exchange;

    private static CancellationTokenSource Timeout => new(TimeSpan.FromSeconds(30));

    [Fact]
    public async Task The_exchange_answers_SERVING()
    {
        using var http = new HttpMessageInvoker(_exchange.Server.CreateHandler());
        var result = await GrpcHealthProbe.CheckAsync(http, _exchange.Server.BaseAddress, "", Timeout.Token);
        Assert.Equal(new ProbeResult(true, "SERVING"), result);
    }

    [Fact]
    public async Task An_unknown_service_is_not_serving()
    {
        using var http = new HttpMessageInvoker(_exchange.Server.CreateHandler());
        var result = await GrpcHealthProbe.CheckAsync(http, _exchange.Server.BaseAddress, "no.such.Service", Timeout.Token);
        Assert.False(result.Serving);
        Assert.StartsWith("grpc-status 5", result.Message, StringComparison.Ordinal); // NOT_FOUND
    }

    [Fact]
    public async Task A_closed_port_fails_at_once()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var http = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) });
        await Assert.ThrowsAsync<HttpRequestException>(() =>
            GrpcHealthProbe.CheckAsync(http, new Uri($"http://127.0.0.1:{port}"), "", Timeout.Token));
    }

    [Fact]
    public void Messages_are_framed_as_gRPC_and_protobuf_say()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0 }, GrpcHealthProbe.Frame(GrpcHealthProbe.Request("")));
        Assert.Equal(new byte[] { 0x0A, 6, (byte)'m', (byte)'a', (byte)'r', (byte)'k', (byte)'e', (byte)'t' }, GrpcHealthProbe.Request("market"));
        Assert.Equal(1UL, GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 2, 0x08, 0x01]));
        Assert.Equal(2UL, GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 2, 0x08, 0x02])); // NOT_SERVING
        Assert.Equal(0UL, GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 0])); // no field: UNKNOWN
        Assert.Equal(1UL, GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 5, 0x12, 1, (byte)'x', 0x08, 0x01])); // an unknown field is skipped
        Assert.Throws<FormatException>(() => GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 3, 0x08, 0x01]));
        Assert.Throws<FormatException>(() => GrpcHealthProbe.ReadStatus([1, 0, 0, 0, 2, 0x08, 0x01]));
        Assert.Throws<FormatException>(() => GrpcHealthProbe.ReadStatus([0, 0, 0, 0, 1, 0x08]));
    }
}
