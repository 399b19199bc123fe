using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Exchange.Server.Durability;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Ledger.Redis;
using Lot = P2PEnergy.Exchange.Lot;

namespace P2PEnergy.Durability.Tests;

/// <summary>The journal writer against a real Redis: a batch written again is no harm; someone else's entries stop it.</summary>
public sealed class JournalWriterTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private RedisMarketJournal Writer(string market, List<Lot>? lotsAdded = null) => new(
        fixture.Connection, new RedisOptions { ConnectionString = fixture.Redis.ConnectionString, Market = market, AckTimeoutMs = 3000 },
        (lots, _) =>
        {
            lock (lotsAdded ?? []) lotsAdded?.AddRange(lots);
            return Task.CompletedTask;
        },
        NullLogger<RedisMarketJournal>.Instance);

    private static JournalEntry Entry(long slot) => new() { UnixMs = 1000 * slot, CloseGate = new CloseGate { Slot = slot } };

    [Fact]
    public async Task Entries_already_in_the_journal_are_taken_as_written_when_they_are_the_same()
    {
        var market = "w" + Guid.NewGuid().ToString("N")[..12];
        await using (var first = Writer(market))
        {
            first.Start(0);
            for (var i = 1; i <= 3; i++) first.Append(Entry(i), []);
            await first.WaitDurableAsync(3, CancellationToken.None);
        }

        // As after a lost answer: the same batch again, from a writer that does not know it was written.
        var lots = new List<Lot>();
        await using var again = Writer(market, lots);
        again.Start(0);
        for (var i = 1; i <= 3; i++) again.Append(Entry(i), []);
        await again.WaitDurableAsync(3, CancellationToken.None);
        Assert.Null(again.Failure);
        Assert.Equal(3, await fixture.Connection.GetDatabase().StreamLengthAsync(RedisKeys.Journal(market)));
    }

    [Fact]
    public async Task Another_writers_entries_under_the_same_seq_stop_the_journal_for_good()
    {
        var market = "w" + Guid.NewGuid().ToString("N")[..12];
        await using (var first = Writer(market))
        {
            first.Start(0);
            first.Append(Entry(1), []);
            await first.WaitDurableAsync(1, CancellationToken.None);
        }

        await using var second = Writer(market);
        second.Start(0); // wrongly believes the journal empty: a second exchange on the same market
        second.Append(Entry(2), []);
        var e = await Assert.ThrowsAsync<JournalUnavailableException>(() => second.WaitDurableAsync(1, CancellationToken.None).AsTask());
        Assert.Contains("another exchange is writing market", e.Message);
        Assert.Contains("another exchange is writing market", second.Failure);
        var refused = Assert.Throws<JournalUnavailableException>(second.EnsureAccepting);
        Assert.Contains("cannot be written", refused.Message);
        // The first writer's entry is untouched.
        var stored = (await fixture.Connection.GetDatabase().StreamRangeAsync(RedisKeys.Journal(market))).Single();
        Assert.Equal(1, JournalEntry.Parser.ParseFrom((byte[])stored[RedisKeys.JournalField]!).CloseGate.Slot);
    }
}
