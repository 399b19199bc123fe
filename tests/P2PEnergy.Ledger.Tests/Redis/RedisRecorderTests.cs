using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests.Redis;

/// <summary>
/// The recorder on the Redis outbox against the shared Hardhat node of the "chain" collection (each test deploys its
/// own ledger and starts its own redis-server): a recorder process killed with SIGKILL, the node down for 30 s,
/// Redis down. Every lot ends on chain exactly once, with every field, and the outbox ends empty.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed partial class RedisRecorderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public RedisRecorderTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    private static LotRecorderOptions Options(int batchSize) => new()
    {
        BatchSize = batchSize,
        MaxBatchDelay = TimeSpan.FromMilliseconds(20),
        InitialBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromSeconds(1),
        Transactions = new TransactionSenderOptions { ReceiptTimeout = TimeSpan.FromSeconds(60) },
    };

    private Task<bool> OperatorHasATransactionInThePoolAsync() => HasPooledTransactionAsync(_chain.Client, _chain.OperatorKey.Address);

    private static async Task<bool> HasPooledTransactionAsync(EthJsonRpcClient client, Address account) =>
        await client.GetTransactionCountAsync(account, BlockParameter.Pending) > await client.GetTransactionCountAsync(account, BlockParameter.Latest);

    private async Task AutomineAsync(bool on)
    {
        try
        {
            await _chain.Client.SendAsync("evm_setAutomine", [on]);
        }
        catch (Exception e) when (e is JsonRpcException or JsonRpcTransportException)
        {
            // Only to leave the shared node as the other tests expect it; a dead node is restarted elsewhere.
        }
    }

    /// <summary>
    /// Two recorder processes (p2penergy-ledger record --redis) on one outbox of 3,000 lots. The first is frozen with a
    /// batch in flight (the node's automine off), killed with SIGKILL, and its transaction is then mined: on chain, never
    /// acknowledged. The second takes over the dead recorder's lots after min-idle, finds them on chain and acknowledges
    /// them without a transaction, and records the rest.
    /// </summary>
    [Fact]
    public async Task A_recorder_process_killed_with_SIGKILL_mid_batch_leaves_every_lot_on_chain_exactly_once()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        var dir = Directory.CreateTempSubdirectory("p2pe-kill9-");
        try
        {
            var deploymentFile = Path.Combine(dir.FullName, "deployment.json");
            deployment.Save(deploymentFile);
            await using var server = await RedisServer.StartAsync();
            await using var redis = await RedisLotOutbox.ConnectAsync(server.ConnectionString, "p2pe-tests");
            var outbox = new RedisLotOutbox(redis, "kill9");
            var lots = TestLots.Range(1, 1500, slot: 989046).Concat(TestLots.Range(1501, 1500, slot: 989047)).ToArray();
            Assert.Equal(3000, await outbox.AddRangeAsync(lots));
            var operatorAddress = _chain.OperatorKey.Address;
            var nonceBefore = await _chain.Client.GetTransactionCountAsync(operatorAddress, BlockParameter.Latest);
            string[] args =
            [
                "record", "--redis", server.ConnectionString, "--market", "kill9", "--rpc", _chain.Node.Url.ToString(),
                "--deployment", deploymentFile, "--key", HardhatNode.Account1Key,
                "--batch", "100", "--delay-ms", "20", "--min-idle-ms", "2000", "--progress-ms", "1000",
            ];

            var clock = Stopwatch.StartNew();
            string deadConsumer;
            ulong onChainAtKill;
            await using (var first = LedgerCliProcess.Start(_chain.RepoRoot, args))
            {
                deadConsumer = $"{Environment.MachineName}-{first.Id}";
                try
                {
                    await Poll.UntilAsync(
                        async () => first.HasExited || await contract.LotCountAsync() >= 300, Deadline, "the first recorder has recorded 300 lots", () => first.Output);
                    Assert.False(first.HasExited, $"The first recorder exited with {(first.HasExited ? first.ExitCode : 0)}:\n{first.Output}");
                    // Its next transaction stays in the pool: the recorder waits for the receipt, batch unacknowledged.
                    await AutomineAsync(false);
                    await Poll.UntilAsync(OperatorHasATransactionInThePoolAsync, Deadline, "a recordLots transaction waits in the pool", () => first.Output);
                    await first.KillAsync();
                    Assert.NotEqual(0, first.ExitCode);
                    await _chain.Client.SendAsync("evm_mine", []); // the dead recorder's batch lands
                }
                finally
                {
                    await AutomineAsync(true);
                }
                _output.WriteLine($"first recorder killed after {clock.Elapsed.TotalSeconds:0.0} s; its output:\n{first.Output}\n");
            }
            onChainAtKill = await contract.LotCountAsync();
            Assert.InRange(onChainAtKill, 400UL, 2999UL); // mid-way
            var orphans = await redis.GetDatabase().StreamPendingMessagesAsync(outbox.StreamKey, RedisKeys.RecorderGroup, 5000, RedisValue.Null);
            Assert.NotEmpty(orphans);
            Assert.All(orphans, o => Assert.Equal(deadConsumer, (string?)o.ConsumerName));
            foreach (var orphan in orphans)
            {
                var lotId = long.Parse(((string)orphan.MessageId!).Split('-')[0], CultureInfo.InvariantCulture);
                Assert.True(await contract.IsRecordedAsync(lotId), $"lot {lotId} of the dead recorder's batch is on chain");
            }

            var restart = clock.Elapsed;
            await using var second = LedgerCliProcess.Start(_chain.RepoRoot, args);
            await Poll.UntilAsync(
                async () => second.HasExited || (await contract.LotCountAsync() == 3000 && await outbox.CountPendingAsync() == 0),
                Deadline, "the second recorder has recorded every lot", () => second.Output);
            var finished = clock.Elapsed;
            Assert.False(second.HasExited, second.Output);
            Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromSeconds(30))); // SIGTERM: a clean stop
            _output.WriteLine($"second recorder:\n{second.Output}");

            var summary = StoppedLine().Match(second.Output);
            Assert.True(summary.Success, $"no summary line in:\n{second.Output}");
            Assert.Equal(orphans.Length, int.Parse(summary.Groups["found"].Value, CultureInfo.InvariantCulture)); // acknowledged without a transaction
            Assert.Equal(3000 - (long)onChainAtKill, long.Parse(summary.Groups["recorded"].Value, CultureInfo.InvariantCulture));
            await OutboxAssert.EveryLotOnChainOnceAsync(contract, deployment, lots);
            Assert.Equal(0, await outbox.CountPendingAsync());
            Assert.Equal(0, await RedisTesting.PendingInGroupAsync(redis, outbox));
            // Every transaction the operator sent recorded lots: none was a duplicate that reverted.
            var nonceAfter = await _chain.Client.GetTransactionCountAsync(operatorAddress, BlockParameter.Latest);
            var transactions = (await contract.GetRecordedLotsAsync(deployment.DeployBlock)).Select(r => r.TransactionHash).Distinct().Count();
            Assert.Equal((long)(nonceAfter - nonceBefore), transactions);
            _output.WriteLine(
                $"3000 lots: {onChainAtKill} on chain when the first recorder was killed ({restart.TotalSeconds:0.0} s); the second recorded " +
                $"{3000 - (long)onChainAtKill - orphans.Length} and acknowledged {orphans.Length} already on chain in {(finished - restart).TotalSeconds:0.0} s " +
                $"(process start and 2 s min-idle included); whole test {clock.Elapsed.TotalSeconds:0.0} s.");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The recorder (in process, on a Redis outbox) meets a node that dies with a batch in its pool and stays down for
    /// 30 s while more lots arrive. The recorder reports the failures and keeps every lot in the outbox; once a node
    /// with the chain's history is back it sends the lost batch again and records the rest, each lot once.
    /// </summary>
    [Fact]
    public async Task With_the_node_stopped_for_30_seconds_the_recorder_reports_errors_keeps_every_lot_and_finishes_after()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        await using var server = await RedisServer.StartAsync();
        await using var redis = await RedisLotOutbox.ConnectAsync(server.ConnectionString, "p2pe-tests");
        var outbox = new RedisLotOutbox(redis, "outage");
        var lots = TestLots.Range(700_001, 2000);
        await outbox.AddRangeAsync(lots[..1000]);
        using var gate = new FaultyHandler();
        using var client = new EthJsonRpcClient(
            new JsonRpcClientOptions { Endpoint = _chain.Node.Url, MaxRetries = 1, InitialBackoff = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) }, gate);
        var log = new ListLogger<LotRecorder>();
        var recorder = new LotRecorder(client, deployment, _chain.OperatorKey, outbox, Options(100), log);
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var run = recorder.RunAsync(cts.Token);
        IReadOnlyList<byte[]>? history = null;
        TimeSpan firstHalf, downFor = TimeSpan.Zero, catchUp;
        ulong minedLots;
        long backlogWhenDown = -1, backlogAfterOutage = -1;
        string? errorWhileDown = null;
        try
        {
            await Poll.UntilAsync(async () => run.IsCompleted || await outbox.CountPendingAsync() == 0, Deadline, "the first 1000 lots are recorded", () => $"{recorder.Stats}");
            firstHalf = clock.Elapsed;

            await outbox.AddRangeAsync(lots[1000..]);
            await Poll.UntilAsync(async () => run.IsCompleted || await outbox.CountPendingAsync() <= 800, Deadline, "200 more lots are recorded", () => $"{recorder.Stats}");
            // The node dies with the recorder's next batch in its pool (lost with it).
            await AutomineAsync(false);
            await Poll.UntilAsync(OperatorHasATransactionInThePoolAsync, Deadline, "a recordLots transaction waits in the pool");
            minedLots = await contract.LotCountAsync();
            history = await ChainHistory.CaptureAsync(_chain.Client);
            long failuresBefore = recorder.Stats.TransportFailures;
            var down = Stopwatch.StartNew();
            await _chain.RestartNodeAsync(history, whileDown: async () =>
            {
                // Nothing here may throw before the node is up again (the collection shares it): observe, assert after.
                var seen = Stopwatch.StartNew();
                while (recorder.Stats.TransportFailures == failuresBefore && seen.Elapsed < Outage)
                {
                    await Task.Delay(20);
                }
                backlogWhenDown = await outbox.CountPendingAsync();
                if (Outage > down.Elapsed)
                {
                    await Task.Delay(Outage - down.Elapsed); // the outage itself
                }
                backlogAfterOutage = await outbox.CountPendingAsync();
                errorWhileDown = recorder.Stats.LastError;
                downFor = down.Elapsed;
                // The new node gets the chain's history before the recorder may talk to it.
                gate.Close();
            });
            gate.Open();
            var back = clock.Elapsed;
            await Poll.UntilAsync(async () => run.IsCompleted || await outbox.CountPendingAsync() == 0, Deadline, "every lot is recorded", () => $"{recorder.Stats}");
            catchUp = clock.Elapsed - back;
        }
        finally
        {
            gate.Open();
            await cts.CancelAsync();
            await run;
            await AutomineAsync(true);
        }
        var stats = recorder.Stats;
        _output.WriteLine(stats.ToString());

        // Task.Delay may end a timer tick before the stopwatch reads the full outage (29.9986 s seen).
        Assert.True(downFor >= Outage - TimeSpan.FromMilliseconds(50), $"the node was down {downFor}");
        Assert.True(stats.TransportFailures > 0);
        Assert.True(stats.Retries > 0);
        Assert.Contains($"127.0.0.1:{_chain.Node.Port}", errorWhileDown);
        // While the node was down nothing was acknowledged and nothing dropped: the lots not mined stayed in the outbox.
        Assert.Equal(2000 - (long)minedLots, backlogWhenDown);
        Assert.Equal(backlogWhenDown, backlogAfterOutage);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains($"127.0.0.1:{_chain.Node.Port}", StringComparison.Ordinal));
        await OutboxAssert.EveryLotOnChainOnceAsync(contract, deployment, lots);
        Assert.Equal(0, await RedisTesting.PendingInGroupAsync(redis, outbox));
        Assert.Equal(2000, stats.LotsRecorded + stats.LotsFoundOnChain);
        Assert.True(stats.TransactionsSent > stats.TransactionsConfirmed, "the transaction lost with the node was sent again");
        _output.WriteLine(
            $"1000 lots from Redis to the chain in {firstHalf.TotalSeconds:0.00} s ({1000 / firstHalf.TotalSeconds:0} lots/s, batches of 100); " +
            $"node down {downFor.TotalSeconds:0.0} s; the remaining {backlogAfterOutage} lots recorded {catchUp.TotalSeconds:0.0} s after it came back; " +
            $"{log.Lines.Count(l => l.Level >= LogLevel.Warning)} warnings logged; whole test {clock.Elapsed.TotalSeconds:0.0} s.");
    }

    /// <summary>Redis is killed while the recorder works: it reports the outbox failures, retries, and resumes when Redis is back.</summary>
    [Fact]
    public async Task With_redis_killed_while_recording_the_recorder_reports_it_and_every_lot_still_lands_once()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        // always: this test is about the recorder, not about the last second an everysec AOF may lose (docs/redis.md).
        await using var server = await RedisServer.StartAsync("always");
        await using var redis = await RedisTesting.ConnectWithShortTimeoutsAsync(server);
        var outbox = new RedisLotOutbox(redis, "redis-down");
        var lots = TestLots.Range(900_001, 1500);
        await outbox.AddRangeAsync(lots);
        using var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = _chain.Node.Url, Timeout = TimeSpan.FromSeconds(20) });
        var log = new ListLogger<LotRecorder>();
        var recorder = new LotRecorder(client, deployment, _chain.OperatorKey, outbox, Options(100), log);
        using var cts = new CancellationTokenSource();
        var clock = Stopwatch.StartNew();
        var run = recorder.RunAsync(cts.Token);
        ulong atKill, afterOutage;
        try
        {
            await Poll.UntilAsync(async () => run.IsCompleted || await contract.LotCountAsync() >= 300, Deadline, "300 lots are recorded", () => $"{recorder.Stats}");
            await server.KillAsync();
            atKill = await contract.LotCountAsync();
            await Poll.UntilAsync(() => run.IsCompleted || recorder.Stats.OutboxFailures >= 3, Deadline, "the recorder failed three times to reach Redis", () => $"{recorder.Stats}");
            afterOutage = await contract.LotCountAsync();
            Assert.Contains($"127.0.0.1:{server.Port}", recorder.Stats.LastError);
            await server.RestartAsync();
            await Poll.UntilAsync(
                async () => run.IsCompleted || (await contract.LotCountAsync() == 1500
                    && await RedisTesting.WhenAvailableAsync(async () => await outbox.CountPendingAsync(), Deadline) == 0),
                Deadline, "every lot is recorded", () => $"{recorder.Stats}");
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
        var stats = recorder.Stats;
        _output.WriteLine(stats.ToString());
        _output.WriteLine(string.Join('\n', log.Lines.Where(l => l.Level >= LogLevel.Warning).Select(l => l.Message).Take(5)));

        Assert.True(afterOutage - atKill <= 100, "at most the batch in flight was recorded while Redis was down");
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("lot outbox", StringComparison.Ordinal)
            && l.Message.Contains($"127.0.0.1:{server.Port}", StringComparison.Ordinal));
        await OutboxAssert.EveryLotOnChainOnceAsync(contract, deployment, lots);
        Assert.Equal(0, await RedisTesting.PendingInGroupAsync(redis, outbox));
        Assert.Equal(1500, stats.LotsRecorded + stats.LotsFoundOnChain);
        _output.WriteLine($"whole test {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [GeneratedRegex(@"Stopped after .*: (?<recorded>\d+) lot\(s\) recorded in \d+ transaction\(s\), (?<found>\d+) already on chain")]
    private static partial Regex StoppedLine();
}
