namespace P2PEnergy.Report;

// The report's input: what a simulated community did, in the units of DESIGN.md — energy in Wh, prices in
// ticks of 0.01 JPY/kWh, money in 1e-5 JPY (= Wh × ticks). The simulator maps its results onto these records;
// this library references no other project of the repository.

/// <summary>The participant types the report groups by (issue 6; seed 004: office, homes, homes with batteries, PHEVs).</summary>
public enum ParticipantType
{
    /// <summary>A home with load only.</summary>
    Household = 1,
    /// <summary>A home with PV and no storage.</summary>
    Prosumer = 2,
    /// <summary>A home with PV and a stationary battery behind the same meter.</summary>
    HomeWithBattery = 3,
    /// <summary>The office: weekday daytime load and rooftop PV.</summary>
    Office = 4,
    /// <summary>A plug-in hybrid, metered at its charger; drives on petrol when its battery is empty.</summary>
    Phev = 5,
}

/// <summary>How the market matched orders (DESIGN.md, Market rules).</summary>
public enum Mechanism
{
    /// <summary>Blind call auction: one uniform clearing price per product and slot.</summary>
    CallAuction = 1,
    /// <summary>Continuous double auction: each lot at the resting order's price.</summary>
    Continuous = 2,
}

/// <summary>The two products of a slot (DESIGN.md, Products).</summary>
public enum Product
{
    Standard = 1,
    /// <summary>Renewable energy only.</summary>
    Green = 2,
}

/// <summary>
/// Grams of CO2 per kWh taken from the grid, and where that number comes from. Grid import × factor gives
/// CO2 in mg exactly (1 Wh × 1 g/kWh = 1 mg).
/// </summary>
public sealed record GridEmissionFactor(long GramsPerKWh, string Source)
{
    /// <summary>
    /// A stated assumption, not an official figure for one year: 450 g-CO2/kWh for the Tokyo area (TEPCO Energy
    /// Partner's service area, where the Higashi-Fuji pilot ran). The retailer's emission factors published under
    /// Japan's Act on Promotion of Global Warming Countermeasures (地球温暖化対策推進法) for the pilot's years were
    /// of this order (about 0.44–0.46 kg-CO2/kWh); replace it with the published factor of the year modelled.
    /// </summary>
    public static GridEmissionFactor TokyoAreaAssumption { get; } = new(
        450,
        "assumption: Tokyo area (TEPCO Energy Partner service area) grid average, 450 g-CO2/kWh, of the order of "
        + "the retailer's factors published under the Act on Promotion of Global Warming Countermeasures for "
        + "FY2019-FY2022 (about 0.44-0.46 kg-CO2/kWh); not the official figure of any one year");
}

/// <summary>What was simulated. Slot indices are unixSeconds / <see cref="SlotSeconds"/> (DESIGN.md, Units).</summary>
public sealed record Scenario
{
    public required string Name { get; init; }
    public required long Seed { get; init; }
    public required Mechanism Mechanism { get; init; }
    public required int Days { get; init; }
    public required GridEmissionFactor GridEmissionFactor { get; init; }

    /// <summary>Length of a delivery slot (DESIGN.md: 30 minutes by default).</summary>
    public int SlotSeconds { get; init; } = 1800;

    /// <summary>Offset of the community's local time from UTC, for times of day in tables and plots (JST by default).</summary>
    public TimeSpan UtcOffset { get; init; } = TimeSpan.FromHours(9);
}

/// <summary>One member of the community. <see cref="Address"/> is its 20-byte address as hex, the key of every row.</summary>
public sealed record Participant(string Address, string Name, ParticipantType Type, string Zone);

/// <summary>Energy in a battery or an EV at the end of a slot, and its usable capacity, in Wh.</summary>
public readonly record struct StorageState(long EnergyWh, long CapacityWh)
{
    /// <summary>State of charge in per mille of capacity, rounded half away from zero.</summary>
    public long PerMille => Rounding.Divide((Int128)EnergyWh * 1000, CapacityWh);
}

/// <summary>
/// One participant in one slot: its loads and generation and its settlement bill (the settlement engine's
/// <c>Bill</c> lines, plus load, generation and the renewable part of what it bought). All optional lines are 0
/// when absent.
/// </summary>
public sealed record ParticipantSlot
{
    public required string Participant { get; init; }
    public required long Slot { get; init; }

    /// <summary>
    /// Energy consumed: the loads of a home or the office, and for a PHEV the energy it is charged with (its end
    /// use is driving). Charging a home battery is not load: its energy is counted when the battery discharges
    /// into the home's load, so nothing is consumed twice.
    /// </summary>
    public required long LoadWh { get; init; }

    /// <summary>Energy produced on site: PV, and for a PHEV the energy it discharges to the grid or the market.</summary>
    public required long GenerationWh { get; init; }

    /// <summary>Settled Wh of its buy lots and what it pays their sellers (energy price only).</summary>
    public long BoughtWh { get; init; }
    public long BoughtMoney { get; init; }

    /// <summary>The part of <see cref="BoughtWh"/> that came from renewable sellers (never more than it).</summary>
    public long BoughtRenewableWh { get; init; }

    /// <summary>Settled Wh of its sell lots and what their buyers pay it.</summary>
    public long SoldWh { get; init; }
    public long SoldMoney { get; init; }

    /// <summary>Wheeling fee on its settled buy lots, paid to the grid operator.</summary>
    public long WheelingPaid { get; init; }

    /// <summary>Energy from the grid at retail (shortfalls and unallocated import) and what it costs.</summary>
    public long GridImportWh { get; init; }
    public long GridImportMoney { get; init; }

    /// <summary>Energy to the grid at buy-back (over-delivery and unallocated export) and what it earns.</summary>
    public long GridExportWh { get; init; }
    public long GridExportMoney { get; init; }

    public long CompensationPaid { get; init; }
    public long CompensationReceived { get; init; }

    /// <summary>Battery or EV state at the end of the slot; null for participants without storage.</summary>
    public StorageState? Storage { get; init; }

    /// <summary>Petrol a PHEV bought in this slot because its battery was empty, in 1e-5 JPY.</summary>
    public long PetrolMoney { get; init; }

    /// <summary>As the settlement bill: bought + wheeling + grid import + compensation paid.</summary>
    public long Paid => BoughtMoney + WheelingPaid + GridImportMoney + CompensationPaid;

    /// <summary>As the settlement bill: sold + grid export + compensation received.</summary>
    public long Received => SoldMoney + GridExportMoney + CompensationReceived;

    /// <summary>As the settlement bill: received − paid (positive: the participant is owed money).</summary>
    public long Net => Received - Paid;

    /// <summary>What the slot cost the participant: paid − received + petrol.</summary>
    public long Cost => Paid - Received + PetrolMoney;
}

/// <summary>
/// The same participant and slot in the grid-only baseline: the same loads and generation, no P2P market, import
/// at retail and export at buy-back; storage and EV behaviour as the caller states it (the caller computes this,
/// the report only reports it; <see cref="GridOnlyBaseline"/> computes it for participants without storage).
/// </summary>
public sealed record BaselineSlot
{
    public required string Participant { get; init; }
    public required long Slot { get; init; }
    public long GridImportWh { get; init; }
    public long GridImportMoney { get; init; }
    public long GridExportWh { get; init; }
    public long GridExportMoney { get; init; }
    public long PetrolMoney { get; init; }

    /// <summary>Grid import − grid export + petrol.</summary>
    public long Cost => GridImportMoney - GridExportMoney + PetrolMoney;
}

/// <summary>A product's price in a slot: the uniform clearing price (call auction) or the volume-weighted average of its lots (continuous).</summary>
public readonly record struct ClearingPrice(Product Product, long Ticks)
{
    /// <summary>
    /// The volume-weighted average price of lots, Σ(Wh × ticks) / ΣWh, rounded half away from zero to a whole
    /// tick; null when no energy was traded.
    /// </summary>
    public static ClearingPrice? VolumeWeighted(Product product, IEnumerable<(long Wh, long Ticks)> lots)
    {
        Int128 money = 0, wh = 0;
        foreach (var (lotWh, ticks) in lots)
        {
            if (lotWh < 0 || ticks < 0) throw new ArgumentException("lot energy and price must not be negative", nameof(lots));
            money += (Int128)lotWh * ticks;
            wh += lotWh;
        }
        return wh == 0 ? null : new ClearingPrice(product, Rounding.Divide(money, wh));
    }
}

/// <summary>The market in one slot: grid prices, clearing prices, what was matched.</summary>
public sealed record MarketSlot
{
    public required long Slot { get; init; }
    public required long RetailTicks { get; init; }
    public required long BuyBackTicks { get; init; }

    /// <summary>At most one per product; empty when nothing traded.</summary>
    public IReadOnlyList<ClearingPrice> ClearingPrices { get; init; } = [];

    /// <summary>Matched (contracted) Wh of the slot's lots by the seller's declared source.</summary>
    public long RenewableTradedWh { get; init; }
    public long MixedTradedWh { get; init; }

    public int LotCount { get; init; }

    public long TradedWh => RenewableTradedWh + MixedTradedWh;

    public long? ClearingTicks(Product product) =>
        ClearingPrices.Where(p => p.Product == product).Select(p => (long?)p.Ticks).FirstOrDefault();
}

/// <summary>Gas used on chain, by what it was used for.</summary>
public sealed record GasUsed(long Recording, long OrderRoots, long Settlement)
{
    public long Total => Recording + OrderRoots + Settlement;
}

/// <summary>The auditor's verdict: passed, and one line per discrepancy it found.</summary>
public sealed record AuditResult(bool Passed, IReadOnlyList<string> Discrepancies)
{
    public static AuditResult Clean { get; } = new(true, []);

    /// <summary>Why no audit is part of this report (e.g. the ledger is audited by a separate step); null when one ran.</summary>
    public string? NotRunReason { get; init; }

    /// <summary>No audit ran as part of the run: the report says so and why, never "passed" or "failed".</summary>
    public static AuditResult NotRun(string reason) => new(false, []) { NotRunReason = reason };
}

/// <summary>What went on chain.</summary>
public sealed record ChainSummary(long LotsRecorded, long Transactions, GasUsed Gas, AuditResult Audit);

/// <summary>
/// Everything the report needs about a simulated run. <see cref="Assumptions"/> are the caller's stated
/// assumptions (one line each, with their sources), printed in the report and named where our figures
/// differ from the pilot's.
/// </summary>
public sealed record SimulationResult
{
    public required Scenario Scenario { get; init; }
    public required IReadOnlyList<Participant> Participants { get; init; }
    public required IReadOnlyList<MarketSlot> Slots { get; init; }
    public required IReadOnlyList<ParticipantSlot> ParticipantSlots { get; init; }
    public required IReadOnlyList<BaselineSlot> Baselines { get; init; }
    public required ChainSummary Chain { get; init; }
    public IReadOnlyList<string> Assumptions { get; init; } = [];

    /// <summary>Every reason this input cannot be reported on; empty when it can.</summary>
    public IReadOnlyList<string> Validate() => InputValidation.Errors(this);
}
