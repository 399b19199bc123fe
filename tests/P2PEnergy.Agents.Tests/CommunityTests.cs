using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace P2PEnergy.Agents.Tests;

public sealed class CommunityTests
{
    [Fact]
    public void The_pilot_has_one_office_20_homes_4_batteries_and_9_phevs()
    {
        // seed 004: 事業所 1件, 家庭20件(家庭蓄電池4件), PHEV 9台.
        var all = HigashiFuji.Build();
        Assert.Equal(30, all.Count);
        Assert.Single(all, p => p.Kind == AgentKind.Office);
        var homes = all.Where(p => p.Kind is AgentKind.Household or AgentKind.Prosumer).ToList();
        Assert.Equal(20, homes.Count);
        Assert.Equal(4, homes.Count(h => h.Battery is not null));
        Assert.Equal(12, homes.Count(h => h.Pv is not null));     // assumption: homes 1–12
        Assert.All(homes.Where(h => h.Battery is not null), h => Assert.NotNull(h.Pv));
        var phevs = all.Where(p => p.Kind == AgentKind.Phev).ToList();
        Assert.Equal(9, phevs.Count);
        Assert.Equal(["home-02", "home-04", "home-06", "home-08", "home-10", "home-12", "home-14", "home-16", "home-18"], phevs.Select(p => p.Site));
        Assert.All(phevs, p => Assert.Equal(HigashiFuji.OfficeSite, p.WorkSite));
        Assert.Equal(all.Count, all.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void Strategies_are_assigned_as_stated()
    {
        var all = HigashiFuji.Build();
        // The price-focused column is named for EVs and storage.
        Assert.All(all.Where(p => p.Kind == AgentKind.Phev || p.Battery is not null), p => Assert.Equal(StrategyKind.PriceFocused, p.Strategy));
        Assert.Equal(["home-06", "home-09", "home-12", "home-15", "home-18"], all.Where(p => p.Strategy == StrategyKind.Green).Select(p => p.Id));
        Assert.Equal(StrategyKind.Economy, all.Single(p => p.Kind == AgentKind.Office).Strategy);
        Assert.Equal(12, all.Count(p => p.Strategy == StrategyKind.Economy)); // office + 11 of the 16 homes without battery
    }

    [Fact]
    public void Scale_multiplies_homes_batteries_and_phevs_and_grows_the_office()
    {
        var all = HigashiFuji.Build(scale: 3);
        Assert.Equal(60, all.Count(p => p.Kind is AgentKind.Household or AgentKind.Prosumer));
        Assert.Equal(12, all.Count(p => p.Battery is not null));
        Assert.Equal(27, all.Count(p => p.Kind == AgentKind.Phev));
        var office = all.Single(p => p.Kind == AgentKind.Office);
        Assert.Equal(60.0, office.Pv!.KWp);
        Assert.Equal(3.0, office.OfficeScale);
        Assert.Equal(all.Count, all.Select(p => p.Id).Distinct().Count());
        Assert.Contains(HigashiFuji.Build(scale: 100), p => p.Id == "home-2000");
        Assert.Throws<ArgumentOutOfRangeException>(() => HigashiFuji.Build(scale: 0));
    }

    [Fact]
    public void A_community_day_is_reproducible_from_its_seed()
    {
        static List<long> Day(ulong seed)
        {
            var day = Jst.Day(2019, 6, 18);
            var weather = WeatherDay.For(seed, day, Jst.Clock);
            return HigashiFuji.Build().SelectMany(p =>
            {
                var profile = p.Profile(seed, weather, SolarSite.HigashiFuji, Jst.Clock);
                return profile.Pv.ActualWh.Concat(profile.Load.ActualWh);
            }).ToList();
        }
        Assert.Equal(Day(2019), Day(2019));
        Assert.NotEqual(Day(2019), Day(2020));
    }

    [Fact]
    public void Devices_must_fit_the_kind()
    {
        Assert.Throws<InvalidOperationException>(() =>
            new Participant("x", AgentKind.Household, StrategyKind.Economy, "home-99", Pv: new PvSpec(3), HomeLoad: HouseholdLoadSpec.Default).Validated());
        Assert.Throws<InvalidOperationException>(() =>
            new Participant("x", AgentKind.Phev, StrategyKind.PriceFocused, "home-99", Phev: PhevSpec.PriusPhv).Validated()); // no work site
    }
}

/// <summary>A seed for one random community slot; the slot is rebuilt from it, so a failure names it.</summary>
public readonly record struct CaseSeed(int Value);

public static class CaseSeeds
{
    public static Arbitrary<CaseSeed> Seeds() => Arb.From(Gen.Choose(0, int.MaxValue).Select(v => new CaseSeed(v)));
}

/// <summary>
/// Rules that hold for every agent, state, forecast and price: one side per slot, whole lots, bids in
/// (buy-back, retail − wheeling], asks in [buy-back, retail − wheeling), sells no more than deliverable, and
/// delivery keeps storage in bounds with meters that balance.
/// </summary>
public sealed class AgentInvariantTests
{
    private static readonly IReadOnlyList<Participant> Community = HigashiFuji.Build();

    [Property(MaxTest = 500, Arbitrary = [typeof(CaseSeeds)], QuietOnSuccess = true)]
    public void Every_decision_keeps_the_market_rules(CaseSeed seed)
    {
        var rng = new SplitMix64((ulong)seed.Value);
        var p = Community[(int)(rng.NextUInt64() % (ulong)Community.Count)];
        var slot = Jst.Monday(0) + (long)(rng.NextUInt64() % (7 * 48));
        var state = RandomState(p, rng);
        var retail = 1_000 + (long)(rng.NextUInt64() % 2_500);
        var prices = new GridPrices(retail, (long)(rng.NextUInt64() % 1_500), (long)(rng.NextUInt64() % 3) * 500);
        var step = new[] { 100L, 200L, 500L }[rng.NextUInt64() % 3];
        var forecast = new SlotEnergy((long)(rng.NextUInt64() % 4_000), (long)(rng.NextUInt64() % 4_000));

        var intents = SlotDecider.Decide(p, state, new SlotContext(slot, forecast, prices, Jst.Clock, step));

        Assert.True(intents.Select(i => i.Side).Distinct().Count() <= 1, "both sides in one slot");
        foreach (var i in intents)
        {
            Assert.True(i.EnergyWh > 0 && i.EnergyWh % step == 0, $"{i.EnergyWh} Wh is not whole lots of {step}");
            if (i.Side == OrderSide.Buy)
                Assert.InRange(i.LimitPriceTicks, prices.BuyBackTicks + 1, prices.BidCapTicks);
            else
                Assert.InRange(i.LimitPriceTicks, prices.BuyBackTicks, prices.BidCapTicks - 1);
        }
        var sold = intents.Where(i => i.Side == OrderSide.Sell).Sum(i => i.EnergyWh);
        if (state.Storage is { } st && p.Storage is { } spec)
        {
            // Never offer more than PV surplus plus what the battery can deliver this slot.
            var deliverable = Math.Max(0, forecast.PvWh - forecast.LoadWh) + StoragePhysics.DischargeAvailableWh(spec, st, 0, 0.5);
            Assert.True(sold <= deliverable, $"sells {sold} of {deliverable}");
            var renewableSold = intents.Where(i => i.Source == EnergySource.Renewable && i.Side == OrderSide.Sell).Sum(i => i.EnergyWh);
            Assert.True(renewableSold <= Math.Max(0, forecast.PvWh - forecast.LoadWh) + st.RenewableWh, "more renewable than it has");
        }
        else
        {
            Assert.True(sold <= Math.Max(0, forecast.PvWh - forecast.LoadWh));
        }
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(CaseSeeds)], QuietOnSuccess = true)]
    public void Delivery_keeps_storage_in_bounds_and_the_meter_balances(CaseSeed seed)
    {
        var rng = new SplitMix64((ulong)seed.Value);
        var p = Community[(int)(rng.NextUInt64() % (ulong)Community.Count)];
        var slot = Jst.Monday(0) + (long)(rng.NextUInt64() % (7 * 48));
        var state = RandomState(p, rng);
        var driving = p.Phev?.Schedule.LocationAt(slot, Jst.Clock) == PhevLocation.Driving;
        // A parked car has neither PV nor load at its charger; a driving one has its trip as load.
        var actual = p.Kind == AgentKind.Phev && !driving
            ? default
            : new SlotEnergy(p.Kind == AgentKind.Phev ? 0 : (long)(rng.NextUInt64() % 4_000), (long)(rng.NextUInt64() % 4_000));
        var bought = rng.NextDouble() < 0.5 ? (long)(rng.NextUInt64() % 3_000) : 0;
        var traded = new SlotTrades(bought, bought == 0 ? (long)(rng.NextUInt64() % 3_000) : 0, bought / 2);

        var outcome = SlotDelivery.Advance(p, state, slot, Jst.Clock, actual, traded);

        Assert.True(outcome.Meter.ImportWh >= 0 && outcome.Meter.ExportWh >= 0);
        Assert.True(outcome.Meter.ImportWh == 0 || outcome.Meter.ExportWh == 0, "a slot's net flow is one way");
        if (p.Storage is { } spec)
        {
            var next = outcome.Next.Storage!.Value;
            Assert.InRange(next.EnergyWh, 0, spec.CapacityWh);
            Assert.InRange(next.RenewableWh, 0, next.EnergyWh + 1e-9);
        }
        if (driving)
        {
            // Unplugged: nothing at the meter; the trip comes from the battery, then from petrol.
            Assert.Equal(new MeterReading(0, 0), outcome.Meter);
            Assert.Equal(actual.LoadWh, outcome.DrivenFromBatteryWh + outcome.PetrolKm * p.Phev!.WhPerKm, 6);
        }
        else
        {
            // At the meter: import − export = load − PV + charged − discharged.
            Assert.Equal(actual.LoadWh - actual.PvWh + outcome.ChargedWh - outcome.DischargedWh, outcome.Meter.ImportWh - outcome.Meter.ExportWh);
        }
    }

    [Fact]
    public void A_grid_only_week_brings_every_phev_to_its_target_at_each_departure()
    {
        const ulong seed = 77;
        var cars = Community.Where(p => p.Kind == AgentKind.Phev).ToList();
        var states = cars.ToDictionary(c => c.Id, AgentState.Initial);
        var first = Jst.Monday(0);
        for (var slot = first; slot < first + 7 * 48; slot++)
        {
            var day = Jst.Clock.LocalDay(slot);
            foreach (var car in cars)
            {
                var demand = car.Phev!.DriveDemand(Seeds.Derive(seed, car.Id), day, Jst.Clock).ActualWh[Jst.Clock.SlotOfDay(slot)];
                var atDeparture = car.Phev.Schedule.LocationAt(slot, Jst.Clock) == PhevLocation.Driving
                    && car.Phev.Schedule.LocationAt(slot - 1, Jst.Clock) != PhevLocation.Driving;
                if (atDeparture)
                    Assert.True(states[car.Id].Storage!.Value.EnergyWh >= car.Phev.TargetWh - 1e-6, $"{car.Id} below target at slot {slot}");
                states[car.Id] = SlotDelivery.Advance(car, states[car.Id], slot, Jst.Clock, new SlotEnergy(0, demand), SlotTrades.None).Next;
            }
        }
    }

    private static AgentState RandomState(Participant p, SplitMix64 rng)
    {
        if (p.Storage is not { } spec) return AgentState.Initial(p);
        var energy = spec.CapacityWh * rng.NextDouble();
        return new AgentState(new StorageState(energy, energy * rng.NextDouble()));
    }
}
