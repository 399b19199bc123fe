using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests;

public sealed class InMemoryLotOutboxTests
{
    private static readonly TimeSpan NoWait = TimeSpan.Zero;

    [Fact]
    public async Task Reads_pending_lots_in_lot_id_order_up_to_the_count_asked()
    {
        var outbox = new InMemoryLotOutbox();
        foreach (var id in new long[] { 5, 1, 4, 2, 3 })
        {
            await outbox.AddAsync(TestLots.Make(id));
        }
        using var reader = outbox.OpenReader();
        Assert.Equal([1L, 2, 3], (await reader.ReadAsync(3, NoWait)).Select(l => l.LotId));
        Assert.Equal([4L, 5], (await reader.ReadAsync(3, NoWait)).Select(l => l.LotId));
        Assert.Empty(await reader.ReadAsync(3, NoWait));
    }

    [Fact]
    public async Task Nothing_leaves_before_its_ack_and_a_new_reader_gets_every_unacked_lot_again()
    {
        var outbox = new InMemoryLotOutbox();
        foreach (var lot in TestLots.Range(1, 6))
        {
            await outbox.AddAsync(lot);
        }
        var first = outbox.OpenReader();
        var batch = await first.ReadAsync(4, NoWait);
        await first.AckAsync([1, 2]);
        Assert.Equal(4, await outbox.CountPendingAsync());

        // The first reader is gone (say the recorder restarted): 3 and 4 were read but never acked.
        using var second = outbox.OpenReader();
        Assert.Equal([3L, 4, 5, 6], (await second.ReadAsync(10, NoWait)).Select(l => l.LotId));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await first.ReadAsync(1, NoWait));
        await second.AckAsync([3, 4, 5, 6]);
        Assert.Equal(0, await outbox.CountPendingAsync());
    }

    [Fact]
    public async Task A_read_waits_for_the_next_lot_or_returns_nothing_after_the_wait()
    {
        var outbox = new InMemoryLotOutbox();
        using var reader = outbox.OpenReader();
        Assert.Empty(await reader.ReadAsync(10, TimeSpan.FromMilliseconds(30)));

        var waiting = reader.ReadAsync(10, Timeout.InfiniteTimeSpan).AsTask();
        Assert.False(waiting.IsCompleted);
        await outbox.AddAsync(TestLots.Make(9));
        var lots = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(9, Assert.Single(lots).LotId);
    }

    [Fact]
    public async Task A_read_ends_when_cancelled()
    {
        var outbox = new InMemoryLotOutbox();
        using var reader = outbox.OpenReader();
        using var cts = new CancellationTokenSource();
        var waiting = reader.ReadAsync(10, Timeout.InfiniteTimeSpan, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    [Fact]
    public async Task Refuses_unrecordable_and_conflicting_lots_and_ignores_a_repeated_one()
    {
        var outbox = new InMemoryLotOutbox();
        await Assert.ThrowsAsync<ArgumentException>(async () => await outbox.AddAsync(TestLots.Make(1) with { EnergyWh = 0 }));
        await outbox.AddAsync(TestLots.Make(1));
        await outbox.AddAsync(TestLots.Make(1));
        Assert.Equal(1, await outbox.CountPendingAsync());
        await Assert.ThrowsAsync<ArgumentException>(async () => await outbox.AddAsync(TestLots.Make(1) with { PriceTicks = 1 }));
        Assert.Equal(TestLots.Make(1), Assert.Single(outbox.PendingLots()));
    }
}
