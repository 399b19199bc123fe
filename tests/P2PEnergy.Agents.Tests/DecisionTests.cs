namespace P2PEnergy.Agents.Tests;

/// <summary>Retail 26.00 JPY/kWh (2600 ticks), buy-back 8.00 (800) unless a test says otherwise; a Monday night slot.</summary>
public sealed class DecisionTests
{
    private static readonly GridPrices Prices = new(RetailTicks: 2600, BuyBackTicks: 800);
    private static readonly long Night = Jst.Monday(22, 0);

    private static readonly Participant EconomyHome = Participant.Household("home-13", StrategyKind.Economy, "home-13");
    private static readonly Participant GreenHome = Participant.Household("home-15", StrategyKind.Green, "home-15");
    private static readonly Participant EconomyPv = Participant.Prosumer("home-05", StrategyKind.Economy, "home-05", new PvSpec(4.5));
    private static readonly Participant GreenPv = Participant.Prosumer("home-06", StrategyKind.Green, "home-06", new PvSpec(4.5));
    private static readonly Participant Office = Participant.Office("office", StrategyKind.Economy, "office", new PvSpec(20));

    private static IReadOnlyList<OrderIntent> Decide(Participant p, long pvWh, long loadWh, GridPrices? prices = null, long step = 100) =>
        SlotDecider.Decide(p, AgentState.Initial(p), new SlotContext(Night, new SlotEnergy(pvWh, loadWh), prices ?? Prices, Jst.Clock, step));

    [Fact]
    public void A_household_bids_its_deficit_in_whole_lots_at_its_urgent_price()
    {
        // No storage: the table's price at an empty store, economy 20.00; 350 Wh → 300 in 100 Wh lots.
        Assert.Equal([OrderIntent.Buy(300, 2_000, Product.Standard)], Decide(EconomyHome, 0, 350));
        Assert.Equal([OrderIntent.Buy(1_000, 2_000, Product.Standard)], Decide(EconomyHome, 0, 1_234, step: 500));
    }

    [Fact]
    public void A_green_household_bids_five_yen_more_for_the_green_product()
    {
        Assert.Equal([OrderIntent.Buy(300, 2_500, Product.Green)], Decide(GreenHome, 0, 350));
    }

    [Fact]
    public void Bids_are_capped_at_retail_less_the_expected_wheeling()
    {
        // Night time-of-use retail 22.00: the green bid of 25.00 is capped to 22.00.
        Assert.Equal([OrderIntent.Buy(300, 2_200, Product.Green)], Decide(GreenHome, 0, 300, new GridPrices(2_200, 800)));
        // 10.00 of wheeling expected: 26.00 − 10.00 = 16.00.
        Assert.Equal([OrderIntent.Buy(300, 1_600, Product.Standard)], Decide(EconomyHome, 0, 300, new GridPrices(2_600, 800, 1_000)));
    }

    [Fact]
    public void No_order_when_the_market_cannot_beat_the_grid_or_the_need_is_under_a_lot()
    {
        Assert.Empty(Decide(EconomyHome, 0, 99));                               // under one lot
        Assert.Empty(Decide(EconomyHome, 0, 500, new GridPrices(2_600, 2_000))); // buy-back 20.00 ≥ the bid
        Assert.Empty(Decide(EconomyHome, 500, 500));                              // balanced
        Assert.Empty(Decide(EconomyPv, 1_500, 0, new GridPrices(1_000, 800)));    // retail 10.00 ≤ the ask
    }

    [Fact]
    public void A_prosumer_sells_its_pv_surplus_as_renewable_at_its_strategys_full_price()
    {
        // PV 1534 − load 300 = 1234 → 1200 in lots; economy 10.00, green 15.00.
        Assert.Equal([OrderIntent.Sell(1_200, 1_000, EnergySource.Renewable)], Decide(EconomyPv, 1_534, 300));
        Assert.Equal([OrderIntent.Sell(1_200, 1_500, EnergySource.Renewable)], Decide(GreenPv, 1_534, 300));
        // Buy-back 11.00 beats 10.00: never ask below buy-back.
        Assert.Equal([OrderIntent.Sell(1_200, 1_100, EnergySource.Renewable)], Decide(EconomyPv, 1_534, 300, new GridPrices(2_600, 1_100)));
    }

    [Fact]
    public void The_office_nets_its_rooftop_pv_against_its_load()
    {
        // A weekday 10:00 slot: 15000 Wh of load, 5000 of PV → buys 10000 at economy 20.00.
        Assert.Equal([OrderIntent.Buy(10_000, 2_000, Product.Standard)], Decide(Office, 5_000, 15_000));
    }
}

/// <summary>
/// A home with the default battery (7000 Wh, 3 kW each way, round trip 0.90: each way √0.9 = 0.948683),
/// price-focused. Full-power slot: 1500 Wh at the terminals.
/// </summary>
public sealed class BatteryHomeTests
{
    private static readonly GridPrices Prices = new(RetailTicks: 2600, BuyBackTicks: 800);
    private static readonly Participant Home = Participant.Prosumer("home-01", StrategyKind.PriceFocused, "home-01", new PvSpec(4.5), BatterySpec.HomeDefault);
    private static readonly double Eta = Math.Sqrt(0.9);
    private static readonly long Noon = Jst.Monday(12, 0);

    private static IReadOnlyList<OrderIntent> Decide(double energyWh, long pvWh, long loadWh, double renewableWh = 0) =>
        SlotDecider.Decide(Home, new AgentState(new StorageState(energyWh, renewableWh)), new SlotContext(Noon, new SlotEnergy(pvWh, loadWh), Prices, Jst.Clock));

    private static SlotOutcome Advance(double energyWh, long pvWh, long loadWh, SlotTrades traded) =>
        SlotDelivery.Advance(Home, new AgentState(new StorageState(energyWh, 0)), Noon, Jst.Clock, new SlotEnergy(pvWh, loadWh), traded);

    [Fact]
    public void Pv_surplus_charges_the_battery_first_and_only_the_rest_is_sold()
    {
        // Half full (3500): room 1500. Surplus 2000 → 1500 into the battery, 500 sold at 10.00 as renewable.
        Assert.Equal([OrderIntent.Sell(500, 1_000, EnergySource.Renewable)], Decide(3_500, 2_000, 0));
        // Surplus 800 fits: the remaining room 700 is bid at the 50 % price: 2000 − 1000 × 3000 / 4000 = 1250.
        Assert.Equal([OrderIntent.Buy(700, 1_250, Product.Standard)], Decide(3_500, 800, 0));
    }

    [Fact]
    public void A_deficit_is_bid_with_the_charging_room_at_the_table_price_for_its_state_of_charge()
    {
        // 400 deficit + 1500 room = 1900 at 1250.
        Assert.Equal([OrderIntent.Buy(1_900, 1_250, Product.Standard)], Decide(3_500, 0, 400));
    }

    [Fact]
    public void Above_full_it_covers_the_home_and_sells_what_is_left_above_full()
    {
        // 6300 (90 %), all renewable. Above 80 % (5600): 700 × 0.948683 = 664.08 → 664 deliverable; 664 − 400 = 264
        // → 200 in lots, at ceil(1000 / 0.9) = 1112, renewable.
        Assert.Equal([OrderIntent.Sell(200, 1_112, EnergySource.Renewable)], Decide(6_300, 0, 400, renewableWh: 6_300));
    }

    [Fact]
    public void A_filled_bid_charges_the_battery_and_the_meter_shows_what_was_bought()
    {
        // Bought 1900 for a 500 load: 1400 into the battery, stored 1400 × 0.948683 = 1328.16.
        var outcome = Advance(3_500, 0, 500, new SlotTrades(1_900, 0));
        Assert.Equal(new MeterReading(1_900, 0), outcome.Meter);
        Assert.Equal(1_400, outcome.ChargedWh);
        Assert.Equal(3_500 + 1_400 * Eta, outcome.Next.Storage!.Value.EnergyWh, 6);
    }

    [Fact]
    public void An_unfilled_bid_falls_back_to_the_battery_down_to_its_reserve_then_the_grid()
    {
        // Nothing bought, load 500: the battery delivers it (500 / 0.948683 = 527.05 stored leave).
        var covered = Advance(3_500, 0, 500, SlotTrades.None);
        Assert.Equal(new MeterReading(0, 0), covered.Meter);
        Assert.Equal(3_500 - 500 / Eta, covered.Next.Storage!.Value.EnergyWh, 6);
        // At its reserve (20 % = 1400) it gives nothing: the grid supplies all 500.
        Assert.Equal(new MeterReading(500, 0), Advance(1_400, 0, 500, SlotTrades.None).Meter);
    }

    [Fact]
    public void Unsold_surplus_the_battery_cannot_take_goes_to_the_grid()
    {
        // Surplus 2000, nothing sold: 1500 charged (power limit), 500 exported at buy-back.
        var outcome = Advance(3_500, 2_000, 0, SlotTrades.None);
        Assert.Equal(new MeterReading(0, 500), outcome.Meter);
        Assert.Equal(1_500 * Eta, outcome.Next.Storage!.Value.RenewableWh, 6);
    }

    [Fact]
    public void Sold_stored_energy_is_exported_after_the_home_is_covered()
    {
        // Sold 200 with a 400 load: 600 discharged, meter exports 200.
        var outcome = Advance(6_300, 0, 400, new SlotTrades(0, 200));
        Assert.Equal(new MeterReading(0, 200), outcome.Meter);
        Assert.Equal(600, outcome.DischargedWh);
    }
}

public sealed class HouseholdDeliveryTests
{
    [Fact]
    public void Without_storage_the_meter_reads_the_net_of_pv_and_load_whatever_was_traded()
    {
        var home = Participant.Household("home-13", StrategyKind.Economy, "home-13");
        var pv = Participant.Prosumer("home-05", StrategyKind.Economy, "home-05", new PvSpec(4.5));
        var slot = Jst.Monday(12, 0);
        Assert.Equal(new MeterReading(500, 0),
            SlotDelivery.Advance(home, AgentState.Initial(home), slot, Jst.Clock, new SlotEnergy(0, 500), new SlotTrades(300, 0)).Meter);
        Assert.Equal(new MeterReading(0, 1_700),
            SlotDelivery.Advance(pv, AgentState.Initial(pv), slot, Jst.Clock, new SlotEnergy(2_000, 300), new SlotTrades(0, 1_200)).Meter);
    }
}
