namespace P2PEnergy.Agents;

/// <summary>
/// A home's consumption: a base load plus a morning and an evening peak (Gaussian bumps), scaled to the
/// household's daily energy. The issue asks for about 10–12 kWh a day with morning and evening peaks; the
/// rest is assumption: peak centres 07:15 and 19:15 (the midpoints of the 07:00 and 19:00 slots: breakfast,
/// and dinner, bath and TV), widths 1.0 h and 1.5 h, heights relative to the base 1.0 : 4.0 (morning) : 6.0
/// (evening). No midday bump: the pilot's homes belong to the office's employees (seed 004: 事業所とその従業員),
/// who are at work on weekdays. The same shape serves every day of the week (assumption: weekends are not
/// modelled apart).
/// </summary>
public sealed record HouseholdLoadSpec(
    double MinDailyKWh = 10.0,
    double MaxDailyKWh = 12.0,
    double MorningPeakHour = 7.25,
    double EveningPeakHour = 19.25,
    double MorningWidthHours = 1.0,
    double EveningWidthHours = 1.5,
    double MorningPeakRelative = 4.0,
    double EveningPeakRelative = 6.0)
{
    /// <summary>Day-to-day spread of a home's daily energy around its typical value (σ, clamped to ±10 %; assumption).</summary>
    public const double DailySpread = 0.05;

    /// <summary>Slot-to-slot spread of actual load around the forecast shape (σ, clamped to ±50 %; assumption).</summary>
    public const double SlotSpread = 0.15;

    public static HouseholdLoadSpec Default { get; } = new();

    /// <summary>Relative consumption by slot of the day (not normalised), evaluated at slot midpoints.</summary>
    public double[] Shape(SlotClock clock)
    {
        var shape = new double[clock.SlotsPerDay];
        for (var i = 0; i < shape.Length; i++)
        {
            var hour = (clock.StartMinute(i) + clock.SlotMinutes / 2.0) / 60.0;
            shape[i] = 1.0
                + MorningPeakRelative * Bump(hour, MorningPeakHour, MorningWidthHours)
                + EveningPeakRelative * Bump(hour, EveningPeakHour, EveningWidthHours);
        }
        return shape;
    }

    /// <summary>The household's typical daily energy, Wh: uniform in [min, max] from its own seed, fixed for all days.</summary>
    public double TypicalDailyWh(ulong householdSeed) =>
        1000.0 * Seeds.Stream(householdSeed, "typical-daily-kwh").NextDouble(MinDailyKWh, MaxDailyKWh);

    /// <summary>
    /// Forecast: the shape scaled to the typical daily energy. Actual: that day's energy (typical × (1 + N(0, 5 %)),
    /// within ±10 %) spread by the shape with slot noise (× (1 + N(0, 15 %)), within ±50 %). Integer Wh by
    /// <see cref="Units.QuantizeCumulative"/>, so the forecast day sums to round(typical).
    /// </summary>
    public SlotSeries Generate(ulong householdSeed, long localDay, SlotClock clock)
    {
        if (MinDailyKWh <= 0 || MaxDailyKWh < MinDailyKWh) throw new InvalidOperationException("daily energy range is invalid");
        var shape = Shape(clock);
        var typical = TypicalDailyWh(householdSeed);
        var rng = Seeds.Stream(householdSeed, "household-load", localDay);
        var dayWh = typical * (1 + Math.Clamp(DailySpread * rng.NextGaussian(), -0.10, 0.10));
        var noisy = new double[shape.Length];
        for (var i = 0; i < shape.Length; i++)
            noisy[i] = shape[i] * (1 + Math.Clamp(SlotSpread * rng.NextGaussian(), -0.5, 0.5));
        return new SlotSeries(Units.QuantizeCumulative(Scale(shape, typical)), Units.QuantizeCumulative(Scale(noisy, dayWh)));
    }

    private static double Bump(double hour, double centre, double width)
    {
        var z = (hour - centre) / width;
        return Math.Exp(-0.5 * z * z);
    }

    internal static double[] Scale(double[] shape, double totalWh)
    {
        var sum = shape.Sum();
        return shape.Select(v => v / sum * totalWh).ToArray();
    }
}

/// <summary>
/// The office (seed 004: 事業所 1件). Its size is not in the seed (assumption): 5 kW at night and at weekends,
/// 30 kW in working hours on weekdays (08:30–17:30), ramping linearly over the hour before opening and the
/// hour after closing; 20 kWp of rooftop PV (<see cref="HigashiFuji"/>). A weekday is then
/// 5 × 24 + 25 × (9 + ½ + ½) = 370 kWh.
/// </summary>
public sealed record OfficeLoadSpec(
    double BaseKw = 5.0,
    double PeakKw = 30.0,
    double OpenHour = 8.5,
    double CloseHour = 17.5,
    double RampHours = 1.0)
{
    /// <summary>Slot-to-slot spread of actual load around the forecast (σ, clamped to ±20 %; assumption).</summary>
    public const double SlotSpread = 0.05;

    public static OfficeLoadSpec Default { get; } = new();

    /// <summary>Forecast power in kW at a local hour of a weekday or of a weekend day.</summary>
    public double Kw(double hour, bool weekday)
    {
        if (!weekday) return BaseKw;
        var span = PeakKw - BaseKw;
        if (hour >= OpenHour && hour <= CloseHour) return PeakKw;
        if (hour >= OpenHour - RampHours && hour < OpenHour) return BaseKw + span * (hour - (OpenHour - RampHours)) / RampHours;
        if (hour > CloseHour && hour <= CloseHour + RampHours) return PeakKw - span * (hour - CloseHour) / RampHours;
        return BaseKw;
    }

    /// <summary>
    /// Forecast: <see cref="Kw"/> integrated per slot (midpoint rule, 5-minute steps: exact for this
    /// piecewise-linear profile). Actual: × (1 + N(0, 5 %)) per slot. Weekday by the clock's calendar.
    /// </summary>
    public SlotSeries Generate(ulong officeSeed, long localDay, SlotClock clock, double scale = 1.0)
    {
        var weekday = clock.IsWeekday(localDay);
        var rng = Seeds.Stream(officeSeed, "office-load", localDay);
        var forecast = new double[clock.SlotsPerDay];
        var actual = new double[clock.SlotsPerDay];
        const int stepMinutes = 5;
        for (var i = 0; i < forecast.Length; i++)
        {
            double wh = 0;
            for (var k = 0; k < clock.SlotMinutes / stepMinutes; k++)
                wh += Kw((clock.StartMinute(i) + (k + 0.5) * stepMinutes) / 60.0, weekday) * 1000.0 * stepMinutes / 60.0;
            forecast[i] = wh * scale;
            actual[i] = forecast[i] * (1 + Math.Clamp(SlotSpread * rng.NextGaussian(), -0.2, 0.2));
        }
        return new SlotSeries(Units.QuantizeCumulative(forecast), Units.QuantizeCumulative(actual));
    }
}
