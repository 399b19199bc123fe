namespace P2PEnergy.Agents.Tests;

public sealed class PvTests
{
    private static readonly SolarSite Site = SolarSite.HigashiFuji;
    private static readonly long Solstice = Jst.Day(2019, 6, 21);

    private static SlotSeries OneKwp(long day, DayType type, ulong seed = 1) =>
        new PvSpec(1.0).Generate(Site, WeatherDay.For(seed, day, Jst.Clock, type), Jst.Clock);

    [Fact]
    public void A_clear_June_solstice_gives_about_5_5_kWh_per_kWp()
    {
        // Day 172: declination 23.44 × sin(2π × 456 / 365) = 23.44°. Day length: cos ω₀ = −tan 35.2° × tan 23.44°
        // = −0.7054 × 0.4335 = −0.3058 → ω₀ = 107.81° → 14.374 h. Peak: 0.78 × cos(35.2° − 23.44°) = 0.7636 kW.
        // The mean of sin² over the day is ½: 0.7636 × 14.374 × 0.5 = 5.488 kWh.
        var forecast = OneKwp(Solstice, DayType.Clear).ForecastWh;
        Assert.InRange(forecast.Sum(), 5_473, 5_503);
    }

    [Fact]
    public void Output_is_zero_at_night_and_peaks_in_the_slot_of_solar_noon()
    {
        // Solar noon: 12:00 − (138.9 − 135) × 4 min = 11:44.6; sunrise 11.743 − 7.187 h = 04:33, sunset 18:56.
        var f = OneKwp(Solstice, DayType.Clear).ForecastWh;
        Assert.All(f.Take(9), wh => Assert.Equal(0, wh));          // 00:00–04:30
        Assert.True(f[9] > 0);                                       // 04:30–05:00 holds sunrise
        Assert.True(f[37] > 0);                                      // 18:30–19:00 holds sunset
        Assert.All(f.Skip(38), wh => Assert.Equal(0, wh));         // 19:00–24:00
        Assert.Equal(23, f.ToList().IndexOf(f.Max()));               // 11:30–12:00
    }

    [Fact]
    public void Cloudy_and_rainy_forecasts_are_their_fractions_of_clear_sky()
    {
        var clear = OneKwp(Solstice, DayType.Clear).ForecastWh.Sum();
        // Cumulative rounding: each day total is within ½ Wh of its exact value.
        Assert.InRange(OneKwp(Solstice, DayType.Cloudy).ForecastWh.Sum(), 0.45 * clear - 1, 0.45 * clear + 1);
        Assert.InRange(OneKwp(Solstice, DayType.Rain).ForecastWh.Sum(), 0.12 * clear - 1, 0.12 * clear + 1);
    }

    [Fact]
    public void A_clear_winter_solstice_is_shorter_and_weaker()
    {
        // Day 355: declination −23.44°: cos ω₀ = 0.3058 → ω₀ = 72.19° → 9.626 h; peak 0.78 × cos 58.64° = 0.4059 kW;
        // 0.4059 × 9.626 × 0.5 = 1.954 kWh.
        var december = OneKwp(Jst.Day(2019, 12, 21), DayType.Clear).ForecastWh;
        Assert.InRange(december.Sum(), 1_940, 1_968);
        Assert.True(december.Count(wh => wh > 0) < OneKwp(Solstice, DayType.Clear).ForecastWh.Count(wh => wh > 0));
    }

    [Fact]
    public void Actual_output_differs_from_the_forecast_and_is_reproducible_from_the_seed()
    {
        var a = OneKwp(Solstice, DayType.Cloudy, seed: 7);
        var again = OneKwp(Solstice, DayType.Cloudy, seed: 7);
        var other = OneKwp(Solstice, DayType.Cloudy, seed: 8);
        Assert.NotEqual(a.ForecastWh, a.ActualWh);
        Assert.Equal(a.ActualWh, again.ActualWh);
        Assert.Equal(a.ForecastWh, other.ForecastWh); // the forecast knows only the day type
        Assert.NotEqual(a.ActualWh, other.ActualWh);
    }

    [Fact]
    public void Forecasts_miss_more_on_cloudy_days_than_on_clear_ones()
    {
        static double MeanAbsError(DayType type)
        {
            double error = 0;
            for (ulong seed = 0; seed < 40; seed++)
            {
                var s = OneKwp(Solstice, type, seed);
                error += s.ForecastWh.Zip(s.ActualWh, (f, a) => Math.Abs(f - a)).Sum();
            }
            return error;
        }
        Assert.True(MeanAbsError(DayType.Cloudy) > 2 * MeanAbsError(DayType.Clear));
    }

    [Fact]
    public void Day_types_follow_their_stated_shares()
    {
        var types = Enumerable.Range(0, 4000).Select(d => WeatherDay.For(99, d, Jst.Clock).Type).ToList();
        // Binomial standard error for 4000 days ≈ 0.008; bounds ±0.03.
        Assert.InRange(types.Count(t => t == DayType.Clear) / 4000.0, 0.42, 0.48);
        Assert.InRange(types.Count(t => t == DayType.Cloudy) / 4000.0, 0.32, 0.38);
        Assert.InRange(types.Count(t => t == DayType.Rain) / 4000.0, 0.17, 0.23);
    }
}
