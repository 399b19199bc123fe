using P2PEnergy.Ledger.Tests.Infrastructure;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests;

/// <summary>Against a real Hardhat node (see <see cref="HardhatNodeFixture"/>). Each test deploys its own ledger.</summary>
[Collection(ChainCollection.Name)]
public sealed class ChainTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public ChainTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    private static LotRecorderOptions FastRetries(int batchSize) => new()
    {
        BatchSize = batchSize,
        MaxBatchDelay = TimeSpan.FromMilliseconds(20),
        InitialBackoff = TimeSpan.FromMilliseconds(50),
        MaxBackoff = TimeSpan.FromMilliseconds(500),
    };

    private EthJsonRpcClient RecorderClient(HttpMessageHandler? handler = null) =>
        new(new JsonRpcClientOptions { Endpoint = _chain.Node.Url, MaxRetries = 1, InitialBackoff = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) }, handler);

    /// <summary>Runs a recorder until the outbox is empty, then stops it.</summary>
    private async Task<LotRecorderStats> RecordAllAsync(LedgerDeployment deployment, InMemoryLotOutbox outbox, LotRecorderOptions options, EthJsonRpcClient? client = null)
    {
        using var own = client is null ? RecorderClient() : null;
        var recorder = new LotRecorder(client ?? own!, deployment, _chain.OperatorKey, outbox, options);
        using var cts = new CancellationTokenSource();
        var run = recorder.RunAsync(cts.Token);
        await Poll.UntilAsync(
            async () => run.IsCompleted || await outbox.CountPendingAsync() == 0, Deadline, "the outbox is empty",
            () => $"{recorder.Stats}");
        await cts.CancelAsync();
        await run; // surfaces a crash of the loop
        _output.WriteLine(recorder.Stats.ToString());
        return recorder.Stats;
    }

    [Fact]
    public async Task Deploys_from_the_artifact_and_writes_the_deployment_file()
    {
        var dir = Directory.CreateTempSubdirectory("ledger-deploy-");
        try
        {
            var path = Path.Combine(dir.FullName, "deployment.json");
            var deployment = await Deployer.DeployToFileAsync(_chain.Client, _chain.AdminKey, null, _chain.OperatorKey.Address, _chain.Artifact, path);
            Assert.Equal(deployment, LedgerDeployment.Load(path));
            Assert.Equal(HardhatNode.ChainId, deployment.ChainId);
            Assert.Equal(_chain.AdminKey.Address, deployment.Admin);
            var contract = _chain.Contract(deployment);
            Assert.Equal(_chain.AdminKey.Address, await contract.AdminAsync());
            Assert.True(await contract.IsOperatorAsync(_chain.OperatorKey.Address));
            Assert.False(await contract.IsOperatorAsync(_chain.AdminKey.Address));
            Assert.Equal(0UL, await contract.LotCountAsync());
            var receipt = await _chain.Client.GetTransactionReceiptAsync(Hex.Decode(deployment.TransactionHash));
            Assert.Equal(deployment.DeployBlock, receipt!.BlockNumber);
            Assert.Equal(deployment.Ledger, receipt.ContractAddress);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Records_1000_lots_in_batches_and_reads_every_field_back_from_the_events()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var outbox = new InMemoryLotOutbox();
        // Two slots, so that the slot filter has something to tell apart.
        var lots = TestLots.Range(1, 600, slot: 989046).Concat(TestLots.Range(601, 400, slot: 989047)).ToArray();
        foreach (var lot in lots.Reverse())
        {
            await outbox.AddAsync(lot);
        }

        var stats = await RecordAllAsync(deployment, outbox, FastRetries(100));

        Assert.Equal(1000, stats.LotsRecorded);
        Assert.Equal(10, stats.TransactionsConfirmed);
        Assert.Equal(0, stats.Retries);
        var contract = _chain.Contract(deployment);
        Assert.Equal(1000UL, await contract.LotCountAsync());
        var recorded = await contract.GetRecordedLotsAsync(deployment.DeployBlock);
        Assert.Equal(lots, recorded.Select(r => r.Lot).ToArray()); // every field, in lot-id order
        Assert.Equal(10, recorded.Select(r => r.TransactionHash).Distinct().Count());
        Assert.All(recorded, r => Assert.True(r.BlockNumber > deployment.DeployBlock));
        var secondSlot = await contract.GetRecordedLotsAsync(deployment.DeployBlock, slot: 989047);
        Assert.Equal(lots.Where(l => l.Slot == 989047), secondSlot.Select(r => r.Lot));
        var bySeller = await contract.GetRecordedLotsAsync(deployment.DeployBlock, seller: lots[4].Seller);
        Assert.Equal(lots.Where(l => l.Seller == lots[4].Seller), bySeller.Select(r => r.Lot));
        Assert.True(await contract.IsRecordedAsync(1000));
        Assert.False(await contract.IsRecordedAsync(1001));
        _output.WriteLine($"gas per lot in batches of 100: {stats.GasPerLot:0}");
    }

    [Fact]
    public async Task The_contract_refuses_a_duplicate_lot_with_LotAlreadyRecorded()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        await contract.RecordLotsAsync(_chain.OperatorKey, TestLots.Range(1, 10));
        var retry = new[] { TestLots.Make(11), TestLots.Make(12), TestLots.Make(5), TestLots.Make(13) };
        var refused = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.RecordLotsAsync(_chain.OperatorKey, retry));
        Assert.Equal(new LedgerError.LotAlreadyRecorded(5), refused.Error);
        Assert.Equal(10UL, await contract.LotCountAsync());
        Assert.False(await contract.IsRecordedAsync(11));
    }

    [Fact]
    public async Task Sending_the_same_lots_twice_through_the_recorder_records_each_once()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var first = new InMemoryLotOutbox();
        foreach (var lot in TestLots.Range(1, 100))
        {
            await first.AddAsync(lot);
        }
        var firstStats = await RecordAllAsync(deployment, first, FastRetries(50));
        Assert.Equal(100, firstStats.LotsRecorded);

        // The same 100 again (say the exchange replayed its journal) with 20 new ones mixed in.
        var second = new InMemoryLotOutbox();
        var again = TestLots.Range(1, 120);
        foreach (var lot in again)
        {
            await second.AddAsync(lot);
        }
        var secondStats = await RecordAllAsync(deployment, second, FastRetries(50));

        Assert.Equal(20, secondStats.LotsRecorded);
        Assert.Equal(100, secondStats.LotsFoundOnChain);
        var recorded = await _chain.Contract(deployment).GetRecordedLotsAsync(deployment.DeployBlock);
        Assert.Equal(again, recorded.Select(r => r.Lot).OrderBy(l => l.LotId).ToArray());
        Assert.Equal(120UL, await _chain.Contract(deployment).LotCountAsync());
    }

    [Fact]
    public async Task A_batch_whose_receipt_was_lost_is_found_on_chain_and_not_sent_again()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var outbox = new InMemoryLotOutbox();
        foreach (var lot in TestLots.Range(1, 150))
        {
            await outbox.AddAsync(lot);
        }
        using var faults = new FaultyHandler();
        // The node mines the first batch, but the recorder never hears back: it cannot know it landed.
        faults.LoseResponseOf("eth_sendRawTransaction", count: 1);
        using var client = RecorderClient(faults);

        var stats = await RecordAllAsync(deployment, outbox, FastRetries(50), client);

        Assert.Equal(1, faults.LostResponses);
        Assert.Equal(50, stats.LotsFoundOnChain);
        Assert.Equal(100, stats.LotsRecorded);
        Assert.True(stats.Retries >= 1);
        var ids = (await _chain.Contract(deployment).GetRecordedLotsAsync(deployment.DeployBlock)).Select(r => r.LotId).ToArray();
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), ids.Order());
        Assert.Equal(150UL, await _chain.Contract(deployment).LotCountAsync());
    }

    [Fact]
    public async Task With_a_reused_gas_estimate_a_duplicate_reverts_on_chain_and_the_retry_records_nothing_twice()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        await contract.RecordLotsAsync(_chain.OperatorKey, TestLots.Range(51, 50)); // recorded behind the recorder's back
        var outbox = new InMemoryLotOutbox();
        foreach (var lot in TestLots.Range(1, 120))
        {
            await outbox.AddAsync(lot);
        }
        var nonceBefore = await _chain.Client.GetTransactionCountAsync(_chain.OperatorKey.Address, BlockParameter.Latest);
        // Batch 1..50 is estimated; 51..100 goes out on the reused estimate and reverts in a block.
        var stats = await RecordAllAsync(deployment, outbox, FastRetries(50) with { ReuseGasEstimate = true });

        Assert.Equal(nonceBefore + 3, await _chain.Client.GetTransactionCountAsync(_chain.OperatorKey.Address, BlockParameter.Latest));
        Assert.Equal(3, stats.TransactionsSent);
        Assert.Equal(2, stats.TransactionsConfirmed);

        Assert.Equal(70, stats.LotsRecorded);
        Assert.Equal(50, stats.LotsFoundOnChain);
        Assert.Contains("LotAlreadyRecorded", stats.LastError);
        var ids = (await contract.GetRecordedLotsAsync(deployment.DeployBlock)).Select(r => r.LotId).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), ids);
        Assert.Equal(120UL, await contract.LotCountAsync());
    }

    [Fact]
    public async Task Only_an_operator_records_lots_or_commits_order_roots()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        var lots = TestLots.Range(1, 3);

        var stranger = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.RecordLotsAsync(_chain.StrangerKey, lots));
        Assert.Equal(new LedgerError.NotOperator(_chain.StrangerKey.Address), stranger.Error);
        var admin = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.RecordLotsAsync(_chain.AdminKey, lots));
        Assert.Equal(new LedgerError.NotOperator(_chain.AdminKey.Address), admin.Error);
        Assert.False(await contract.IsRecordedAsync(1));

        var tree = OrderMerkleTree.Build(Enumerable.Range(1, 5).Select(i => ((long)i, Keccak.Hash256Utf8($"order {i}"))));
        var notCommitted = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.CommitOrderRootAsync(_chain.StrangerKey, 989046, tree.Root, 5));
        Assert.Equal(new LedgerError.NotOperator(_chain.StrangerKey.Address), notCommitted.Error);
        Assert.Null(await contract.OrderRootAsync(989046));

        await contract.CommitOrderRootAsync(_chain.OperatorKey, 989046, tree.Root, (uint)tree.Count);
        Assert.Equal(tree.Root, await contract.OrderRootAsync(989046));
        var committed = Assert.Single(await contract.GetOrderRootsAsync(deployment.DeployBlock));
        Assert.Equal((989046L, Hex.Encode(tree.Root), 5u), (committed.Slot, committed.Root, committed.Orders));
        var twice = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.CommitOrderRootAsync(_chain.OperatorKey, 989046, tree.Root, 5));
        Assert.Equal(new LedgerError.OrderRootAlreadyCommitted(989046), twice.Error);
    }

    [Fact]
    public async Task A_recorder_with_a_key_that_is_not_the_operator_keeps_every_lot_and_reports_NotOperator()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var outbox = new InMemoryLotOutbox();
        foreach (var lot in TestLots.Range(1, 5))
        {
            await outbox.AddAsync(lot);
        }
        using var client = RecorderClient();
        var recorder = new LotRecorder(client, deployment, _chain.StrangerKey, outbox, FastRetries(10));
        using var cts = new CancellationTokenSource();
        var run = recorder.RunAsync(cts.Token);
        await Poll.UntilAsync(() => recorder.Stats.Retries >= 3, Deadline, "the recorder retried three times");
        await cts.CancelAsync();
        await run;
        Assert.Contains("NotOperator", recorder.Stats.LastError);
        Assert.Equal(5, await outbox.CountPendingAsync());
        Assert.Equal(0UL, await _chain.Contract(deployment).LotCountAsync());
    }

    /// <summary>
    /// The node is killed while the recorder has a transaction waiting in its pool, and a new node is started
    /// on the same port. Hardhat keeps no state, so the chain mined before the stop is replayed into the new
    /// node (as a node with a database would keep it); the transaction that was only in the pool is lost.
    /// While the node is down and until the replay is done, the recorder's requests fail as connection
    /// failures. It must retry, find the lost batch missing, send it again with a fresh nonce, and finish
    /// with every lot on chain exactly once.
    /// </summary>
    [Fact]
    public async Task A_recorder_keeps_going_when_the_node_is_stopped_and_restarted()
    {
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        var outbox = new InMemoryLotOutbox();
        var lots = TestLots.Range(500_001, 1000);
        foreach (var lot in lots)
        {
            await outbox.AddAsync(lot);
        }
        using var gate = new FaultyHandler();
        using var client = RecorderClient(gate);
        var options = FastRetries(50) with { Transactions = new TransactionSenderOptions { ReceiptTimeout = TimeSpan.FromSeconds(60) } };
        var recorder = new LotRecorder(client, deployment, _chain.OperatorKey, outbox, options);
        using var cts = new CancellationTokenSource();
        var run = recorder.RunAsync(cts.Token);
        try
        {
            await Poll.UntilAsync(async () => await outbox.CountPendingAsync() <= 700, Deadline, "300 lots are recorded");

            // Hold the next transaction in the pool: it is in flight when the node dies.
            await _chain.Client.SendAsync("evm_setAutomine", [false]);
            var operatorAddress = _chain.OperatorKey.Address;
            await Poll.UntilAsync(
                async () => await _chain.Client.GetTransactionCountAsync(operatorAddress, BlockParameter.Pending)
                    > await _chain.Client.GetTransactionCountAsync(operatorAddress, BlockParameter.Latest),
                Deadline, "a recordLots transaction waits in the pool");
            var minedLots = await contract.LotCountAsync();
            var history = await ChainHistory.CaptureAsync(_chain.Client);
            long failuresBefore = recorder.Stats.TransportFailures;

            await _chain.RestartNodeAsync(history, whileDown: async () =>
            {
                // The recorder meets the dead node itself first...
                await Poll.UntilAsync(() => recorder.Stats.TransportFailures > failuresBefore, Deadline, "the recorder sees the node down");
                // ...then stays away from the new one until the replay has given it its chain back.
                gate.Close();
            });
            Assert.Equal(minedLots, await contract.LotCountAsync());
            Assert.True(await outbox.CountPendingAsync() > 0);
            gate.Open();

            await Poll.UntilAsync(async () => run.IsCompleted || await outbox.CountPendingAsync() == 0, Deadline, "every lot is recorded", () => $"{recorder.Stats}");
        }
        finally
        {
            gate.Open();
            await cts.CancelAsync();
            await run;
            // Should the test have failed before the restart, leave the shared node mining again.
            try
            {
                await _chain.Client.SendAsync("evm_setAutomine", [true]);
            }
            catch (JsonRpcException)
            {
            }
        }
        var stats = recorder.Stats;
        _output.WriteLine(stats.ToString());
        _output.WriteLine($"refused while the node was restarting: {gate.RefusedRequests}");

        var recorded = await contract.GetRecordedLotsAsync(deployment.DeployBlock);
        Assert.Equal(lots, recorded.Select(r => r.Lot).OrderBy(l => l.LotId).ToArray()); // each exactly once, every field
        Assert.Equal(1000UL, await contract.LotCountAsync());
        Assert.True(stats.TransportFailures > 0);
        Assert.True(stats.Retries > 0);
        Assert.Equal(1000, stats.LotsRecorded + stats.LotsFoundOnChain);
        Assert.True(stats.TransactionsSent > stats.TransactionsConfirmed, "the transaction lost with the node was sent again");
    }
}
