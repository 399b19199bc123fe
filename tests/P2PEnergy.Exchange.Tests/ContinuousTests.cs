using P2PEnergy.Exchange.Tests.Support;
using static P2PEnergy.Exchange.Tests.Support.TestMarket;

namespace P2PEnergy.Exchange.Tests;

/// <summary>
/// The continuous double auction, rule by rule (matching-rules.md, "Continuous double auction"), on the engine
/// and on the reference. Expected lots are computed by hand in the comments.
/// </summary>
public sealed class ContinuousTests
{
    private static TestMarket Cda(string impl, int participants = 4, WheelingTable? wheeling = null) =>
        new TestMarket(impl, wheeling: wheeling).WithParticipants(participants).WithSlot(Mechanism.Continuous);

    private static Lot ExpectedLot(long lotId, int seller, int buyer, long wh, long price, long sellId, long buyId,
        Product product = Product.Standard, EnergySource source = EnergySource.Mixed, long fee = 0) =>
        new(lotId, Slot, P(seller), P(buyer), wh, price, fee, product, source, sellId, buyId);

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Best_price_first_then_oldest_and_trades_at_the_resting_price(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 100, 101); // id 1
        m.SellMixed(2, 100, 100); // id 2
        m.SellMixed(3, 100, 100); // id 3
        // A buy of 300 at 102 takes 100 @ 100 (id 2, older of the two at 100), 100 @ 100 (id 3), then 100 @ 101:
        // always the resting price, never its own 102. Money of each lot = 100 Wh × price.
        var r = m.Buy(4, 300, 102);
        Assert.Equal(
            [ExpectedLot(1, 2, 4, 100, 100, 2, 4), ExpectedLot(2, 3, 4, 100, 100, 3, 4), ExpectedLot(3, 1, 4, 100, 101, 1, 4)],
            r.Lots);
        Assert.Equal(10_000 + 10_000 + 10_100, r.Lots.Sum(l => l.Money));
        Assert.Empty(m.Market.LiveOrders(Slot));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void An_incoming_sell_trades_at_the_resting_bid(string impl)
    {
        var m = Cda(impl);
        m.Buy(1, 500, 105);  // id 1
        m.Buy(2, 500, 107);  // id 2
        // Sell 600 at 95: best bid first, 500 @ 107 (id 2), then 100 @ 105 (id 1), both above its limit of 95.
        var r = m.SellMixed(3, 600, 95);
        Assert.Equal([ExpectedLot(1, 3, 2, 500, 107, 3, 2), ExpectedLot(2, 3, 1, 100, 105, 3, 1)], r.Lots);
        var rest = Assert.Single(m.Market.LiveOrders(Slot));
        Assert.Equal((1L, 400L, 100L), (rest.Order.OrderId, rest.RemainingWh, rest.FilledWh));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Partial_fills_leave_the_rest_resting_and_the_incoming_remainder_rests(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 500, 100); // id 1
        var first = m.Buy(2, 200, 100); // id 2: 200 of the 500
        Assert.Equal([ExpectedLot(1, 1, 2, 200, 100, 1, 2)], first.Lots);
        Assert.Equal([new OrderDoneEvent(2, P(2), OrderDoneReason.Filled, 200, 0)], first.Done);
        Assert.True(m.Market.TryGetOrder(1, out var sell));
        Assert.Equal((300L, 200L), (sell.RemainingWh, sell.FilledWh));

        // Buy 500: takes the last 300 of id 1, which is then filled (500 in all); 200 of the buy rests at 100.
        var second = m.Buy(3, 500, 100); // id 3
        Assert.Equal([ExpectedLot(2, 1, 3, 300, 100, 1, 3)], second.Lots);
        Assert.Equal([new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 500, 0)], second.Done);
        var rest = Assert.Single(m.Market.LiveOrders(Slot));
        Assert.Equal((3L, 200L, 300L), (rest.Order.OrderId, rest.RemainingWh, rest.FilledWh));
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Standard, 10, out var depth));
        Assert.Equal([new DepthLevel(100, 200, 1)], depth!.Bids);
        Assert.Empty(depth.Asks);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void A_cancelled_order_leaves_the_book(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 500, 100); // id 1
        m.Buy(2, 200, 100);        // fills 200 of id 1
        var cancel = m.Cancel(1, 1);
        // Done with what it traded (200) and what it releases (300).
        Assert.Equal([new OrderDoneEvent(1, P(1), OrderDoneReason.Cancelled, 200, 300)], cancel.Events);
        var buy = m.Buy(3, 100, 200);
        Assert.Empty(buy.Lots);
        Assert.Equal(3, Assert.Single(m.Market.LiveOrders(Slot)).Order.OrderId);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Reduce_keeps_time_priority(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 500, 100); // id 1
        m.SellMixed(2, 500, 100); // id 2
        Assert.Equal([new OrderReducedEvent(1, P(1), 200)], m.Reduce(1, 1, 300).Events);
        // Buy 300: id 1 is still first at 100 and gives its 200, then 100 from id 2.
        var r = m.Buy(3, 300, 100);
        Assert.Equal([ExpectedLot(1, 1, 3, 200, 100, 1, 3), ExpectedLot(2, 2, 3, 100, 100, 2, 3)], r.Lots);
        Assert.Equal(new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 200, 0), r.Done[0]);
    }

    /// <summary>Zones: sellers 1 in zone 1, 2 in zone 2; buyer 3 in zone 0. Fees 1→0 = 500, 2→0 = 200.</summary>
    private static TestMarket Zoned(string impl, long fee1To0 = 500, long fee2To0 = 200)
    {
        var table = WheelingTable.Build(64, 1_000, [new WheelingEntry(1, 0, fee1To0), new WheelingEntry(2, 0, fee2To0)]);
        var m = new TestMarket(impl, wheeling: table);
        m.Register(1, 1);
        m.Register(2, 2);
        m.Register(3, 0);
        m.Register(4, 0);
        return m.WithSlot(Mechanism.Continuous);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void At_equal_price_the_lower_wheeling_fee_wins_over_time(string impl)
    {
        var m = Zoned(impl);
        m.SellMixed(1, 100, 100); // id 1, older, 500 ticks of wheeling to zone 0
        m.SellMixed(2, 100, 100); // id 2, newer, 200 ticks
        var r = m.Buy(3, 100, 100);
        Assert.Equal([ExpectedLot(1, 2, 3, 100, 100, 2, 3, fee: 200)], r.Lots);
        // The buyer pays 100 Wh × (100 + 200) ticks; the seller receives 100 × 100.
        Assert.Equal((10_000L, 20_000L, 30_000L), (r.Lots[0].Money, r.Lots[0].WheelingMoney, r.Lots[0].BuyerPays));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Price_comes_before_wheeling(string impl)
    {
        var m = Zoned(impl);
        m.SellMixed(1, 100, 99);  // id 1: cheaper energy, dearer wheeling (99 + 500)
        m.SellMixed(2, 100, 100); // id 2: 100 + 200
        var r = m.Buy(3, 100, 100);
        Assert.Equal([ExpectedLot(1, 1, 3, 100, 99, 1, 3, fee: 500)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Equal_fees_fall_back_to_time_priority(string impl)
    {
        var m = Zoned(impl, fee1To0: 300, fee2To0: 300);
        m.SellMixed(2, 100, 100); // id 1, zone 2
        m.SellMixed(1, 100, 100); // id 2, zone 1, same fee 300
        var r = m.Buy(3, 200, 100);
        Assert.Equal([ExpectedLot(1, 2, 3, 100, 100, 1, 3, fee: 300), ExpectedLot(2, 1, 3, 100, 100, 2, 3, fee: 300)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void An_incoming_sell_prefers_the_buyer_it_wheels_to_more_cheaply(string impl)
    {
        // Seller 3 in zone 0; buyers 1 (zone 1) and 2 (zone 2). Fees 0→1 = 400, 0→2 = 100.
        var table = WheelingTable.Build(64, 1_000, [new WheelingEntry(0, 1, 400), new WheelingEntry(0, 2, 100)]);
        var m = new TestMarket(impl, wheeling: table);
        m.Register(1, 1);
        m.Register(2, 2);
        m.Register(3, 0);
        m.WithSlot(Mechanism.Continuous);
        m.Buy(1, 100, 100); // id 1
        m.Buy(2, 100, 100); // id 2
        var r = m.SellMixed(3, 100, 90);
        Assert.Equal([ExpectedLot(1, 3, 2, 100, 100, 3, 2, fee: 100)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void A_renewable_sell_meets_green_buyers_first_even_at_a_lower_price(string impl)
    {
        var m = Cda(impl);
        m.GreenBuy(1, 100, 100); // id 1
        m.Buy(2, 100, 110);      // id 2: the better price, but only in group 2
        // Renewable sell 200 at 90: group 1 (green buys) first: 100 @ 100 green; then group 2: 100 @ 110 standard.
        var r = m.SellRenewable(3, 200, 90);
        Assert.Equal(
            [
                ExpectedLot(1, 3, 1, 100, 100, 3, 1, Product.Green, EnergySource.Renewable),
                ExpectedLot(2, 3, 2, 100, 110, 3, 2, Product.Standard, EnergySource.Renewable),
            ],
            r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void A_green_buy_never_takes_mixed_energy(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 100, 90); // id 1
        var green = m.GreenBuy(2, 100, 100); // id 2: crosses in price, but mixed is not green
        Assert.Empty(green.Lots);
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Green, 0, out var g));
        Assert.Equal([new DepthLevel(100, 100, 1)], g!.Bids);
        Assert.Empty(g.Asks); // mixed sells are not green asks
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Standard, 0, out var s));
        Assert.Equal([new DepthLevel(90, 100, 1)], s!.Asks);
        Assert.Empty(s.Bids);

        // A renewable sell at 95 meets the green buy, at the buy's resting price 100.
        var r = m.SellRenewable(3, 100, 95);
        Assert.Equal([ExpectedLot(1, 3, 2, 100, 100, 3, 2, Product.Green, EnergySource.Renewable)], r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void A_standard_buy_takes_both_sources_by_price(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 100, 95);     // id 1
        m.SellRenewable(2, 100, 94); // id 2
        var r = m.Buy(3, 200, 100);
        Assert.Equal(
            [
                ExpectedLot(1, 2, 3, 100, 94, 2, 3, Product.Standard, EnergySource.Renewable),
                ExpectedLot(2, 1, 3, 100, 95, 1, 3, Product.Standard, EnergySource.Mixed),
            ],
            r.Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Self_trade_cancels_the_incoming_remainder_and_keeps_earlier_lots(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(2, 100, 99);  // id 1
        m.SellMixed(1, 100, 100); // id 2: participant 1's own sell
        m.SellMixed(3, 100, 100); // id 3
        // Participant 1 buys 300 at 105: 100 @ 99 from id 1, then the next is its own id 2: stop, and the
        // remaining 200 are cancelled; id 3 is not reached, id 2 is untouched.
        var r = m.Buy(1, 300, 105);
        Assert.Equal([ExpectedLot(1, 2, 1, 100, 99, 1, 4)], r.Lots);
        Assert.Equal(new OrderDoneEvent(4, P(1), OrderDoneReason.SelfTradePrevented, 100, 200), r.Events[^1]);
        Assert.Equal([2L, 3L], m.Market.LiveOrders(Slot).Select(o => o.Order.OrderId));
        Assert.All(m.Market.LiveOrders(Slot), o => Assert.Equal(100, o.RemainingWh));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Self_trade_only_when_the_own_order_is_the_next_one(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 100, 101); // id 1, own but behind in price
        m.SellMixed(2, 100, 100); // id 2
        // Participant 1 buys 100 at 105: the best is id 2 at 100, not its own: it trades.
        var r = m.Buy(1, 100, 105);
        Assert.Equal([ExpectedLot(1, 2, 1, 100, 100, 2, 3)], r.Lots);
        Assert.Equal(new OrderDoneEvent(3, P(1), OrderDoneReason.Filled, 100, 0), r.Events[^1]);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Events_come_in_the_documented_order(string impl)
    {
        var m = Cda(impl);
        m.SellMixed(1, 100, 100); // id 1
        m.SellMixed(2, 300, 101); // id 2
        var r = m.Buy(3, 200, 101); // id 3
        // Accepted; lot 1 fills id 1, whose Done follows its lot; lot 2 takes 100 of id 2 (not done);
        // then the incoming buy's Done.
        Assert.Equal(
            new MarketEvent[]
            {
                new OrderAcceptedEvent(new Order(3, P(3), 1, Side.Buy, Slot, 200, 101, Product.Standard, default, 0)),
                new LotCreatedEvent(ExpectedLot(1, 1, 3, 100, 100, 1, 3)),
                new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 100, 0),
                new LotCreatedEvent(ExpectedLot(2, 2, 3, 100, 101, 2, 3)),
                new OrderDoneEvent(3, P(3), OrderDoneReason.Filled, 200, 0),
            },
            r.Events);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Gate_closure_expires_resting_orders_in_order_id_order(string impl)
    {
        var m = Cda(impl);
        m.Buy(1, 300, 90);        // id 1
        m.SellMixed(2, 500, 100); // id 2
        m.Buy(3, 200, 100);       // id 3: fills 200 of id 2
        m.GreenBuy(4, 100, 80);   // id 4
        var r = m.CloseGate();
        Assert.Equal(
            new MarketEvent[]
            {
                new OrderDoneEvent(1, P(1), OrderDoneReason.Expired, 0, 300),
                new OrderDoneEvent(2, P(2), OrderDoneReason.Expired, 200, 300),
                new OrderDoneEvent(4, P(4), OrderDoneReason.Expired, 0, 100),
                new GateClosedEvent(Slot, Mechanism.Continuous),
            },
            r.Events);
        Assert.Empty(m.Market.LiveOrders(Slot));
        Assert.True(m.Market.TryGetSlot(Slot, out var info));
        Assert.Equal(SlotPhase.Closed, info.Phase);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Slots_are_separate_books(string impl)
    {
        var m = Cda(impl).WithSlot(Mechanism.Continuous, Slot + 1);
        m.SellMixed(1, 100, 90, slot: Slot + 1);
        Assert.Empty(m.Buy(2, 100, 100).Lots);
        Assert.Single(m.Buy(3, 100, 100, slot: Slot + 1).Lots);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Depth_aggregates_levels_best_first_and_is_cut_at_max_levels(string impl)
    {
        var m = Cda(impl, participants: 6);
        m.SellMixed(1, 100, 103);
        m.SellRenewable(2, 200, 101);
        m.SellMixed(3, 300, 101);
        m.SellRenewable(4, 100, 102);
        m.Buy(5, 500, 99);
        m.GreenBuy(6, 100, 100);
        m.Buy(6, 200, 99);
        // Standard asks: renewable and mixed together: 101: 200 + 300 (2 orders), 102: 100, 103: 100.
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Standard, 2, out var s));
        Assert.Equal([new DepthLevel(101, 500, 2), new DepthLevel(102, 100, 1)], s!.Asks);
        Assert.Equal([new DepthLevel(99, 700, 2)], s.Bids);
        // Green asks: renewable only: 101: 200, 102: 100. Green bids: 100.
        Assert.Equal(ResultCode.Ok, m.Market.GetDepth(Slot, Product.Green, 0, out var g));
        Assert.Equal([new DepthLevel(101, 200, 1), new DepthLevel(102, 100, 1)], g!.Asks);
        Assert.Equal([new DepthLevel(100, 100, 1)], g.Bids);
        Assert.Equal(ResultCode.InvalidProduct, m.Market.GetDepth(Slot, (Product)0, 0, out _));
        Assert.Equal(ResultCode.UnknownSlot, m.Market.GetDepth(Slot + 1, Product.Green, 0, out _));
    }
}
