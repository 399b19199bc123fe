using Grpc.Core;
using P2PEnergy.Durability.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Testing;
using Xunit.Abstractions;

namespace P2PEnergy.Durability.Tests;

/// <summary>
/// The exchange as a real process in Redis mode, killed with SIGKILL in the middle of a burst of signed orders on
/// an order stream, then started again: every acknowledged order survives, none is applied twice, and once the
/// client has re-sent what it had no answer for, the lots are those of a run that was never interrupted.
/// </summary>
public sealed class ExchangeCrashTests(ITestOutputHelper output)
{
    private const int Orders = 3000;
    private const int BatchSize = 50;
    private const int Seed = 7;

    private static Dictionary<string, string> Config(RedisServer redis, string market) => new()
    {
        ["Exchange:Clock"] = "Simulated",
        ["Exchange:SimulatedStartUnixSeconds"] = RedisExchangeHost.StartUnixSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Exchange:DefaultMechanism"] = "Continuous",
        ["Redis:ConnectionString"] = redis.ConnectionString,
        ["Redis:Market"] = market,
        ["Redis:SnapshotEveryEntries"] = "1000",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    private static Task SendAsync(ExchangeService.ExchangeServiceClient client, IEnumerable<int> indexes, Action<int, StreamAck> onAck) =>
        OrderBurst.SendAsync(client, indexes, i => Trading.Order(Seed, i), onAck, BatchSize);

    [Fact]
    public async Task Kill_9_during_an_order_burst_loses_no_acknowledged_order_and_applies_none_twice()
    {
        await using var redis = await RedisServer.StartAsync();

        // The uninterrupted run: its own market on the same Redis.
        List<Lot> expectedLots;
        List<string> expectedOrders;
        await using (var calm = await ExchangeProcess.StartAsync(Config(redis, "calm")))
        {
            using var channel = calm.CreateChannel();
            await Trading.SetUpAsync(new MarketAdmin.MarketAdminClient(channel));
            var acks = 0;
            await SendAsync(new ExchangeService.ExchangeServiceClient(channel), Enumerable.Range(0, Orders), (_, a) =>
            {
                Assert.Equal((int)StatusCode.OK, a.Status);
                Interlocked.Increment(ref acks);
            });
            Assert.Equal(Orders, acks);
            var exchange = new ExchangeService.ExchangeServiceClient(channel);
            expectedLots = await Trading.AllLotsAsync(exchange);
            expectedOrders = await Trading.AllOrdersAsync(exchange, Orders + 1);
        }
        Assert.True(expectedLots.Count > 500, $"the flow should trade ({expectedLots.Count} lots)");

        // The same flow, killed with SIGKILL once about a third of it is acknowledged.
        await using var exchangeProcess = await ExchangeProcess.StartAsync(Config(redis, "crash"));
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<int, StreamAck>();
        using (var channel = exchangeProcess.CreateChannel())
        {
            await Trading.SetUpAsync(new MarketAdmin.MarketAdminClient(channel));
            var killed = 0;
            await SendAsync(new ExchangeService.ExchangeServiceClient(channel), Enumerable.Range(0, Orders), (i, a) =>
            {
                acked[i] = a;
                if (acked.Count >= Orders / 3 && Interlocked.Exchange(ref killed, 1) == 0) _ = exchangeProcess.KillAsync();
            });
            Assert.Equal(1, killed);
        }
        Assert.True(acked.Count < Orders, "the kill should have cut the burst short");
        Assert.All(acked.Values, a => Assert.Equal((int)StatusCode.OK, a.Status));
        output.WriteLine($"{acked.Count} of {Orders} orders acknowledged before the kill");

        await exchangeProcess.RestartAsync();
        using (var channel = exchangeProcess.CreateChannel())
        {
            var exchange = new ExchangeService.ExchangeServiceClient(channel);
            // Every acknowledged order is there: sent again, each is refused as a duplicate (ALREADY_EXISTS), none applied twice.
            var stillThere = 0;
            await SendAsync(exchange, acked.Keys.Order(), (_, a) =>
            {
                Assert.Equal((int)StatusCode.AlreadyExists, a.Status);
                Interlocked.Increment(ref stillThere);
            });
            Assert.Equal(acked.Count, stillThere);
            // The client re-sends, in order, everything it had no ack for: a duplicate (it had become durable) or accepted now.
            var resent = Enumerable.Range(0, Orders).Where(i => !acked.ContainsKey(i)).ToList();
            var duplicates = 0;
            var accepted = 0;
            await SendAsync(exchange, resent, (_, a) =>
            {
                if (a.Status == (int)StatusCode.AlreadyExists) Interlocked.Increment(ref duplicates);
                else if (a.Status == (int)StatusCode.OK) Interlocked.Increment(ref accepted);
                else Assert.Fail($"a re-sent order was answered {a.Status}");
            });
            Assert.Equal(resent.Count, duplicates + accepted);
            output.WriteLine($"re-sent {resent.Count}: {duplicates} had become durable before the kill, {accepted} accepted now");

            var info = await new MarketAdmin.MarketAdminClient(channel).GetMarketInfoAsync(new GetMarketInfoRequest());
            Assert.Equal(Orders + 1, info.NextOrderId); // each order exactly once
            Assert.Equal(expectedLots, await Trading.AllLotsAsync(exchange));
            Assert.Equal(expectedOrders, await Trading.AllOrdersAsync(exchange, Orders + 1));
        }
    }

    [Fact]
    public async Task Redis_killed_and_restarted_during_an_order_burst_answers_UNAVAILABLE_and_loses_nothing_acknowledged()
    {
        // appendfsync always: Redis itself is killed, and only then is every answered write on disk (docs/redis.md).
        await using var redis = await RedisServer.StartAsync("always");
        var config = Config(redis, "outage");
        config["Redis:AckTimeoutMs"] = "1000";
        await using var exchangeProcess = await ExchangeProcess.StartAsync(config);
        using var channel = exchangeProcess.CreateChannel();
        var exchange = new ExchangeService.ExchangeServiceClient(channel);
        await Trading.SetUpAsync(new MarketAdmin.MarketAdminClient(channel));

        var answers = new System.Collections.Concurrent.ConcurrentDictionary<int, StreamAck>();
        var killed = 0;
        Task? outage = null;
        await SendAsync(exchange, Enumerable.Range(0, Orders), (i, a) =>
        {
            answers[i] = a;
            if (answers.Count >= Orders / 4 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                outage = Task.Run(async () =>
                {
                    await redis.KillAsync();
                    await Task.Delay(3000);
                    await redis.RestartAsync();
                });
            }
        });
        await outage!;
        var ok = answers.Where(a => a.Value.Status == (int)StatusCode.OK).Select(a => a.Key).ToHashSet();
        var unavailable = answers.Count(a => a.Value.Status == (int)StatusCode.Unavailable);
        Assert.All(answers.Values, a => Assert.True(a.Status is (int)StatusCode.OK or (int)StatusCode.Unavailable, $"answered {a.Status}"));
        Assert.True(unavailable > 0 || answers.Count < Orders, "the outage should have been felt: UNAVAILABLE answers or a broken stream");
        output.WriteLine($"{ok.Count} acknowledged, {unavailable} UNAVAILABLE, {Orders - answers.Count} unanswered during the outage");

        // Once Redis is back, the client re-sends everything not acknowledged: each is accepted now or was applied (ALREADY_EXISTS).
        var resent = Enumerable.Range(0, Orders).Where(i => !ok.Contains(i)).ToList();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                await exchange.GetOrderBookAsync(new GetOrderBookRequest { Slot = Trading.FirstSlot });
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "the exchange answering again");
        var retried = new System.Collections.Concurrent.ConcurrentDictionary<int, StreamAck>();
        for (var round = 0; round < 10 && resent.Count > 0; round++)
        {
            retried.Clear();
            await SendAsync(exchange, resent, (i, a) => retried[i] = a);
            resent = resent.Where(i => !(retried.TryGetValue(i, out var a) && a.Status is (int)StatusCode.OK or (int)StatusCode.AlreadyExists)).ToList();
            if (resent.Count > 0) await Task.Delay(500); // the journal may still be catching up
        }
        Assert.Empty(resent);

        var info = await new MarketAdmin.MarketAdminClient(channel).GetMarketInfoAsync(new GetMarketInfoRequest());
        Assert.Equal(Orders + 1, info.NextOrderId); // every order exactly once
        var lots = await Trading.AllLotsAsync(exchange);

        // And all of it is durable: a crash now loses nothing.
        await exchangeProcess.KillAsync();
        await exchangeProcess.RestartAsync();
        using var again = exchangeProcess.CreateChannel();
        Assert.Equal(lots, await Trading.AllLotsAsync(new ExchangeService.ExchangeServiceClient(again)));
    }
}
