namespace P2PEnergy.Exchange.Chain.Tests;

using System.Text.Json;
using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Ledger.Tests.Infrastructure;

/// <summary>
/// The demo's path on the small scenario (issue 6), as scripts/demo.sh runs it: the exchange server as a separate
/// process with its recorder, root committer and chain settler on a real Hardhat node, and the simulator's `day`
/// command with --rpc and --deployment: agents trade every slot, meters report, every slot is settled on chain, and
/// the day ends with the ledger audit from the chain alone against the exchange's lots; the report carries the verdict.
/// </summary>
[Collection(ChainTestCollection.Name)]
public sealed class CommunityDayOnChainTests(HardhatNodeFixture chain)
{
    /// <summary>Each participant's money over the day, as the simulator read it from the exchange's bills, is what the auditor re-settled from the chain alone (audit.json's statements).</summary>
    private static void AssertChainNetsAreTheExchangeBills(P2PEnergy.Simulator.Day.DayResult r, JsonDocument audit)
    {
        var statements = audit.RootElement.GetProperty("statements").EnumerateArray()
            .ToDictionary(s => s.GetProperty("participant").GetString()!.ToLowerInvariant(), s => s.GetProperty("slots").EnumerateArray().Sum(l => l.GetProperty("net").GetInt64()));
        foreach (var p in r.Participants)
        {
            long exchangeNet = r.ParticipantSlots.Where(x => x.Participant == p.Id).Sum(x => x.Net);
            Assert.True(statements.TryGetValue(p.Address.ToLowerInvariant(), out var chainNet), $"{p.Id} has a statement");
            Assert.Equal(exchangeNet, chainNet);
        }
    }

    /// <summary>
    /// The same day with a settlement gas budget so small that no slot fits one transaction: every slot is settled in
    /// pages by the exchange's chain settler, and the audit (reading from the deploy block the exchange reports, as no
    /// deployment file is given) passes with each participant's money equal to the exchange's bills.
    /// </summary>
    [Fact]
    public async Task With_every_slot_settled_in_pages_the_day_audits_clean_from_the_deploy_block_the_exchange_reports()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        using var ledger = await FreshLedger.DeployAsync(chain);
        await ledger.EnableSettlementAsync();

        var run = await DayOnChain.RunAsync(
            ledger, ["--seed", "2"], cts.Token, deploymentFile: "",
            exchangeSettings: new Dictionary<string, string> { ["Ledger:SettlementGasBudget"] = "200000" });
        try
        {
            Assert.True(run.ExitCode == 0, run.Describe());
            var r = run.Result!;
            Assert.Empty(r.Warnings);
            Assert.Equal("", r.Chain.LastError);
            Assert.Equal(r.Run.SlotCount, r.Chain.SlotsSettledOnChain);
            var a = r.Audit!;
            Assert.True(a.Passed, string.Join("\n", a.Discrepancies));
            Assert.Equal(ledger.Deployment.DeployBlock, a.FromBlock); // from LedgerStatus
            Assert.Equal(r.Run.SlotCount, a.RunSlotsSettledOnChain);
            // Every slot in pages: at least a begin, a lot page when it has lots, and two party pages (4 parties a page).
            Assert.True(run.AuditText!.Contains("Settled in pages", StringComparison.Ordinal), run.AuditText);
            var paged = run.AuditText!.Split('\n').Single(l => l.TrimStart().StartsWith("Settled in pages:", StringComparison.Ordinal));
            Assert.Equal(r.Run.SlotCount, paged.Split(" transactions").Length - 1);
            Assert.True(a.Usage.SettlementTransactions >= 3 * r.Run.SlotCount + r.Participants.Count, $"{a.Usage.SettlementTransactions} settlement transactions");
            Assert.Equal(0, a.Usage.Reverted);

            using var audit = JsonDocument.Parse(run.AuditJson!);
            AssertChainNetsAreTheExchangeBills(r, audit);
        }
        finally
        {
            DayOnChain.Delete(run);
        }
    }

    [Fact]
    public async Task The_small_day_through_a_separate_exchange_process_is_settled_on_chain_and_audits_clean()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        using var ledger = await FreshLedger.DeployAsync(chain);
        await ledger.EnableSettlementAsync();

        var run = await DayOnChain.RunAsync(ledger, ["--seed", "1"], cts.Token);
        try
        {
            Assert.True(run.ExitCode == 0, run.Describe());
            Assert.NotEqual(Environment.ProcessId, run.ExchangeProcessId);
            var r = run.Result!;
            Assert.Equal(0, r.Checks.Violations);
            Assert.True(r.Checks.LedgerCaughtUp);
            Assert.Empty(r.Warnings);
            Assert.NotEmpty(r.Lots);
            Assert.Equal(run.ExchangeLots.Count, r.Lots.Count);
            Assert.Equal("", r.Chain.LastError);
            Assert.Equal(r.Run.SlotCount, r.Chain.SlotsSettledOnChain);

            // The audit, in the simulator: passed, every lot and slot of the day on chain.
            var a = r.Audit!;
            Assert.True(a.Passed, string.Join("\n", a.Discrepancies));
            Assert.Equal(ledger.Deployment.Ledger.ToString(), a.Ledger);
            Assert.Equal(ledger.Deployment.DeployBlock, a.FromBlock);
            Assert.Equal(r.Lots.Count, a.RunLotsOnChain);
            Assert.Equal(r.Lots.Count, a.LedgerLots);
            Assert.Equal(r.Lots.Count, a.ExchangeLots);
            Assert.Equal(r.Run.SlotCount, a.RunSlotsSettledOnChain);
            // The day's transactions, from their receipts: lots in batches of at most 3 (Ledger:BatchSize), one order
            // root and one settlement a slot, one deposit a participant; nothing else, nothing reverted.
            var u = a.Usage;
            Assert.InRange(u.RecordingTransactions, (r.Lots.Count + 2) / 3, r.Lots.Count);
            Assert.Equal(r.Run.SlotCount, u.OrderRootTransactions);
            Assert.Equal(r.Run.SlotCount + r.Participants.Count, u.SettlementTransactions);
            Assert.Equal(0, u.OtherTransactions);
            Assert.Equal(0, u.Reverted);
            Assert.True(u.RecordingGas > 0 && u.OrderRootGas > 0 && u.SettlementGas > 0);
            Assert.Equal(u.RecordingTransactions + u.OrderRootTransactions + u.SettlementTransactions, u.Transactions);

            // What it printed and wrote: the verdict in the output, the report and audit.txt / audit.json.
            Assert.Contains("audit passed:", run.Output);
            Assert.Contains("| Audit | passed |", run.ReportMarkdown);
            Assert.Contains($"| Lots recorded on chain | {r.Lots.Count} |", run.ReportMarkdown);
            Assert.Contains($"| Chain transactions | {u.Transactions} |", run.ReportMarkdown);
            Assert.Contains("audit passed:", run.AuditText);
            using var audit = JsonDocument.Parse(run.AuditJson!);
            Assert.True(audit.RootElement.GetProperty("passed").GetBoolean());
            Assert.True(audit.RootElement.GetProperty("comparedWithExchange").GetBoolean());

            // Each participant's money over the day, as the simulator read it from the exchange's bills, is what the
            // auditor re-settled from the chain alone.
            AssertChainNetsAreTheExchangeBills(r, audit);

            // `report --result` alone writes the same report again from the audit the day kept in result.json.
            var again = Path.Combine(run.Folder, "again");
            Assert.Equal(0, P2PEnergy.Simulator.Day.ReportCommand.Run(["--result", Path.Combine(run.Folder, "result.json"), "--out", again]));
            Assert.Equal(run.ReportMarkdown, File.ReadAllText(Path.Combine(again, "report.md")));
        }
        finally
        {
            DayOnChain.Delete(run);
        }
    }

    [Fact]
    public async Task The_same_seed_on_fresh_nodes_gives_the_same_lots_and_report_and_another_seed_does_not()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(240));
        // One lot a transaction: the recorder's batches (up to N lots or M ms) depend on timing, and with them the
        // number of transactions and their gas; one lot each makes those a function of the lots alone.
        var oneLotATransaction = new Dictionary<string, string> { ["Ledger:BatchSize"] = "1" };

        async Task<DayOnChain.Run> OnAFreshNodeAsync(string seed)
        {
            var node = new HardhatNodeFixture();
            await node.InitializeAsync();
            try
            {
                using var ledger = await FreshLedger.DeployAsync(node);
                await ledger.EnableSettlementAsync();
                return await DayOnChain.RunAsync(ledger, ["--seed", seed], cts.Token, exchangeSettings: oneLotATransaction);
            }
            finally
            {
                await node.DisposeAsync();
            }
        }

        var first = await OnAFreshNodeAsync("7");
        var again = await OnAFreshNodeAsync("7");
        // Another seed: a fresh ledger on the collection's node will do (only its lots are compared).
        using var otherLedger = await FreshLedger.DeployAsync(chain);
        await otherLedger.EnableSettlementAsync();
        var other = await DayOnChain.RunAsync(otherLedger, ["--seed", "8"], cts.Token, exchangeSettings: oneLotATransaction);
        try
        {
            foreach (var run in new[] { first, again, other })
            {
                Assert.True(run.ExitCode == 0, run.Describe());
                Assert.True(run.Result!.Audit!.Passed);
                Assert.NotEmpty(run.ExchangeLots);
            }

            Assert.Equal(first.ExchangeLots.Count, first.Result!.Audit!.Usage.RecordingTransactions);

            // Same seed: the same lots, every field (ids, parties, Wh, prices, wheeling, product, source, order ids).
            Assert.Equal(first.ExchangeLots.Select(l => l.ToString()), again.ExchangeLots.Select(l => l.ToString()));
            Assert.Equal(first.ExchangeLots, again.ExchangeLots);
            // The same result (market, bills, baseline, ledger status, the audit's lots, blocks, transactions and gas)
            // and the same report, byte for byte.
            Assert.Equal(first.Result!.ToJson(), again.Result!.ToJson());
            Assert.Equal(first.ReportMarkdown, again.ReportMarkdown);
            // The same audit: statements, accounts and totals. Not the blocks each settlement landed in: the recorder,
            // the root committer and the settler send from three keys at once, so their interleaving is the node's.
            using var firstAudit = JsonDocument.Parse(first.AuditJson!);
            using var againAudit = JsonDocument.Parse(again.AuditJson!);
            foreach (var part in new[] { "passed", "summary", "statements", "accounts", "totals", "block", "exchangeLots" })
                Assert.Equal(firstAudit.RootElement.GetProperty(part).GetRawText(), againAudit.RootElement.GetProperty(part).GetRawText());

            // Another seed: other participants (keys from the seed), so other lots.
            Assert.NotEqual(first.ExchangeLots.Select(l => (l.Seller, l.Buyer)), other.ExchangeLots.Select(l => (l.Seller, l.Buyer)));
            Assert.NotEqual(first.Result.Lots.Select(l => (l.Seller, l.Buyer, l.EnergyWh, l.PriceTicks)), other.Result!.Lots.Select(l => (l.Seller, l.Buyer, l.EnergyWh, l.PriceTicks)));
            Assert.NotEqual(first.ReportMarkdown, other.ReportMarkdown);
        }
        finally
        {
            DayOnChain.Delete(first);
            DayOnChain.Delete(again);
            DayOnChain.Delete(other);
        }
    }

    [Fact]
    public async Task A_lot_on_chain_the_exchange_never_made_fails_the_audit_and_the_day()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var ledger = await FreshLedger.DeployAsync(chain);
        await ledger.EnableSettlementAsync();
        // A lot recorded by the operator key behind the exchange's back, in a slot far from the day's.
        var seller = P2PEnergy.Exchange.Address.Parse(Participants.AddressOf("stray-seller"));
        var buyer = P2PEnergy.Exchange.Address.Parse(Participants.AddressOf("stray-buyer"));
        await ledger.Contract.RecordLotsAsync(chain.OperatorKey,
            [new Lot(9_000_001, 1, seller, buyer, 500, 2000, 0, Product.Standard, EnergySource.Mixed, 9_000_001, 9_000_002)]);

        var run = await DayOnChain.RunAsync(ledger, ["--seed", "1", "--slots", "1"], cts.Token);
        try
        {
            Assert.True(run.ExitCode == 1, run.Describe());
            var a = run.Result!.Audit!;
            Assert.False(a.Passed);
            Assert.Contains(a.Discrepancies, d => d.Contains("9000001", StringComparison.Ordinal));
            // The day itself was clean: only the audit failed, and everything says so.
            Assert.Equal(0, run.Result.Checks.Violations);
            Assert.Equal(run.Result.Lots.Count, a.RunLotsOnChain);
            Assert.Contains("audit failed:", run.Output);
            Assert.Contains("day: the audit failed", run.Error);
            Assert.Contains("| Audit | FAILED (", run.ReportMarkdown);
            Assert.Contains("audit failed:", run.AuditText);
        }
        finally
        {
            DayOnChain.Delete(run);
        }
    }

    [Fact]
    public async Task Another_ledgers_deployment_file_is_refused_before_anything_is_traded()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var ledger = await FreshLedger.DeployAsync(chain);
        await ledger.EnableSettlementAsync();
        var otherFile = Path.Combine(Path.GetDirectoryName(ledger.DeploymentFile)!, "other-deployment.json");
        chain.Deployment.Save(otherFile);

        var run = await DayOnChain.RunAsync(ledger, ["--seed", "1"], cts.Token, deploymentFile: otherFile);
        try
        {
            Assert.True(run.ExitCode == 1, run.Describe());
            Assert.Contains($"ledger {chain.Deployment.Ledger}", run.Error);
            Assert.Contains($"the exchange records on ledger {ledger.Deployment.Ledger}", run.Error);
            Assert.Empty(run.ExchangeLots);
            Assert.Null(run.Result);
        }
        finally
        {
            DayOnChain.Delete(run);
        }
    }
}
