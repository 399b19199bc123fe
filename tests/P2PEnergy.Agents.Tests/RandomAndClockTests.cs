namespace P2PEnergy.Agents.Tests;

public sealed class SeededRandomTests
{
    [Fact]
    public void SplitMix64_matches_the_reference_sequence()
    {
        // Vigna's splitmix64.c from state 0.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void Streams_are_reproducible_and_independent_by_label_and_number()
    {
        Assert.Equal(Seeds.Derive(42, "home-01", 3), Seeds.Derive(42, "home-01", 3));
        Assert.NotEqual(Seeds.Derive(42, "home-01", 3), Seeds.Derive(42, "home-02", 3));
        Assert.NotEqual(Seeds.Derive(42, "home-01", 3), Seeds.Derive(42, "home-01", 4));
        Assert.NotEqual(Seeds.Derive(42, "home-01", 3), Seeds.Derive(43, "home-01", 3));
    }

    [Fact]
    public void Gaussian_draws_have_mean_zero_and_variance_one()
    {
        var rng = new SplitMix64(2024);
        const int n = 200_000;
        double sum = 0, squares = 0;
        for (var i = 0; i < n; i++)
        {
            var g = rng.NextGaussian();
            sum += g;
            squares += g * g;
        }
        // Standard errors: mean 1/√n ≈ 0.0022, variance √(2/n) ≈ 0.0032; bounds are about 4.5 of them.
        Assert.InRange(sum / n, -0.01, 0.01);
        Assert.InRange(squares / n - (sum / n) * (sum / n), 0.985, 1.015);
    }
}

public sealed class SlotClockTests
{
    [Fact]
    public void A_slot_knows_its_local_day_time_and_weekday()
    {
        // 2019-06-17 00:00 JST = 2019-06-16 15:00 UTC = unix 1560697200; / 1800 = 867054.
        var midnight = Jst.Monday(0);
        Assert.Equal(867_054, midnight);
        Assert.Equal(0, Jst.Clock.SlotOfDay(midnight));
        Assert.Equal(15, Jst.Clock.SlotOfDay(Jst.Monday(7, 30)));
        Assert.Equal(47, Jst.Clock.SlotOfDay(midnight - 1));
        Assert.Equal(DayOfWeek.Monday, Jst.Clock.DayOfWeekOf(Jst.Clock.LocalDay(midnight)));
        Assert.Equal(DayOfWeek.Sunday, Jst.Clock.DayOfWeekOf(Jst.Clock.LocalDay(midnight - 1)));
        Assert.Equal(midnight, Jst.Clock.FirstSlotOf(Jst.Clock.LocalDay(Jst.Monday(13))));
        Assert.False(Jst.Clock.IsWeekday(Jst.Clock.LocalDay(Jst.Saturday(12))));
    }

    [Fact]
    public void Hour_slots_are_supported_and_offsets_must_fall_on_slot_boundaries()
    {
        var hourly = new SlotClock(3600, 9 * 3600);
        Assert.Equal(24, hourly.SlotsPerDay);
        // 07:30 JST is in the 07:00 slot.
        var unix = new DateTimeOffset(2019, 6, 17, 7, 30, 0, TimeSpan.FromHours(9)).ToUnixTimeSeconds();
        Assert.Equal(7, hourly.SlotOfDay(hourly.SlotAt(unix)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlotClock(3600, 1800));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SlotClock(7000, 0));
    }
}
