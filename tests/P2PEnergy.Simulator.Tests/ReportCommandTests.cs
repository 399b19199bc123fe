using P2PEnergy.Simulator.Day;

namespace P2PEnergy.Simulator.Tests;

/// <summary>`report`: a finished day's report written again with the ledger auditor's verdict (scripts/demo.sh does this).</summary>
public sealed class ReportCommandTests
{
    [Fact]
    public async Task The_report_carries_the_auditors_verdict_and_its_discrepancies()
    {
        using var host = new ExchangeHost();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await CommunityDay.RunAsync(
            host.Channel, ScenarioLoader.Load("small"), new DayOptions { Seed = 1, MaxSlots = 2, LedgerTimeout = TimeSpan.FromSeconds(5) }, null, cts.Token);
        var dir = Directory.CreateTempSubdirectory("p2penergy-report-command-").FullName;
        try
        {
            var resultFile = Path.Combine(dir, "result.json");
            await File.WriteAllTextAsync(resultFile, result.ToJson(), cts.Token);

            // An audit that failed (the shape of `p2penergy-ledger audit --json`): exit 1, the report names the discrepancy.
            var failed = Path.Combine(dir, "audit-failed.json");
            await File.WriteAllTextAsync(failed, """{"passed":false,"discrepancies":[{"kind":"FlowNotFifo","message":"slot 7: lot 3 settled 900 Wh on chain, 1000 Wh by FIFO"}]}""", cts.Token);
            Assert.Equal(1, ReportCommand.Run(["--result", resultFile, "--audit", failed]));
            var md = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"), cts.Token);
            Assert.Contains("FAILED (1 discrepancy)", md);
            Assert.Contains("slot 7: lot 3 settled 900 Wh on chain, 1000 Wh by FIFO", md);

            // A passed audit: exit 0 and the report says passed; the figures come from the same result.json.
            var passed = Path.Combine(dir, "audit-passed.json");
            await File.WriteAllTextAsync(passed, """{"passed":true,"discrepancies":[]}""", cts.Token);
            Assert.Equal(0, ReportCommand.Run(["--result", resultFile, "--audit", passed]));
            md = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"), cts.Token);
            Assert.Contains("| Audit | passed |", md);
            Assert.DoesNotContain("FAILED", md);

            // Missing inputs are usage errors: without --audit the result must hold the day's own audit.
            Assert.Equal(2, ReportCommand.Run(["--result", resultFile]));
            Assert.Equal(2, ReportCommand.Run(["--audit", passed]));
            Assert.Equal(2, ReportCommand.Run(["--result", Path.Combine(dir, "none.json"), "--audit", passed]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static AuditSummary Audit(bool passed, int lots, params string[] discrepancies) => new(
        passed, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 1, 90, lots + 1, lots, lots, 2,
        new ChainUsage(40, 90, 3, 300_000, 2, 100_000, 8, 900_000, 1, 50_000, 0), discrepancies);

    [Fact]
    public async Task The_days_own_audit_gives_the_reports_chain_figures_and_verdict()
    {
        using var host = new ExchangeHost();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var day = await CommunityDay.RunAsync(
            host.Channel, ScenarioLoader.Load("small"), new DayOptions { Seed = 1, MaxSlots = 2, LedgerTimeout = TimeSpan.FromSeconds(5) }, null, cts.Token);
        var result = day with { Audit = Audit(true, day.Lots.Count) };

        // Chain figures: lots from the auditor, transactions and gas from the receipts (other calls are not the market's).
        var chain = ReportMapping.ToReportInput(result).Chain;
        Assert.Equal(day.Lots.Count, chain.LotsRecorded);
        Assert.Equal(13, chain.Transactions);
        Assert.Equal(new P2PEnergy.Report.GasUsed(300_000, 100_000, 900_000), chain.Gas);
        Assert.True(chain.Audit.Passed);
        Assert.Null(chain.Audit.NotRunReason);
        // result.json keeps the audit.
        Assert.Equal(result.Audit.Usage, DayResult.FromJson(result.ToJson()).Audit!.Usage);
        Assert.Equal(result.ToJson(), DayResult.FromJson(result.ToJson()).ToJson());

        var dir = Directory.CreateTempSubdirectory("p2penergy-report-command-").FullName;
        try
        {
            var resultFile = Path.Combine(dir, "result.json");
            await File.WriteAllTextAsync(resultFile, result.ToJson(), cts.Token);
            Assert.Equal(0, ReportCommand.Run(["--result", resultFile]));
            var md = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"), cts.Token);
            Assert.Contains("| Audit | passed |", md);
            Assert.Contains("| Chain transactions | 13 |", md);
            Assert.Contains("| Gas: order roots | 100000 |", md);

            await File.WriteAllTextAsync(resultFile, (day with { Audit = Audit(false, day.Lots.Count, "lot 5 is on chain but unknown to the exchange") }).ToJson(), cts.Token);
            Assert.Equal(1, ReportCommand.Run(["--result", resultFile]));
            md = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"), cts.Token);
            Assert.Contains("FAILED (1 discrepancy)", md);
            Assert.Contains("lot 5 is on chain but unknown to the exchange", md);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
