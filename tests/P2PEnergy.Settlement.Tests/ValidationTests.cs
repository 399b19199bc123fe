using static P2PEnergy.Settlement.Tests.RuleTests;
using static P2PEnergy.Settlement.Tests.Support.Parties;

namespace P2PEnergy.Settlement.Tests;

/// <summary>Inconsistent inputs are refused with a named error; nothing is settled.</summary>
public sealed class ValidationTests
{
    private const long Slot = 987_654;
    private static readonly GridPrices Prices = new(2600, 800);
    private static readonly MeterReading[] Both = [R(S, 0, 1000), R(B, 1000, 0)];

    private static void Refused(SettlementError error, IEnumerable<Lot> lots, IEnumerable<MeterReading> readings,
        GridPrices? prices = null, SettlementPolicy? policy = null, long slot = Slot)
    {
        var e = Assert.Throws<SettlementInputException>(() => SettlementEngine.Settle(slot, lots, readings, prices ?? Prices, policy));
        Assert.Equal(error, e.Error);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
    }

    [Fact]
    public void Negative_readings() =>
        Refused(SettlementError.NegativeReading, [L(1, S, B, 1000)], [R(S, 0, 1000), R(B, -1, 0)]);

    [Fact]
    public void Negative_export() =>
        Refused(SettlementError.NegativeReading, [], [R(S, 0, -5)]);

    [Fact]
    public void Lot_of_another_slot() =>
        Refused(SettlementError.LotOfAnotherSlot, [L(1, S, B, 1000, slot: Slot + 1)], Both);

    [Fact]
    public void Reading_of_another_slot() =>
        Refused(SettlementError.ReadingOfAnotherSlot, [L(1, S, B, 1000)], [R(S, 0, 1000), R(B, 1000, 0, slot: Slot - 1)]);

    [Fact]
    public void Duplicate_lot_ids() =>
        Refused(SettlementError.DuplicateLotId, [L(1, S, B, 1000), L(1, S, B, 500)], Both);

    [Fact]
    public void Duplicate_readings_even_when_identical() =>
        Refused(SettlementError.DuplicateReading, [L(1, S, B, 1000)], [R(S, 0, 1000), R(B, 1000, 0), R(S, 0, 1000)]);

    [Fact]
    public void A_lot_party_without_a_reading() =>
        Refused(SettlementError.MissingReading, [L(1, S, B, 1000)], [R(S, 0, 1000)]);

    [Fact]
    public void Non_positive_lot_energy() =>
        Refused(SettlementError.LotEnergyNotPositive, [L(1, S, B, 0)], Both);

    [Fact]
    public void Negative_lot_price() =>
        Refused(SettlementError.LotPriceNegative, [L(1, S, B, 1000, price: -1)], Both);

    [Fact]
    public void Negative_wheeling_fee() =>
        Refused(SettlementError.LotWheelingFeeNegative, [L(1, S, B, 1000, fee: -1)], Both);

    [Fact]
    public void A_lot_without_a_party() =>
        Refused(SettlementError.LotPartyMissing, [L(1, Address.Zero, B, 1000)], Both);

    [Fact]
    public void A_lot_whose_seller_is_its_buyer() =>
        Refused(SettlementError.LotSellerIsBuyer, [L(1, S, S, 1000)], Both);

    [Fact]
    public void A_reading_without_a_participant() =>
        Refused(SettlementError.ReadingParticipantMissing, [], [R(Address.Zero, 0, 0)]);

    [Fact]
    public void Negative_grid_prices()
    {
        Refused(SettlementError.NegativeGridPrice, [], [], new GridPrices(-1, 800));
        Refused(SettlementError.NegativeGridPrice, [], [], new GridPrices(2600, -1));
    }

    [Fact]
    public void Unknown_policy_rule() =>
        Refused(SettlementError.InvalidPolicy, [], [], policy: new SettlementPolicy { ShortfallCompensation = (ShortfallCompensation)9 });

    [Fact]
    public void Non_positive_slot() =>
        Refused(SettlementError.InvalidSlot, [], [], slot: 0);

    [Fact]
    public void The_error_reported_does_not_depend_on_input_order()
    {
        // Two problems: lot 2 is of another slot, lot 5 has a negative price. Lots are checked by ascending id.
        Lot[] lots = [L(5, S, B, 100, price: -1), L(2, S, B, 100, slot: 1)];
        Refused(SettlementError.LotOfAnotherSlot, lots, Both);
        Refused(SettlementError.LotOfAnotherSlot, lots.Reverse(), Both);
    }

    [Fact]
    public void Missing_readings_can_be_treated_as_zero_on_request()
    {
        Lot[] lots = [L(1, S, B, 1000), L(2, S2, B, 500)];
        var readings = MissingReadings.TreatAsZero(Slot, lots, [R(B, 1500, 0)]);

        // The given readings first, then one 0/0 reading per missing party in address order.
        Assert.Equal([R(B, 1500, 0), R(S, 0, 0), R(S2, 0, 0)], readings);
        var s = SettlementEngine.Settle(Slot, lots, readings, Prices);
        s.EnsureConserved();
        Assert.Equal(0, s.Totals.SettledWh);
        Assert.Equal(1500, s.BillOf(B)!.GridImportWh);
    }
}
