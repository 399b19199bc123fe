using System.Text;

namespace P2PEnergy.Report;

/// <summary>Where a report's files were written (full paths).</summary>
public sealed record ReportFiles(string Folder, string Markdown, IReadOnlyList<string> Csv, IReadOnlyList<string> Plots)
{
    public const string MarkdownFile = "report.md";
    public const string SlotsCsv = "slots.csv";
    public const string ParticipantsCsv = "participants.csv";
    public const string TypesCsv = "types.csv";
    public const string ClearingPricePlot = "clearing-prices.png";
    public const string EnergyTradedPlot = "energy-traded.png";
    public const string SavingsPlot = "savings-by-type.png";
    public const string StateOfChargePlot = "state-of-charge.png";

    public IEnumerable<string> All => Csv.Concat(Plots).Prepend(Markdown);

    internal static IReadOnlyList<(string File, string Title)> PlotTitles { get; } =
    [
        (ClearingPricePlot, "Clearing price per slot against retail and buy-back"),
        (EnergyTradedPlot, "Energy traded per slot by source"),
        (SavingsPlot, "Saving against grid-only by participant type"),
        (StateOfChargePlot, "PHEV and battery state of charge"),
    ];

    internal static IReadOnlyList<(string File, string What)> CsvDescriptions { get; } =
    [
        (SlotsCsv, "one row per slot: grid and clearing prices (ticks), energy matched by source and lots, community energy flows (Wh) and CO2 (mg), with the grid-only baseline"),
        (ParticipantsCsv, "one row per participant: energy (Wh), money (1e-5 JPY), cost and baseline, ratios in basis points (0.01 %), CO2 (mg)"),
        (TypesCsv, "the same columns per participant type and for the community"),
    ];
}

/// <summary>Writes a report's files: UTF-8 without byte-order mark, "\n" line ends.</summary>
internal static class ReportWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static ReportFiles Write(CommunityReport report, string folder)
    {
        var root = Path.GetFullPath(folder);
        Directory.CreateDirectory(root);
        string At(string file) => Path.Combine(root, file);

        File.WriteAllText(At(ReportFiles.MarkdownFile), report.RenderMarkdown(), Utf8);
        File.WriteAllText(At(ReportFiles.SlotsCsv), report.SlotsCsv(), Utf8);
        File.WriteAllText(At(ReportFiles.ParticipantsCsv), report.ParticipantsCsv(), Utf8);
        File.WriteAllText(At(ReportFiles.TypesCsv), report.TypesCsv(), Utf8);

        ReportPlots.ClearingPrices(report, At(ReportFiles.ClearingPricePlot));
        ReportPlots.EnergyTraded(report, At(ReportFiles.EnergyTradedPlot));
        ReportPlots.SavingsByType(report, At(ReportFiles.SavingsPlot));
        ReportPlots.StateOfCharge(report, At(ReportFiles.StateOfChargePlot));

        return new ReportFiles(
            root,
            At(ReportFiles.MarkdownFile),
            [At(ReportFiles.SlotsCsv), At(ReportFiles.ParticipantsCsv), At(ReportFiles.TypesCsv)],
            ReportFiles.PlotTitles.Select(p => At(p.File)).ToList());
    }
}
