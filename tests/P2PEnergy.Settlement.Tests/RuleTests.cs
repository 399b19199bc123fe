using P2PEnergy.Settlement.Tests.Support;
using static P2PEnergy.Settlement.Tests.Support.Parties;

namespace P2PEnergy.Settlement.Tests;

/// <summary>
/// One test per rule of docs/settlement-rules.md, with hand-computed expectations.
/// Prices throughout: retail 26.00 JPY/kWh (2600 ticks), buy-back 8.00 (800), lot price 20.00 (2000),
/// wheeling 5.00 (500). Money is Wh × ticks in 1e-5 JPY: 1000 Wh at 2000 ticks = 2,000,000 = 20 JPY.
/// </summary>
public sealed class RuleTests
{
    private const long Slot = 987_654;
    private static readonly GridPrices Prices = new(RetailTicks: 2600, BuyBackTicks: 800);

    internal static Lot L(long id, Address seller, Address buyer, long wh, long price = 2000, long fee = 500, long slot = Slot) =>
        new(id, slot, seller, buyer, wh, price, fee, Product.Standard, EnergySource.Mixed, SellOrderId: 100 + id, BuyOrderId: 200 + id);

    internal static MeterReading R(Address p, long importWh, long exportWh, long slot = Slot) => new(p, slot, importWh, exportWh);

    private static SlotSettlement Settle(IEnumerable<Lot> lots, IEnumerable<MeterReading> readings, SettlementPolicy? policy = null, GridPrices? prices = null)
    {
        var result = SettlementEngine.Settle(Slot, lots, readings, prices ?? Prices, policy);
        result.EnsureConserved();
        return result;
    }

    private static LotSettlement LotOf(SlotSettlement s, long id) => s.Lots.Single(l => l.LotId == id);

    private static Bill BillOf(SlotSettlement s, Address p) => s.BillOf(p) ?? throw new Xunit.Sdk.XunitException($"no bill for {p}");

    [Fact]
    public void Full_delivery_settles_the_whole_lot()
    {
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 1000), R(B, 1000, 0)]);

        Assert.Equal(new LotSettlement(1, S, B, 2000, 500, 1000, 1000, 1000, 1000,
            EnergyMoney: 2_000_000, WheelingMoney: 500_000, ShortfallGridMoney: 0, ShortfallCompensation: 0,
            OverDeliveryGridMoney: 0, UnderconsumptionCompensation: 0), LotOf(s, 1));
        Assert.Equal(new Bill(B, Slot, 1000, 0, 1000, 2_000_000, 0, 0, 500_000, 0, 0, 0, 0, 0, 0), BillOf(s, B));
        Assert.Equal(new Bill(S, Slot, 0, 1000, 0, 0, 1000, 2_000_000, 0, 0, 0, 0, 0, 0, 0), BillOf(s, S));
        Assert.Equal(-2_500_000, BillOf(s, B).Net);
        Assert.Equal(2_000_000, BillOf(s, S).Net);
        Assert.Equal(new GridAccount(500_000, 0, 0, 0, 0), s.Grid);
        Assert.Equal(2_500_000, s.Totals.ParticipantsPaid);
        Assert.Equal(2_000_000, s.Totals.ParticipantsReceived);
    }

    [Fact]
    public void A_sellers_export_fills_its_sell_lots_in_ascending_lot_id()
    {
        // S sells lots 3 (500 Wh), 7 (1000 Wh), 12 (400 Wh) and exports 1200 Wh: 500 + 700 + 0.
        // Given out of order on purpose.
        Lot[] lots = [L(12, S, B3, 400), L(3, S, B, 500), L(7, S, B2, 1000)];
        var s = Settle(lots, [R(B2, 1000, 0), R(S, 0, 1200), R(B, 500, 0), R(B3, 400, 0)]);

        Assert.Equal([3L, 7, 12], s.Lots.Select(l => l.LotId));
        Assert.Equal([500L, 700, 0], s.Lots.Select(l => l.DeliveredWh));
        Assert.Equal([500L, 1000, 400], s.Lots.Select(l => l.ConsumedWh));
        Assert.Equal([500L, 700, 0], s.Lots.Select(l => l.SettledWh));
        Assert.Equal([0L, 300, 400], s.Lots.Select(l => l.ShortfallWh));

        // Shortfall 700 Wh at (2600 − 2000) = 600 ticks paid by S.
        var seller = BillOf(s, S);
        Assert.Equal(1200, seller.EnergySoldWh);
        Assert.Equal(2_400_000, seller.EnergySoldMoney);
        Assert.Equal(700 * 600, seller.CompensationPaid);
        Assert.Equal(0, seller.GridExportWh);

        var b3 = BillOf(s, B3);
        Assert.Equal(400, b3.GridImportWh);
        Assert.Equal(400 * 2600, b3.GridImportMoney);
        Assert.Equal(400 * 600, b3.CompensationReceived);
        Assert.Equal(0, b3.EnergyBoughtWh);
    }

    [Fact]
    public void A_buyers_import_fills_its_buy_lots_in_ascending_lot_id()
    {
        // B buys lot 2 from S (600 Wh) and lot 5 from S2 (600 Wh), imports 900 Wh: 600 + 300.
        // Both sellers deliver in full, so S2's 300 unconsumed Wh go to the grid at buy-back.
        var s = Settle([L(5, S2, B, 600), L(2, S, B, 600)], [R(B, 900, 0), R(S, 0, 600), R(S2, 0, 600)]);

        Assert.Equal([600L, 300], s.Lots.Select(l => l.ConsumedWh));
        Assert.Equal([600L, 300], s.Lots.Select(l => l.SettledWh));
        Assert.Equal(300, LotOf(s, 5).OverDeliveredWh);
        Assert.Equal(300 * 800, LotOf(s, 5).OverDeliveryGridMoney);

        var s2 = BillOf(s, S2);
        Assert.Equal(new Bill(S2, Slot, 0, 600, 0, 0, 300, 600_000, 0, 0, 0, 300, 240_000, 0, 0), s2);
        var b = BillOf(s, B);
        Assert.Equal(new Bill(B, Slot, 900, 0, 900, 1_800_000, 0, 0, 450_000, 0, 0, 0, 0, 0, 0), b);
    }

    [Fact]
    public void Seller_shortfall_is_bought_at_retail_and_compensated_by_the_seller()
    {
        // S delivers 600 of 1000 Wh, B consumes 1000: settled 600, shortfall 400.
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 600), R(B, 1000, 0)]);

        var lot = LotOf(s, 1);
        Assert.Equal(400, lot.ShortfallWh);
        Assert.Equal(400 * 2600, lot.ShortfallGridMoney);
        Assert.Equal(400 * 600, lot.ShortfallCompensation);

        // B: 600 × 2000 + 600 × 500 + 400 × 2600 paid, 400 × 600 received.
        Assert.Equal(new Bill(B, Slot, 1000, 0, 600, 1_200_000, 0, 0, 300_000, 400, 1_040_000, 0, 0, 0, 240_000), BillOf(s, B));
        Assert.Equal(-2_300_000, BillOf(s, B).Net);
        Assert.Equal(new Bill(S, Slot, 0, 600, 0, 0, 600, 1_200_000, 0, 0, 0, 0, 0, 240_000, 0), BillOf(s, S));
        Assert.Equal(960_000, BillOf(s, S).Net);
        Assert.Equal(new GridAccount(300_000, 400, 1_040_000, 0, 0), s.Grid);
    }

    [Fact]
    public void Seller_shortfall_without_compensation()
    {
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 600), R(B, 1000, 0)], new SettlementPolicy { SellerCompensatesShortfall = false });

        Assert.Equal(0, LotOf(s, 1).ShortfallCompensation);
        Assert.Equal(-2_540_000, BillOf(s, B).Net);
        Assert.Equal(1_200_000, BillOf(s, S).Net);
        Assert.Equal(0, s.Totals.CompensationMoney);
    }

    [Fact]
    public void Shortfall_compensation_net_of_wheeling_leaves_the_buyer_exactly_at_its_contract()
    {
        // Rate 2600 − 2000 − 500 = 100 ticks: B pays 2,540,000 − 40,000 = 2,500,000, its contracted price + wheeling.
        var policy = new SettlementPolicy { ShortfallCompensation = ShortfallCompensation.RetailMinusPriceAndWheeling };
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 600), R(B, 1000, 0)], policy);

        Assert.Equal(40_000, LotOf(s, 1).ShortfallCompensation);
        Assert.Equal(-2_500_000, BillOf(s, B).Net);
        Assert.Equal(1_160_000, BillOf(s, S).Net);
    }

    [Fact]
    public void Retail_below_the_lot_price_means_no_compensation()
    {
        // Retail 15.00 < lot price 20.00: max(0, 1500 − 2000) = 0; the buyer still pays the grid at retail.
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 600), R(B, 1000, 0)], prices: new GridPrices(1500, 800));

        var lot = LotOf(s, 1);
        Assert.Equal(0, lot.ShortfallCompensation);
        Assert.Equal(400 * 1500, lot.ShortfallGridMoney);
        Assert.Equal(0, BillOf(s, S).CompensationPaid);
        Assert.Equal(-(1_200_000 + 300_000 + 600_000), BillOf(s, B).Net);
    }

    [Fact]
    public void Buyer_underconsumption_goes_to_the_grid_at_buy_back_without_compensation_by_default()
    {
        // S delivers 1000, B consumes 700: settled 700, over-delivered 300 → S sells 300 Wh at buy-back.
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 1000), R(B, 700, 0)]);

        var lot = LotOf(s, 1);
        Assert.Equal(300, lot.OverDeliveredWh);
        Assert.Equal(0, lot.UnderconsumptionCompensation);
        Assert.Equal(new Bill(S, Slot, 0, 1000, 0, 0, 700, 1_400_000, 0, 0, 0, 300, 240_000, 0, 0), BillOf(s, S));
        Assert.Equal(1_640_000, BillOf(s, S).Net);
        Assert.Equal(-1_750_000, BillOf(s, B).Net);
        Assert.Equal(new GridAccount(350_000, 0, 0, 300, 240_000), s.Grid);
    }

    [Fact]
    public void Buyer_underconsumption_compensated_when_the_policy_is_on()
    {
        // 300 Wh × (2000 − 800) = 360,000 from B to S: S ends at exactly its contracted 2,000,000.
        var s = Settle([L(1, S, B, 1000)], [R(S, 0, 1000), R(B, 700, 0)], new SettlementPolicy { BuyerCompensatesUnderconsumption = true });

        Assert.Equal(360_000, LotOf(s, 1).UnderconsumptionCompensation);
        Assert.Equal(360_000, BillOf(s, S).CompensationReceived);
        Assert.Equal(360_000, BillOf(s, B).CompensationPaid);
        Assert.Equal(2_000_000, BillOf(s, S).Net);
        Assert.Equal(-2_110_000, BillOf(s, B).Net);
    }

    [Fact]
    public void Underconsumption_compensation_is_zero_when_buy_back_is_above_the_lot_price()
    {
        var s = Settle([L(1, S, B, 1000, price: 700)], [R(S, 0, 1000), R(B, 700, 0)], new SettlementPolicy { BuyerCompensatesUnderconsumption = true });

        Assert.Equal(0, LotOf(s, 1).UnderconsumptionCompensation);
        Assert.Equal(300 * 800, BillOf(s, S).GridExportMoney);
    }

    [Fact]
    public void Unallocated_export_and_import_are_settled_with_the_grid()
    {
        // P has no lots: 300 Wh from the grid at retail, 200 Wh to it at buy-back.
        // S exports 1500 for a 1000 Wh lot: 500 Wh unallocated. B imports 1200: 200 Wh unallocated.
        var s = Settle([L(1, S, B, 1000)], [R(P, 300, 200), R(S, 0, 1500), R(B, 1200, 0)]);

        Assert.Equal(new Bill(P, Slot, 300, 200, 0, 0, 0, 0, 0, 300, 780_000, 200, 160_000, 0, 0), BillOf(s, P));
        Assert.Equal(-620_000, BillOf(s, P).Net);
        Assert.Equal(new Bill(S, Slot, 0, 1500, 0, 0, 1000, 2_000_000, 0, 0, 0, 500, 400_000, 0, 0), BillOf(s, S));
        Assert.Equal(new Bill(B, Slot, 1200, 0, 1000, 2_000_000, 0, 0, 500_000, 200, 520_000, 0, 0, 0, 0), BillOf(s, B));
        Assert.Equal(new GridAccount(500_000, 500, 1_300_000, 700, 560_000), s.Grid);
        Assert.Equal(500_000 + 1_300_000 - 560_000, s.Grid.Net);
    }

    [Fact]
    public void Zero_readings_settle_nothing_and_cost_nothing()
    {
        var s = Settle([L(1, S, B, 1000), L(2, B, S, 500)], [R(S, 0, 0), R(B, 0, 0)]);

        Assert.All(s.Lots, l => Assert.Equal((0L, 0L, 0L), (l.DeliveredWh, l.ConsumedWh, l.SettledWh)));
        Assert.All(s.Bills, b => Assert.Equal((0L, 0L), (b.Paid, b.Received)));
        Assert.Equal(new GridAccount(0, 0, 0, 0, 0), s.Grid);
        Assert.Equal(1500, s.Totals.ContractedWh);
    }

    [Fact]
    public void An_empty_slot_settles_to_nothing()
    {
        var s = Settle([], []);
        Assert.Empty(s.Lots);
        Assert.Empty(s.Bills);
        Assert.Equal(new GridAccount(0, 0, 0, 0, 0), s.Grid);
    }

    [Fact]
    public void A_participant_selling_and_buying_in_one_slot_has_both_sides_on_one_bill()
    {
        // P sells lot 1 to B (1000 Wh at 2000) and buys lot 2 from S (800 Wh at 1800, wheeling 0).
        // P exports 1000 and imports 500: lot 1 settles 1000; lot 2 settles 500, S's other 300 Wh go to the grid.
        var s = Settle(
            [L(1, P, B, 1000), L(2, S, P, 800, price: 1800, fee: 0)],
            [R(P, 500, 1000), R(B, 1000, 0), R(S, 0, 800)]);

        Assert.Equal(new Bill(P, Slot, 500, 1000, 500, 900_000, 1000, 2_000_000, 0, 0, 0, 0, 0, 0, 0), BillOf(s, P));
        Assert.Equal(1_100_000, BillOf(s, P).Net);
        Assert.Equal(new Bill(S, Slot, 0, 800, 0, 0, 500, 900_000, 0, 0, 0, 300, 240_000, 0, 0), BillOf(s, S));
    }

    [Fact]
    public void Settlement_does_not_depend_on_input_order()
    {
        Lot[] lots = [L(4, S, B, 700), L(1, S2, B, 300), L(9, S, B2, 600), L(2, B2, S2, 200)];
        MeterReading[] readings = [R(S, 0, 900), R(S2, 200, 250), R(B, 800, 0), R(B2, 500, 100)];
        var a = Settle(lots, readings);
        var b = Settle(lots.Reverse(), readings.Reverse());
        Assert.Equal(a.Lots, b.Lots);
        Assert.Equal(a.Bills, b.Bills);
        Assert.Equal(a.Grid, b.Grid);
        Assert.Equal(a.Totals, b.Totals);
        Assert.Equal(a.Bills.Select(x => x.Participant).Order(), a.Bills.Select(x => x.Participant));
    }

    [Fact]
    public void Money_that_does_not_fit_a_long_throws_instead_of_wrapping()
    {
        var huge = long.MaxValue / 1000;
        Assert.Throws<OverflowException>(() =>
            SettlementEngine.Settle(Slot, [L(1, S, B, huge, price: 5000)], [R(S, 0, huge), R(B, huge, 0)], Prices));
    }
}
