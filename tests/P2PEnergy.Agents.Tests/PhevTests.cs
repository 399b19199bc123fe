namespace P2PEnergy.Agents.Tests;

/// <summary>
/// The default PHEV (<see cref="PhevSpec.PriusPhv"/>): 8.8 kWh, 3.0 kW charge, 1.5 kW discharge, round trip 0.85
/// (each way √0.85 = 0.921954), 150 Wh/km, 15 km each way, 20 % reserve. Target 1760 + 2250 = 4010 Wh.
/// A full-power slot takes 1500 Wh at the terminals and stores 1500 × 0.921954 = 1382.93 Wh.
/// </summary>
public sealed class PhevTests
{
    private static readonly Participant Car = Participant.PhevOf("phev-01", StrategyKind.PriceFocused, "home-02", "office");
    private static readonly PhevSpec Spec = Car.Phev!;
    private static readonly GridPrices Prices = new(RetailTicks: 2600, BuyBackTicks: 800);
    private static readonly double EtaC = Math.Sqrt(0.85);

    private static IReadOnlyList<OrderIntent> Decide(long slot, double energyWh, double renewableWh = 0, GridPrices? prices = null) =>
        SlotDecider.Decide(Car, new AgentState(new StorageState(energyWh, renewableWh)), new SlotContext(slot, default, prices ?? Prices, Jst.Clock));

    [Fact]
    public void It_commutes_on_weekdays_and_stays_home_at_weekends()
    {
        var s = Spec.Schedule;
        Assert.Equal(PhevLocation.Home, s.LocationAt(Jst.Monday(7, 0), Jst.Clock));
        Assert.Equal(PhevLocation.Driving, s.LocationAt(Jst.Monday(7, 30), Jst.Clock));
        Assert.Equal(PhevLocation.Office, s.LocationAt(Jst.Monday(8, 0), Jst.Clock));
        Assert.Equal(PhevLocation.Office, s.LocationAt(Jst.Monday(17, 0), Jst.Clock));
        Assert.Equal(PhevLocation.Driving, s.LocationAt(Jst.Monday(17, 30), Jst.Clock));
        Assert.Equal(PhevLocation.Home, s.LocationAt(Jst.Monday(18, 0), Jst.Clock));
        Assert.Equal(PhevLocation.Home, s.LocationAt(Jst.Saturday(7, 30), Jst.Clock));
        // 06:00 Monday: the 06:00, 06:30 and 07:00 slots are left before it leaves at 07:30.
        Assert.Equal(3, s.ParkedSlotsUntilDeparture(Jst.Monday(6, 0), Jst.Clock));
    }

    [Fact]
    public void Target_and_petrol_equivalent_price_follow_from_the_stated_constants()
    {
        Assert.Equal(4_010, Spec.TargetWh, 9);
        // 150 JPY/L / 25 km/L = 6 JPY/km; / 0.15 kWh/km = 40 JPY per stored kWh; × 0.921954 = 36.878 JPY/kWh bought.
        Assert.Equal(3_687, Spec.PetrolEquivalentTicks);
    }

    [Fact]
    public void Drive_demand_is_one_leg_per_trip_and_none_at_weekends()
    {
        var monday = Spec.DriveDemand(9, Jst.Day(2019, 6, 17), Jst.Clock);
        Assert.Equal(2_250, monday.ForecastWh[15]);
        Assert.Equal(2_250, monday.ForecastWh[35]);
        Assert.Equal(4_500, monday.ForecastWh.Sum());
        Assert.InRange(monday.ActualWh[15], 0.7 * 2_250, 1.3 * 2_250);
        Assert.Equal(0, Spec.DriveDemand(9, Jst.Day(2019, 6, 22), Jst.Clock).ForecastWh.Sum());
    }

    [Fact]
    public void With_nothing_bought_it_charges_from_the_grid_as_late_as_possible_and_meets_its_target()
    {
        // From empty at 18:00 Sunday. Latest-possible plan, departure 07:30 Monday:
        //   06:00: 4010 − 2 × 1382.93 = 1244.14 to store → / 0.921954 = 1349.5 → 1350 Wh; stored 1244.64
        //   06:30: 4010 − 1244.64 − 1382.93 = 1382.43 → 1499.5 → 1500 Wh; stored 2627.57
        //   07:00: 4010 − 2627.57 = 1382.43 → 1500 Wh; stored 4010.50 ≥ 4010
        var state = new AgentState(new StorageState(0, 0));
        var imports = new List<long>();
        for (var slot = Jst.Monday(0) - 12; slot < Jst.Monday(7, 30); slot++)
        {
            var outcome = SlotDelivery.Advance(Car, state, slot, Jst.Clock, default, SlotTrades.None);
            imports.Add(outcome.Meter.ImportWh);
            state = outcome.Next;
        }
        Assert.All(imports.Take(imports.Count - 3), wh => Assert.Equal(0, wh));
        Assert.Equal([1_350, 1_500, 1_500], imports.TakeLast(3));
        Assert.True(state.Storage!.Value.EnergyWh >= Spec.TargetWh, $"{state.Storage.Value.EnergyWh} < target");
    }

    [Fact]
    public void Must_charge_energy_is_bid_at_retail_and_the_rest_of_the_room_at_the_table_price()
    {
        // 06:00 Monday, empty: must 1350 → 1300 in lots, at min(petrol 3687, retail 2600) = 2600;
        // the rest of the 1500 Wh room, 200, at the price-focused 0 % price, 2000.
        var intents = Decide(Jst.Monday(6, 0), 0);
        Assert.Equal([OrderIntent.Buy(1_300, 2_600, Product.Standard), OrderIntent.Buy(200, 2_000, Product.Standard)], intents);
        // Retail 20.00: the urgent bid is capped to 2000 too, and the two merge.
        Assert.Equal([OrderIntent.Buy(1_500, 2_000, Product.Standard)], Decide(Jst.Monday(6, 0), 0, prices: new GridPrices(2000, 800)));
    }

    [Fact]
    public void At_the_office_in_the_day_it_bids_for_cheap_energy_by_its_state_of_charge()
    {
        // 12:00 Monday, 2000 Wh: 2000 / 8800 = 22.73 % → 2273 bp → 2000 − 1000 × 273 / 4000 = 1931.75 → 1931.
        // Departure 17:30 is 11 slots away: nothing is urgent.
        Assert.Equal([OrderIntent.Buy(1_500, 1_931, Product.Standard)], Decide(Jst.Monday(12, 0), 2_000));
    }

    [Fact]
    public void Parked_above_its_target_it_sells_the_excess_at_its_stored_energy_ask()
    {
        // 20:00 Monday, 7000 Wh, half renewable: 79.55 % → price-focused 1000 → ask ceil(1000 / 0.85) = 1177.
        // Deliverable above the target: min(1.5 kW × 0.5 h = 750, (7000 − 4010) × 0.922) = 750 → 700 in lots;
        // renewable floor(700 × 0.5) = 350 → 300 in lots, mixed 400.
        Assert.Equal(
            [OrderIntent.Sell(300, 1_177, EnergySource.Renewable), OrderIntent.Sell(400, 1_177, EnergySource.Mixed)],
            Decide(Jst.Monday(20, 0), 7_000, 3_500));
    }

    [Fact]
    public void While_driving_it_places_no_order()
    {
        Assert.Empty(Decide(Jst.Monday(7, 30), 1_000));
        Assert.Empty(Decide(Jst.Monday(17, 30), 8_800));
    }

    [Fact]
    public void When_the_battery_runs_empty_it_drives_on_petrol_and_its_meter_reads_nothing()
    {
        // 1000 Wh left for a 2250 Wh leg: 1250 Wh short / 150 Wh/km = 8.33 km on petrol.
        var outcome = SlotDelivery.Advance(Car, new AgentState(new StorageState(1_000, 0)), Jst.Monday(17, 30), Jst.Clock,
            new SlotEnergy(0, 2_250), SlotTrades.None);
        Assert.Equal(0, outcome.Next.Storage!.Value.EnergyWh, 9);
        Assert.Equal(1_250.0 / 150, outcome.PetrolKm, 9);
        Assert.Equal(1_000, outcome.DrivenFromBatteryWh, 9);
        Assert.Equal(new MeterReading(0, 0), outcome.Meter);
    }

    [Fact]
    public void What_it_sold_is_delivered_from_the_battery_and_what_it_bought_is_stored()
    {
        // Sold 700 at 20:00: 700 / 0.921954 = 759.26 stored Wh leave.
        var sold = SlotDelivery.Advance(Car, new AgentState(new StorageState(7_000, 0)), Jst.Monday(20, 0), Jst.Clock, default, new SlotTrades(0, 700));
        Assert.Equal(new MeterReading(0, 700), sold.Meter);
        Assert.Equal(7_000 - 700 / EtaC, sold.Next.Storage!.Value.EnergyWh, 6);
        // Bought 1500 renewable at the office at noon: all of it stored as renewable, 1382.93 Wh.
        var bought = SlotDelivery.Advance(Car, new AgentState(new StorageState(4_010, 0)), Jst.Monday(12, 0), Jst.Clock, default, new SlotTrades(1_500, 0, 1_500));
        Assert.Equal(new MeterReading(1_500, 0), bought.Meter);
        Assert.Equal(1_500 * EtaC, bought.Next.Storage!.Value.RenewableWh, 6);
    }
}
