namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// A clock that moves only when told (MarketAdmin.AdvanceClock), so that a whole simulated day runs
/// in seconds and every run is repeatable. It has no timers: nothing in the exchange waits on it; the
/// market closes due gates itself when the clock is advanced.
/// </summary>
public sealed class SimulatedClock : TimeProvider
{
    private readonly Lock _sync = new();
    private DateTimeOffset _now;

    public SimulatedClock(DateTimeOffset start) => _now = start.ToUniversalTime();

    public override DateTimeOffset GetUtcNow()
    {
        lock (_sync) return _now;
    }

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Ticks of simulated time, so that elapsed-time measurements follow the simulation.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        throw new NotSupportedException("the simulated clock has no timers: advance it with MarketAdmin.AdvanceClock");

    /// <summary>Moves the clock forward; returns the new time.</summary>
    public DateTimeOffset Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_sync) return _now += by;
    }

    /// <summary>Moves the clock to <paramref name="to"/>, which must not be in its past.</summary>
    public DateTimeOffset AdvanceTo(DateTimeOffset to)
    {
        lock (_sync)
        {
            if (to < _now) throw new ArgumentOutOfRangeException(nameof(to), to, $"the clock is already at {_now:O}");
            return _now = to.ToUniversalTime();
        }
    }
}

/// <summary>The market's time source: any <see cref="TimeProvider"/>, and the simulated clock when that is what runs.</summary>
public sealed record MarketClock(TimeProvider Time, SimulatedClock? Simulated)
{
    public static MarketClock System { get; } = new(TimeProvider.System, null);

    public static MarketClock Simulate(SimulatedClock clock) => new(clock, clock);

    public long NowUnixMs => Time.GetUtcNow().ToUnixTimeMilliseconds();
}
