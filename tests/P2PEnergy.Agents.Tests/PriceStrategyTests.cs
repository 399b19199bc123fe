namespace P2PEnergy.Agents.Tests;

/// <summary>Seed 004, Table 1, in ticks (1 JPY/kWh = 100 ticks); SoC in basis points (60 % = 6000).</summary>
public sealed class PriceStrategyTests
{
    [Theory]
    [InlineData(StrategyKind.Economy, 20, 2000)]
    [InlineData(StrategyKind.Economy, 60, 1500)]
    [InlineData(StrategyKind.Economy, 80, 1000)]
    [InlineData(StrategyKind.Green, 20, 2500)]
    [InlineData(StrategyKind.Green, 60, 2000)]
    [InlineData(StrategyKind.Green, 80, 1500)]
    [InlineData(StrategyKind.PriceFocused, 20, 2000)]
    [InlineData(StrategyKind.PriceFocused, 60, 1000)]
    [InlineData(StrategyKind.PriceFocused, 80, 1000)]
    public void At_the_table_points_the_price_is_the_table(StrategyKind kind, int percent, long ticks) =>
        Assert.Equal(ticks, PriceStrategy.For(kind).BuyTicks(Soc.Percent(percent)));

    [Theory]
    // economy 40 %: 2000 + (1500 − 2000) × (4000 − 2000) / (6000 − 2000) = 2000 − 250 = 1750
    [InlineData(StrategyKind.Economy, 4000, 1750)]
    // economy 70 %: 1500 + (1000 − 1500) × 1000 / 2000 = 1250
    [InlineData(StrategyKind.Economy, 7000, 1250)]
    // economy 33.33 %: 2000 − 500 × 1333 / 4000 = 2000 − 166.625 = 1833.375 → rounded down: 1833
    [InlineData(StrategyKind.Economy, 3333, 1833)]
    // green 40 %: 2500 − 500 × 2000 / 4000 = 2250
    [InlineData(StrategyKind.Green, 4000, 2250)]
    // green 61 %: 2000 − 500 × 100 / 2000 = 1975
    [InlineData(StrategyKind.Green, 6100, 1975)]
    // price-focused 30 %: 2000 − 1000 × 1000 / 4000 = 1750
    [InlineData(StrategyKind.PriceFocused, 3000, 1750)]
    // price-focused 50 %: 2000 − 1000 × 3000 / 4000 = 1250
    [InlineData(StrategyKind.PriceFocused, 5000, 1250)]
    // price-focused 70 %: the 60 % and 80 % points are both 10 JPY
    [InlineData(StrategyKind.PriceFocused, 7000, 1000)]
    public void Between_points_the_price_is_linear_and_rounded_down(StrategyKind kind, int basisPoints, long ticks) =>
        Assert.Equal(ticks, PriceStrategy.For(kind).BuyTicks(new Soc(basisPoints)));

    [Theory]
    [InlineData(StrategyKind.Economy, 0, 2000)]
    [InlineData(StrategyKind.Economy, 1000, 2000)]
    [InlineData(StrategyKind.Economy, 9000, 1000)]
    [InlineData(StrategyKind.Economy, 10000, 1000)]
    [InlineData(StrategyKind.Green, 0, 2500)]
    [InlineData(StrategyKind.Green, 10000, 1500)]
    [InlineData(StrategyKind.PriceFocused, 500, 2000)]
    [InlineData(StrategyKind.PriceFocused, 10000, 1000)]
    public void Outside_the_points_the_price_is_clamped(StrategyKind kind, int basisPoints, long ticks) =>
        Assert.Equal(ticks, PriceStrategy.For(kind).BuyTicks(new Soc(basisPoints)));

    [Theory]
    [InlineData(StrategyKind.Economy)]
    [InlineData(StrategyKind.Green)]
    [InlineData(StrategyKind.PriceFocused)]
    public void The_fuller_the_store_the_less_an_agent_pays(StrategyKind kind)
    {
        var strategy = PriceStrategy.For(kind);
        for (var bp = 1; bp <= Soc.Scale; bp++)
            Assert.True(strategy.BuyTicks(new Soc(bp)) <= strategy.BuyTicks(new Soc(bp - 1)), $"rises at {bp} bp");
    }

    [Fact]
    public void Green_pays_five_yen_more_than_economy_everywhere_and_buys_the_green_product()
    {
        // seed 004, Table 1: 環境重視 再エネ+5円.
        for (var bp = 0; bp <= Soc.Scale; bp += 7)
            Assert.Equal(PriceStrategy.Economy.BuyTicks(new Soc(bp)) + 500, PriceStrategy.Green.BuyTicks(new Soc(bp)));
        Assert.Equal(Product.Green, PriceStrategy.Green.BuyProduct);
        Assert.Equal(Product.Standard, PriceStrategy.Economy.BuyProduct);
        Assert.Equal(Product.Standard, PriceStrategy.PriceFocused.BuyProduct);
    }

    [Theory]
    // 1 Wh of 3: 3333.33 bp → 3333; 2 of 3: 6666.67 → 6667; outside [0, 1] clamped
    [InlineData(1.0, 3.0, 3333)]
    [InlineData(2.0, 3.0, 6667)]
    [InlineData(3.6, 3.0, 10000)]
    [InlineData(-0.3, 3.0, 0)]
    public void State_of_charge_rounds_to_the_nearest_basis_point(double energy, double capacity, int basisPoints) =>
        Assert.Equal(basisPoints, Soc.Of(energy, capacity).BasisPoints);

    [Theory]
    [InlineData(StrategyKind.Economy, 1000)]
    [InlineData(StrategyKind.Green, 1500)]
    [InlineData(StrategyKind.PriceFocused, 1000)]
    public void Surplus_is_asked_at_the_strategys_full_price(StrategyKind kind, long ticks) =>
        Assert.Equal(ticks, PriceStrategy.For(kind).SurplusAskTicks());

    [Theory]
    // price-focused at 90 %: 1000 / 0.9 = 1111.1 → rounded up 1112
    [InlineData(StrategyKind.PriceFocused, 9000, 0.9, 1112)]
    // economy at 40 %: 1750 / 0.81 = 2160.49 → 2161
    [InlineData(StrategyKind.Economy, 4000, 0.81, 2161)]
    // lossless: exactly the bid, not one tick above
    [InlineData(StrategyKind.Economy, 4000, 1.0, 1750)]
    public void Stored_energy_is_asked_at_its_replacement_cost_grossed_up_by_losses(StrategyKind kind, int basisPoints, double efficiency, long ticks) =>
        Assert.Equal(ticks, PriceStrategy.For(kind).StoredAskTicks(new Soc(basisPoints), efficiency));
}

public sealed class GridPricesTests
{
    [Theory]
    // retail 26.00, buy-back 8.00: the economy bid 20.00 stands
    [InlineData(2600, 800, 0, 2000, 2000L)]
    // night time-of-use retail 18.00: capped at retail
    [InlineData(1800, 800, 0, 2000, 1800L)]
    // 10.00 of wheeling expected on top (seed 004: across the public network): 26.00 − 10.00 = 16.00
    [InlineData(2600, 800, 1000, 2000, 1600L)]
    // buy-back 20.00: no seller would take 20.00, so no bid
    [InlineData(2600, 2000, 0, 2000, null)]
    [InlineData(2600, 1999, 0, 2000, 2000L)]
    public void A_bid_never_exceeds_retail_and_is_placed_only_above_buy_back(long retail, long buyBack, long wheeling, long desired, long? expected) =>
        Assert.Equal(expected, new GridPrices(retail, buyBack, wheeling).Bid(desired));

    [Theory]
    [InlineData(2600, 800, 0, 1000, 1000L)]
    // buy-back 11.00 beats the ask of 10.00: the ask is raised to it
    [InlineData(2600, 1100, 0, 1000, 1100L)]
    // retail 10.00: no buyer could do better than the grid
    [InlineData(1000, 800, 0, 1000, null)]
    // retail 20.00 less 10.00 wheeling: an ask of 10.00 cannot beat the grid either
    [InlineData(2000, 800, 1000, 1000, null)]
    public void An_ask_never_goes_below_buy_back_and_is_placed_only_below_the_bid_cap(long retail, long buyBack, long wheeling, long desired, long? expected) =>
        Assert.Equal(expected, new GridPrices(retail, buyBack, wheeling).Ask(desired));
}

public sealed class UnitsTests
{
    [Fact]
    public void Yen_per_kWh_become_ticks_exactly_or_not_at_all()
    {
        Assert.Equal(2160, Units.Ticks(21.60m));
        Assert.Throws<ArgumentException>(() => Units.Ticks(21.605m));
    }

    [Theory]
    [InlineData(350, 100, 300)]
    [InlineData(99, 100, 0)]
    [InlineData(-50, 100, 0)]
    [InlineData(1234, 500, 1000)]
    public void Order_energy_is_floored_to_the_lot_step(long wh, long step, long expected) =>
        Assert.Equal(expected, Units.FloorToStep(wh, step));

    [Fact]
    public void Cumulative_rounding_keeps_the_day_total()
    {
        // cumulative 0.4, 0.8, 1.2, 1.6 → rounded 0, 1, 1, 2 → slots 0, 1, 0, 1; total 2 = round(1.6).
        // Rounding each slot alone would give 0, 0, 0, 0 and lose the day's energy.
        Assert.Equal([0, 1, 0, 1], Units.QuantizeCumulative([0.4, 0.4, 0.4, 0.4]));
    }
}
