namespace P2PEnergy.Exchange.Chain.Tests;

using Grpc.Core;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Testing;

/// <summary>tests/Shared/ExchangeProcess: the built exchange server as a child process (no chain needed).</summary>
public sealed class ExchangeProcessTests
{
    private static readonly Dictionary<string, string> Simulated = new()
    {
        ["Exchange:Clock"] = "Simulated",
        ["Exchange:SimulatedStartUnixSeconds"] = "1767225600",
    };

    private static async Task<long> NowAsync(ExchangeProcess exchange)
    {
        using var channel = exchange.CreateChannel();
        var info = await new MarketAdmin.MarketAdminClient(channel).GetMarketInfoAsync(new GetMarketInfoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
        return info.NowUnixMs;
    }

    [Fact]
    public async Task It_serves_dies_on_kill_comes_back_on_the_same_port_and_stops_cleanly()
    {
        await using var exchange = await ExchangeProcess.StartAsync(Simulated);
        var pid = exchange.ProcessId;
        Assert.NotNull(pid);
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Equal("127.0.0.1", exchange.Url.Host);
        Assert.Equal(1_767_225_600_000, await NowAsync(exchange));
        Assert.Contains("--Exchange:Clock=Simulated", exchange.Arguments);

        // SIGKILL: gone at once, nothing answers.
        await exchange.KillAsync();
        Assert.Null(exchange.ProcessId);
        Assert.Equal(137, exchange.ExitCode);
        var e = await Assert.ThrowsAsync<RpcException>(() => NowAsync(exchange));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);

        // The same arguments on the same port: a new process, the same address.
        var url = exchange.Url;
        await exchange.RestartAsync();
        Assert.Equal(url, exchange.Url);
        Assert.NotNull(exchange.ProcessId);
        Assert.NotEqual(pid, exchange.ProcessId);
        Assert.Equal(1_767_225_600_000, await NowAsync(exchange));

        // SIGTERM: the host shuts down gracefully and exits 0.
        await exchange.StopAsync();
        Assert.Null(exchange.ProcessId);
        Assert.Equal(0, exchange.ExitCode);
        Assert.Contains("Application is shutting down", exchange.RecentOutput);
    }

    [Fact]
    public async Task A_server_that_cannot_start_fails_with_its_output()
    {
        var bad = new Dictionary<string, string>(Simulated) { ["Exchange:SlotSeconds"] = "not-a-number" };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ExchangeProcess.StartAsync(bad));
        Assert.Contains("exited with code", e.Message);
        Assert.Contains("not-a-number", e.Message);
    }
}
