namespace P2PEnergy.Ledger.Tests.Infrastructure;

/// <summary>
/// One Hardhat node for every test of the "chain" collection: started on a free port of 127.0.0.1,
/// with one EnergyLedger deployed (tests that need a clean ledger deploy their own with
/// <see cref="DeployLedgerAsync"/>, as a Redis test uses its own key prefix), stopped after.
/// Missing npm packages or artifact: scripts/contracts-deps.sh runs once; if that fails the tests fail.
/// </summary>
public sealed class HardhatNodeFixture : IAsyncLifetime
{
    public string RepoRoot { get; } = HardhatNode.FindRepoRoot();

    public HardhatNode Node { get; private set; } = null!;

    /// <summary>A client for the tests' own checks (not the recorder's).</summary>
    public EthJsonRpcClient Client { get; private set; } = null!;

    public EnergyLedgerArtifact Artifact { get; private set; } = null!;

    /// <summary>Account 0: deploys and is the admin.</summary>
    public EthKey AdminKey { get; } = EthKey.FromHex(HardhatNode.Account0Key);

    /// <summary>Account 1: the operator (records lots).</summary>
    public EthKey OperatorKey { get; } = EthKey.FromHex(HardhatNode.Account1Key);

    /// <summary>Account 2: neither admin nor operator.</summary>
    public EthKey StrangerKey { get; } = EthKey.FromHex(HardhatNode.Account2Key);

    public LedgerDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // The addresses `hardhat node` prints for accounts 0..2: a mistyped key fails here, not as "no funds" later.
        Assert.Equal(Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), AdminKey.Address);
        Assert.Equal(Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), OperatorKey.Address);
        Assert.Equal(Address.Parse("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"), StrangerKey.Address);
        Node = await HardhatNode.StartAsync(RepoRoot);
        try
        {
            Client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = Node.Url, Timeout = TimeSpan.FromSeconds(30) });
            Artifact = EnergyLedgerArtifact.Load(Path.Combine(RepoRoot, EnergyLedgerArtifact.RelativePath));
            Deployment = await DeployLedgerAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
    }

    public Task<LedgerDeployment> DeployLedgerAsync() =>
        Deployer.DeployAsync(Client, AdminKey, AdminKey.Address, OperatorKey.Address, Artifact);

    public EnergyLedgerContract Contract(LedgerDeployment deployment) => new(Client, deployment);

    /// <summary>
    /// Stops the node and starts a new one on the same port. Hardhat keeps no state across a restart, so
    /// <paramref name="whileDown"/> runs between the two (e.g. to keep clients away), and the mined
    /// history captured before the stop is replayed into the new node, as a node with a persistent
    /// database would have it: every transaction, in order, with its original signature.
    /// </summary>
    public async Task RestartNodeAsync(IReadOnlyList<byte[]> history, Func<Task>? whileDown = null)
    {
        await Node.StopAsync();
        if (whileDown is not null)
        {
            await whileDown();
        }
        await Node.StartAgainAsync();
        await ChainHistory.ReplayAsync(Client, history);
    }
}

[CollectionDefinition(Name)]
public sealed class ChainCollection : ICollectionFixture<HardhatNodeFixture>
{
    public const string Name = "chain";
}
