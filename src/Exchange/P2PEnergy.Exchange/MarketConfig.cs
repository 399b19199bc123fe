namespace P2PEnergy.Exchange;

/// <summary>The fixed parameters of one market. Units as in DESIGN.md.</summary>
public sealed record MarketConfig
{
    /// <summary>Lots are multiples of this many Wh (DESIGN.md: default 100 Wh).</summary>
    public long LotStepWh { get; init; } = 100;

    /// <summary>Lowest limit price, in ticks (0.01 JPY/kWh).</summary>
    public long MinPriceTicks { get; init; } = 1;

    /// <summary>Highest limit price, in ticks: 1,000 JPY/kWh, far above any retail tariff.</summary>
    public long MaxPriceTicks { get; init; } = 100_000;

    /// <summary>Largest order, in Wh (1 GWh): keeps Wh × price far inside a long.</summary>
    public long MaxOrderWh { get; init; } = 1_000_000_000;

    /// <summary>Slot length (DESIGN.md and seed 001: 30-minute delivery slots).</summary>
    public int SlotSeconds { get; init; } = 1800;

    /// <summary>Gate closure before delivery start (issue 3: default 5 minutes).</summary>
    public int GateLeadSeconds { get; init; } = 300;

    /// <summary>Zones are numbered 0 … MaxZones − 1.</summary>
    public int MaxZones { get; init; } = 64;

    /// <summary>
    /// Orders the engine makes room for up front (node pool and indexes), so that a busy market does not
    /// reallocate while trading. It grows beyond this when needed.
    /// </summary>
    public int InitialOrderCapacity { get; init; } = 1024;

    /// <summary>Unix milliseconds at which a slot's gate closes.</summary>
    public long GateClosureUnixMs(long slot) => checked((slot * SlotSeconds - GateLeadSeconds) * 1000L);

    /// <summary>Unix seconds at which a slot's delivery starts.</summary>
    public long DeliveryStartUnixSeconds(long slot) => checked(slot * SlotSeconds);

    /// <summary>The slot whose delivery contains the given instant.</summary>
    public long SlotAt(long unixMs) => unixMs / 1000L / SlotSeconds;

    public void Validate()
    {
        if (LotStepWh <= 0) throw new ArgumentOutOfRangeException(nameof(LotStepWh), LotStepWh, "lot step must be positive");
        if (MinPriceTicks < 0 || MaxPriceTicks < MinPriceTicks)
            throw new ArgumentOutOfRangeException(nameof(MaxPriceTicks), MaxPriceTicks, "price band must be 0 ≤ min ≤ max");
        if (MaxOrderWh < LotStepWh) throw new ArgumentOutOfRangeException(nameof(MaxOrderWh), MaxOrderWh, "largest order must hold at least one lot");
        if (SlotSeconds <= 0) throw new ArgumentOutOfRangeException(nameof(SlotSeconds), SlotSeconds, "slot length must be positive");
        if (GateLeadSeconds < 0) throw new ArgumentOutOfRangeException(nameof(GateLeadSeconds), GateLeadSeconds, "gate lead time must be zero or more");
        if (InitialOrderCapacity is < 0 or > 100_000_000)
            throw new ArgumentOutOfRangeException(nameof(InitialOrderCapacity), InitialOrderCapacity, "initial capacity must be 0 … 100,000,000");
        if (MaxZones is <= 0 or > 1024) throw new ArgumentOutOfRangeException(nameof(MaxZones), MaxZones, "zones must number 1 … 1024");
        // Money of one lot = Wh × price must fit a long with room for sums of many lots.
        if (MaxOrderWh > long.MaxValue / 1024 / Math.Max(1, MaxPriceTicks))
            throw new ArgumentOutOfRangeException(nameof(MaxOrderWh), MaxOrderWh, "largest order × highest price would overflow money");
    }
}
