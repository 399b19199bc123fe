namespace P2PEnergy.Agents.Tests;

public sealed class HouseholdLoadTests
{
    private static readonly HouseholdLoadSpec Spec = HouseholdLoadSpec.Default;
    private static readonly long Monday = Jst.Day(2019, 6, 17);

    [Fact]
    public void A_home_uses_10_to_12_kWh_a_day_and_the_actual_day_stays_within_10_percent_of_the_forecast()
    {
        for (ulong home = 0; home < 60; home++)
        {
            var s = Spec.Generate(Seeds.Derive(5, "home", (long)home), Monday, Jst.Clock);
            var forecast = s.ForecastWh.Sum();
            var actual = s.ActualWh.Sum();
            Assert.InRange(forecast, 10_000, 12_000);
            // actual day = typical × (1 + d), |d| ≤ 0.10; both rounded on the cumulative curve (±½ Wh each).
            Assert.InRange(actual, 0.9 * forecast - 2, 1.1 * forecast + 2);
            Assert.NotEqual(s.ForecastWh, s.ActualWh);
        }
    }

    [Fact]
    public void Peaks_are_in_the_morning_at_7_and_in_the_evening_at_19()
    {
        var f = Spec.Generate(11, Monday, Jst.Clock).ForecastWh.ToArray();
        static int ArgMax(long[] v, int from, int to) => Enumerable.Range(from, to - from).MaxBy(i => v[i]);
        Assert.Equal(14, ArgMax(f, 10, 20));   // 05:00–10:00: the 07:00–07:30 slot
        Assert.Equal(38, ArgMax(f, 32, 46));   // 16:00–23:00: the 19:00–19:30 slot
        Assert.Equal(38, ArgMax(f, 0, 48));    // the evening peak is the day's
        // Shape heights 1 : 5 (morning, 1 + 4) : 7 (evening, 1 + 6) against the night base (03:00 slot).
        Assert.InRange((double)f[14] / f[6], 4.5, 5.5);
        Assert.InRange((double)f[38] / f[6], 6.5, 7.5);
        // Nobody home at midday (employees at work): 12:00 is near the base.
        Assert.True(f[24] < 1.2 * f[6]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_day_and_other_days_differ()
    {
        var a = Spec.Generate(3, Monday, Jst.Clock);
        var b = Spec.Generate(3, Monday, Jst.Clock);
        var tuesday = Spec.Generate(3, Monday + 1, Jst.Clock);
        Assert.Equal(a.ActualWh, b.ActualWh);
        Assert.Equal(a.ForecastWh, tuesday.ForecastWh);   // same home, same typical day
        Assert.NotEqual(a.ActualWh, tuesday.ActualWh);
    }
}

public sealed class OfficeLoadTests
{
    private static readonly OfficeLoadSpec Spec = OfficeLoadSpec.Default;

    [Fact]
    public void The_office_draws_30_kW_in_weekday_working_hours_and_5_kW_otherwise()
    {
        var monday = Spec.Generate(1, Jst.Day(2019, 6, 17), Jst.Clock).ForecastWh;
        var saturday = Spec.Generate(1, Jst.Day(2019, 6, 22), Jst.Clock).ForecastWh;
        Assert.Equal(15_000, monday[20]);   // 10:00–10:30: 30 kW × 0.5 h
        Assert.Equal(2_500, monday[6]);     // 03:00–03:30: 5 kW × 0.5 h
        Assert.Equal(11_875, monday[16]);   // 08:00–08:30 on the ramp: (17.5 + 30) / 2 kW × 0.5 h
        Assert.Equal(2_500, saturday[20]);
        // 5 kW × 24 h + 25 kW × (9 h + two ramps of ½ h equivalent) = 120 + 250 = 370 kWh; weekend 120 kWh.
        Assert.Equal(370_000, monday.Sum());
        Assert.Equal(120_000, saturday.Sum());
    }

    [Fact]
    public void Scale_multiplies_the_office_and_actual_load_follows_the_forecast_within_20_percent()
    {
        var day = Jst.Day(2019, 6, 18);
        var one = Spec.Generate(1, day, Jst.Clock);
        var three = Spec.Generate(1, day, Jst.Clock, scale: 3);
        Assert.Equal(3 * one.ForecastWh.Sum(), three.ForecastWh.Sum());
        for (var i = 0; i < 48; i++)
            Assert.InRange(one.ActualWh[i], 0.8 * one.ForecastWh[i] - 1, 1.2 * one.ForecastWh[i] + 1);
        Assert.NotEqual(one.ForecastWh, one.ActualWh);
    }
}
