using Spectre.Console;

namespace P2PEnergy.Report.Tests;

public class RenderingTests
{
    private readonly CommunityReport report = Sample.Report();

    private static string[] Tokens(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string[] TableLines(string text, string title) =>
        text.Split('\n').SkipWhile(l => l != title).Skip(1).TakeWhile(l => l.Length > 0).ToArray();

    [Fact]
    public void The_cost_table_in_plain_text()
    {
        var lines = TableLines(report.RenderText(), "Cost against the grid-only baseline (JPY)");
        Assert.Equal(2 + 3 + 1, lines.Length);
        Assert.Equal(["Household", "1", "83.80", "89.80", "6.00", "6.68", "%"], Tokens(lines[2]));
        Assert.Equal(["Prosumer", "1", "-36.50", "-10.00", "26.50", "265.00", "%"], Tokens(lines[3]));
        Assert.Equal(["PHEV", "1", "37.50", "81.00", "43.50", "53.70", "%"], Tokens(lines[4]));
        Assert.Equal(["Community", "3", "84.80", "160.80", "76.00", "47.26", "%"], Tokens(lines[5]));
    }

    [Fact]
    public void Figures_are_right_aligned_in_columns()
    {
        var lines = TableLines(report.RenderText(), "Cost against the grid-only baseline (JPY)");
        // The last column holds figures, so every line ends at the same place, and each figure ends under its header's end.
        Assert.Single(lines.Select(l => l.Length).Distinct());
        var costEnd = lines[0].IndexOf("Cost", StringComparison.Ordinal) + "Cost".Length;
        Assert.All(lines.Skip(2), l => Assert.Equal(' ', l[costEnd]));
        Assert.All(lines.Skip(2), l => Assert.NotEqual(' ', l[costEnd - 1]));
        // Names are left-aligned.
        Assert.All(lines.Skip(2), l => Assert.NotEqual(' ', l[0]));
    }

    [Fact]
    public void The_text_report_has_every_section()
    {
        var text = report.RenderText();
        string[] sections =
        [
            "P2P Energy community report: tiny", "Grid emission factor: 450 g-CO2/kWh (assumption: Tokyo area",
            "Market prices and energy", "Renewable share, self-sufficiency and CO2", "Participants (JPY; prices JPY/kWh)",
            "Market and chain", "Seed 004 pilot (Higashi-Fuji) beside ours", "Audit discrepancies", "Differences from the pilot",
            "Assumptions", "Checks",
        ];
        var at = sections.Select(s => text.IndexOf(s, StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, at);
        Assert.Equal(at.Order(), at);
        Assert.Equal(["Community", "8.100", "51.85", "%", "14.81", "%", "64.20", "%", "14.81", "%", "1.305", "3.105", "1.800"],
            Tokens(TableLines(text, "Renewable share, self-sufficiency and CO2")[5]));
        Assert.Equal(["Gas:", "total", "850000"], Tokens(TableLines(text, "Market and chain").Single(l => l.StartsWith("Gas: total", StringComparison.Ordinal))));
        Assert.Contains("Audit                         passed", text);
    }

    [Fact]
    public void A_failed_audit_is_shown_with_its_discrepancies()
    {
        var failed = Sample.Result() with { Chain = Sample.Chain with { Audit = new AuditResult(false, ["lot 3: settled 900 Wh on chain, 1000 Wh by the engine"]) } };
        var text = CommunityReport.Build(failed).RenderText();
        Assert.Contains("Audit                         FAILED (1 discrepancy)", text);
        Assert.Contains("Audit discrepancies\n- lot 3: settled 900 Wh on chain, 1000 Wh by the engine\n", text);
        Assert.Contains("- lot 3: settled 900 Wh on chain", CommunityReport.Build(failed).RenderMarkdown());
    }

    [Fact]
    public void An_audit_that_did_not_run_here_is_neither_passed_nor_failed()
    {
        var notRun = Sample.Result() with { Chain = Sample.Chain with { Audit = AuditResult.NotRun("audited by a separate step") } };
        var text = CommunityReport.Build(notRun).RenderText();
        Assert.Contains("Audit                         not run here (audited by a separate step)", text);
        Assert.DoesNotContain("FAILED", text);
        Assert.DoesNotContain("Audit                         passed", text);
    }

    [Fact]
    public void Markdown_has_the_pilot_its_sources_and_the_differences()
    {
        var md = report.RenderMarkdown();
        Assert.StartsWith("# P2P Energy community report: tiny\n", md);
        Assert.Contains("- seed 004, line 479: 「全ユーザで従来型プラットフォームよりも収支が改善(全体で25.4%の改善)」", md);
        Assert.Contains("- seed 004, line 485: 「平均購入価格21.6円/kWh(系統より4.6円安い)」", md);
        Assert.Contains("| Overall saving against grid-only | 25.4 % | 47.26 % | +21.86 pt | seed 004, line 479 |", md);
        Assert.Contains("| Community | 3 | 84.80 | 160.80 | 76.00 | 47.26 % |", md);
        Assert.Contains("|:---|---:|---:|---:|---:|---:|\n", md);
        Assert.Contains("## Differences from the pilot\n\n- Overall saving against grid-only: ours is 47.26 %, the pilot's 25.4 %: higher by 21.86 points, more than 5.00.\n", md);
        Assert.Contains("- The stated assumptions that drive these figures:\n  - Retail 26.00 JPY/kWh, 30.00 in the last slot (assumption for the test)\n", md);
        Assert.Contains("## Definitions and rounding", md);
        Assert.Contains("![Clearing price per slot against retail and buy-back](clearing-prices.png)", md);
        Assert.Contains("- [`slots.csv`](slots.csv): ", md);
    }

    [Fact]
    public void A_pipe_in_a_name_does_not_break_the_markdown_table()
    {
        var participants = Sample.Participants.Select(p => p.Address == Sample.Sato ? p with { Name = "Sato|Roof" } : p).ToList();
        var md = CommunityReport.Build(Sample.Result() with { Participants = participants }).RenderMarkdown();
        Assert.Contains("| Sato\\|Roof | Prosumer |", md);
    }

    [Fact]
    public void Spectre_tables_carry_the_same_figures()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 240;
        // A name with markup brackets is text, not markup.
        var participants = Sample.Participants.Select(p => p.Address == Sample.Sato ? p with { Name = "Sato [roof]" } : p).ToList();
        SpectreReport.Write(console, CommunityReport.Build(Sample.Result() with { Participants = participants }));
        var text = output.ToString();
        Assert.Contains("Sato [roof]", text);
        Assert.Contains("47.26 %", text);
        Assert.Contains("Differences from the pilot", text);
        Assert.Contains("higher by 21.86 points", text);
    }
}
