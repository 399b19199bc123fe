using System.Globalization;
using System.Text;

namespace P2PEnergy.Report;

/// <summary>The report's words and tables, as plain text and as Markdown.</summary>
public static class ReportText
{
    public static string TypeName(ParticipantType type) => type switch
    {
        ParticipantType.Household => "Household",
        ParticipantType.Prosumer => "Prosumer",
        ParticipantType.HomeWithBattery => "Home with battery",
        ParticipantType.Office => "Office",
        ParticipantType.Phev => "PHEV",
        _ => type.ToString(),
    };

    public static string MechanismName(Mechanism mechanism) => mechanism switch
    {
        Mechanism.CallAuction => "call auction",
        Mechanism.Continuous => "continuous double auction",
        _ => mechanism.ToString(),
    };

    /// <summary>How every figure is defined and rounded; printed in report.md.</summary>
    public static IReadOnlyList<string> Definitions { get; } =
    [
        "Units: energy in Wh, prices in ticks of 0.01 JPY/kWh, money in 1e-5 JPY (= Wh x ticks), as in DESIGN.md. The CSV files keep these exact integers; only the tables round.",
        "Cost = paid - received + petrol, with paid = P2P bought + wheeling + grid import + compensation paid and received = P2P sold + grid export + compensation received (the settlement bill). Grid-only cost = grid import - grid export + petrol in the baseline the simulator stated (same loads and generation, no P2P market).",
        "Saving = grid-only cost - cost; saving % = saving / |grid-only cost|, so a net seller whose income grows shows a positive saving; n/a when the grid-only cost is 0.",
        "Average buy price = (P2P bought money + wheeling) / P2P bought Wh: what buyers paid per kWh bought in the market, wheeling included, as the pilot's prices are (seed 004, line 500). Average sell price = P2P sold money / P2P sold Wh. Compensation is in neither.",
        "Self-sufficiency = locally supplied / consumption, where locally supplied = consumption - grid import, clamped to [0, consumption], per participant and slot: for the community, local generation consumed locally / consumption. Storage charged from the grid and discharged later counts as local.",
        "Renewable share = (locally supplied - P2P bought from mixed sellers, clamped to [0, consumption]) / consumption: own PV, directly or through own storage, and P2P energy from renewable sellers. Grid energy counts as not renewable (no non-fossil certificate comes with it). In the grid-only baseline all local supply is own PV or storage.",
        "Consumption = the loads of homes and the office plus what PHEVs are charged with; charging a home battery is not consumption (its energy counts when it is used).",
        "CO2 = grid import x grid emission factor (1 Wh x 1 g/kWh = 1 mg, exact); export to the grid is not credited and petrol is not counted.",
        "Rounding, only for display, half away from zero: money to 0.01 JPY; average prices to a whole tick (0.01 JPY/kWh); percentages to 0.01 % (a basis point); CO2 to the gram; kWh are exact (3 decimals). Mean grid prices are plain means over the slots.",
    ];

    /// <summary>The report's tables, in the order they are printed.</summary>
    public static IReadOnlyList<ReportTable> Tables(CommunityReport report)
    {
        var groups = report.Types.Select(t => t.Figures).Append(report.Community).ToList();
        var cost = ReportTable.Of("Cost against the grid-only baseline (JPY)",
            ["Group", "Participants", "Cost", "Grid-only cost", "Saving", "Saving %"],
            groups.Select(g => new[]
            {
                g.Label, Display.Integer(g.Participants), Display.Yen(g.Cost), Display.Yen(g.BaselineCost), Display.Yen(g.Saving),
                Display.Percent(g.SavingBasisPoints),
            }));
        var prices = ReportTable.Of("Market prices and energy",
            ["Group", "P2P bought kWh", "Avg buy JPY/kWh (incl. wheeling)", "P2P sold kWh", "Avg sell JPY/kWh", "Grid import kWh", "Grid export kWh"],
            groups.Select(g => new[]
            {
                g.Label, Display.KWh(g.BoughtWh), Display.YenPerKWh(g.AverageBuyTicks), Display.KWh(g.SoldWh), Display.YenPerKWh(g.AverageSellTicks),
                Display.KWh(g.GridImportWh), Display.KWh(g.GridExportWh),
            }));
        var green = ReportTable.Of("Renewable share, self-sufficiency and CO2",
            ["Group", "Consumption kWh", "Renewable", "Grid-only", "Self-sufficiency", "Grid-only", "CO2 kg", "Grid-only CO2 kg", "CO2 avoided kg"],
            groups.Select(g => new[]
            {
                g.Label, Display.KWh(g.LoadWh), Display.Percent(g.RenewableShareBasisPoints), Display.Percent(g.BaselineRenewableShareBasisPoints),
                Display.Percent(g.SelfSufficiencyBasisPoints), Display.Percent(g.BaselineSelfSufficiencyBasisPoints),
                Display.KgCo2(g.Co2Mg), Display.KgCo2(g.BaselineCo2Mg), Display.KgCo2(g.Co2ReductionMg),
            }));
        var participants = ReportTable.Of("Participants (JPY; prices JPY/kWh)",
            ["Name", "Type", "Zone", "Cost", "Grid-only cost", "Saving", "Saving %", "Avg buy", "Avg sell"],
            report.Participants.Select(p => new[]
            {
                p.Participant.Name, TypeName(p.Participant.Type), p.Participant.Zone, Display.Yen(p.Figures.Cost), Display.Yen(p.Figures.BaselineCost),
                Display.Yen(p.Figures.Saving), Display.Percent(p.Figures.SavingBasisPoints), Display.YenPerKWh(p.Figures.AverageBuyTicks),
                Display.YenPerKWh(p.Figures.AverageSellTicks),
            }));
        var chain = report.Chain;
        var market = report.Market;
        var chainTable = ReportTable.Of("Market and chain",
            ["Item", "Value"],
            [
                ["Energy matched, kWh", Display.KWh(market.TradedWh)],
                ["  renewable sellers, kWh", Display.KWh(market.RenewableTradedWh)],
                ["  mixed sellers, kWh", Display.KWh(market.MixedTradedWh)],
                ["  renewable share of matched", Display.Percent(market.RenewableTradedBasisPoints)],
                ["Energy settled P2P, kWh", Display.KWh(market.SettledBoughtWh)],
                ["Lots matched", Display.Integer(market.Lots)],
                ["Lots recorded on chain", Display.Integer(chain.LotsRecorded)],
                ["Chain transactions", Display.Integer(chain.Transactions)],
                ["Gas: recording lots", Display.Integer(chain.Gas.Recording)],
                ["Gas: order roots", Display.Integer(chain.Gas.OrderRoots)],
                ["Gas: settlement", Display.Integer(chain.Gas.Settlement)],
                ["Gas: total", Display.Integer(chain.Gas.Total)],
                ["Audit", AuditVerdict(chain.Audit)],
            ]);
        var pilot = ReportTable.Of("Seed 004 pilot (Higashi-Fuji) beside ours",
            ["Measure", "Pilot", "Ours", "Difference", "Source"],
            report.Pilot.Rows.Select(r => new[] { r.Measure, r.Pilot, r.Ours, r.Difference, r.Source }));
        return [cost, prices, green, participants, chainTable, pilot];
    }

    public static string AuditVerdict(AuditResult audit) =>
        audit.NotRunReason is { } reason ? $"not run here ({reason})" : audit.Passed ? "passed" : $"FAILED ({audit.Discrepancies.Count} discrepanc{(audit.Discrepancies.Count == 1 ? "y" : "ies")})";

    private static IEnumerable<string> Heading(CommunityReport report)
    {
        var s = report.Scenario;
        var first = report.Slots[0];
        var last = report.Slots[^1];
        var end = last.StartLocal.AddSeconds(s.SlotSeconds);
        yield return $"Scenario: {s.Name}; seed {s.Seed}; {MechanismName(s.Mechanism)}; {s.Days} day(s); "
                     + $"{report.Slots.Count} slots of {s.SlotSeconds / 60} min from {Time(first.StartLocal)} to {Time(end)}; "
                     + $"{report.Input.Participants.Count} participants";
        yield return $"Grid emission factor: {s.GridEmissionFactor.GramsPerKWh} g-CO2/kWh ({s.GridEmissionFactor.Source})";
    }

    public static string Time(DateTimeOffset t) => t.ToString("yyyy-MM-dd HH:mm 'UTC'zzz", CultureInfo.InvariantCulture);

    internal static string Text(CommunityReport report)
    {
        var sb = new StringBuilder();
        sb.Append("P2P Energy community report: ").Append(report.Scenario.Name).Append('\n');
        foreach (var line in Heading(report)) sb.Append(line).Append('\n');
        foreach (var table in Tables(report)) sb.Append('\n').Append(table.ToText());
        List("Audit discrepancies", report.Chain.Audit.Discrepancies, "none");
        List("Differences from the pilot", report.Pilot.Differences, "none");
        List("Assumptions", report.Input.Assumptions, "none stated");
        List("Checks", report.Checks, "none: the input is consistent");
        return sb.ToString();

        void List(string title, IReadOnlyList<string> lines, string empty)
        {
            sb.Append('\n').Append(title).Append('\n');
            if (lines.Count == 0) sb.Append("  ").Append(empty).Append('\n');
            foreach (var line in lines) sb.Append(line.StartsWith("  ", StringComparison.Ordinal) ? "  " + line : "- " + line).Append('\n');
        }
    }

    internal static string Markdown(CommunityReport report)
    {
        var tables = Tables(report);
        var sb = new StringBuilder();
        sb.Append("# P2P Energy community report: ").Append(report.Scenario.Name).Append("\n\n");
        foreach (var line in Heading(report)) sb.Append("- ").Append(line).Append('\n');

        sb.Append("\n## Results\n");
        foreach (var table in tables.Take(4)) sb.Append('\n').Append(table.ToMarkdown());

        sb.Append("\n## Market and chain\n\n").Append(tables[4].ToMarkdown());
        if (report.Chain.Audit.Discrepancies.Count > 0)
        {
            sb.Append("\nAudit discrepancies:\n\n");
            foreach (var d in report.Chain.Audit.Discrepancies) sb.Append("- ").Append(d).Append('\n');
        }

        sb.Append("\n## Seed 004 pilot beside ours\n\n");
        sb.Append("The Higashi-Fuji pilot (UTokyo, Toyota, TRENDE; seed 004, `").Append(PilotFigures.SeedFile)
          .Append("`) compared one month of P2P trading with a platform whose only source is the grid. Its figures, quoted:\n\n");
        foreach (var c in PilotFigures.Citations) sb.Append("- ").Append(c).Append('\n');
        sb.Append('\n').Append(tables[5].ToMarkdown());

        sb.Append("\n## Differences from the pilot\n\n");
        foreach (var line in report.Pilot.Differences)
            sb.Append(line.StartsWith("  ", StringComparison.Ordinal) ? line : "- " + line).Append('\n');

        sb.Append("\n## Assumptions\n\n");
        if (report.Input.Assumptions.Count == 0) sb.Append("None stated by the simulator.\n");
        foreach (var a in report.Input.Assumptions) sb.Append("- ").Append(a).Append('\n');

        sb.Append("\n## Checks\n\n");
        if (report.Checks.Count == 0) sb.Append("None: the input is consistent.\n");
        foreach (var c in report.Checks) sb.Append("- ").Append(c).Append('\n');

        sb.Append("\n## Definitions and rounding\n\n");
        foreach (var d in Definitions) sb.Append("- ").Append(d).Append('\n');

        sb.Append("\n## Plots\n\n");
        foreach (var (file, title) in ReportFiles.PlotTitles) sb.Append("![").Append(title).Append("](").Append(file).Append(")\n\n");

        sb.Append("## Files\n\n");
        foreach (var (file, what) in ReportFiles.CsvDescriptions) sb.Append("- [`").Append(file).Append("`](").Append(file).Append("): ").Append(what).Append('\n');
        return sb.ToString();
    }
}
