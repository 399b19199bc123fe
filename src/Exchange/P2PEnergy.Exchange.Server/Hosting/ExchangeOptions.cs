using P2PEnergy.Exchange;
using P2PEnergy.Signing;

namespace P2PEnergy.Exchange.Server.Hosting;

public enum ClockKind
{
    /// <summary>Wall-clock time; a hosted service closes due gates every <see cref="ExchangeOptions.GateCheckIntervalMs"/>.</summary>
    System = 1,

    /// <summary>Moves only when MarketAdmin.AdvanceClock says so: a simulated day runs in seconds.</summary>
    Simulated = 2,
}

/// <summary>The exchange's configuration, bound from the "Exchange" section. Units as in DESIGN.md.</summary>
public sealed class ExchangeOptions
{
    public const string Section = "Exchange";

    /// <summary>"System" or "Simulated".</summary>
    public ClockKind Clock { get; set; } = ClockKind.System;

    /// <summary>Simulated clock's start, unix seconds; 0 = the system time at start-up, rounded down to a slot start.</summary>
    public long SimulatedStartUnixSeconds { get; set; }

    /// <summary>How often the system-clock gate closer looks for due gates.</summary>
    public int GateCheckIntervalMs { get; set; } = 1000;

    public long LotStepWh { get; set; } = 100;

    public long MinPriceTicks { get; set; } = 1;

    public long MaxPriceTicks { get; set; } = 100_000;

    public long MaxOrderWh { get; set; } = 1_000_000_000;

    public int SlotSeconds { get; set; } = 1800;

    public int GateLeadSeconds { get; set; } = 300;

    /// <summary>Zones are numbered 0 … Zones − 1.</summary>
    public int Zones { get; set; } = 64;

    /// <summary>Wheeling fee between two different zones, ticks (seed 004: about 10 JPY/kWh across the public network).</summary>
    public long DefaultWheelingFeeTicks { get; set; } = WheelingTable.DefaultAcrossNetworkTicks;

    /// <summary>Mechanism of a slot opened without one.</summary>
    public Mechanism DefaultMechanism { get; set; } = Mechanism.CallAuction;

    /// <summary>Grid retail price, ticks (seed 004: 26.2 JPY/kWh).</summary>
    public long RetailPriceTicks { get; set; } = 2620;

    /// <summary>Grid buy-back price, ticks (seed 004: about 7 JPY/kWh).</summary>
    public long BuyBackPriceTicks { get; set; } = 700;

    /// <summary>Local time's offset from UTC for time-of-use half hours (the pilot is in Japan: JST = +540).</summary>
    public int TariffUtcOffsetMinutes { get; set; } = 540;

    /// <summary>Largest request message, bytes; larger ones fail with RESOURCE_EXHAUSTED.</summary>
    public int MaxMessageSizeBytes { get; set; } = 64 * 1024;

    /// <summary>Messages queued for one StreamOrders call or one market-data subscriber before back-pressure or drop.</summary>
    public int StreamBufferCapacity { get; set; } = 4096;

    /// <summary>Levels per side in a market-data book update.</summary>
    public int MarketDataDepthLevels { get; set; } = 10;

    /// <summary>When set, MarketAdmin calls need this value in the "x-admin-token" header.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// True: every submit, cancel and reduce must carry its participant's EIP-712 signature. False is a
    /// development mode: an unsigned command is accepted, but a signature that is present is still checked.
    /// </summary>
    public bool RequireSignatures { get; set; } = true;

    /// <summary>Chain id of the EIP-712 domain of signed orders (Hardhat's 31337 by default).</summary>
    public ulong ChainId { get; set; } = 31337;

    /// <summary>The ledger contract, 0x-hex: the EIP-712 verifyingContract. The zero address until a ledger is deployed.</summary>
    public string LedgerAddress { get; set; } = "0x0000000000000000000000000000000000000000";

    /// <summary>The EIP-712 domain of the market's signed messages.</summary>
    public MarketDomain ToMarketDomain()
    {
        MarketSigning.TryParseAddress(LedgerAddress, out var ledger);
        return new MarketDomain(ChainId, ledger);
    }

    public MarketConfig ToMarketConfig() => new()
    {
        LotStepWh = LotStepWh,
        MinPriceTicks = MinPriceTicks,
        MaxPriceTicks = MaxPriceTicks,
        MaxOrderWh = MaxOrderWh,
        SlotSeconds = SlotSeconds,
        GateLeadSeconds = GateLeadSeconds,
        MaxZones = Zones,
    };

    /// <summary>Throws on a configuration the exchange cannot run with; called at start-up.</summary>
    public void Validate()
    {
        ToMarketConfig().Validate();
        if (!Enum.IsDefined(Clock)) throw new ArgumentOutOfRangeException(nameof(Clock), Clock, "Exchange:Clock must be System or Simulated");
        if (!Enum.IsDefined(DefaultMechanism)) throw new ArgumentOutOfRangeException(nameof(DefaultMechanism), DefaultMechanism, "Exchange:DefaultMechanism must be CallAuction or Continuous");
        if (SimulatedStartUnixSeconds < 0) throw new ArgumentOutOfRangeException(nameof(SimulatedStartUnixSeconds), SimulatedStartUnixSeconds, "must be 0 (now) or a unix time");
        if (GateCheckIntervalMs <= 0) throw new ArgumentOutOfRangeException(nameof(GateCheckIntervalMs), GateCheckIntervalMs, "must be positive");
        if (DefaultWheelingFeeTicks < 0 || DefaultWheelingFeeTicks > MaxPriceTicks)
            throw new ArgumentOutOfRangeException(nameof(DefaultWheelingFeeTicks), DefaultWheelingFeeTicks, "must lie in 0 … MaxPriceTicks");
        if (BuyBackPriceTicks < MinPriceTicks || RetailPriceTicks > MaxPriceTicks || BuyBackPriceTicks > RetailPriceTicks)
            throw new ArgumentOutOfRangeException(nameof(BuyBackPriceTicks), BuyBackPriceTicks, "need MinPriceTicks ≤ buy-back ≤ retail ≤ MaxPriceTicks");
        if (TariffUtcOffsetMinutes is < -14 * 60 or > 14 * 60) throw new ArgumentOutOfRangeException(nameof(TariffUtcOffsetMinutes), TariffUtcOffsetMinutes, "must lie in ±14 h");
        if (MaxMessageSizeBytes < 1024) throw new ArgumentOutOfRangeException(nameof(MaxMessageSizeBytes), MaxMessageSizeBytes, "must be at least 1 KiB");
        if (StreamBufferCapacity < 16) throw new ArgumentOutOfRangeException(nameof(StreamBufferCapacity), StreamBufferCapacity, "must be at least 16");
        if (MarketDataDepthLevels < 1) throw new ArgumentOutOfRangeException(nameof(MarketDataDepthLevels), MarketDataDepthLevels, "must be at least 1");
        if (ChainId == 0) throw new ArgumentOutOfRangeException(nameof(ChainId), ChainId, "must be positive");
        if (!MarketSigning.TryParseAddress(LedgerAddress, out _))
            throw new ArgumentException($"Exchange:LedgerAddress must be 0x and 40 hex digits (got \"{LedgerAddress}\")", nameof(LedgerAddress));
    }
}
