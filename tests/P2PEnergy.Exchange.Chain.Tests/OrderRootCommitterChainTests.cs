namespace P2PEnergy.Exchange.Chain.Tests;

using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;

/// <summary>The order-root committer against a real node and a fresh ledger, account 2 as its operator key.</summary>
[Collection(ChainTestCollection.Name)]
public sealed class OrderRootCommitterChainTests(HardhatNodeFixture chain) : IAsyncLifetime
{
    private const long Slot = 984_570;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private FreshLedger _ledger = null!;

    public async Task InitializeAsync() => _ledger = await FreshLedger.DeployAsync(chain);

    public Task DisposeAsync()
    {
        _ledger.Dispose();
        return Task.CompletedTask;
    }

    private static byte[] RootOf(string text) => Keccak.Hash256Utf8(text);

    /// <summary>Runs a committer (own client to <paramref name="url"/>) for the duration of <paramref name="test"/>, then stops it.</summary>
    private async Task WithCommitterAsync(Uri url, Func<OrderRootCommitter, Task> test)
    {
        using var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = url, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(5) });
        var committer = new OrderRootCommitter(new EnergyLedgerContract(client, _ledger.Deployment), FreshLedger.CommitterKey)
        {
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
        };
        using var stop = new CancellationTokenSource();
        var run = committer.RunAsync(stop.Token);
        try
        {
            await test(committer);
        }
        finally
        {
            stop.Cancel();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.True(run.IsCompletedSuccessfully);
    }

    private Task<IReadOnlyList<OrderRootCommitment>> CommitmentsAsync() => _ledger.Contract.GetOrderRootsAsync(_ledger.Deployment.DeployBlock);

    [Fact]
    public Task The_same_root_enqueued_twice_is_committed_once() => WithCommitterAsync(chain.Node.Url, async committer =>
    {
        var root = RootOf("slot root");
        committer.Enqueue(Slot, root, 3);
        committer.Enqueue(Slot, root, 3);
        await Poll.UntilAsync(() => committer.Pending == 0, Deadline, "both roots are handled", () => committer.Stats.ToString());

        Assert.Equal((1L, 1L, 2L, 0L), (committer.Stats.RootsCommitted, committer.Stats.RootsFoundOnChain, committer.Stats.RootsQueued, committer.Stats.Retries));
        Assert.Null(committer.Stats.LastError);
        Assert.Equal(root, await _ledger.Contract.OrderRootAsync(Slot));
        var c = Assert.Single(await CommitmentsAsync());
        Assert.Equal((Slot, Hex.Encode(root), 3u), (c.Slot, c.Root, c.Orders));
    });

    [Fact]
    public async Task Another_root_already_on_chain_is_not_overwritten_and_is_reported()
    {
        var theirs = RootOf("committed by someone else");
        await _ledger.Contract.CommitOrderRootAsync(chain.OperatorKey, Slot, theirs, 1);

        await WithCommitterAsync(chain.Node.Url, async committer =>
        {
            committer.Enqueue(Slot, RootOf("ours"), 2);
            var next = RootOf("next slot");
            committer.Enqueue(Slot + 1, next, 5); // the queue goes on after the refusal
            await Poll.UntilAsync(() => committer.Pending == 0, Deadline, "both roots are handled", () => committer.Stats.ToString());

            Assert.Equal(1, committer.Stats.RootsCommitted);
            Assert.Equal(0, committer.Stats.RootsFoundOnChain);
            Assert.Equal(0, committer.Stats.Retries);
            Assert.Contains($"slot {Slot}", committer.Stats.LastError);
            Assert.Contains("another order root is on chain", committer.Stats.LastError);
            Assert.Equal(theirs, await _ledger.Contract.OrderRootAsync(Slot));
            Assert.Equal(next, await _ledger.Contract.OrderRootAsync(Slot + 1));
            Assert.Equal([(Slot, Hex.Encode(theirs)), (Slot + 1, Hex.Encode(next))], (await CommitmentsAsync()).Select(c => (c.Slot, c.Root)));
        });
    }

    [Fact]
    public async Task A_node_unreachable_at_first_is_retried_until_the_root_is_committed()
    {
        await using var gate = new TcpGate(chain.Node.Port);
        await WithCommitterAsync(gate.Url, async committer =>
        {
            var root = RootOf("late node");
            committer.Enqueue(Slot, root, 4);
            await Poll.UntilAsync(() => committer.Stats.Retries >= 3, Deadline, "the committer has retried", () => committer.Stats.ToString());
            Assert.Equal(1, committer.Pending);
            Assert.Equal(0, committer.Stats.RootsCommitted);
            Assert.False(string.IsNullOrEmpty(committer.Stats.LastError));
            Assert.Null(await _ledger.Contract.OrderRootAsync(Slot));

            gate.Open();
            await Poll.UntilAsync(() => committer.Pending == 0, Deadline, "the root is committed once the node answers", () => committer.Stats.ToString());
            Assert.Equal(1, committer.Stats.RootsCommitted);
            Assert.Equal(root, await _ledger.Contract.OrderRootAsync(Slot));
            Assert.Single(await CommitmentsAsync());
        });
    }
}
