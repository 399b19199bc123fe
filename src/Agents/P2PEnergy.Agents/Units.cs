namespace P2PEnergy.Agents;

// The enum numbers are those of the exchange's protos (p2penergy.v1 Side, Product, EnergySource,
// ParticipantKind), so the simulator's mapping to orders is one-to-one; it still maps them by name.

/// <summary>Which side of the book an order intent is on.</summary>
public enum OrderSide { Buy = 1, Sell = 2 }

/// <summary>What a buy asks for: green takes renewable energy only, standard takes any.</summary>
public enum Product { Standard = 1, Green = 2 }

/// <summary>What a sell offers: renewable (PV, or storage charged from renewable energy) or mixed.</summary>
public enum EnergySource { Mixed = 1, Renewable = 2 }

/// <summary>The agents of DESIGN.md "Agent strategies".</summary>
public enum AgentKind
{
    /// <summary>A home with load only.</summary>
    Household = 1,
    /// <summary>A home with PV, optionally with a stationary battery behind the same meter.</summary>
    Prosumer = 2,
    /// <summary>The office: weekday daytime load and rooftop PV.</summary>
    Office = 3,
    /// <summary>A plug-in hybrid that commutes; metered at its charger.</summary>
    Phev = 4,
    /// <summary>A stationary battery on its own meter (no load, no PV).</summary>
    Battery = 5,
}

/// <summary>The three columns of seed 004, Table 1.</summary>
public enum StrategyKind
{
    /// <summary>経済重視: economy.</summary>
    Economy = 1,
    /// <summary>環境重視 再エネ+5円: green, pays 5 JPY/kWh more for renewable energy.</summary>
    Green = 2,
    /// <summary>EV・蓄電 価格重視: EV / storage, price-focused.</summary>
    PriceFocused = 3,
}

/// <summary>Units of DESIGN.md: energy in Wh (long), price in ticks of 0.01 JPY/kWh (long).</summary>
public static class Units
{
    /// <summary>1 JPY/kWh = 100 ticks.</summary>
    public const long TicksPerYenPerKWh = 100;

    /// <summary>Orders are whole multiples of this many Wh unless the market says otherwise.</summary>
    public const long DefaultLotStepWh = 100;

    /// <summary>
    /// Tolerance for floating-point physics when it becomes an integer: a value within 1e-6 Wh below a whole
    /// Wh counts as that Wh (so 1499.9999999997 Wh of charging room is 1500 Wh, not 1499).
    /// </summary>
    public const double ToleranceWh = 1e-6;

    /// <summary>JPY/kWh with at most two decimals as ticks, exactly; anything finer is an error, not rounded.</summary>
    public static long Ticks(decimal yenPerKWh)
    {
        var ticks = yenPerKWh * TicksPerYenPerKWh;
        if (ticks != decimal.Truncate(ticks))
            throw new ArgumentException($"{yenPerKWh} JPY/kWh is not a whole number of ticks (0.01 JPY/kWh)", nameof(yenPerKWh));
        return (long)ticks;
    }

    /// <summary>
    /// Order energy: the largest multiple of the lot step not above <paramref name="wh"/> (0 when none).
    /// Rounding rule for every order intent: floored, so an agent never commits more than it forecasts; the
    /// remainder is left to the grid.
    /// </summary>
    public static long FloorToStep(long wh, long stepWh)
    {
        if (stepWh <= 0) throw new ArgumentOutOfRangeException(nameof(stepWh), stepWh, "the lot step must be positive");
        return wh <= 0 ? 0 : wh / stepWh * stepWh;
    }

    /// <summary>Physics (double Wh) to whole Wh, floored after <see cref="ToleranceWh"/>; never negative.</summary>
    public static long FloorWh(double wh) => wh <= 0 ? 0 : (long)Math.Floor(wh + ToleranceWh);

    /// <summary>Physics (double Wh) to whole Wh, rounded up after <see cref="ToleranceWh"/>; never negative.</summary>
    public static long CeilingWh(double wh) => wh <= ToleranceWh ? 0 : (long)Math.Ceiling(wh - ToleranceWh);

    /// <summary>
    /// Per-slot energies (double Wh, non-negative) as whole Wh, rounded on the cumulative curve: slot i gets
    /// round(sum of 0..i) − round(sum of 0..i−1), half away from zero. Each slot is within 1 Wh of its value
    /// and the day sums to exactly round(total), so daily energies are not skewed by 48 separate roundings.
    /// </summary>
    public static long[] QuantizeCumulative(ReadOnlySpan<double> wh)
    {
        var result = new long[wh.Length];
        double cumulative = 0;
        long previous = 0;
        for (var i = 0; i < wh.Length; i++)
        {
            cumulative += Math.Max(0, wh[i]);
            var rounded = (long)Math.Round(cumulative, MidpointRounding.AwayFromZero);
            result[i] = rounded - previous;
            previous = rounded;
        }
        return result;
    }

    internal static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    internal static long FloorMod(long a, long b) => a - FloorDiv(a, b) * b;
}

/// <summary>
/// Delivery slots in local time. Slot index = unix seconds / slot length (DESIGN.md); the device models work
/// in local time of day, so the clock knows the site's UTC offset.
/// </summary>
public readonly record struct SlotClock
{
    private const int SecondsPerDay = 86_400;

    /// <summary>30-minute slots in Japan Standard Time (UTC+9, no daylight saving): the pilot's site, seed 004.</summary>
    public static SlotClock Jst { get; } = new(1800, 9 * 3600);

    public SlotClock(int slotSeconds, int utcOffsetSeconds)
    {
        if (slotSeconds <= 0 || SecondsPerDay % slotSeconds != 0 || slotSeconds % 60 != 0)
            throw new ArgumentOutOfRangeException(nameof(slotSeconds), slotSeconds, "a slot must be whole minutes and divide a day");
        // Local midnight must be a slot boundary, or a "slot of the day" would straddle two days.
        if (utcOffsetSeconds % slotSeconds != 0)
            throw new ArgumentOutOfRangeException(nameof(utcOffsetSeconds), utcOffsetSeconds, "the UTC offset must be whole slots");
        SlotSeconds = slotSeconds;
        UtcOffsetSeconds = utcOffsetSeconds;
    }

    public int SlotSeconds { get; }
    public int UtcOffsetSeconds { get; }
    public int SlotsPerDay => SecondsPerDay / SlotSeconds;
    public double SlotHours => SlotSeconds / 3600.0;
    public int SlotMinutes => SlotSeconds / 60;

    /// <summary>The slot that contains this unix time.</summary>
    public long SlotAt(long unixSeconds) => Units.FloorDiv(unixSeconds, SlotSeconds);

    /// <summary>Local day number: days since 1970-01-01 in local time.</summary>
    public long LocalDay(long slot) => Units.FloorDiv(checked(slot * SlotSeconds + UtcOffsetSeconds), SecondsPerDay);

    /// <summary>0 for the slot starting at local midnight.</summary>
    public int SlotOfDay(long slot) => (int)(Units.FloorMod(checked(slot * SlotSeconds + UtcOffsetSeconds), SecondsPerDay) / SlotSeconds);

    /// <summary>The slot starting at local midnight of a local day.</summary>
    public long FirstSlotOf(long localDay) => (checked(localDay * SecondsPerDay) - UtcOffsetSeconds) / SlotSeconds;

    public DateOnly DateOf(long localDay) => DateOnly.FromDayNumber(checked((int)(Epoch.DayNumber + localDay)));

    public DayOfWeek DayOfWeekOf(long localDay) => DateOf(localDay).DayOfWeek;

    /// <summary>Monday to Friday. Public holidays are not modelled (assumption).</summary>
    public bool IsWeekday(long localDay) => DayOfWeekOf(localDay) is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    /// <summary>Local minute of the day at which a slot of the day starts.</summary>
    public int StartMinute(int slotOfDay) => slotOfDay * SlotMinutes;

    private static readonly DateOnly Epoch = new(1970, 1, 1);
}
