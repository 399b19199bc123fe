using Grpc.Core;
using P2PEnergy.Durability.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Testing;
using StackExchange.Redis;

namespace P2PEnergy.Durability.Tests;

/// <summary>One redis-server (AOF on) for the class; every test has its own market name, so its own keys.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public ConnectionMultiplexer Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Redis = await RedisServer.StartAsync();
        Connection = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Redis.DisposeAsync();
    }
}

public sealed class JournalTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static string NewMarket() => "t" + Guid.NewGuid().ToString("N")[..12];

    private RedisExchangeHost Host(string market, IDictionary<string, string>? settings = null) =>
        new(fixture.Redis.ConnectionString, market, settings);

    private static async Task<(List<Lot> Lots, List<string> Orders, GetMarketInfoResponse Info)> StateOfAsync(RedisExchangeHost host)
    {
        var info = await host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest());
        return (await Trading.AllLotsAsync(host.Exchange), await Trading.AllOrdersAsync(host.Exchange, info.NextOrderId), info);
    }

    [Fact]
    public async Task A_restarted_exchange_rebuilds_the_same_market_from_the_journal_and_continues_its_ids()
    {
        var market = NewMarket();
        List<Lot> lots;
        List<string> orders;
        GetMarketInfoResponse info;
        using (var first = Host(market))
        {
            await Trading.SetUpAsync(first.Admin);
            for (var i = 0; i < 120; i++) await first.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(1, i) });
            (lots, orders, info) = await StateOfAsync(first);
        }
        Assert.True(lots.Count > 10, $"the flow should trade (got {lots.Count} lots)");

        using var second = Host(market);
        var (lotsAfter, ordersAfter, infoAfter) = await StateOfAsync(second);
        Assert.Equal(0, second.Recovery!.SnapshotSeq);
        Assert.Equal(info.NextOrderId, infoAfter.NextOrderId);
        Assert.Equal(info.NextLotId, infoAfter.NextLotId);
        Assert.Equal(lots, lotsAfter);
        Assert.Equal(orders, ordersAfter);
        Assert.Equal(info.Participants, infoAfter.Participants);
        Assert.Equal(info.Slots, infoAfter.Slots);

        // An order acknowledged before the restart is still a duplicate: nothing is applied twice.
        var again = await Assert.ThrowsAsync<RpcException>(() => second.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(1, 7) }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, again.StatusCode);

        // New orders continue the ids; their lots continue the lot ids.
        for (var i = 120; i < 160; i++) await second.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(1, i) });
        var more = await Trading.AllLotsAsync(second.Exchange);
        Assert.Equal(Enumerable.Range(1, more.Count).Select(i => (long)i), more.Select(l => l.LotId));
    }

    [Fact]
    public async Task The_journal_holds_one_entry_per_accepted_command_and_none_for_refusals()
    {
        var market = NewMarket();
        using var host = Host(market);
        await Trading.SetUpAsync(host.Admin); // 8 registrations + 1 OpenSlots
        await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(2, 0) });
        await Assert.ThrowsAsync<RpcException>(() => host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(2, 0) }).ResponseAsync);
        var badPrice = Trading.Order(2, 1);
        badPrice.LimitPriceTicks = 0;
        await Assert.ThrowsAsync<RpcException>(() => host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = badPrice }).ResponseAsync);

        var entries = await fixture.Connection.GetDatabase().StreamRangeAsync(RedisKeys.Journal(market));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"{i}-0"), entries.Select(e => e.Id.ToString()));
        var parsed = entries.Select(e => JournalEntry.Parser.ParseFrom((byte[])e[RedisKeys.JournalField]!)).ToList();
        Assert.All(parsed.Take(8), e => Assert.Equal(JournalEntry.CommandOneofCase.Register, e.CommandCase));
        Assert.Equal(JournalEntry.CommandOneofCase.OpenSlots, parsed[8].CommandCase);
        Assert.Equal(JournalEntry.CommandOneofCase.Submit, parsed[9].CommandCase);
        Assert.Equal(2, parsed[9].NextOrderId); // order 1 accepted: the next is 2
        Assert.Equal(RedisExchangeHost.StartUnixSeconds * 1000, parsed[9].UnixMs);
    }

    [Fact]
    public async Task Lots_reach_the_Redis_outbox_once_their_command_is_durable()
    {
        var market = NewMarket();
        using var host = Host(market, new Dictionary<string, string> { ["Redis:LotOutbox"] = "true" }); // no chain here: asked for
        await Trading.SetUpAsync(host.Admin);
        for (var i = 0; i < 80; i++) await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(3, i) });
        var lots = await Trading.AllLotsAsync(host.Exchange);
        Assert.NotEmpty(lots);
        var outbox = new RedisLotOutbox(fixture.Connection, market);
        var pending = await outbox.PendingLotsAsync();
        Assert.Equal(lots.Select(l => l.LotId), pending.Select(l => l.LotId));
        Assert.Equal(lots.Select(l => (l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks, l.SellOrderId, l.BuyOrderId)),
            pending.Select(l => (l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks, l.SellOrderId, l.BuyOrderId)));
    }

    [Fact]
    public async Task Without_a_chain_no_lot_goes_to_the_Redis_outbox()
    {
        var market = NewMarket();
        using var host = Host(market);
        await Trading.SetUpAsync(host.Admin);
        for (var i = 0; i < 80; i++) await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(3, i) });
        Assert.NotEmpty(await Trading.AllLotsAsync(host.Exchange));
        Assert.False(await fixture.Connection.GetDatabase().KeyExistsAsync(RedisKeys.Lots(market)), "nobody would read the stream");
    }

    [Fact]
    public async Task Snapshots_bound_the_replay_and_the_journal_is_trimmed_behind_them()
    {
        var market = NewMarket();
        var settings = new Dictionary<string, string> { ["Redis:SnapshotEveryEntries"] = "25" };
        List<Lot> lots;
        List<string> orders;
        GetMarketInfoResponse info;
        byte[] proofRoot;
        using (var first = Host(market, settings))
        {
            await Trading.SetUpAsync(first.Admin);
            for (var i = 0; i < 150; i++) await first.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(4, i) });
            // Close the first slot's gate: its order tree must come back from the snapshot.
            await first.Admin.CloseGateAsync(new CloseGateRequest { Slot = Trading.FirstSlot });
            proofRoot = (await first.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = OrderInFirstSlot() })).SlotRoot.ToByteArray();
            (lots, orders, info) = await StateOfAsync(first);
            await WaitUntilAsync(() => first.Services.GetService(typeof(P2PEnergy.Exchange.Server.Durability.JournalSnapshots)) is
                P2PEnergy.Exchange.Server.Durability.JournalSnapshots s && s.LastSnapshotSeq >= 150);
        }
        var journalLength = await fixture.Connection.GetDatabase().StreamLengthAsync(RedisKeys.Journal(market));
        Assert.True(journalLength < 160 - 25, $"the journal should be trimmed behind the snapshots (holds {journalLength} of 160 entries)");

        using var second = Host(market, settings);
        var (lotsAfter, ordersAfter, infoAfter) = await StateOfAsync(second);
        var recovery = second.Recovery!;
        Assert.True(recovery.SnapshotSeq >= 150, $"restart should start from a snapshot (from {recovery.SnapshotSeq})");
        Assert.True(recovery.EntriesReplayed < 25, $"only entries after the snapshot are replayed ({recovery.EntriesReplayed})");
        Assert.Equal(lots, lotsAfter);
        Assert.Equal(orders, ordersAfter);
        Assert.Equal(info.NextOrderId, infoAfter.NextOrderId);
        Assert.Equal(proofRoot, (await second.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = OrderInFirstSlot() })).SlotRoot.ToByteArray());
    }

    [Fact]
    public async Task A_journal_entry_that_replays_to_other_ids_stops_the_exchange_at_start_up()
    {
        var market = NewMarket();
        using (var first = Host(market))
        {
            await Trading.SetUpAsync(first.Admin);
            await first.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(5, 0) });
        }
        // A copy of the journal whose last entry (the submit) claims another next order id than replaying it gives:
        // written by a build with other rules, or damaged.
        var db = fixture.Connection.GetDatabase();
        var copy = NewMarket();
        foreach (var e in await db.StreamRangeAsync(RedisKeys.Journal(market)))
        {
            var entry = JournalEntry.Parser.ParseFrom((byte[])e[RedisKeys.JournalField]!);
            if (e.Id == "10-0") entry.NextOrderId = 99;
            await db.ExecuteAsync("XADD", RedisKeys.Journal(copy), e.Id.ToString(), RedisKeys.JournalField, Google.Protobuf.MessageExtensions.ToByteArray(entry));
        }

        using var second = Host(copy);
        var e2 = Assert.ThrowsAny<Exception>(() => second.Server);
        Assert.Contains("journal entry 10 (Submit) replayed to next order id 2", e2.ToString());
        Assert.Contains("the journal says 99", e2.ToString());
    }

    [Fact]
    public async Task A_journal_with_a_missing_entry_stops_the_exchange_at_start_up()
    {
        var market = NewMarket();
        using (var first = Host(market))
        {
            await Trading.SetUpAsync(first.Admin);
            await first.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(5, 0) });
        }
        await fixture.Connection.GetDatabase().StreamDeleteAsync(RedisKeys.Journal(market), ["9-0"]);

        using var second = Host(market);
        var gap = Assert.ThrowsAny<Exception>(() => second.Server);
        Assert.Contains("jumps from entry 8 to 10", gap.ToString());
    }

    [Fact]
    public async Task While_Redis_is_down_commands_get_UNAVAILABLE_with_the_reason_and_nothing_acknowledged_is_lost()
    {
        // appendfsync always: Redis itself is killed here, and only then is every answered write on disk (docs/redis.md).
        await using var redis = await RedisServer.StartAsync("always");
        var market = NewMarket();
        using var host = new RedisExchangeHost(redis.ConnectionString, market);
        await Trading.SetUpAsync(host.Admin);
        for (var i = 0; i < 20; i++) await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(6, i) });

        await redis.KillAsync();
        // Every command while Redis is down is answered UNAVAILABLE naming Redis: refused before it is applied, or
        // applied but not durable within the ack timeout (then it takes effect once written).
        for (var i = 20; i < 23; i++)
        {
            var down = await Assert.ThrowsAsync<RpcException>(() => host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(6, i) }).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, down.StatusCode);
            Assert.Contains("Redis", down.Status.Detail);
        }

        await redis.RestartAsync();
        await WaitUntilAsync(() => host.Journal.Connected && host.Journal.Failure is null && host.Journal.Backlog == 0);
        // The client retries what was not acknowledged: each is either a duplicate (it had taken effect) or accepted now.
        for (var i = 20; i < 23; i++)
        {
            try
            {
                await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(6, i) });
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
            }
        }
        var before = await StateOfAsync(host);

        using var restarted = new RedisExchangeHost(redis.ConnectionString, market);
        var after = await StateOfAsync(restarted);
        Assert.Equal(before.Lots, after.Lots);
        Assert.Equal(before.Orders, after.Orders);
        Assert.Equal(24, before.Info.NextOrderId); // orders 1 … 23 (flow orders 0 … 22): none lost, none twice
    }

    [Fact]
    public async Task Without_Redis_at_start_up_the_exchange_does_not_start_and_says_why()
    {
        await using var redis = await RedisServer.StartAsync();
        var connection = redis.ConnectionString;
        await redis.KillAsync();
        using var host = new RedisExchangeHost(connection, NewMarket(), new Dictionary<string, string> { ["Redis:ConnectTimeoutMs"] = "500" });
        var e = Assert.ThrowsAny<Exception>(() => host.Server);
        Assert.Contains("did not answer within 500 ms", e.ToString());
    }

    /// <summary>The id of flow 4's first order in the first slot (every order of the flow is accepted: id = index + 1).</summary>
    private static long OrderInFirstSlot() => Enumerable.Range(0, 150).First(i => Trading.Order(4, i).Slot == Trading.FirstSlot) + 1;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the condition did not come true within 20 s");
            await Task.Delay(50);
        }
    }
}
