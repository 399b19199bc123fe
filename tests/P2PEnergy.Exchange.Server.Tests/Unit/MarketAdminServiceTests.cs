namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using P2PEnergy.Exchange.Protos.V1;
using MarketClock = P2PEnergy.Exchange.Server.Domain.MarketClock;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

public sealed class MarketAdminServiceTests
{
    [Fact]
    public async Task Admin_token_is_required_when_configured()
    {
        var m = new TestMarket(o => o.AdminToken = "s3cret");
        var request = new OpenSlotRequest { Slot = Slot0 + 2, Mechanism = Mechanism.Continuous };

        var missing = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlot(request, Context()));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.StartsWith("x-admin-token:", missing.Status.Detail);

        var wrong = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlot(request, Context("guess")));
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        Assert.Empty(m.Market.Snapshot().Slots);

        var info = await Assert.ThrowsAsync<RpcException>(() => m.Admin.GetMarketInfo(new GetMarketInfoRequest(), Context()));
        Assert.Equal(StatusCode.Unauthenticated, info.StatusCode);

        var opened = await m.Admin.OpenSlot(request, Context("s3cret"));
        Assert.Equal(Slot0 + 2, opened.Slot.Slot);
    }

    [Fact]
    public async Task Without_a_token_admin_calls_need_no_header()
    {
        var m = new TestMarket();
        var opened = await m.Admin.OpenSlot(new OpenSlotRequest { Slot = Slot0 + 2 }, Context());
        Assert.Equal(Mechanism.CallAuction, opened.Slot.Mechanism); // the configured default
        Assert.Equal((Slot0 + 2) * 1800 * 1000 - 300_000, opened.Slot.GateClosureUnixMs);
    }

    [Theory]
    [InlineData("0x12", 0, ParticipantKind.Household, StatusCode.InvalidArgument, "address")]
    [InlineData(Buyer, 64, ParticipantKind.Household, StatusCode.InvalidArgument, "zone")]
    [InlineData(Buyer, -1, ParticipantKind.Household, StatusCode.InvalidArgument, "zone")]
    [InlineData(Buyer, 0, ParticipantKind.Unspecified, StatusCode.InvalidArgument, "kind")]
    [InlineData(Seller, 0, ParticipantKind.Household, StatusCode.AlreadyExists, "address")]
    public async Task Bad_registration_is_refused_and_changes_nothing(string address, int zone, ParticipantKind kind, StatusCode status, string field)
    {
        var m = new TestMarket();
        m.Register(Seller, 0);
        var before = m.Fingerprint();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            m.Admin.RegisterParticipant(new RegisterParticipantRequest { Address = address, Zone = zone, Kind = kind }, Context()));
        Assert.Equal(status, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Status.Detail);
        Assert.Equal(before, m.Fingerprint());
    }

    [Fact]
    public async Task Opening_a_slot_whose_gate_passed_or_twice_is_refused()
    {
        var m = new TestMarket();
        var past = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlot(new OpenSlotRequest { Slot = Slot0 }, Context()));
        Assert.Equal(StatusCode.FailedPrecondition, past.StatusCode);
        Assert.StartsWith($"slot: the slot's gate is closed (slot {Slot0}", past.Status.Detail);

        m.Open(Slot0 + 2, Mechanism.Continuous);
        var twice = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlot(new OpenSlotRequest { Slot = Slot0 + 2 }, Context()));
        Assert.Equal(StatusCode.AlreadyExists, twice.StatusCode);

        var mechanism = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlot(new OpenSlotRequest { Slot = Slot0 + 3, Mechanism = (Mechanism)9 }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, mechanism.StatusCode);
        Assert.StartsWith("mechanism:", mechanism.Status.Detail);
    }

    [Fact]
    public async Task Open_slots_is_all_or_none()
    {
        var m = new TestMarket();
        m.Open(Slot0 + 5, Mechanism.Continuous);
        var before = m.Fingerprint();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            m.Admin.OpenSlots(new OpenSlotsRequest { FirstSlot = Slot0 + 2, Count = 48 }, Context()));
        Assert.Equal(StatusCode.AlreadyExists, ex.StatusCode);
        Assert.Equal($"first_slot: slot is already open (slot {Slot0 + 5})", ex.Status.Detail);
        Assert.Equal(before, m.Fingerprint());

        var day = await m.Admin.OpenSlots(new OpenSlotsRequest { FirstSlot = Slot0 + 6, Count = 48, Mechanism = Mechanism.CallAuction }, Context());
        Assert.Equal(Enumerable.Range(6, 48).Select(k => Slot0 + k), day.Slots.Select(s => s.Slot));

        var count = await Assert.ThrowsAsync<RpcException>(() => m.Admin.OpenSlots(new OpenSlotsRequest { FirstSlot = Slot0 + 100, Count = 0 }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, count.StatusCode);
        Assert.StartsWith("count:", count.Status.Detail);
    }

    [Fact]
    public async Task Advance_clock_closes_due_gates_in_slot_order_and_runs_the_auctions()
    {
        var m = new TestMarket();
        m.Register(Seller, 0);
        m.Register(Buyer, 0);
        await m.Admin.OpenSlots(new OpenSlotsRequest { FirstSlot = Slot0 + 2, Count = 4, Mechanism = Mechanism.CallAuction }, Context());
        m.Submit(Sell(Seller, 1, Slot0 + 3, 1000, 1500, EnergySource.Mixed));
        m.Submit(Buy(Buyer, 1, Slot0 + 3, 600, 2500));

        // Gates of slot k are at start + k·1800 − 300 s: two hours close k = 2, 3, 4 and leave k = 5 open.
        var response = await m.Admin.AdvanceClock(new AdvanceClockRequest { By = Duration.FromTimeSpan(TimeSpan.FromHours(2)) }, Context());

        Assert.Equal((StartUnixSeconds + 7200) * 1000, response.NowUnixMs);
        Assert.Equal([Slot0 + 2, Slot0 + 3, Slot0 + 4], response.Closed.Select(c => c.Slot));
        var cleared = response.Closed[1];
        Assert.Equal(1, cleared.LotCount);
        Assert.Equal(600, cleared.MatchedWh);
        var standard = cleared.Results.Single(r => r.Product == Product.Standard);
        Assert.True(standard.Cleared);
        Assert.Equal(2000, standard.ClearingPriceTicks); // ⌊(1500 + 2500) / 2⌋
        Assert.Equal(1, m.Market.Snapshot().LotCount);
        Assert.True(m.Market.TryGetSlot(Slot0 + 5, out var open) && open.Phase == Exchange.SlotPhase.Open);

        // Moving to a time in the past is refused; to a later one works.
        var back = await Assert.ThrowsAsync<RpcException>(() => m.Admin.AdvanceClock(new AdvanceClockRequest { ToUnixSeconds = StartUnixSeconds }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, back.StatusCode);
        Assert.StartsWith("to_unix_seconds:", back.Status.Detail);
        var to = await m.Admin.AdvanceClock(new AdvanceClockRequest { ToUnixSeconds = StartUnixSeconds + 9000 }, Context());
        Assert.Equal([Slot0 + 5], to.Closed.Select(c => c.Slot));
    }

    [Fact]
    public async Task Advance_clock_needs_a_target_and_a_simulated_clock()
    {
        var m = new TestMarket();
        var none = await Assert.ThrowsAsync<RpcException>(() => m.Admin.AdvanceClock(new AdvanceClockRequest(), Context()));
        Assert.Equal(StatusCode.InvalidArgument, none.StatusCode);
        var negative = await Assert.ThrowsAsync<RpcException>(() => m.Admin.AdvanceClock(new AdvanceClockRequest { By = Duration.FromTimeSpan(TimeSpan.FromSeconds(-1)) }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, negative.StatusCode);
        Assert.StartsWith("by:", negative.Status.Detail);

        var system = new TestMarket(o => o.Clock = ClockKind.System);
        var ex = await Assert.ThrowsAsync<RpcException>(() => system.Admin.AdvanceClock(new AdvanceClockRequest { By = Duration.FromTimeSpan(TimeSpan.FromHours(1)) }, Context()));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
    }

    [Fact]
    public async Task Wheeling_table_is_checked_per_entry_and_used_for_new_lots()
    {
        var m = new TestMarket();
        m.Register(Seller, 0);
        m.Register(Buyer, 3);
        m.Open(Slot0 + 2, Mechanism.Continuous);

        var bad = await Assert.ThrowsAsync<RpcException>(() => m.Admin.SetWheelingTable(new SetWheelingTableRequest
        {
            DefaultFeeTicks = 800,
            Entries = { new WheelingEntry { SellerZone = 0, BuyerZone = 3, FeeTicks = 0 }, new WheelingEntry { SellerZone = 1, BuyerZone = 64, FeeTicks = 5 } },
        }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.StartsWith("entries[1].buyer_zone:", bad.Status.Detail);
        Assert.Equal(1000, m.Market.Snapshot().Wheeling.Fee(0, 3));

        var set = await m.Admin.SetWheelingTable(new SetWheelingTableRequest
        {
            DefaultFeeTicks = 800,
            Entries = { new WheelingEntry { SellerZone = 0, BuyerZone = 3, FeeTicks = 250 } },
        }, Context());
        Assert.Equal(800, set.DefaultFeeTicks);
        Assert.Equal([(0, 3, 250L)], set.Entries.Select(e => (e.SellerZone, e.BuyerZone, e.FeeTicks)));

        m.Submit(Sell(Seller, 1, Slot0 + 2, 100, 2000));
        var lot = m.Submit(Buy(Buyer, 1, Slot0 + 2, 100, 2000)).Lots.Single();
        Assert.Equal(250, lot.WheelingFeeTicks);
        Assert.Equal(100 * 2250, lot.BuyerPays);
    }

    [Fact]
    public async Task Grid_tariff_is_checked_and_reported()
    {
        var m = new TestMarket();
        var inverted = await Assert.ThrowsAsync<RpcException>(() => m.Admin.SetGridTariff(new SetGridTariffRequest
        {
            Tariff = new GridTariff { RetailTicks = 2000, BuyBackTicks = 2500 },
        }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, inverted.StatusCode);
        Assert.StartsWith("tariff.buy_back_ticks:", inverted.Status.Detail);

        var halfHour = await Assert.ThrowsAsync<RpcException>(() => m.Admin.SetGridTariff(new SetGridTariffRequest
        {
            Tariff = new GridTariff { RetailTicks = 2600, BuyBackTicks = 800, TimeOfUse = { new TimeOfUsePrice { HalfHourOfDay = 48, RetailTicks = 3000 } } },
        }, Context()));
        Assert.StartsWith("tariff.time_of_use[0].half_hour_of_day:", halfHour.Status.Detail);
        Assert.Equal(2620, m.Market.Tariff.RetailTicks);

        await m.Admin.SetGridTariff(new SetGridTariffRequest
        {
            Tariff = new GridTariff { RetailTicks = 2600, BuyBackTicks = 800, TimeOfUse = { new TimeOfUsePrice { HalfHourOfDay = 36, RetailTicks = 3400 } } },
        }, Context());
        var info = await m.Admin.GetMarketInfo(new GetMarketInfoRequest(), Context());
        Assert.Equal(2600, info.Tariff.RetailTicks);
        Assert.Equal(800, info.Tariff.BuyBackTicks);
        Assert.Equal(540, info.Tariff.UtcOffsetMinutes);
        Assert.Equal(36, info.Tariff.TimeOfUse.Single().HalfHourOfDay);
        Assert.True(info.SimulatedClock);
        Assert.Equal(StartUnixSeconds * 1000, info.NowUnixMs);
        // 18:00 JST = 09:00 UTC is half hour 36 of the local day.
        Assert.Equal(3400, m.Market.Tariff.RetailTicksAt(StartUnixSeconds + 9 * 3600));
        Assert.Equal(2600, m.Market.Tariff.RetailTicksAt(StartUnixSeconds + 10 * 3600));
    }

    [Fact]
    public async Task On_the_system_clock_the_gate_closer_closes_due_gates_with_timeprovider_timers()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(StartUnixSeconds));
        var m = new TestMarket(o => o.Clock = ClockKind.System, new MarketClock(time, null));
        m.Register(Seller, 0);
        m.Register(Buyer, 0);
        m.Open(Slot0 + 1, Mechanism.CallAuction);
        m.Submit(Sell(Seller, 1, Slot0 + 1, 500, 1000));
        m.Submit(Buy(Buyer, 1, Slot0 + 1, 500, 1200));
        using var subscription = m.Hub.Subscribe(Slot0 + 1);
        using var closer = new GateClosingService(m.Market, NullLogger<GateClosingService>.Instance);
        await closer.StartAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(1800 - 300 - 1));
        time.Advance(TimeSpan.FromSeconds(1)); // the gate time: the next tick closes it

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var kinds = new List<MarketDataEvent.EventOneofCase>();
        await foreach (var e in subscription.Outbox.ReadAllAsync(timeout.Token))
        {
            kinds.Add(e.EventCase);
            if (e.EventCase == MarketDataEvent.EventOneofCase.GateClosed) break;
        }
        await closer.StopAsync(CancellationToken.None);

        Assert.Equal(
            [MarketDataEvent.EventOneofCase.Clearing, MarketDataEvent.EventOneofCase.Clearing, MarketDataEvent.EventOneofCase.Trade, MarketDataEvent.EventOneofCase.GateClosed],
            kinds);
        Assert.Equal(1, m.Market.Snapshot().LotCount);
    }
}
