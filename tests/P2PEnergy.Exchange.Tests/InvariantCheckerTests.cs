using P2PEnergy.Exchange.Tests.Reference;
using P2PEnergy.Exchange.Tests.Support;
using static P2PEnergy.Exchange.Tests.Support.TestMarket;

namespace P2PEnergy.Exchange.Tests;

/// <summary>
/// The checker run after every command must catch what it claims to: each test feeds it one forged event
/// stream that breaks one invariant. (The market behind it only supplies config, slots and the wheeling table.)
/// </summary>
public sealed class InvariantCheckerTests
{
    private const long Cda = 1_000_000;
    private const long Auction = 1_000_001;

    private static InvariantChecker Checker()
    {
        var market = new ReferenceEngine(new MarketConfig());
        Assert.Equal(ResultCode.Ok, market.OpenSlot(Cda, Mechanism.Continuous, 0));
        Assert.Equal(ResultCode.Ok, market.OpenSlot(Auction, Mechanism.CallAuction, 0));
        return new InvariantChecker(market);
    }

    private static OrderAcceptedEvent Accepted(long id, int who, Side side, long wh, long price, long slot = Cda,
        Product product = Product.Standard, EnergySource source = EnergySource.Mixed) =>
        new(new Order(id, P(who), (ulong)id, side, slot, wh, price, side == Side.Buy ? product : default, side == Side.Sell ? source : default, 0));

    private static LotCreatedEvent LotOf(long lotId, int seller, int buyer, long wh, long price, long sellId, long buyId,
        long slot = Cda, Product product = Product.Standard, EnergySource source = EnergySource.Mixed) =>
        new(new Lot(lotId, slot, P(seller), P(buyer), wh, price, 0, product, source, sellId, buyId));

    private static void Breaks(string because, params MarketEvent[] events)
    {
        var ex = Assert.Throws<InvariantException>(() => Checker().AfterCommand(events));
        Assert.Contains(because, ex.Message);
    }

    [Fact]
    public void A_consistent_stream_passes()
    {
        var checker = Checker();
        checker.AfterCommand([Accepted(1, 1, Side.Sell, 500, 100)]);
        checker.AfterCommand([Accepted(2, 2, Side.Buy, 200, 105), LotOf(1, 1, 2, 200, 100, 1, 2), new OrderDoneEvent(2, P(2), OrderDoneReason.Filled, 200, 0)]);
        Assert.Equal(2, checker.CommandsChecked);
        Assert.Equal(1, checker.LotsChecked);
    }

    [Fact]
    public void A_lot_between_one_participants_orders_is_caught() =>
        Breaks("seller and buyer", Accepted(1, 1, Side.Sell, 500, 100), Accepted(2, 1, Side.Buy, 200, 105), LotOf(1, 1, 1, 200, 100, 1, 2));

    [Fact]
    public void Selling_more_than_the_order_holds_is_caught() =>
        Breaks("sold 600 of 500", Accepted(1, 1, Side.Sell, 500, 100), Accepted(2, 2, Side.Buy, 1000, 105),
            LotOf(1, 1, 2, 300, 100, 1, 2), LotOf(2, 1, 2, 300, 100, 1, 2));

    [Fact]
    public void A_lot_that_is_not_a_whole_number_of_steps_is_caught() =>
        Breaks("not a positive multiple", Accepted(1, 1, Side.Sell, 500, 100), Accepted(2, 2, Side.Buy, 200, 105), LotOf(1, 1, 2, 150, 100, 1, 2));

    [Fact]
    public void A_CDA_lot_at_the_incoming_price_is_caught() =>
        Breaks("resting order's", Accepted(1, 1, Side.Sell, 500, 100), Accepted(2, 2, Side.Buy, 200, 105), LotOf(1, 1, 2, 200, 105, 1, 2));

    [Fact]
    public void A_green_lot_from_a_mixed_sell_is_caught() =>
        Breaks("green lot from a mixed source", Accepted(1, 1, Side.Sell, 500, 100), Accepted(2, 2, Side.Buy, 200, 105, product: Product.Green),
            LotOf(1, 1, 2, 200, 100, 1, 2, product: Product.Green));

    [Fact]
    public void A_call_auction_lot_off_the_clearing_price_is_caught() =>
        Breaks("clearing price", Accepted(1, 1, Side.Sell, 500, 90, Auction), Accepted(2, 2, Side.Buy, 500, 110, Auction),
            new SlotClearedEvent(new ClearingResult(Auction, Product.Standard, true, 100, 500, 500, 500, 2)),
            LotOf(1, 1, 2, 300, 100, 1, 2, Auction), LotOf(2, 1, 2, 200, 101, 1, 2, Auction));

    [Fact]
    public void A_lot_outside_the_limits_is_caught() =>
        Breaks("outside [sell", Accepted(1, 1, Side.Sell, 500, 100, Auction), Accepted(2, 2, Side.Buy, 500, 110, Auction),
            new SlotClearedEvent(new ClearingResult(Auction, Product.Standard, true, 95, 500, 500, 500, 1)),
            LotOf(1, 1, 2, 500, 95, 1, 2, Auction));

    [Fact]
    public void A_done_that_disagrees_with_the_lots_is_caught() =>
        Breaks("its lots hold", Accepted(1, 1, Side.Sell, 500, 100), new OrderDoneEvent(1, P(1), OrderDoneReason.Cancelled, 100, 400));

    [Fact]
    public void A_crossed_CDA_book_is_caught()
    {
        // A market whose book really is crossed: the reference with two resting orders forged in by a market
        // that never matches — here, simply a call-auction-free check on live orders of a CDA slot.
        var m = new TestMarket("reference").WithParticipants(2).WithSlot(Mechanism.Continuous);
        var crossed = new[]
        {
            new OrderState(new Order(1, P(1), 1, Side.Sell, Slot, 100, 100, default, EnergySource.Renewable, 0), 100, 0),
            new OrderState(new Order(2, P(2), 1, Side.Buy, Slot, 100, 100, Product.Green, default, 0), 100, 0),
        };
        var checker = new InvariantChecker(new CrossedMarket(m.Market, crossed));
        var ex = Assert.Throws<InvariantException>(() => checker.AfterCommand(
            [new OrderAcceptedEvent(crossed[0].Order), new OrderAcceptedEvent(crossed[1].Order)]));
        Assert.Contains("crossed: green bid 100", ex.Message);
    }

    /// <summary>A market that reports a fixed set of live orders for every slot.</summary>
    private sealed class CrossedMarket(IMarket inner, IReadOnlyList<OrderState> live) : IMarket
    {
        public MarketConfig Config => inner.Config;
        public WheelingTable Wheeling => inner.Wheeling;
        public long NextOrderId => inner.NextOrderId;
        public long NextLotId => inner.NextLotId;
        public IEnumerable<SlotInfo> Slots => inner.Slots.Select(s => s with { LiveOrders = live.Count });
        public ResultCode RegisterParticipant(Address address, int zone, ParticipantKind kind) => inner.RegisterParticipant(address, zone, kind);
        public ResultCode SetWheelingTable(WheelingTable table) => inner.SetWheelingTable(table);
        public ResultCode OpenSlot(long slot, Mechanism mechanism, long nowUnixMs) => inner.OpenSlot(slot, mechanism, nowUnixMs);
        public ResultCode Submit(in SubmitOrder cmd, IMarketEvents events) => inner.Submit(cmd, events);
        public ResultCode Cancel(in CancelOrder cmd, IMarketEvents events) => inner.Cancel(cmd, events);
        public ResultCode Reduce(in ReduceOrder cmd, IMarketEvents events) => inner.Reduce(cmd, events);
        public ResultCode CloseGate(long slot, IMarketEvents events) => inner.CloseGate(slot, events);
        public bool TryGetSlot(long slot, out SlotInfo info) => inner.TryGetSlot(slot, out info);
        public bool TryGetOrder(long orderId, out OrderState state) => inner.TryGetOrder(orderId, out state);
        public IReadOnlyList<OrderState> LiveOrders(long slot) => live;
        public IReadOnlyList<long> SlotsDueForGateClosure(long nowUnixMs) => inner.SlotsDueForGateClosure(nowUnixMs);
        public ResultCode GetDepth(long slot, Product product, int maxLevels, out BookDepth? depth) => inner.GetDepth(slot, product, maxLevels, out depth);
    }
}
