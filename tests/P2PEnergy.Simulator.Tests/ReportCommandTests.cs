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

            // Missing inputs are usage errors.
            Assert.Equal(2, ReportCommand.Run(["--result", resultFile]));
            Assert.Equal(2, ReportCommand.Run(["--result", Path.Combine(dir, "none.json"), "--audit", passed]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
