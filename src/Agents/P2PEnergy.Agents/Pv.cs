namespace P2PEnergy.Agents;

/// <summary>The sky of a day, shared by every PV system of the community.</summary>
public enum DayType { Clear = 1, Cloudy = 2, Rain = 3 }

/// <summary>
/// Where the sun is. Clear-sky output of 1 kWp is a bell between sunrise and sunset:
/// P(t) = PR × cos(latitude − declination) × sin²(π (t − sunrise) / day length) kW, with sunrise and sunset
/// symmetric about solar noon. cos(latitude − declination) is the sine of the sun's noon elevation, so the peak
/// and the day length both follow the season (horizontal-plane approximation, assumption).
/// </summary>
public sealed record SolarSite(double LatitudeDeg, double LongitudeDeg, double StandardMeridianDeg, double PerformanceRatio)
{
    /// <summary>
    /// The pilot's site, seed 004: Toyota's Higashi-Fuji Technical Center, Susono, Shizuoka (東富士研究所（静岡県裾野市）).
    /// Coordinates 35.2°N 138.9°E and JST's meridian 135°E (assumption: public map position of Susono).
    /// Performance ratio 0.78 (assumption: inverter, temperature and soiling losses of a residential system),
    /// which gives about 5.5 kWh/kWp on a clear day at the June solstice and 2.0 at the December one.
    /// </summary>
    public static SolarSite HigashiFuji { get; } = new(35.2, 138.9, 135.0, 0.78);

    /// <summary>Solar declination (Cooper 1969): 23.44° × sin(2π (284 + n) / 365), n = day of the year.</summary>
    public static double DeclinationDeg(int dayOfYear) => 23.44 * Math.Sin(2 * Math.PI * (284 + dayOfYear) / 365.0);

    /// <summary>
    /// Solar noon in local clock hours: 12 h minus 4 minutes per degree east of the standard meridian. The
    /// equation of time (±16 min) is ignored (assumption).
    /// </summary>
    public double SolarNoonHour => 12.0 - (LongitudeDeg - StandardMeridianDeg) * 4.0 / 60.0;

    /// <summary>Hours of daylight: 2 ω₀ / 15°, cos ω₀ = −tan φ tan δ.</summary>
    public double DayLengthHours(int dayOfYear)
    {
        var cosOmega = -Math.Tan(Rad(LatitudeDeg)) * Math.Tan(Rad(DeclinationDeg(dayOfYear)));
        return 2.0 * Deg(Math.Acos(Math.Clamp(cosOmega, -1.0, 1.0))) / 15.0;
    }

    /// <summary>Clear-sky peak, kW per kWp, at solar noon.</summary>
    public double PeakKwPerKwp(int dayOfYear) =>
        PerformanceRatio * Math.Max(0.0, Math.Cos(Rad(LatitudeDeg - DeclinationDeg(dayOfYear))));

    /// <summary>Clear-sky output in kW per kWp at a local clock hour.</summary>
    public double ClearSkyKwPerKwp(int dayOfYear, double hour)
    {
        var length = DayLengthHours(dayOfYear);
        var sunrise = SolarNoonHour - length / 2;
        if (length <= 0 || hour <= sunrise || hour >= sunrise + length) return 0;
        var s = Math.Sin(Math.PI * (hour - sunrise) / length);
        return PeakKwPerKwp(dayOfYear) * s * s;
    }

    /// <summary>Clear-sky energy of 1 kWp per slot of a day, Wh (double), by the midpoint rule on 5-minute steps.</summary>
    public double[] ClearSkyWhPerKwp(int dayOfYear, SlotClock clock)
    {
        const int stepMinutes = 5;
        var result = new double[clock.SlotsPerDay];
        var steps = clock.SlotMinutes / stepMinutes;
        for (var slot = 0; slot < result.Length; slot++)
        {
            double wh = 0;
            for (var k = 0; k < steps; k++)
            {
                var hour = (clock.StartMinute(slot) + (k + 0.5) * stepMinutes) / 60.0;
                wh += ClearSkyKwPerKwp(dayOfYear, hour) * 1000.0 * stepMinutes / 60.0;
            }
            result[slot] = wh;
        }
        return result;
    }

    private static double Rad(double deg) => deg * Math.PI / 180.0;
    private static double Deg(double rad) => rad * 180.0 / Math.PI;
}

/// <summary>
/// One local day's weather: its type and, per slot, the fraction of clear-sky output that actually arrives.
/// The day-ahead forecast knows the day type (assumption) but not the slot-to-slot clouds.
/// </summary>
public sealed record WeatherDay(long LocalDay, DayType Type, IReadOnlyList<double> ActualClearSkyFraction)
{
    // Assumptions (the seeds give no weather): shares of day types for Susono's climate, the mean fraction of
    // clear-sky output each type delivers, and the slot-to-slot spread (standard deviation of the fraction).
    public const double ClearShare = 0.45, CloudyShare = 0.35; // rain: the remaining 0.20

    /// <summary>What the forecast expects: the mean fraction of clear-sky output for a day of this type.</summary>
    public static double ForecastFraction(DayType type) => type switch
    {
        DayType.Clear => 1.00,
        DayType.Cloudy => 0.45,
        DayType.Rain => 0.12,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown day type"),
    };

    /// <summary>Slot-to-slot standard deviation of the actual fraction around the forecast.</summary>
    public static double Spread(DayType type) => type switch
    {
        DayType.Clear => 0.05,
        DayType.Cloudy => 0.20,
        DayType.Rain => 0.08,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown day type"),
    };

    /// <summary>
    /// The community's weather for a local day, from the community seed (stream "weather", day). The type is
    /// drawn with the shares above unless <paramref name="type"/> forces it; each slot's fraction is
    /// forecast + N(0, spread), clamped to [0, 1.1] (a little above clear sky: cloud-edge enhancement).
    /// </summary>
    public static WeatherDay For(ulong communitySeed, long localDay, SlotClock clock, DayType? type = null)
    {
        var rng = Seeds.Stream(communitySeed, "weather", localDay);
        var draw = rng.NextDouble(); // always drawn, so forcing the type leaves the clouds unchanged
        var dayType = type ?? (draw < ClearShare ? DayType.Clear : draw < ClearShare + CloudyShare ? DayType.Cloudy : DayType.Rain);
        var fractions = new double[clock.SlotsPerDay];
        for (var i = 0; i < fractions.Length; i++)
            fractions[i] = Math.Clamp(ForecastFraction(dayType) + Spread(dayType) * rng.NextGaussian(), 0.0, 1.1);
        return new WeatherDay(localDay, dayType, fractions);
    }
}

/// <summary>A PV system: its peak power in kWp.</summary>
public sealed record PvSpec(double KWp)
{
    /// <summary>
    /// Forecast and actual Wh per slot for a day. Every system of the community sees the same sky (one
    /// <see cref="WeatherDay"/>), so systems differ only by size (assumption: a community of a few km²).
    /// Integer Wh by <see cref="Units.QuantizeCumulative"/>.
    /// </summary>
    public SlotSeries Generate(SolarSite site, WeatherDay weather, SlotClock clock)
    {
        if (KWp < 0) throw new InvalidOperationException($"kWp must not be negative, was {KWp}");
        var clear = site.ClearSkyWhPerKwp(clock.DateOf(weather.LocalDay).DayOfYear, clock);
        if (weather.ActualClearSkyFraction.Count != clear.Length)
            throw new ArgumentException("the weather has another number of slots than the clock", nameof(weather));
        var forecast = new double[clear.Length];
        var actual = new double[clear.Length];
        for (var i = 0; i < clear.Length; i++)
        {
            forecast[i] = KWp * clear[i] * WeatherDay.ForecastFraction(weather.Type);
            actual[i] = KWp * clear[i] * weather.ActualClearSkyFraction[i];
        }
        return new SlotSeries(Units.QuantizeCumulative(forecast), Units.QuantizeCumulative(actual));
    }
}

/// <summary>A device's energy per slot of one local day: what the agent forecast and what really happened (Wh).</summary>
public sealed record SlotSeries(IReadOnlyList<long> ForecastWh, IReadOnlyList<long> ActualWh)
{
    public static SlotSeries Zero(SlotClock clock) => new(new long[clock.SlotsPerDay], new long[clock.SlotsPerDay]);
}
