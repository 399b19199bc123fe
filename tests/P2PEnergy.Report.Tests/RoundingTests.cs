namespace P2PEnergy.Report.Tests;

public class RoundingTests
{
    [Theory]
    [InlineData(5, 2, 3)]      // 2.5 → 3
    [InlineData(-5, 2, -3)]    // −2.5 → −3
    [InlineData(7, 3, 2)]      // 2.33 → 2
    [InlineData(8, 3, 3)]      // 2.67 → 3
    [InlineData(-8, 3, -3)]
    [InlineData(6, 3, 2)]      // exact
    [InlineData(0, 7, 0)]
    [InlineData(8250000, 4000, 2063)] // 2062.5 → 2063: the sample's average buy price
    public void Divide_rounds_half_away_from_zero(long numerator, long denominator, long expected) =>
        Assert.Equal(expected, Rounding.Divide(numerator, denominator));

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Divide_refuses_a_denominator_that_is_not_positive(long denominator) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Rounding.Divide(1, denominator));

    [Fact]
    public void Basis_points_of_a_zero_whole_are_absent() => Assert.Null(Rounding.BasisPoints(5, 0));

    [Fact]
    public void Basis_points_do_not_overflow_on_large_sums() =>
        Assert.Equal(5000, Rounding.BasisPoints(long.MaxValue / 2, long.MaxValue - 1));

    [Fact]
    public void Basis_points_keep_the_sign_of_the_ratio()
    {
        Assert.Equal(-2540, Rounding.BasisPoints(-254, 1000));
        Assert.Equal(-2540, Rounding.BasisPoints(254, -1000));
    }

    [Theory]
    [InlineData(2264500, "22.65")]
    [InlineData(2264499, "22.64")]
    [InlineData(-2264500, "-22.65")]
    [InlineData(-500, "-0.01")]
    [InlineData(-499, "0.00")]
    [InlineData(8480000, "84.80")]
    public void Yen_rounds_to_the_sen(long money, string expected) => Assert.Equal(expected, Display.Yen(money));

    [Fact]
    public void Other_display_rules()
    {
        Assert.Equal("21.60", Display.YenPerKWh(2160));
        Assert.Equal("-0.05", Display.YenPerKWh(-5));
        Assert.Equal("n/a", Display.YenPerKWh((long?)null));
        Assert.Equal("1.234", Display.KWh(1234));
        Assert.Equal("0.050", Display.KWh(50));
        Assert.Equal("25.40 %", Display.Percent(2540));
        Assert.Equal("-0.07 %", Display.Percent(-7));
        Assert.Equal("+21.86", Display.Points(2186));
        Assert.Equal("-1.00", Display.Points(-100));
        Assert.Equal("1.305", Display.KgCo2(1_305_400));
        Assert.Equal("1.306", Display.KgCo2(1_305_500));
    }

    [Fact]
    public void State_of_charge_in_per_mille_rounds_half_away_from_zero()
    {
        Assert.Equal(667, new StorageState(6667, 10_000).PerMille);
        Assert.Equal(1, new StorageState(1, 2000).PerMille);   // 0.5 ‰ → 1
        Assert.Equal(1000, new StorageState(9000, 9000).PerMille);
    }

    [Fact]
    public void Volume_weighted_clearing_price_of_lots()
    {
        // (1000 × 1800 + 500 × 2000) / 1500 = 1866.67 → 1867
        Assert.Equal(new ClearingPrice(Product.Standard, 1867), ClearingPrice.VolumeWeighted(Product.Standard, [(1000, 1800), (500, 2000)]));
        // (100 × 1 + 100 × 2) / 200 = 1.5 → 2
        Assert.Equal(2, ClearingPrice.VolumeWeighted(Product.Green, [(100, 1), (100, 2)])!.Value.Ticks);
        Assert.Null(ClearingPrice.VolumeWeighted(Product.Green, []));
        Assert.Throws<ArgumentException>(() => ClearingPrice.VolumeWeighted(Product.Green, [(-1, 100)]));
    }

    [Fact]
    public void A_participant_slot_nets_like_the_settlement_bill()
    {
        var row = new ParticipantSlot
        {
            Participant = "p", Slot = 1, LoadWh = 0, GenerationWh = 0,
            BoughtMoney = 10, WheelingPaid = 2, GridImportMoney = 30, CompensationPaid = 4,
            SoldMoney = 100, GridExportMoney = 20, CompensationReceived = 5, PetrolMoney = 7,
        };
        Assert.Equal(46, row.Paid);
        Assert.Equal(125, row.Received);
        Assert.Equal(79, row.Net);
        Assert.Equal(46 - 125 + 7, row.Cost);
    }
}
