using System.Diagnostics;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests.Redis;

/// <summary>The Redis outbox against a real redis-server (<see cref="RedisServerFixture"/>); each test on its own market.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisLotOutboxTests
{
    private static readonly TimeSpan NoWait = TimeSpan.Zero;
    private readonly RedisServerFixture _redis;
    private readonly ITestOutputHelper _output;

    public RedisLotOutboxTests(RedisServerFixture redis, ITestOutputHelper output)
    {
        _redis = redis;
        _output = output;
    }

    private IDatabase Db => _redis.Redis.GetDatabase();

    private RedisLotOutbox NewOutbox(string name, RedisLotOutboxOptions? options = null) =>
        new(_redis.Redis, RedisServerFixture.NewMarket(name), options);

    private static long[] Ids(IEnumerable<Lot> lots) => lots.Select(l => l.LotId).ToArray();

    [Fact]
    public async Task Lots_are_stream_entries_lotId_dash_0_with_the_packed_lot_read_by_the_recorders_group()
    {
        var outbox = NewOutbox("layout");
        Assert.Equal($"p2pe:{{{outbox.Market}}}:lots", outbox.StreamKey);
        await outbox.AddAsync(TestLots.Make(7));
        using var reader = outbox.OpenReader("r1");
        Assert.Single(await reader.ReadAsync(10, NoWait));

        var entry = Assert.Single(await Db.StreamRangeAsync(outbox.StreamKey));
        Assert.Equal("7-0", (string?)entry.Id);
        var field = Assert.Single(entry.Values);
        Assert.Equal(RedisKeys.LotField, (string?)field.Name);
        Assert.Equal(LotPacking.Pack(TestLots.Make(7)), (byte[]?)field.Value);
        var group = Assert.Single(await Db.StreamGroupInfoAsync(outbox.StreamKey));
        Assert.Equal(RedisKeys.RecorderGroup, group.Name);
        Assert.Equal(1, group.PendingMessageCount);
    }

    [Fact]
    public async Task Adds_reads_lowest_id_first_and_an_ack_removes_the_lots_for_good()
    {
        var outbox = NewOutbox("basic");
        var lots = TestLots.Range(1, 10);
        Assert.Equal(10, await outbox.AddRangeAsync(lots.Reverse().ToArray())); // sorted before they are written
        Assert.Equal(10, await outbox.CountPendingAsync());

        using var reader = outbox.OpenReader("r1");
        var first = await reader.ReadAsync(4, NoWait);
        Assert.Equal(lots[..4], first); // every field back
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10 }, Ids(await reader.ReadAsync(10, NoWait)));
        Assert.Empty(await reader.ReadAsync(10, NoWait));

        await reader.AckAsync([1, 2, 3, 4]);
        Assert.Equal(6, await outbox.CountPendingAsync());
        Assert.Equal(6, await RedisTesting.PendingInGroupAsync(_redis.Redis, outbox));
        Assert.Equal(new long[] { 5, 6, 7, 8, 9, 10 }, Ids(await outbox.PendingLotsAsync()));
        await reader.AckAsync([5, 6, 7, 8, 9, 10]);
        Assert.Equal(0, await outbox.CountPendingAsync());
        Assert.Equal(0, await RedisTesting.PendingInGroupAsync(_redis.Redis, outbox));
        await reader.AckAsync([5]); // again: nothing happens
    }

    [Fact]
    public async Task Adding_is_idempotent_and_another_lot_under_a_pending_id_is_refused()
    {
        var outbox = NewOutbox("idempotent");
        await outbox.AddAsync(TestLots.Make(1));
        await outbox.AddAsync(TestLots.Make(1));
        Assert.Equal(1, await outbox.CountPendingAsync());

        var other = await Assert.ThrowsAsync<ArgumentException>(async () => await outbox.AddAsync(TestLots.Make(1) with { PriceTicks = 1 }));
        Assert.Contains("Another lot with id 1", other.Message);
        Assert.Equal([TestLots.Make(1)], await outbox.PendingLotsAsync());

        Assert.Equal(5, await outbox.AddRangeAsync(TestLots.Range(2, 5)));
        // A journal replayed after a crash adds lots 1..6 again with 7 new: only 7 is written.
        Assert.Equal(1, await outbox.AddRangeAsync(TestLots.Range(1, 7)));
        Assert.Equal(7, await outbox.CountPendingAsync());

        // Once acknowledged (on chain), adding the lot again is still a no-op: it is not read a second time.
        using var reader = outbox.OpenReader("r1");
        Assert.Equal(7, (await reader.ReadAsync(10, NoWait)).Count);
        await reader.AckAsync([1, 2, 3]);
        Assert.Equal(0, await outbox.AddRangeAsync(TestLots.Range(1, 3)));
        Assert.Equal(4, await outbox.CountPendingAsync());
        Assert.Empty(await reader.ReadAsync(10, NoWait));
    }

    [Fact]
    public async Task A_batch_larger_than_one_script_goes_in_chunks_and_adding_it_again_writes_nothing()
    {
        var outbox = NewOutbox("chunks");
        var lots = TestLots.Range(1, 2500);
        Assert.Equal(1200, await outbox.AddRangeAsync(lots[..1200]));
        Assert.Equal(1300, await outbox.AddRangeAsync(lots)); // 1..1200 again, in the first two chunks
        Assert.Equal(0, await outbox.AddRangeAsync(lots));
        Assert.Equal(2500, await outbox.CountPendingAsync());
        Assert.Equal(lots, await outbox.PendingLotsAsync());
        var conflict = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await outbox.AddRangeAsync([.. lots[..1999], lots[1999] with { EnergyWh = 1 }, .. TestLots.Range(2501, 10)]));
        Assert.Contains("Another lot with id 2000", conflict.Message);
        Assert.Equal(2510, await outbox.CountPendingAsync()); // the others went in
    }

    [Fact]
    public async Task An_unrecordable_lot_or_two_lots_with_one_id_are_refused_before_anything_is_written()
    {
        var outbox = NewOutbox("refused");
        var bad = TestLots.Range(1, 5);
        bad[3] = bad[3] with { EnergyWh = 0 };
        await Assert.ThrowsAsync<ArgumentException>(async () => await outbox.AddRangeAsync(bad));
        await Assert.ThrowsAsync<ArgumentException>(async () => await outbox.AddRangeAsync([TestLots.Make(1), TestLots.Make(1) with { BuyOrderId = 9 }]));
        Assert.Equal(0, await outbox.CountPendingAsync());
        Assert.False(await Db.KeyExistsAsync(outbox.StreamKey));
    }

    [Fact]
    public async Task A_reader_restarted_under_the_same_name_gets_its_unacknowledged_lots_back_at_once_marked_as_redelivered()
    {
        var outbox = NewOutbox("same-name");
        await outbox.AddRangeAsync(TestLots.Range(1, 6));
        var first = outbox.OpenReader("recorder-1");
        Assert.Equal(new long[] { 1, 2, 3, 4 }, Ids(await first.ReadAsync(4, NoWait)));
        await first.AckAsync([1]);
        first.Dispose(); // the recorder stops (or dies) with 2, 3, 4 unacknowledged

        var second = (IRedeliveringLotOutboxReader)outbox.OpenReader("recorder-1");
        Assert.Equal(new long[] { 2, 3, 4, 5, 6 }, Ids(await second.ReadAsync(10, NoWait)));
        Assert.True(second.MayBeRecorded(2));
        Assert.True(second.MayBeRecorded(4));
        Assert.False(second.MayBeRecorded(5)); // never handed out before
        Assert.Empty(await second.ReadAsync(10, NoWait)); // its own lots in flight are not handed out twice
        await second.AckAsync([2, 3, 4, 5, 6]);
        Assert.False(second.MayBeRecorded(2));
        Assert.Equal(0, await outbox.CountPendingAsync());
    }

    [Fact]
    public async Task A_second_reader_claims_a_dead_readers_lots_only_after_min_idle_and_the_dead_consumer_leaves_the_group()
    {
        var minIdle = TimeSpan.FromSeconds(1);
        var outbox = NewOutbox("claim", new RedisLotOutboxOptions { MinIdle = minIdle });
        await outbox.AddRangeAsync(TestLots.Range(1, 5));
        var clock = Stopwatch.StartNew();
        var dead = outbox.OpenReader("dead");
        Assert.Equal(new long[] { 1, 2, 3 }, Ids(await dead.ReadAsync(3, NoWait)));
        dead.Dispose();

        var live = (IRedeliveringLotOutboxReader)outbox.OpenReader("live");
        Assert.Equal(new long[] { 4, 5 }, Ids(await live.ReadAsync(10, NoWait))); // the dead reader's lots are not idle long enough yet
        await live.AckAsync([4, 5]);
        await outbox.AddRangeAsync(TestLots.Range(6, 2));

        var claimed = new List<Lot>();
        while (claimed.Count < 5 && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            claimed.AddRange(await live.ReadAsync(10, TimeSpan.FromSeconds(1)));
        }
        Assert.Equal(new long[] { 1, 2, 3, 6, 7 }, Ids(claimed).Order());
        Assert.True(clock.Elapsed >= minIdle - TimeSpan.FromMilliseconds(10), $"claimed after {clock.Elapsed}");
        Assert.True(live.MayBeRecorded(1));
        Assert.False(live.MayBeRecorded(6));
        var consumers = await Db.StreamConsumerInfoAsync(outbox.StreamKey, RedisKeys.RecorderGroup);
        Assert.Equal(["live"], consumers.Select(c => c.Name).ToArray());
        await live.AckAsync([1, 2, 3, 6, 7]);
        Assert.Equal(0, await outbox.CountPendingAsync());
    }

    [Fact]
    public async Task A_read_that_mixes_claimed_and_new_lots_hands_them_out_lowest_id_first()
    {
        var outbox = NewOutbox("order", new RedisLotOutboxOptions { MinIdle = TimeSpan.FromMilliseconds(200) });
        await outbox.AddRangeAsync(TestLots.Range(1, 4));
        var dead = outbox.OpenReader("dead");
        Assert.Equal(new long[] { 1, 2 }, Ids(await dead.ReadAsync(2, NoWait)));
        await Poll.UntilAsync(
            async () => (await Db.StreamPendingMessagesAsync(outbox.StreamKey, RedisKeys.RecorderGroup, 10, "dead")).All(m => m.IdleTimeInMilliseconds > 300),
            TimeSpan.FromSeconds(10), "the dead reader's lots are idle longer than min-idle");
        await outbox.AddRangeAsync(TestLots.Range(5, 2));

        using var live = outbox.OpenReader("live");
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, Ids(await live.ReadAsync(10, NoWait)));
    }

    [Fact]
    public async Task A_read_waits_for_the_next_lot_returns_nothing_after_its_wait_and_ends_when_cancelled()
    {
        var outbox = NewOutbox("wait", new RedisLotOutboxOptions { PollInterval = TimeSpan.FromMilliseconds(10) });
        using var reader = outbox.OpenReader("r1");
        Assert.Empty(await reader.ReadAsync(10, TimeSpan.FromMilliseconds(50)));

        var waiting = reader.ReadAsync(10, Timeout.InfiniteTimeSpan).AsTask();
        await Task.Delay(30);
        Assert.False(waiting.IsCompleted);
        await outbox.AddAsync(TestLots.Make(9));
        Assert.Equal(9, Assert.Single(await waiting.WaitAsync(TimeSpan.FromSeconds(10))).LotId);

        using var cts = new CancellationTokenSource();
        var cancelled = reader.ReadAsync(10, Timeout.InfiniteTimeSpan, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }

    [Fact]
    public async Task A_lost_group_is_created_again_and_delivers_exactly_the_unacknowledged_lots()
    {
        var outbox = NewOutbox("lost-group");
        await outbox.AddRangeAsync(TestLots.Range(1, 5));
        using var reader = outbox.OpenReader("r1");
        Assert.Equal(5, (await reader.ReadAsync(10, NoWait)).Count);
        await reader.AckAsync([1, 2]);
        Assert.True(await Db.StreamDeleteConsumerGroupAsync(outbox.StreamKey, RedisKeys.RecorderGroup)); // an operator's mistake

        using var next = outbox.OpenReader("r2");
        Assert.Equal(new long[] { 3, 4, 5 }, Ids(await next.ReadAsync(10, NoWait)));
    }

    [Fact]
    public async Task Unacknowledged_lots_survive_a_kill_9_of_redis_and_its_restart_from_the_append_only_file()
    {
        // appendfsync always: every write is in the AOF before its reply. With everysec Redis may hold a write back
        // while a background fsync runs (up to 2 s) and reply anyway, so a kill can lose the last writes (docs/redis.md).
        await using var server = await RedisServer.StartAsync("always");
        await using var redis = await RedisTesting.ConnectWithShortTimeoutsAsync(server);
        var outbox = new RedisLotOutbox(redis, "aof");
        await outbox.AddRangeAsync(TestLots.Range(1, 100));
        var reader = outbox.OpenReader("r1");
        Assert.Equal(30, (await reader.ReadAsync(30, NoWait)).Count);
        await reader.AckAsync(Enumerable.Range(1, 10).Select(i => (long)i).ToArray());
        var killedPid = server.ProcessId;

        await server.KillAsync();
        Assert.Null(server.ProcessId);
        await server.RestartAsync();
        Assert.NotEqual(killedPid, server.ProcessId);

        Assert.Equal(90, await RedisTesting.WhenAvailableAsync(async () => await outbox.CountPendingAsync(), TimeSpan.FromSeconds(15)));
        Assert.Equal(20, await RedisTesting.PendingInGroupAsync(redis, outbox)); // read by r1, not acknowledged
        // The stream's last id came back too: acknowledged lots are still not added again.
        Assert.Equal(0, await outbox.AddRangeAsync(TestLots.Range(1, 10)));
        Assert.Equal(90, await outbox.CountPendingAsync());
        using var again = outbox.OpenReader("r1");
        Assert.Equal(Enumerable.Range(11, 90).Select(i => (long)i), Ids(await again.ReadAsync(100, NoWait)));
        reader.Dispose();
    }

    [Fact]
    public async Task While_redis_is_down_each_operation_fails_with_an_error_naming_the_endpoint_and_all_works_again_after()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = await RedisTesting.ConnectWithShortTimeoutsAsync(server);
        var outbox = new RedisLotOutbox(redis, "down");
        await outbox.AddRangeAsync(TestLots.Range(1, 3));
        using var reader = outbox.OpenReader("r1");
        Assert.Equal(2, (await reader.ReadAsync(2, NoWait)).Count);

        await server.KillAsync();
        var endpoint = $"127.0.0.1:{server.Port}";
        var add = await Assert.ThrowsAsync<LotOutboxUnavailableException>(async () => await outbox.AddAsync(TestLots.Make(4)));
        Assert.Contains(endpoint, add.Message);
        Assert.Contains("XADD", add.Message);
        Assert.IsAssignableFrom<RedisException>(add.InnerException);
        var read = await Assert.ThrowsAsync<LotOutboxUnavailableException>(async () => await reader.ReadAsync(10, NoWait));
        Assert.Contains(endpoint, read.Message);
        var ack = await Assert.ThrowsAsync<LotOutboxUnavailableException>(async () => await reader.AckAsync([1]));
        Assert.Contains(endpoint, ack.Message);
        var count = await Assert.ThrowsAsync<LotOutboxUnavailableException>(async () => await outbox.CountPendingAsync());
        Assert.Contains(endpoint, count.Message);
        _output.WriteLine(add.Message);
        _output.WriteLine(read.Message);

        await server.RestartAsync();
        await RedisTesting.WhenAvailableAsync(async () => await outbox.AddRangeAsync([TestLots.Make(4)]), TimeSpan.FromSeconds(15));
        await reader.AckAsync([1]);
        // The failed read may have handed nothing out: lot 3 and the new lot 4 come now, lot 2 stays in flight.
        Assert.Equal(new long[] { 3, 4 }, Ids(await reader.ReadAsync(10, NoWait)));
        Assert.Equal(3, await outbox.CountPendingAsync());
    }
}
