using System.Collections.Concurrent;
using Grpc.Core;
using P2PEnergy.Durability.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Ledger.Tests.Redis;
using P2PEnergy.Signing;
using P2PEnergy.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;
using CoreLot = P2PEnergy.Exchange.Lot;

namespace P2PEnergy.Durability.Tests;

/// <summary>
/// The Redis-mode pipeline with real processes: the exchange (journal + lot outbox in Redis, no recorder of its own),
/// a separate recorder (`p2penergy-ledger record --redis`) and a Hardhat node. Both the exchange and the recorder
/// are killed with SIGKILL while orders stream in; in the end every lot the exchange made is on chain exactly once,
/// with the fields the exchange serves, and the outbox is empty.
/// </summary>
public sealed class RedisPipelineTests(HardhatNodeFixture chain, ITestOutputHelper output) : IClassFixture<HardhatNodeFixture>
{
    private const int Orders = 1500;
    private const int Seed = 21;

    [Fact]
    public async Task Exchange_and_recorder_killed_mid_flow_every_lot_ends_on_chain_exactly_once()
    {
        var deployment = await chain.DeployLedgerAsync();
        var deploymentFile = Path.Combine(Path.GetTempPath(), $"p2pe-pipeline-{Guid.NewGuid():N}.json");
        deployment.Save(deploymentFile);
        await using var redis = await RedisServer.StartAsync("always");
        const string market = "pipeline";
        var domain = new MarketDomain(deployment.ChainId, deployment.Ledger);
        NewOrder OrderOf(int i) => Trading.Order(Seed, i, domain);

        await using var exchangeProcess = await ExchangeProcess.StartAsync(new Dictionary<string, string>
        {
            ["Exchange:Clock"] = "Simulated",
            ["Exchange:SimulatedStartUnixSeconds"] = RedisExchangeHost.StartUnixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Exchange:DefaultMechanism"] = "Continuous",
            ["Redis:ConnectionString"] = redis.ConnectionString,
            ["Redis:Market"] = market,
            ["Ledger:RpcUrl"] = chain.Node.Url.ToString(),
            ["Ledger:DeploymentFile"] = deploymentFile,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        string[] recorderArgs =
        [
            "record", "--redis", redis.ConnectionString, "--market", market, "--rpc", chain.Node.Url.ToString(),
            "--deployment", deploymentFile, "--key", HardhatNode.Account1Key, "--consumer", "recorder-1", "--batch", "100",
        ];
        var recorder = LedgerCliProcess.Start(chain.RepoRoot, recorderArgs);
        try
        {
            var acked = new ConcurrentDictionary<int, StreamAck>();
            using (var channel = exchangeProcess.CreateChannel())
            {
                await Trading.SetUpAsync(new MarketAdmin.MarketAdminClient(channel));
                var killed = 0;
                await OrderBurst.SendAsync(new ExchangeService.ExchangeServiceClient(channel), Enumerable.Range(0, Orders), OrderOf, (i, a) =>
                {
                    acked[i] = a;
                    if (acked.Count >= Orders / 3 && Interlocked.Exchange(ref killed, 1) == 0) _ = exchangeProcess.KillAsync();
                });
            }
            Assert.True(acked.Count < Orders, "the kill should have cut the burst short");
            Assert.All(acked.Values, a => Assert.Equal((int)StatusCode.OK, a.Status));

            // The recorder dies too, with whatever batch it has in flight; a new one takes over under the same name.
            await recorder.KillAsync();
            recorder = LedgerCliProcess.Start(chain.RepoRoot, recorderArgs);

            await exchangeProcess.RestartAsync();
            using var channel2 = exchangeProcess.CreateChannel();
            var exchange = new ExchangeService.ExchangeServiceClient(channel2);
            var resent = Enumerable.Range(0, Orders).Where(i => !acked.ContainsKey(i)).ToList();
            var answered = 0;
            await OrderBurst.SendAsync(exchange, resent, OrderOf, (_, a) =>
            {
                Assert.True(a.Status is (int)StatusCode.OK or (int)StatusCode.AlreadyExists, $"a re-sent order was answered {a.Status}");
                Interlocked.Increment(ref answered);
            });
            Assert.Equal(resent.Count, answered);

            var lots = (await Trading.AllLotsAsync(exchange)).Select(ToCore).ToList();
            Assert.True(lots.Count > 200, $"the flow should trade ({lots.Count} lots)");
            var contract = chain.Contract(deployment);
            await Poll.UntilAsync(async () => (long)await contract.LotCountAsync() == lots.Count, TimeSpan.FromSeconds(120),
                $"all {lots.Count} lots on chain", () => recorder.Output);

            var onChain = await contract.GetRecordedLotsAsync();
            Assert.Equal(lots.Count, onChain.Count); // one event per lot: none twice
            Assert.Equal(lots, onChain.Select(r => r.Lot).OrderBy(l => l.LotId).ToList());
            var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
            await Poll.UntilAsync(async () => await connection.GetDatabase().StreamLengthAsync(RedisKeys.Lots(market)) == 0, TimeSpan.FromSeconds(30),
                "the lot outbox empty");
            await connection.DisposeAsync();
            output.WriteLine($"{acked.Count} orders acked before the kill; {lots.Count} lots, all on chain once");
        }
        finally
        {
            await recorder.DisposeAsync();
            File.Delete(deploymentFile);
        }
    }

    private static CoreLot ToCore(Lot l) => new(
        l.LotId, l.Slot, P2PEnergy.Exchange.Address.Parse(l.Seller), P2PEnergy.Exchange.Address.Parse(l.Buyer), l.EnergyWh, l.PriceTicks,
        l.WheelingFeeTicks, (P2PEnergy.Exchange.Product)(int)l.Product, (P2PEnergy.Exchange.EnergySource)(int)l.Source, l.SellOrderId, l.BuyOrderId);
}
