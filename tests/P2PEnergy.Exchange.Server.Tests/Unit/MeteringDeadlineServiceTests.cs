namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMetering;

/// <summary>On a wall clock (here a fake one), the background service seals slots at their deadline without any metering call.</summary>
public sealed class MeteringDeadlineServiceTests
{
    private sealed class AwaitedSink : IReadingRootSink
    {
        public TaskCompletionSource<(long Slot, int Count)> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReadingRootReady(long slot, byte[] root, int count) => First.TrySetResult((slot, count));
    }

    [Fact]
    public async Task The_deadline_seals_the_slot_and_tells_the_sink()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(StartUnixSeconds));
        var sink = new AwaitedSink();
        var t = new TestMetering(o => o.Clock = ClockKind.System, sink: sink, clock: new MarketClock(time, null)).WithMeters();
        t.Submit(Reading(SellerMeter, Seller, Ended, 350, 1200));
        using var service = new MeteringDeadlineService(t.Market.Market, t.Store, NullLogger<MeteringDeadlineService>.Instance);
        await service.StartAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(3599));
        Assert.False(sink.First.Task.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var (slot, count) = await sink.First.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((Ended, 1), (slot, count));
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task On_the_simulated_clock_the_service_does_nothing()
    {
        var t = new TestMetering().WithMeters();
        using var service = new MeteringDeadlineService(t.Market.Market, t.Store, NullLogger<MeteringDeadlineService>.Instance);
        await service.StartAsync(CancellationToken.None);
        // ExecuteAsync returns at once: no timer on a clock that has none.
        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(service.ExecuteTask.IsCompletedSuccessfully);
        await service.StopAsync(CancellationToken.None);
    }
}
