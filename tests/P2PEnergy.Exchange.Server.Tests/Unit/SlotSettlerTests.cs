namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Microsoft.Extensions.Logging.Abstractions;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Exchange.Server.Settlement;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using SettlementPolicy = P2PEnergy.Settlement.SettlementPolicy;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMetering;
using Core = P2PEnergy.Exchange;

/// <summary>The settler on a <see cref="TestMetering"/> market, called directly.</summary>
public sealed class SlotSettlerTests
{
    private sealed class RecordingSink : IReadingRootSink
    {
        public readonly List<(long Slot, int Count)> Calls = [];

        public void ReadingRootReady(long slot, byte[] root, int count)
        {
            lock (Calls) Calls.Add((slot, count));
        }
    }

    private static SlotSettler SettlerFor(TestMetering metering) =>
        new(metering.Market.Market, () => metering.Store, SettlementPolicy.Default, NullLogger<SlotSettler>.Instance);

    [Fact]
    public void A_slot_sealed_while_its_gate_is_open_is_settled_only_after_the_gate_closes()
    {
        var metering = new TestMetering().WithMeters();
        var settler = SettlerFor(metering);
        const long slot = Slot0 + 2;
        metering.Market.Open(slot, Mechanism.Continuous);

        // Cannot happen through the store (readings only after delivery), so told directly.
        settler.OnReadingsSealed(slot);
        Assert.Equal(SettlementLookup.NotSettled, settler.TryGet(slot, out var none));
        Assert.Null(none);

        Assert.Equal(Core.ResultCode.Ok, metering.Market.Market.CloseGate(slot, out _));
        Assert.Equal(SettlementLookup.Settled, settler.TryGet(slot, out var settled));
        Assert.Empty(settled!.Settlement.Lots);
        Assert.True(settled.Settlement.Conserves);

        settler.OnReadingsSealed(slot);
        Assert.Equal(SettlementLookup.Settled, settler.TryGet(slot, out var again));
        Assert.Same(settled, again);
    }

    [Fact]
    public void Unsealed_and_unknown_slots()
    {
        var metering = new TestMetering().WithMeters();
        var settler = SettlerFor(metering);
        Assert.Equal(SettlementLookup.UnknownSlot, settler.TryGet(Slot0 + 40, out _));
        metering.Market.Open(Slot0 + 2, Mechanism.CallAuction);
        Assert.Equal(SettlementLookup.NotSettled, settler.TryGet(Slot0 + 2, out _));
    }

    [Fact]
    public void The_settling_sink_tells_the_sink_registered_before()
    {
        var next = new RecordingSink();
        SlotSettler? settler = null;
        var metering = new TestMetering(sink: new DeferredSink(() => new SettlingReadingRootSink(settler!, next))).WithMeters();
        settler = SettlerFor(metering);
        metering.Submit(Reading(SellerMeter, Seller, Ended, 1, 2));
        Assert.True(metering.Seal(Ended).NewlySealed);
        Assert.Equal([(Ended, 1)], next.Calls);
        // The ended slot was never opened in this market: nothing to settle.
        Assert.Equal(SettlementLookup.UnknownSlot, settler.TryGet(Ended, out _));
    }

    private sealed class DeferredSink(Func<IReadingRootSink> get) : IReadingRootSink
    {
        public void ReadingRootReady(long slot, byte[] root, int count) => get().ReadingRootReady(slot, root, count);
    }
}
