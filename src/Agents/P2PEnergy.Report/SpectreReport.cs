using Spectre.Console;
using Spectre.Console.Rendering;

namespace P2PEnergy.Report;

/// <summary>
/// The report's tables drawn with Spectre.Console for a terminal. The same <see cref="ReportTable"/>s as
/// <see cref="CommunityReport.RenderText"/>; plain text stays the form for tests and logs.
/// </summary>
public static class SpectreReport
{
    public static IReadOnlyList<IRenderable> Renderables(CommunityReport report)
    {
        var items = new List<IRenderable>
        {
            new Rule(Markup.Escape($"P2P Energy community report: {report.Scenario.Name}")).LeftJustified(),
        };
        foreach (var table in ReportText.Tables(report)) items.Add(ToTable(table));
        items.Add(List("Differences from the pilot", report.Pilot.Differences));
        if (report.Chain.Audit.Discrepancies.Count > 0) items.Add(List("Audit discrepancies", report.Chain.Audit.Discrepancies));
        if (report.Checks.Count > 0) items.Add(List("Checks", report.Checks));
        return items;
    }

    public static void Write(IAnsiConsole console, CommunityReport report)
    {
        foreach (var item in Renderables(report))
        {
            console.Write(item);
            console.WriteLine();
        }
    }

    public static Table ToTable(ReportTable model)
    {
        var table = new Table { Title = new TableTitle(Markup.Escape(model.Title)), Border = TableBorder.Rounded };
        for (var i = 0; i < model.Headers.Count; i++)
        {
            var column = new TableColumn(new Text(model.Headers[i]));
            table.AddColumn(model.RightAligned[i] ? column.RightAligned() : column.LeftAligned());
        }
        // Text, not markup: a participant's name may contain '['.
        foreach (var row in model.Rows) table.AddRow(row.Select(cell => (IRenderable)new Text(cell)));
        return table;
    }

    private static Panel List(string title, IReadOnlyList<string> lines) =>
        new Panel(new Text(string.Join('\n', lines.Select(l => l.StartsWith("  ", StringComparison.Ordinal) ? l : "- " + l))))
        {
            Header = new PanelHeader(Markup.Escape(title)),
            Border = BoxBorder.Rounded,
        };
}
