namespace P2PEnergy.Report;

/// <summary>
/// A figure quoted from a seed document: where it is and what it says. The text is the seed's line (or lines,
/// joined by a space) verbatim, less a leading "- " list marker.
/// </summary>
public sealed record SeedCitation(string Seed, int Line, string Text, int? LastLine = null)
{
    public string Where => LastLine is { } last ? $"seed {Seed}, lines {Line}-{last}" : $"seed {Seed}, line {Line}";

    public override string ToString() => $"{Where}: 「{Text}」";
}

/// <summary>
/// The Higashi-Fuji pilot's results (UTokyo Tanaka lab, Toyota, TRENDE; June 2019 – May 2020), quoted from seed
/// 004 (shared/seeds/004_6f4c6484b25748d8.txt). These are shown beside our figures, never used to tune anything.
/// </summary>
public static class PilotFigures
{
    public const string SeedFile = "004_6f4c6484b25748d8.txt";

    /// <summary>Overall improvement against the grid-only platform: 25.4 %.</summary>
    public const long OverallImprovementBasisPoints = 2540;

    /// <summary>EV (PHEV) users cut their electricity cost by about 25 %.</summary>
    public const long EvUserSavingBasisPoints = 2500;

    /// <summary>Average buy price 21.6 JPY/kWh, 4.6 JPY/kWh below the grid.</summary>
    public const long AverageBuyTicks = 2160;

    /// <summary>The grid price the pilot compares with: 21.6 + 4.6 = 26.2 JPY/kWh.</summary>
    public const long GridRetailTicks = AverageBuyTicks + 460;

    /// <summary>Average sell price 20.0 JPY/kWh, 13.0 JPY/kWh above the grid.</summary>
    public const long AverageSellTicks = 2000;

    /// <summary>The grid buy-back price the pilot compares with: 20.0 − 13.0 = 7.0 JPY/kWh.</summary>
    public const long GridBuyBackTicks = AverageSellTicks - 1300;

    public static SeedCitation OverallImprovement { get; } = new("004", 479, "全ユーザで従来型プラットフォームよりも収支が改善(全体で25.4%の改善)");
    public static SeedCitation EvUserSaving { get; } = new("004", 477, "この実験に参加したことで電気自動車ユーザは、余剰の再生可能エネルギーを吸収し、25%ほど電気代削減ができた");
    public static SeedCitation Period { get; } = new("004", 481, "EVユーザーのP2Pプラットフォームと従来型プラットフォームの1ヶ月間の収支の比較");
    public static SeedCitation AverageBuy { get; } = new("004", 485, "平均購入価格21.6円/kWh(系統より4.6円安い)");
    public static SeedCitation AverageSell { get; } = new("004", 486, "平均販売価格20.0円/kWh(系統より13.0円/高い)");
    public static SeedCitation GridOnlyMeaning { get; } = new("004", 492, "※従来型プラットフォームとは、電気の購入元が系統電力しかないプラットフォームを指す");
    public static SeedCitation Community { get; } = new("004", 446, "・事業所 1件 ・家庭20件(家庭蓄電池4件) ・PHEV 9台", LastLine: 448);
    public static SeedCitation PricesIncludeWheeling { get; } = new("004", 500, "①主要取引価格差(10-26円:託送料込、0-16円:託送料除)");

    /// <summary>All citations, in the order the report lists them.</summary>
    public static IReadOnlyList<SeedCitation> Citations { get; } =
        [Community, OverallImprovement, EvUserSaving, Period, AverageBuy, AverageSell, PricesIncludeWheeling, GridOnlyMeaning];

    /// <summary>A saving further than this from the pilot's (5 percentage points, issue 6's brief) is called a difference.</summary>
    public const long SavingThresholdBasisPoints = 500;

    /// <summary>A price further than this from the pilot's (2.00 JPY/kWh, our choice) is called a difference.</summary>
    public const long PriceThresholdTicks = 200;

    /// <summary>The pilot compared a month (seed 004, line 481); a run shorter than this many days is said to be shorter.</summary>
    public const int PilotDays = 28;
}

/// <summary>One line of the pilot table: a measure, the pilot's figure, ours, and where the pilot's is from.</summary>
public sealed record PilotRow(string Measure, string Pilot, string Ours, string Difference, string Source);

/// <summary>Our figures beside the pilot's, and the differences the report explains.</summary>
public sealed record PilotComparison(IReadOnlyList<PilotRow> Rows, IReadOnlyList<string> Differences, bool HasLargeDifference)
{
    internal static PilotComparison Build(
        GroupFigures community, GroupFigures? phev, IReadOnlyList<TypeFigures> types, IReadOnlyList<Participant> participants,
        long meanRetailTicks, long meanBuyBackTicks, int days, IReadOnlyList<string> assumptions)
    {
        var rows = new List<PilotRow>();
        var differences = new List<string>();
        var large = false;

        void Saving(string measure, long pilotBp, string pilotText, long? oursBp, SeedCitation source, string subject)
        {
            if (oursBp is not { } ours)
            {
                rows.Add(new(measure, pilotText, Display.NotAvailable, Display.NotAvailable, Cite(source)));
                differences.Add($"{subject}: no saving to compare (no grid-only cost or no such participants).");
                return;
            }
            var delta = ours - pilotBp;
            rows.Add(new(measure, pilotText, Display.Percent(ours), Display.Points(delta) + " pt", Cite(source)));
            if (Math.Abs(delta) > PilotFigures.SavingThresholdBasisPoints)
            {
                large = true;
                differences.Add($"{subject}: ours is {Display.Percent(ours)}, the pilot's {pilotText}: "
                                + $"{(delta > 0 ? "higher" : "lower")} by {Display.Fixed(Math.Abs(delta), 2)} points, more than {Display.Fixed(PilotFigures.SavingThresholdBasisPoints, 2)}.");
            }
            else
            {
                differences.Add($"{subject}: ours is {Display.Percent(ours)}, within {Display.Fixed(PilotFigures.SavingThresholdBasisPoints, 2)} points of the pilot's {pilotText}.");
            }
        }

        void Price(string measure, long pilotTicks, string pilotText, long? oursTicks, SeedCitation source, string subject)
        {
            if (oursTicks is not { } ours)
            {
                rows.Add(new(measure, pilotText, Display.NotAvailable, Display.NotAvailable, Cite(source)));
                differences.Add($"{subject}: none in our run, nothing to compare.");
                return;
            }
            var delta = ours - pilotTicks;
            rows.Add(new(measure, pilotText, Display.YenPerKWh(ours), (delta > 0 ? "+" : string.Empty) + Display.YenPerKWh(delta), Cite(source)));
            if (Math.Abs(delta) > PilotFigures.PriceThresholdTicks)
            {
                large = true;
                differences.Add($"{subject}: ours is {Display.YenPerKWh(ours)} JPY/kWh, the pilot's {pilotText}: "
                                + $"{(delta > 0 ? "higher" : "lower")} by {Display.YenPerKWh(Math.Abs(delta))} JPY/kWh, more than {Display.YenPerKWh(PilotFigures.PriceThresholdTicks)}.");
            }
            else
            {
                differences.Add($"{subject}: ours is {Display.YenPerKWh(ours)} JPY/kWh, within {Display.YenPerKWh(PilotFigures.PriceThresholdTicks)} JPY/kWh of the pilot's {pilotText}.");
            }
        }

        rows.Add(new("Community", "1 office, 20 homes (4 with batteries), 9 PHEVs", Composition(participants), string.Empty, Cite(PilotFigures.Community)));
        Saving("Overall saving against grid-only", PilotFigures.OverallImprovementBasisPoints, "25.4 %", community.SavingBasisPoints,
            PilotFigures.OverallImprovement, "Overall saving against grid-only");
        Saving("EV (PHEV) users' saving", PilotFigures.EvUserSavingBasisPoints, "about 25 %", phev?.SavingBasisPoints,
            PilotFigures.EvUserSaving, "PHEV users' saving");
        Price("Average buy price, JPY/kWh (incl. wheeling)", PilotFigures.AverageBuyTicks, "21.6 JPY/kWh", community.AverageBuyTicks,
            PilotFigures.AverageBuy, "Average buy price");
        Price("Grid retail price, JPY/kWh (ours: mean over slots)", PilotFigures.GridRetailTicks, "26.2 JPY/kWh", meanRetailTicks,
            PilotFigures.AverageBuy, "Grid retail price");
        Price("Average sell price, JPY/kWh", PilotFigures.AverageSellTicks, "20.0 JPY/kWh", community.AverageSellTicks,
            PilotFigures.AverageSell, "Average sell price");
        Price("Grid buy-back price, JPY/kWh (ours: mean over slots)", PilotFigures.GridBuyBackTicks, "7.0 JPY/kWh", meanBuyBackTicks,
            PilotFigures.AverageSell, "Grid buy-back price");
        rows.Add(new("Period compared", "one month", $"{days} day(s)", string.Empty, Cite(PilotFigures.Period)));

        // seed 004, line 479: every user was better off than on the grid-only platform.
        var worse = types.Where(t => t.Figures.Saving < 0).Select(t => $"{t.Figures.Label} ({Display.Yen(t.Figures.Saving)} JPY)").ToList();
        if (worse.Count > 0)
        {
            large = true;
            differences.Add($"In the pilot every user was better off than grid-only (seed 004, line 479); here these types paid more: {string.Join(", ", worse)}.");
        }
        if (days < PilotFigures.PilotDays)
            differences.Add($"The pilot's figures are over one month (seed 004, line 481); ours are over {days} day(s), so one day's weather and loads weigh fully.");

        if (large)
        {
            if (assumptions.Count == 0)
                differences.Add("The caller stated no assumptions that would explain these differences.");
            else
            {
                differences.Add("The stated assumptions that drive these figures:");
                differences.AddRange(assumptions.Select(a => "  - " + a));
            }
        }
        return new PilotComparison(rows, differences, large);
    }

    private static string Cite(SeedCitation c) => c.Where;

    private static string Composition(IReadOnlyList<Participant> participants) =>
        string.Join(", ", participants.GroupBy(p => p.Type).OrderBy(g => g.Key).Select(g => $"{g.Count()} {ReportText.TypeName(g.Key)}"));
}
