namespace P2PEnergy.Exchange.Server.Tests.Unit;

using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>A slow reader never slows trading: it is dropped, and knows it.</summary>
public sealed class SlowClientTests
{
    [Fact]
    public async Task Outbox_drops_when_others_overflow_it_but_always_takes_own_answers()
    {
        var outbox = new Outbox<int>(16);
        for (var i = 0; i < 16; i++) Assert.True(outbox.TryPost(i, "full"));
        Assert.True(outbox.Post(16));            // own answer: queued beyond capacity
        var wait = outbox.WaitForRoomAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);         // the call stops reading commands

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = new List<int>();
        await foreach (var x in outbox.ReadAllAsync(timeout.Token))
        {
            read.Add(x);
            if (read.Count == 2) break;
        }
        await wait.AsTask().WaitAsync(timeout.Token); // room again
        Assert.Equal([0, 1], read);

        Assert.Equal(15, outbox.Count);
        Assert.True(outbox.TryPost(100, "full")); // the 16th fits
        Assert.False(outbox.TryPost(999, "fell behind"));
        Assert.Equal("fell behind", outbox.DropReason);
        Assert.Empty(await ReadAll(outbox, timeout.Token)); // a dropped outbox ends at once
    }

    private static async Task<List<int>> ReadAll(Outbox<int> outbox, CancellationToken ct)
    {
        var list = new List<int>();
        await foreach (var x in outbox.ReadAllAsync(ct)) list.Add(x);
        return list;
    }

    [Fact]
    public void Slow_market_data_subscriber_is_dropped_and_trading_goes_on()
    {
        var m = new TestMarket(o => o.StreamBufferCapacity = 16);
        m.Register(Seller, 0);
        m.Register(Buyer, 0);
        m.Open(Slot0 + 2, Mechanism.Continuous);
        using var slow = m.Hub.Subscribe(null);
        using var other = m.Hub.Subscribe(Slot0 + 99); // filtered away: never fills

        for (var i = 1; i <= 20; i++)
        {
            m.Submit(Sell(Seller, (ulong)i, Slot0 + 2, 100, 1000 + i)); // one book update each
        }

        Assert.StartsWith("market-data subscriber fell more than 16 events behind", slow.Outbox.DropReason);
        Assert.Null(other.Outbox.DropReason);
        Assert.Equal(21, m.Market.Snapshot().NextOrderId);
    }
}
