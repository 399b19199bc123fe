using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Exchange.Chain.Tests.Infrastructure;

/// <summary>
/// One Hardhat node on 127.0.0.1 for the whole project, started and stopped by the Ledger tests' own
/// <see cref="HardhatNodeFixture"/> (referenced, not copied). Each test deploys its own ledger.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ChainTestCollection : ICollectionFixture<HardhatNodeFixture>
{
    public const string Name = "exchange chain";
}

/// <summary>A fresh EnergyLedger for one test: account 1 records lots, account 2 commits order roots.</summary>
public sealed class FreshLedger : IDisposable
{
    private readonly string _dir;

    private FreshLedger(HardhatNodeFixture chain, LedgerDeployment deployment, string dir)
    {
        Chain = chain;
        Deployment = deployment;
        _dir = dir;
        DeploymentFile = Path.Combine(dir, "deployment.json");
        deployment.Save(DeploymentFile);
        Contract = chain.Contract(deployment);
    }

    public HardhatNodeFixture Chain { get; }

    public LedgerDeployment Deployment { get; }

    public string DeploymentFile { get; }

    public EnergyLedgerContract Contract { get; }

    /// <summary>Account 2, made a second operator (as scripts/demo.sh does with `p2penergy-ledger operator`).</summary>
    public static EthKey CommitterKey { get; } = EthKey.FromHex(HardhatNode.Account2Key);

    /// <summary>Hardhat account 3, made a third operator: the exchange's chain settler (Ledger:SettlerKey).</summary>
    public static EthKey SettlerKey { get; } = EthKey.FromHex("0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6");

    /// <summary>Hardhat account 4: the grid operator's account (wheeling, retail, buy-back).</summary>
    public static EthKey GridOperatorKey { get; } = EthKey.FromHex("0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a");

    /// <summary>Makes <see cref="SettlerKey"/> an operator and <see cref="GridOperatorKey"/>'s address the grid operator.</summary>
    public async Task EnableSettlementAsync()
    {
        await Contract.SetOperatorAsync(Chain.AdminKey, SettlerKey.Address, true);
        await Contract.SetGridOperatorAsync(Chain.AdminKey, GridOperatorKey.Address);
        Assert.Equal(GridOperatorKey.Address, await Contract.GridOperatorAsync());
    }

    public static async Task<FreshLedger> DeployAsync(HardhatNodeFixture chain, bool addCommitter = true)
    {
        var deployment = await chain.DeployLedgerAsync();
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        var ledger = new FreshLedger(chain, deployment, dir);
        if (addCommitter)
        {
            await ledger.Contract.SetOperatorAsync(chain.AdminKey, CommitterKey.Address, true);
            Assert.True(await ledger.Contract.IsOperatorAsync(CommitterKey.Address));
        }
        return ledger;
    }

    /// <summary>The Ledger:* settings of an exchange that records on this ledger.</summary>
    public Dictionary<string, string?> Settings(bool withCommitter = true) => new()
    {
        ["Exchange:ChainId"] = Deployment.ChainId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Exchange:LedgerAddress"] = Deployment.Ledger.ToString(),
        ["Ledger:RpcUrl"] = Chain.Node.Url.ToString(),
        ["Ledger:DeploymentFile"] = DeploymentFile,
        ["Ledger:OperatorKey"] = HardhatNode.Account1Key,
        ["Ledger:RootCommitterKey"] = withCommitter ? HardhatNode.Account2Key : "",
        ["Ledger:BatchSize"] = "3",
        ["Ledger:MaxBatchDelayMs"] = "20",
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
