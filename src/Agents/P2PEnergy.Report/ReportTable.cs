using System.Text;
using System.Text.RegularExpressions;

namespace P2PEnergy.Report;

/// <summary>A table of the report: one model, drawn as plain text, Markdown or a Spectre.Console table.</summary>
public sealed partial record ReportTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, IReadOnlyList<bool> RightAligned)
{
    public static ReportTable Of(string title, string[] headers, IEnumerable<string[]> rows, bool firstColumnLeft = true)
    {
        var list = rows.Select(r => (IReadOnlyList<string>)r).ToList();
        if (list.Any(r => r.Count != headers.Length)) throw new ArgumentException($"table '{title}': a row does not have {headers.Length} cells");
        // Text columns are left-aligned, figures right-aligned.
        var right = headers.Select((_, i) => !(i == 0 && firstColumnLeft) && list.All(r => IsFigure(r[i]))).ToList();
        return new ReportTable(title, headers, list, right);
    }

    private static bool IsFigure(string cell) => cell.Length == 0 || cell == Display.NotAvailable || FigurePattern().IsMatch(cell);

    [GeneratedRegex(@"^[+-]?[0-9]+(\.[0-9]+)?( %| pt)?$")]
    private static partial Regex FigurePattern();

    /// <summary>Columns padded to their widest cell and separated by two spaces; a dashed line under the header.</summary>
    public string ToText()
    {
        var widths = Headers.Select((h, i) => Math.Max(h.Length, Rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        var sb = new StringBuilder();
        sb.Append(Title).Append('\n');
        Line(sb, Headers, widths);
        sb.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
        foreach (var row in Rows) Line(sb, row, widths);
        return sb.ToString();
    }

    private void Line(StringBuilder sb, IReadOnlyList<string> cells, int[] widths)
    {
        var padded = cells.Select((c, i) => RightAligned[i] ? c.PadLeft(widths[i]) : c.PadRight(widths[i]));
        sb.Append(string.Join("  ", padded).TrimEnd()).Append('\n');
    }

    /// <summary>A GitHub-flavoured Markdown table under a level-3 heading.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("### ").Append(Title).Append("\n\n");
        sb.Append("| ").Append(string.Join(" | ", Headers.Select(Escape))).Append(" |\n");
        sb.Append('|').Append(string.Join('|', RightAligned.Select(r => r ? "---:" : ":---"))).Append("|\n");
        foreach (var row in Rows) sb.Append("| ").Append(string.Join(" | ", row.Select(Escape))).Append(" |\n");
        return sb.ToString();
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
