using System.Text.Json;
using System.Text.Json.Serialization;

namespace P2PEnergy.Simulator.Day;

// What a simulated community day did, in the units of DESIGN.md: energy Wh, prices ticks (0.01 JPY/kWh), money
// 1e-5 JPY (= Wh × ticks). Written as result.json; the report maps it onto its own input model.

/// <summary>What was run.</summary>
public sealed record RunInfo(
    string Scenario,
    string Description,
    ulong Seed,
    string Mechanism,
    int Days,
    int Scale,
    string StartDate,
    int SlotSeconds,
    int UtcOffsetMinutes,
    long FirstSlot,
    long LastSlot,
    int SlotCount,
    long LotStepWh,
    ulong ChainId,
    string LedgerAddress);

/// <summary>A member of the community: its agent, its address (its key's) and its meter's address.</summary>
public sealed record ParticipantInfo(
    string Id,
    string Address,
    string Meter,
    string Kind,
    string Strategy,
    string Site,
    int Zone,
    bool HasPv,
    bool HasBattery,
    long StorageCapacityWh);

/// <summary>
/// One participant in one slot. Device side (from the agent models): actual load (a PHEV's: what driving took),
/// PV, what the battery charged and discharged at its terminals, the meter reading, SoC at the slot's end.
/// Market side: what its lots told delivery (Traded*), and its settlement bill (Bill*: energy settled and money).
/// </summary>
public sealed record ParticipantSlotResult
{
    public required string Participant { get; init; }
    public required long Slot { get; init; }
    public required string Kind { get; init; }
    public long ForecastLoadWh { get; init; }
    public long ForecastPvWh { get; init; }
    public long LoadWh { get; init; }
    public long PvWh { get; init; }
    public long ChargedWh { get; init; }
    public long DischargedWh { get; init; }
    public long MeterImportWh { get; init; }
    public long MeterExportWh { get; init; }
    public int OrdersSubmitted { get; init; }
    public long TradedBoughtWh { get; init; }
    public long TradedBoughtRenewableWh { get; init; }
    public long TradedSoldWh { get; init; }
    public bool Billed { get; init; }
    public long BoughtWh { get; init; }
    public long BoughtMoney { get; init; }
    public long SoldWh { get; init; }
    public long SoldMoney { get; init; }
    public long WheelingPaid { get; init; }
    public long GridImportWh { get; init; }
    public long GridImportMoney { get; init; }
    public long GridExportWh { get; init; }
    public long GridExportMoney { get; init; }
    public long CompensationPaid { get; init; }
    public long CompensationReceived { get; init; }
    /// <summary>The bill's net: received − paid (positive: owed money).</summary>
    public long Net { get; init; }
    /// <summary>Battery or PHEV battery energy at the slot's end, Wh (floored); null without storage.</summary>
    public long? StorageWh { get; init; }
    public double PetrolKm { get; init; }
    public long PetrolMoney { get; init; }
}

/// <summary>The same participant and slot with no market: same loads, PV and device models, zero trades.</summary>
public sealed record BaselineSlotResult
{
    public required string Participant { get; init; }
    public required long Slot { get; init; }
    public long GridImportWh { get; init; }
    public long GridImportMoney { get; init; }
    public long GridExportWh { get; init; }
    public long GridExportMoney { get; init; }
    public long? StorageWh { get; init; }
    public double PetrolKm { get; init; }
    public long PetrolMoney { get; init; }
    /// <summary>Import − export + petrol, 1e-5 JPY.</summary>
    public long Cost => GridImportMoney - GridExportMoney + PetrolMoney;
}

/// <summary>A product's price in a slot: the call auction's uniform price or the continuous lots' volume-weighted average.</summary>
public sealed record ProductPrice(string Product, long Ticks, long TradedWh);

/// <summary>The market in one slot.</summary>
public sealed record MarketSlotResult
{
    public required long Slot { get; init; }
    public required string LocalStart { get; init; }
    public long RetailTicks { get; init; }
    public long BuyBackTicks { get; init; }
    public IReadOnlyList<ProductPrice> ClearingPrices { get; init; } = [];
    public long RenewableTradedWh { get; init; }
    public long MixedTradedWh { get; init; }
    public int LotCount { get; init; }
    public int OrdersSubmitted { get; init; }
    public int OrdersRefused { get; init; }
    public int ReadingsAccepted { get; init; }
    public int ReadingsRefused { get; init; }
    public bool Settled { get; init; }
    public bool Conserved { get; init; }
    public int MissingReadings { get; init; }
}

/// <summary>A lot as GetLots returned it (participants by id).</summary>
public sealed record LotResult(long LotId, long Slot, string Seller, string Buyer, long EnergyWh, long PriceTicks, long WheelingFeeTicks, string Product, string Source);

/// <summary>LedgerStatus at the end of the run.</summary>
public sealed record ChainResult(
    bool Enabled,
    ulong ChainId,
    string LedgerAddress,
    long LotsMade,
    long LotsRecorded,
    long LotsFoundOnChain,
    long LotsPending,
    long RootsCommitted,
    long RootsPending,
    long SlotsSettledOnChain,
    long SettlementsPending,
    long Transactions,
    long GasUsed,
    long SettlementGasUsed,
    string LastError);

/// <summary>
/// Runtime checks over the run. Agents never buy above retail nor sell below buy-back: counted on the orders
/// sent and on the lots made. A call auction clears each product at one price: lots at other prices are counted.
/// </summary>
public sealed record RunChecks
{
    public int BidsAboveRetail { get; init; }
    public int AsksBelowBuyBack { get; init; }
    public int LotsAboveRetail { get; init; }
    public int LotsBelowBuyBack { get; init; }
    /// <summary>Lots whose price plus wheeling exceeds retail: possible only when bids do not allow for wheeling.</summary>
    public int LotsCostlierThanRetail { get; init; }
    public int NonUniformAuctionLots { get; init; }
    public int OrdersRefused { get; init; }
    public int ReadingsRefused { get; init; }
    public int SlotsNotSettled { get; init; }
    public int SlotsNotConserved { get; init; }
    public int MissingReadings { get; init; }
    public int BillsMissing { get; init; }
    /// <summary>Slots whose settlement priced retail or buy-back otherwise than the scenario's tariff.</summary>
    public int TariffMismatches { get; init; }
    /// <summary>Bills whose settled Wh exceed what the lots contracted (energy settled never exceeds energy traded).</summary>
    public int BillsAboveLots { get; init; }
    public bool LedgerCaughtUp { get; init; }

    [JsonIgnore]
    public int Violations => BidsAboveRetail + AsksBelowBuyBack + LotsAboveRetail + LotsBelowBuyBack + NonUniformAuctionLots + OrdersRefused
        + ReadingsRefused + SlotsNotSettled + SlotsNotConserved + MissingReadings + BillsMissing + TariffMismatches + BillsAboveLots + (LedgerCaughtUp ? 0 : 1);
}

/// <summary>
/// The ledger's transactions mined while the day ran (blocks <see cref="FromBlock"/> … <see cref="ToBlock"/>), from
/// their receipts, by what they called: recordLots (the lot recorder), commitOrderRoot (the root committer),
/// settleSlot, beginSettlement, settleLotsPage, settlePartiesPage and deposit (the chain settler: a slot settled in pages
/// counts each of its transactions); anything else sent to the ledger (an admin's call) as other.
/// Reverted transactions are counted too (they cost gas): <see cref="Reverted"/> says how many.
/// </summary>
public sealed record ChainUsage(
    ulong FromBlock,
    ulong ToBlock,
    int RecordingTransactions,
    long RecordingGas,
    int OrderRootTransactions,
    long OrderRootGas,
    int SettlementTransactions,
    long SettlementGas,
    int OtherTransactions,
    long OtherGas,
    int Reverted)
{
    /// <summary>The market's transactions: recording, order roots, settlement and deposits (not other).</summary>
    [JsonIgnore]
    public int Transactions => RecordingTransactions + OrderRootTransactions + SettlementTransactions;
}

/// <summary>
/// The ledger auditor's verdict at the end of the day (LedgerAuditor: the chain's events alone, compared with every
/// lot of the exchange), the chain as of block <see cref="Block"/>: lots and settled slots of this run's slots on chain,
/// every lot of the ledger, the run's transactions and gas, and each discrepancy's sentence.
/// </summary>
public sealed record AuditSummary(
    bool Passed,
    string Ledger,
    ulong FromBlock,
    ulong Block,
    int LedgerLots,
    int ExchangeLots,
    int RunLotsOnChain,
    int RunSlotsSettledOnChain,
    ChainUsage Usage,
    IReadOnlyList<string> Discrepancies);

public sealed record DayResult(
    RunInfo Run,
    IReadOnlyList<ParticipantInfo> Participants,
    IReadOnlyList<MarketSlotResult> Slots,
    IReadOnlyList<ParticipantSlotResult> ParticipantSlots,
    IReadOnlyList<BaselineSlotResult> Baseline,
    IReadOnlyList<LotResult> Lots,
    ChainResult Chain,
    RunChecks Checks,
    IReadOnlyList<string> Assumptions,
    IReadOnlyList<string> Warnings)
{
    /// <summary>The audit at the end of the day (day --rpc); null when the day ran without one.</summary>
    public AuditSummary? Audit { get; init; }

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static DayResult FromJson(string json) =>
        JsonSerializer.Deserialize<DayResult>(json, JsonOptions) ?? throw new InvalidDataException("result.json is empty");
}
