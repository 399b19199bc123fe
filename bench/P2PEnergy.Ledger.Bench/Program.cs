using System.Diagnostics;
using System.Globalization;
using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;
using EnergySource = P2PEnergy.Exchange.EnergySource;
using Lot = P2PEnergy.Exchange.Lot;
using ParticipantAddress = P2PEnergy.Exchange.Address;
using Product = P2PEnergy.Exchange.Product;

// Usage: dotnet run -c Release --project bench/P2PEnergy.Ledger.Bench [-- LOTS [BASELINE_LOTS]]
// Starts a Hardhat node on 127.0.0.1 (contracts/ compiled offline first if needed), deploys a fresh ledger
// for each run, fills an in-memory outbox and times the recorder until the outbox is empty. The baseline,
// measured in the same run, is the same recorder sending one lot per transaction.
int lots = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
int baselineLots = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;

var root = HardhatNode.FindRepoRoot();
await using var node = await HardhatNode.StartAsync(root);
using var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = node.Url });
var artifact = EnergyLedgerArtifact.Load(Path.Combine(root, EnergyLedgerArtifact.RelativePath));
var admin = EthKey.FromHex(HardhatNode.Account0Key);
var @operator = EthKey.FromHex(HardhatNode.Account1Key);
Console.WriteLine($"Hardhat node on {node.Url} (pid {node.ProcessId}); {Environment.ProcessorCount} cores.");

await RunAsync("warm-up", 1000, 200, print: false);
var baseline = await RunAsync("baseline: one lot per transaction", baselineLots, 1);
var results = new List<Result> { baseline };
foreach (var batch in new[] { 100, 500 })
{
    results.Add(await RunAsync($"recorder, batches of {batch}", lots, batch));
}
foreach (var batch in new[] { 100, 500 })
{
    results.Add(await RunAsync($"batches of {batch}, reused gas estimate", lots, batch, reuseEstimate: true));
}

Console.WriteLine();
Console.WriteLine($"{"run",-38} {"lots",7} {"txs",6} {"seconds",8} {"lots/s",8} {"gas/lot",8} {"x lots/s",9} {"x gas/lot",9}");
foreach (var r in results)
{
    Console.WriteLine(
        $"{r.Name,-38} {r.Lots,7} {r.Transactions,6} {r.Seconds,8:0.00} {r.LotsPerSecond,8:0} {r.GasPerLot,8:0} " +
        $"{r.LotsPerSecond / baseline.LotsPerSecond,9:0.0} {r.GasPerLot / baseline.GasPerLot,9:0.00}");
}
return 0;

async Task<Result> RunAsync(string name, int count, int batchSize, bool print = true, bool reuseEstimate = false)
{
    var deployment = await Deployer.DeployAsync(client, admin, admin.Address, @operator.Address, artifact);
    var outbox = new InMemoryLotOutbox();
    for (int i = 1; i <= count; i++)
    {
        await outbox.AddAsync(MakeLot(i));
    }
    using var recorderClient = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = node.Url });
    var recorder = new LotRecorder(recorderClient, deployment, @operator, outbox, new LotRecorderOptions { BatchSize = batchSize, MaxBatchDelay = TimeSpan.FromMilliseconds(5), ReuseGasEstimate = reuseEstimate });
    using var cts = new CancellationTokenSource();
    var clock = Stopwatch.StartNew();
    var run = recorder.RunAsync(cts.Token);
    while (await outbox.CountPendingAsync() > 0)
    {
        if (run.IsCompleted)
        {
            await run;
            throw new InvalidOperationException("The recorder stopped early.");
        }
        await Task.Delay(2);
    }
    clock.Stop();
    await cts.CancelAsync();
    await run;
    var stats = recorder.Stats;
    var onChain = await new EnergyLedgerContract(client, deployment).LotCountAsync();
    if (stats.LotsRecorded != count || onChain != (ulong)count)
    {
        throw new InvalidOperationException($"{name}: {stats.LotsRecorded} recorded, {onChain} on chain, {count} expected.");
    }
    var result = new Result(name, count, stats.TransactionsConfirmed, clock.Elapsed.TotalSeconds, count / clock.Elapsed.TotalSeconds, stats.GasPerLot);
    if (print)
    {
        Console.WriteLine($"{name}: {count} lots in {result.Seconds:0.00} s = {result.LotsPerSecond:0} lots/s, {result.GasPerLot:0} gas a lot, {stats.Retries} retries");
    }
    return result;
}

// Every field varies with the id, as in contracts/test/lots.js.
static Lot MakeLot(long id)
{
    static ParticipantAddress Party(long value)
    {
        var bytes = new byte[20];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(12), value);
        return ParticipantAddress.FromBytes(bytes);
    }
    return new Lot(
        id, 989046 + id / 500, Party(0x1000 + id % 97), Party(0x2000 + id % 89), 100 * (1 + id % 50), 1000 + id % 1600,
        id % 2 == 0 ? 0 : 1000, id % 3 == 1 ? Product.Green : Product.Standard, id % 2 == 0 ? EnergySource.Renewable : EnergySource.Mixed,
        2 * id + 1, 2 * id + 2);
}

internal sealed record Result(string Name, int Lots, long Transactions, double Seconds, double LotsPerSecond, double GasPerLot);
