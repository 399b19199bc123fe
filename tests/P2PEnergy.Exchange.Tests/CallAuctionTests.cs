using P2PEnergy.Exchange.Tests.Support;
using static P2PEnergy.Exchange.Tests.Support.TestMarket;

namespace P2PEnergy.Exchange.Tests;

/// <summary>
/// The call auction, rule by rule (matching-rules.md, "Call auction"), on the engine and on the reference.
/// S(p) = sells with limit ≤ p, D(p) = buys with limit ≥ p, V(p) = min(S, D); the arithmetic is in the comments.
/// </summary>
public sealed class CallAuctionTests
{
    private static TestMarket Auction(string impl, int participants = 6, WheelingTable? wheeling = null) =>
        new TestMarket(impl, wheeling: wheeling).WithParticipants(participants).WithSlot(Mechanism.CallAuction);

    private static Lot ExpectedLot(long lotId, int seller, int buyer, long wh, long price, long sellId, long buyId,
        Product product = Product.Standard, EnergySource source = EnergySource.Mixed, long fee = 0) =>
        new(lotId, Slot, P(seller), P(buyer), wh, price, fee, product, source, sellId, buyId);

    private static ClearingResult Cleared(CommandResult r, Product product) =>
        r.Events.OfType<SlotClearedEvent>().Single(e => e.Result.Product == product).Result;

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_book_is_blind_and_nothing_trades_before_the_gate(string impl)
    {
        var m = Auction(impl);
        var sell = m.SellMixed(1, 100, 90);
        var buy = m.Buy(2, 100, 110);
        Assert.IsType<OrderAcceptedEvent>(Assert.Single(sell.Events));
        Assert.IsType<OrderAcceptedEvent>(Assert.Single(buy.Events));
        Assert.Equal(ResultCode.BookNotVisible, m.Market.GetDepth(Slot, Product.Standard, 10, out var depth));
        Assert.Null(depth);
        Assert.Equal(ResultCode.BookNotVisible, m.Market.GetDepth(Slot, Product.Green, 10, out _));
        Assert.Equal(2, m.Market.LiveOrders(Slot).Count);

        m.CloseGate();
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Standard, 10, out depth));
        Assert.Empty(depth!.Bids);
        Assert.Empty(depth.Asks);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_price_maximises_volume_and_is_the_middle_of_the_best_interval(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 300, 90);  // id 1
        m.SellMixed(2, 300, 100); // id 2
        m.SellMixed(3, 300, 110); // id 3
        m.Buy(4, 400, 105);       // id 4
        m.Buy(5, 300, 95);        // id 5
        // S: 300 on 90–99, 600 on 100–109, 900 from 110.  D: 700 up to 95, 400 on 96–105, 0 above.
        // V: 300 on 90–99, 400 on 100–105, 0 from 106. Max 400 on [100, 105], |S − D| = 200 throughout,
        // so the price is ⌊(100 + 105) / 2⌋ = 102.
        // At 102: buys in the money 400 (id 4) = V; sells in the money 600 (ids 1, 2): the long side.
        // Id 1 (90) fills 300; the marginal level 100 (id 2) gives the remaining 100 of its 300.
        var r = m.CloseGate();
        Assert.Equal(new ClearingResult(Slot, Product.Standard, true, 102, 400, 900, 700, 2), Cleared(r, Product.Standard));
        Assert.Equal([ExpectedLot(1, 1, 4, 300, 102, 1, 4), ExpectedLot(2, 2, 4, 100, 102, 2, 4)], r.Lots);
        Assert.Equal(
            [
                new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 300, 0),
                new OrderDoneEvent(2, P(2), OrderDoneReason.Expired, 100, 200),
                new OrderDoneEvent(3, P(3), OrderDoneReason.Expired, 0, 300),
                new OrderDoneEvent(4, P(4), OrderDoneReason.Filled, 400, 0),
                new OrderDoneEvent(5, P(5), OrderDoneReason.Expired, 0, 300),
            ],
            r.Done);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Among_equal_volumes_the_smallest_imbalance_decides(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 300, 100); // id 1
        m.SellMixed(2, 300, 104); // id 2
        m.Buy(3, 300, 108);       // id 3
        m.Buy(4, 200, 102);       // id 4
        // S: 300 on 100–103, 600 from 104.  D: 500 up to 102, 300 on 103–108.
        // V = 300 on all of 100–108. |S − D|: 200 on 100–102, 0 at 103, 300 on 104–108.
        // Only 103 has the smallest imbalance: price 103 (the middle of 100–108 would have been 104).
        var r = m.CloseGate();
        Assert.Equal(new ClearingResult(Slot, Product.Standard, true, 103, 300, 600, 500, 1), Cleared(r, Product.Standard));
        Assert.Equal([ExpectedLot(1, 1, 3, 300, 103, 1, 3)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_midpoint_rounds_down(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 100, 100);
        m.Buy(2, 100, 101);
        // V = 100 on [100, 101] with imbalance 0 on both: ⌊(100 + 101) / 2⌋ = 100.
        var r = m.CloseGate();
        Assert.Equal(100, Cleared(r, Product.Standard).ClearingPriceTicks);
        Assert.Equal(100, Assert.Single(r.Lots).PriceTicks);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Three_equal_orders_sharing_two_steps_give_them_to_the_lower_order_ids(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 300, 100); // id 1
        m.SellMixed(2, 300, 100); // id 2
        m.SellMixed(3, 300, 100); // id 3
        m.Buy(4, 200, 100);       // id 4
        // V = 200 at 100 only. Marginal level Q = 900, R = 200, step 100:
        // a_i = ⌊300·200 / (900·100)⌋ = 0 steps each; 2 steps remain; the fractions 60,000 are equal,
        // so ids 1 and 2 get one step each, id 3 nothing.
        var r = m.CloseGate();
        Assert.Equal([ExpectedLot(1, 1, 4, 100, 100, 1, 4), ExpectedLot(2, 2, 4, 100, 100, 2, 4)], r.Lots);
        Assert.Equal(new OrderDoneEvent(3, P(3), OrderDoneReason.Expired, 0, 300), r.Done.Single(d => d.OrderId == 3));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Pro_rata_remainder_steps_go_to_the_largest_fractions(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 500, 100); // id 1
        m.SellMixed(2, 300, 100); // id 2
        m.SellMixed(3, 200, 100); // id 3
        m.Buy(4, 700, 100);       // id 4
        // Q = 1000, R = 700, Q·step = 100,000.
        //   id 1: 500·700 = 350,000 → 3 steps, fraction 50,000
        //   id 2: 300·700 = 210,000 → 2 steps, fraction 10,000
        //   id 3: 200·700 = 140,000 → 1 step,  fraction 40,000
        // 600 given, 1 step left → id 1 (largest fraction): 400 / 200 / 100.
        var r = m.CloseGate();
        Assert.Equal(
            [ExpectedLot(1, 1, 4, 400, 100, 1, 4), ExpectedLot(2, 2, 4, 200, 100, 2, 4), ExpectedLot(3, 3, 4, 100, 100, 3, 4)],
            r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_buy_side_is_rationed_too_and_buys_pair_in_price_priority(string impl)
    {
        var m = Auction(impl);
        m.Buy(1, 200, 120);        // id 1: above the marginal level, filled whole
        m.Buy(2, 300, 100);        // id 2
        m.Buy(3, 100, 100);        // id 3
        m.SellMixed(4, 400, 100);  // id 4
        // S = 400 from 100. D: 600 up to 100, 200 on 101–120. V: 400 at 100, 200 on 101–120: price 100.
        // Buys: id 1 (120) fills 200; the marginal level 100 has Q = 400 for R = 200:
        //   id 2: 300·200 = 60,000 / 40,000 → 1 step, fraction 20,000; id 3: 100·200 = 20,000 → 0 steps, 20,000.
        // One step left, equal fractions → lower id 2: 200 / 0.
        var r = m.CloseGate();
        Assert.Equal([ExpectedLot(1, 4, 1, 200, 100, 4, 1), ExpectedLot(2, 4, 2, 200, 100, 4, 2)], r.Lots);
        Assert.Equal(new OrderDoneEvent(3, P(3), OrderDoneReason.Expired, 0, 100), r.Done.Single(d => d.OrderId == 3));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Green_clears_first_and_the_renewable_remainder_joins_standard(string impl)
    {
        var m = Auction(impl);
        m.SellRenewable(1, 500, 90); // id 1
        m.GreenBuy(2, 300, 100);     // id 2
        m.Buy(3, 400, 100);          // id 3
        m.SellMixed(4, 200, 95);     // id 4
        // Green: S = 500 from 90, D = 300 up to 100: V = 300 on [90, 100], imbalance 200 throughout: price 95.
        //   Lot: id 1 → id 2, 300 @ 95, green.
        // Standard: id 1's remaining 200 @ 90 and id 4 200 @ 95 against id 3 400 @ 100.
        //   S: 200 on 90–94, 400 from 95; D: 400 up to 100. V = 400 on [95, 100], imbalance 0: price 97.
        //   Id 3 takes from the cheapest seller first: 200 from id 1 (renewable), then 200 from id 4.
        var r = m.CloseGate();
        Assert.Equal(new ClearingResult(Slot, Product.Green, true, 95, 300, 500, 300, 1), Cleared(r, Product.Green));
        Assert.Equal(new ClearingResult(Slot, Product.Standard, true, 97, 400, 400, 400, 2), Cleared(r, Product.Standard));
        Assert.Equal(
            [
                ExpectedLot(1, 1, 2, 300, 95, 1, 2, Product.Green, EnergySource.Renewable),
                ExpectedLot(2, 1, 3, 200, 97, 1, 3, Product.Standard, EnergySource.Renewable),
                ExpectedLot(3, 4, 3, 200, 97, 4, 3, Product.Standard, EnergySource.Mixed),
            ],
            r.Lots);
        // Id 1 sold 300 + 200 = its 500 Wh, never more.
        Assert.Equal(new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 500, 0), r.Done.Single(d => d.OrderId == 1));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Renewable_energy_sold_as_green_is_not_offered_again_as_standard(string impl)
    {
        var m = Auction(impl);
        m.SellRenewable(1, 300, 90); // id 1
        m.GreenBuy(2, 300, 100);     // id 2
        m.Buy(3, 300, 100);          // id 3
        // Green takes all 300 Wh of id 1; the standard product has no supply and does not clear.
        var r = m.CloseGate();
        Assert.Equal(new ClearingResult(Slot, Product.Standard, false, 0, 0, 0, 300, 0), Cleared(r, Product.Standard));
        Assert.Equal(Product.Green, Assert.Single(r.Lots).Product);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Nothing_clears_when_nothing_crosses(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 100, 110);
        m.Buy(2, 200, 100);
        m.SellRenewable(3, 100, 120);
        m.GreenBuy(4, 100, 119);
        // Standard: S(p) > 0 only from 110, D(p) > 0 only up to 100: V = 0 everywhere. Same for green (120 > 119).
        var r = m.CloseGate();
        Assert.Equal(
            new MarketEvent[]
            {
                new SlotClearedEvent(new ClearingResult(Slot, Product.Green, false, 0, 0, 100, 100, 0)),
                // The renewable sell's 100 Wh flows into standard: supply 100 + 100.
                new SlotClearedEvent(new ClearingResult(Slot, Product.Standard, false, 0, 0, 200, 200, 0)),
                new OrderDoneEvent(1, P(1), OrderDoneReason.Expired, 0, 100),
                new OrderDoneEvent(2, P(2), OrderDoneReason.Expired, 0, 200),
                new OrderDoneEvent(3, P(3), OrderDoneReason.Expired, 0, 100),
                new OrderDoneEvent(4, P(4), OrderDoneReason.Expired, 0, 100),
                new GateClosedEvent(Slot, Mechanism.CallAuction),
            },
            r.Events);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Self_trade_prevention_cancels_the_newer_order_before_clearing(string impl)
    {
        var m = Auction(impl);
        m.Buy(1, 100, 100);        // id 1
        m.SellMixed(1, 100, 95);   // id 2: would trade with id 1 (100 ≥ 95): cancelled
        m.SellMixed(2, 100, 99);   // id 3
        var r = m.CloseGate();
        Assert.Equal(new OrderDoneEvent(2, P(1), OrderDoneReason.SelfTradePrevented, 0, 100), r.Events[0]);
        // Id 1 then trades with id 3 alone: V = 100 on [99, 100], imbalance 0, price ⌊199 / 2⌋ = 99.
        Assert.Equal([ExpectedLot(1, 2, 1, 100, 99, 3, 1)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Own_orders_that_could_not_trade_with_each_other_are_kept(string impl)
    {
        var m = Auction(impl);
        m.Buy(1, 100, 90);        // id 1
        m.SellMixed(1, 100, 95);  // id 2: 90 < 95, no conflict
        m.GreenBuy(2, 100, 100);  // id 3
        m.SellMixed(2, 100, 90);  // id 4: mixed cannot go to a green buy, no conflict
        m.Buy(3, 100, 80);        // id 5
        m.SellRenewable(3, 100, 90); // id 6
        m.Cancel(3, 5);           // …and a cancelled order is not live: no conflict with id 6 either
        var r = m.CloseGate();
        Assert.DoesNotContain(r.Done, d => d.Reason == OrderDoneReason.SelfTradePrevented);
        // Green: id 6 (renewable 90) with id 3 (green 100): V = 100 on [90, 100], price 95.
        Assert.Contains(ExpectedLot(1, 3, 2, 100, 95, 6, 3, Product.Green, EnergySource.Renewable), r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Self_trade_prevention_compares_with_kept_orders_only(string impl)
    {
        var m = Auction(impl);
        m.Buy(1, 100, 100);       // id 1, kept
        m.SellMixed(1, 100, 90);  // id 2: conflicts with id 1 → cancelled
        m.Buy(1, 100, 95);        // id 3: would cross id 2, but id 2 is no longer live → kept
        var r = m.CloseGate();
        Assert.Equal([new OrderDoneEvent(2, P(1), OrderDoneReason.SelfTradePrevented, 0, 100)],
            r.Done.Where(d => d.Reason == OrderDoneReason.SelfTradePrevented));
        Assert.Equal(new OrderDoneEvent(3, P(1), OrderDoneReason.Expired, 0, 100), r.Done.Single(d => d.OrderId == 3));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Pairing_prefers_the_cheaper_wheeling_then_seller_priority(string impl)
    {
        // Zones: 1 and 3 in zone 0, 2 and 4 in zone 1. Fees: same zone 0, across 500.
        var m = new TestMarket(impl, wheeling: WheelingTable.Uniform(64, 500));
        m.Register(1, 0);
        m.Register(2, 1);
        m.Register(3, 0);
        m.Register(4, 1);
        m.WithSlot(Mechanism.CallAuction);
        m.SellMixed(2, 100, 90); // id 1, zone 1
        m.SellMixed(1, 100, 90); // id 2, zone 0
        m.Buy(3, 100, 100);      // id 3, zone 0
        m.Buy(4, 100, 100);      // id 4, zone 1
        // S = 200 from 90, D = 200 up to 100: V = 200, imbalance 0 on [90, 100]: price 95.
        // Buy id 3 (zone 0) comes first (same limit, lower id) and takes the zone-0 seller id 2 (fee 0) rather
        // than id 1, the older seller at fee 500; buy id 4 (zone 1) then takes id 1 at fee 0.
        var r = m.CloseGate();
        Assert.Equal([ExpectedLot(1, 1, 3, 100, 95, 2, 3), ExpectedLot(2, 2, 4, 100, 95, 1, 4)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Cancel_and_reduce_before_the_gate_change_what_clears(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 500, 90); // id 1
        m.Buy(2, 500, 100);      // id 2
        m.Buy(3, 500, 100);      // id 3
        Assert.Equal([new OrderDoneEvent(3, P(3), OrderDoneReason.Cancelled, 0, 500)], m.Cancel(3, 3).Events);
        Assert.Equal([new OrderReducedEvent(1, P(1), 200)], m.Reduce(1, 1, 300).Events);
        // Left: sell 200 @ 90, buy 500 @ 100. V = 200 on [90, 100], imbalance 300 throughout: price 95.
        var r = m.CloseGate();
        Assert.Equal([ExpectedLot(1, 1, 2, 200, 95, 1, 2)], r.Lots);
        Assert.Equal(new ClearingResult(Slot, Product.Standard, true, 95, 200, 200, 500, 1), Cleared(r, Product.Standard));
        // The cancelled order is done once, at its cancel, not again at the gate.
        Assert.DoesNotContain(r.Done, d => d.OrderId == 3);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Gate_closure_events_come_in_the_documented_order(string impl)
    {
        var m = Auction(impl);
        m.GreenBuy(1, 100, 100);     // id 1
        m.SellRenewable(2, 200, 90); // id 2
        m.Buy(3, 100, 100);          // id 3
        m.SellMixed(3, 100, 80);     // id 4: participant 3's own buy id 3 crosses it → self-trade prevented
        m.Buy(4, 100, 50);           // id 5: out of the money
        // Green: id 2 (200 @ 90) vs id 1 (100 @ 100): V = 100 on [90, 100], imbalance 100: price 95.
        // Standard: id 2's remaining 100 @ 90 vs id 3 100 @ 100 and id 5 100 @ 50:
        //   S = 100 from 90; D = 200 up to 50, 100 on 51–100: V = 100 on [90, 100], imbalance 0: price 95.
        var r = m.CloseGate();
        Assert.Equal(
            new MarketEvent[]
            {
                new OrderDoneEvent(4, P(3), OrderDoneReason.SelfTradePrevented, 0, 100),
                new SlotClearedEvent(new ClearingResult(Slot, Product.Green, true, 95, 100, 200, 100, 1)),
                new LotCreatedEvent(ExpectedLot(1, 2, 1, 100, 95, 2, 1, Product.Green, EnergySource.Renewable)),
                new SlotClearedEvent(new ClearingResult(Slot, Product.Standard, true, 95, 100, 100, 200, 1)),
                new LotCreatedEvent(ExpectedLot(2, 2, 3, 100, 95, 2, 3, Product.Standard, EnergySource.Renewable)),
                new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 100, 0),
                new OrderDoneEvent(2, P(2), OrderDoneReason.Filled, 200, 0),
                new OrderDoneEvent(3, P(3), OrderDoneReason.Filled, 100, 0),
                new OrderDoneEvent(5, P(4), OrderDoneReason.Expired, 0, 100),
                new GateClosedEvent(Slot, Mechanism.CallAuction),
            },
            r.Events);
        Assert.Empty(m.Market.LiveOrders(Slot));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Orders_submitted_after_the_gate_time_are_refused_and_the_auction_runs_on_those_before(string impl)
    {
        var m = Auction(impl);
        m.SellMixed(1, 100, 90);
        Assert.Equal(ResultCode.Ok, m.Buy(2, 100, 100).Code);
        var gate = m.GateMs(Slot);
        Assert.Equal(ResultCode.SlotClosed, m.Submit(3, Side.Buy, 100, 200, at: gate).Code);
        Assert.Equal([Slot], m.Market.SlotsDueForGateClosure(gate));
        var r = m.CloseGate();
        // Only ids 1 and 2: V = 100 on [90, 100], imbalance 0, price 95.
        Assert.Equal([ExpectedLot(1, 1, 2, 100, 95, 1, 2)], r.Lots);
        Assert.Empty(m.Market.SlotsDueForGateClosure(gate));
    }
}
