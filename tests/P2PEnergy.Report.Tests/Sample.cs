namespace P2PEnergy.Report.Tests;

/// <summary>
/// A tiny community day with hand-computed expectations: a prosumer (Sato), a household (Suzuki) and a PHEV
/// (Tanaka) over four 30-minute slots, 2019-06-17 10:00-12:00 JST (slots 867074-867077), call auction.
/// Retail 26.00 JPY/kWh (30.00 in the last slot), buy-back 8.00, wheeling 2.00 JPY/kWh on every lot.
///
/// Lots (settled in full):
///   slot 0: Sato → Tanaka 1000 Wh @ 18.00 (green), Sato → Suzuki 500 Wh @ 20.00 (standard, renewable seller)
///   slot 1: nothing traded; Tanaka drives and buys 3.00 JPY of petrol
///   slot 2: Sato → Tanaka 1500 Wh @ 15.00 (green)
///   slot 3: Tanaka → Suzuki 1000 Wh @ 24.00 (standard, mixed seller: the PHEV discharges)
///
/// Hand-computed (money in 1e-5 JPY):
///   Sato    cost 1,800,000 − (5,050,000 + 400,000) = −3,650,000; grid-only −1,000,000; saving 2,650,000 = 265.00 %
///   Suzuki  cost 2,400,000 + 1,560,000 + 1,820,000 + 2,600,000 = 8,380,000; grid-only 8,980,000; saving 600,000 = 6.68 %
///   Tanaka  cost 2,000,000 + 300,000 + 3,850,000 − 2,400,000 = 3,750,000; grid-only 8,100,000; saving 4,350,000 = 53.70 %
///   Community cost 8,480,000; grid-only 16,080,000; saving 7,600,000 = 47.26 % (4726.37 bp)
///   Average buy (7,450,000 + 800,000) / 4000 Wh = 2062.5 → 2063 ticks; average sell 7,450,000 / 4000 = 1862.5 → 1863
///   Load 8100 Wh; locally supplied 5200 Wh (64.20 %); renewable 4200 Wh (51.85 %); grid-only local 1200 Wh (14.81 %)
///   Grid import 2900 Wh × 450 g/kWh = 1,305,000 mg; grid-only 6900 Wh → 3,105,000 mg
/// </summary>
public static class Sample
{
    public const long Slot0 = 867074;
    public const string Sato = "0x00000000000000000000000000000000000000a1";
    public const string Suzuki = "0x00000000000000000000000000000000000000b2";
    public const string Tanaka = "0x00000000000000000000000000000000000000c3";
    public const long Wheeling = 200;

    public static IReadOnlyList<string> Assumptions { get; } =
    [
        "Retail 26.00 JPY/kWh, 30.00 in the last slot (assumption for the test)",
        "Wheeling 2.00 JPY/kWh on every lot (assumption for the test)",
    ];

    public static Scenario Scenario { get; } = new()
    {
        Name = "tiny",
        Seed = 7,
        Mechanism = Mechanism.CallAuction,
        Days = 1,
        GridEmissionFactor = GridEmissionFactor.TokyoAreaAssumption,
    };

    public static IReadOnlyList<Participant> Participants { get; } =
    [
        new(Sato, "Sato", ParticipantType.Prosumer, "feeder-1"),
        new(Suzuki, "Suzuki", ParticipantType.Household, "feeder-1"),
        new(Tanaka, "Tanaka PHEV", ParticipantType.Phev, "feeder-1"),
    ];

    public static IReadOnlyList<MarketSlot> Market { get; } =
    [
        new()
        {
            Slot = Slot0, RetailTicks = 2600, BuyBackTicks = 800,
            ClearingPrices = [new(Product.Standard, 2000), new(Product.Green, 1800)],
            RenewableTradedWh = 1500, LotCount = 2,
        },
        new() { Slot = Slot0 + 1, RetailTicks = 2600, BuyBackTicks = 800 },
        new()
        {
            Slot = Slot0 + 2, RetailTicks = 2600, BuyBackTicks = 800,
            ClearingPrices = [new(Product.Green, 1500)], RenewableTradedWh = 1500, LotCount = 1,
        },
        new()
        {
            Slot = Slot0 + 3, RetailTicks = 3000, BuyBackTicks = 800,
            ClearingPrices = [new(Product.Standard, 2400)], MixedTradedWh = 1000, LotCount = 1,
        },
    ];

    public static IReadOnlyList<ParticipantSlot> Rows { get; } =
    [
        // Sato: PV 2500 Wh, load 500, sells 1500 in the market, 500 to the grid.
        new() { Participant = Sato, Slot = Slot0, LoadWh = 500, GenerationWh = 2500, SoldWh = 1500, SoldMoney = 1000 * 1800 + 500 * 2000, GridExportWh = 500, GridExportMoney = 500 * 800 },
        new() { Participant = Sato, Slot = Slot0 + 1, LoadWh = 400, GenerationWh = 400 },
        new() { Participant = Sato, Slot = Slot0 + 2, LoadWh = 300, GenerationWh = 1800, SoldWh = 1500, SoldMoney = 1500 * 1500 },
        new() { Participant = Sato, Slot = Slot0 + 3, LoadWh = 600, GenerationWh = 0, GridImportWh = 600, GridImportMoney = 600 * 3000 },

        new()
        {
            Participant = Suzuki, Slot = Slot0, LoadWh = 1000, GenerationWh = 0,
            BoughtWh = 500, BoughtRenewableWh = 500, BoughtMoney = 500 * 2000, WheelingPaid = 500 * Wheeling,
            GridImportWh = 500, GridImportMoney = 500 * 2600,
        },
        new() { Participant = Suzuki, Slot = Slot0 + 1, LoadWh = 600, GenerationWh = 0, GridImportWh = 600, GridImportMoney = 600 * 2600 },
        new() { Participant = Suzuki, Slot = Slot0 + 2, LoadWh = 700, GenerationWh = 0, GridImportWh = 700, GridImportMoney = 700 * 2600 },
        new()
        {
            Participant = Suzuki, Slot = Slot0 + 3, LoadWh = 1000, GenerationWh = 0,
            BoughtWh = 1000, BoughtMoney = 1000 * 2400, WheelingPaid = 1000 * Wheeling,
        },

        new()
        {
            Participant = Tanaka, Slot = Slot0, LoadWh = 1000, GenerationWh = 0,
            BoughtWh = 1000, BoughtRenewableWh = 1000, BoughtMoney = 1000 * 1800, WheelingPaid = 1000 * Wheeling,
            Storage = new StorageState(6000, 10_000),
        },
        new() { Participant = Tanaka, Slot = Slot0 + 1, LoadWh = 0, GenerationWh = 0, PetrolMoney = 300_000, Storage = new StorageState(6000, 10_000) },
        new()
        {
            Participant = Tanaka, Slot = Slot0 + 2, LoadWh = 2000, GenerationWh = 0,
            BoughtWh = 1500, BoughtRenewableWh = 1500, BoughtMoney = 1500 * 1500, WheelingPaid = 1500 * Wheeling,
            GridImportWh = 500, GridImportMoney = 500 * 2600, Storage = new StorageState(8000, 10_000),
        },
        new()
        {
            Participant = Tanaka, Slot = Slot0 + 3, LoadWh = 0, GenerationWh = 1000,
            SoldWh = 1000, SoldMoney = 1000 * 2400, Storage = new StorageState(7000, 10_000),
        },
    ];

    /// <summary>
    /// Sato and Suzuki from <see cref="GridOnlyBaseline"/>; Tanaka's stated by hand: it charges the same energy
    /// from the grid at retail, sells nothing, drives the same (the same petrol).
    /// </summary>
    public static IReadOnlyList<BaselineSlot> Baselines { get; } =
    [
        .. GridOnlyBaseline.WithoutStorage(Rows.Where(r => r.Participant != Tanaka), Market),
        new() { Participant = Tanaka, Slot = Slot0, GridImportWh = 1000, GridImportMoney = 1000 * 2600 },
        new() { Participant = Tanaka, Slot = Slot0 + 1, PetrolMoney = 300_000 },
        new() { Participant = Tanaka, Slot = Slot0 + 2, GridImportWh = 2000, GridImportMoney = 2000 * 2600 },
        new() { Participant = Tanaka, Slot = Slot0 + 3 },
    ];

    public static ChainSummary Chain { get; } = new(4, 10, new GasUsed(300_000, 150_000, 400_000), AuditResult.Clean);

    public static SimulationResult Result() => new()
    {
        Scenario = Scenario,
        Participants = Participants,
        Slots = Market,
        ParticipantSlots = Rows,
        Baselines = Baselines,
        Chain = Chain,
        Assumptions = Assumptions,
    };

    public static CommunityReport Report() => CommunityReport.Build(Result());
}
