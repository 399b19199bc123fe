using System.Diagnostics;
using System.Text.Json;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Testing;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests.Redis;

/// <summary>
/// `record --redis ... --heartbeat-file F`, the recorder container's health signal (docker-compose.yml, deploy/heartbeat-check.sh):
/// rewritten while the recorder runs, left to age once it is dead.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class RecorderHeartbeatTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public RecorderHeartbeatTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    [Fact]
    public async Task The_heartbeat_file_advances_while_the_recorder_runs_and_goes_stale_after_SIGKILL()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var dir = Directory.CreateTempSubdirectory("p2pe-heartbeat-");
        try
        {
            var deploymentFile = Path.Combine(dir.FullName, "deployment.json");
            deployment.Save(deploymentFile);
            var heartbeat = Path.Combine(dir.FullName, "recorder.alive");
            await using var server = await RedisServer.StartAsync();
            await using var redis = await RedisLotOutbox.ConnectAsync(server.ConnectionString, "p2pe-tests");
            var outbox = new RedisLotOutbox(redis, "heartbeat");
            var clock = Stopwatch.StartNew();
            await using var recorder = LedgerCliProcess.Start(_chain.RepoRoot,
            [
                "record", "--redis", server.ConnectionString, "--market", "heartbeat", "--rpc", _chain.Node.Url.ToString(),
                "--deployment", deploymentFile, "--key", HardhatNode.Account1Key, "--delay-ms", "20",
                "--progress-ms", "200", "--heartbeat-file", heartbeat,
            ]);

            await Poll.UntilAsync(() => recorder.HasExited || File.Exists(heartbeat), Deadline, "the heartbeat file appears", () => recorder.Output);
            Assert.False(recorder.HasExited, recorder.Output);
            var first = Read(heartbeat);
            Assert.Equal(0, first.GetProperty("lotsRecorded").GetInt64());
            Assert.Equal(string.Empty, first.GetProperty("lastError").GetString());
            var firstWrite = File.GetLastWriteTimeUtc(heartbeat);

            // Idle (an empty outbox) the loop still goes round: the file keeps being rewritten, its time moves on.
            await Poll.UntilAsync(
                () => Read(heartbeat).GetProperty("at").GetInt64() > first.GetProperty("at").GetInt64()
                    && Read(heartbeat).GetProperty("cycleAt").GetInt64() > first.GetProperty("cycleAt").GetInt64(),
                Deadline, "the heartbeat's time advances", () => recorder.Output);
            Assert.True(File.GetLastWriteTimeUtc(heartbeat) > firstWrite);

            // And it says what the recorder did.
            await outbox.AddRangeAsync(TestLots.Range(880_001, 5));
            await Poll.UntilAsync(
                () => Read(heartbeat) is var h && h.GetProperty("lotsRecorded").GetInt64() == 5 && h.GetProperty("backlog").GetInt64() == 0,
                Deadline, "the heartbeat reports 5 lots recorded and an empty outbox", () => File.ReadAllText(heartbeat) + recorder.Output);

            await recorder.KillAsync();
            var killedAt = clock.Elapsed;
            var lastLine = File.ReadAllText(heartbeat);
            var lastWrite = File.GetLastWriteTimeUtc(heartbeat);
            // A negative can only be watched for a while: 10 heartbeat intervals (200 ms) of nothing.
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(lastLine, File.ReadAllText(heartbeat));
            Assert.Equal(lastWrite, File.GetLastWriteTimeUtc(heartbeat));
            Assert.True(DateTime.UtcNow - lastWrite >= TimeSpan.FromSeconds(2), $"written {DateTime.UtcNow - lastWrite} ago");
            _output.WriteLine($"last heartbeat: {lastLine.Trim()}; killed after {killedAt.TotalSeconds:0.0} s, whole test {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static JsonElement Read(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;
}
