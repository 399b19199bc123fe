using P2PEnergy.Ledger.Audit;
using P2PEnergy.Ledger.Tests.Audit;
using P2PEnergy.Ledger.Tests.Infrastructure;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests;

/// <summary>
/// The auditor against a real Hardhat node: every test deploys its own ledger and settles the hand-computed slot
/// of contracts/test/Settlement.test.js (<see cref="HandComputedSlot"/>), then audits it from the chain alone.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class AuditTests
{
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public AuditTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    private async Task<AuditReport> AuditAsync(HandComputedSlot slot, IReadOnlyList<Lot>? exchangeLots = null)
    {
        var report = await slot.Auditor().AuditAsync(exchangeLots);
        var text = new StringWriter();
        AuditReportWriter.WriteText(report, text);
        _output.WriteLine(text.ToString());
        return report;
    }

    private static string Listed(AuditReport report) => string.Join(Environment.NewLine, report.Discrepancies);

    [Fact]
    public async Task A_settled_slot_passes_and_the_statements_carry_the_hand_computed_nets()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettleAsync();

        var report = await AuditAsync(slot);

        Assert.True(report.Passed, Listed(report));
        Assert.Equal(3, report.Totals.Lots);
        Assert.Equal(1, report.Totals.SettledSlots);
        Assert.Equal(3, report.Totals.Participants);
        Assert.Equal(slot.Grid, report.GridOperator);

        var s = report.StatementOf(slot.S)!;
        var sLine = Assert.Single(s.Lines);
        Assert.Equal(HandComputedSlot.Slot, sLine.Slot);
        Assert.Equal(slot.MeterS, sLine.Meter);
        Assert.Equal(HandComputedSlot.NetS, sLine.ChainNet);
        Assert.Equal(HandComputedSlot.NetS, sLine.Bill.Net);
        Assert.Equal(1200, sLine.Bill.EnergySoldWh); // 1000 of lot 1 + 200 of lot 2
        Assert.Equal(2_420_000, sLine.Bill.EnergySoldMoney); // 1000 x 2000 + 200 x 2100
        Assert.Equal(156_000, sLine.Bill.CompensationPaid); // 300 x (2620 - 2100)
        Assert.Equal(3, s.LotsSold);
        Assert.Equal(HandComputedSlot.NetS, s.Account.OnChain); // S had nothing before
        Assert.Equal(HandComputedSlot.NetS, s.Account.SettlementReceived);

        var b1 = Assert.Single(report.StatementOf(slot.B1)!.Lines);
        Assert.Equal(HandComputedSlot.NetB1, b1.ChainNet);
        Assert.Equal(HandComputedSlot.NetB1, b1.Bill.Net);
        Assert.Equal(1200, b1.Bill.EnergyBoughtWh);
        Assert.Equal(1_000_000, b1.Bill.WheelingPaid); // 1000 x 1000, lot 1 only
        Assert.Equal(600, b1.Bill.GridImportWh); // 300 shortfall of lot 2 + 300 unallocated
        Assert.Equal(1_572_000, b1.Bill.GridImportMoney); // 600 x 2620
        Assert.Equal(156_000, b1.Bill.CompensationReceived);
        // 10,000,000 - 4,836,000
        Assert.Equal(5_164_000, report.StatementOf(slot.B1)!.Account.OnChain);

        var b2 = Assert.Single(report.StatementOf(slot.B2)!.Lines);
        Assert.True(b2.Meter.IsZero); // its meter did not report: settled as 0/0
        Assert.Equal(0, b2.ChainNet);
        Assert.Equal(0, b2.Bill.Net);

        var summary = report.SlotOf(HandComputedSlot.Slot)!;
        Assert.Equal(SlotStatus.Settled, summary.Status);
        Assert.Equal(HandComputedSlot.NetGrid, summary.ChainGridNet);
        Assert.Equal(HandComputedSlot.NetGrid, summary.Recomputed!.Grid.Net);
        Assert.Equal(1200, summary.Recomputed.Totals.SettledWh); // 1000 + 200 + 0
        Assert.Equal(HandComputedSlot.NetGrid, report.AccountOf(slot.Grid)!.OnChain);
        Assert.Equal(HandComputedSlot.B1Deposit, report.Totals.TotalSupply); // settlement moves money, it creates none
        Assert.Equal(0, report.AccountOf(slot.Deployment.Ledger)!.OnChain); // the clearing keeps nothing

        var text = new StringWriter();
        AuditReportWriter.WriteText(report, text);
        Assert.EndsWith("audit passed: 3 lots, 1 settled slots, 3 participants, 0 discrepancies" + Environment.NewLine, text.ToString(), StringComparison.Ordinal);
        Assert.Contains("22.64000", text.ToString(), StringComparison.Ordinal); // S's net, exact
        Assert.Contains("-48.36000", text.ToString(), StringComparison.Ordinal); // B1's net, exact
        Assert.Contains("\"passed\": true", AuditReportWriter.ToJson(report), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exchange_lots_that_differ_from_the_chain_are_named_by_lot_id()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettleAsync();
        var chainLots = slot.Lots;

        var same = await AuditAsync(slot, chainLots);
        Assert.True(same.Passed, Listed(same));
        Assert.True(same.ComparedWithExchange);

        // Lot 2 at another price, lot 3 missing from the exchange, lot 4 only at the exchange.
        var exchange = new[]
        {
            chainLots[0],
            chainLots[1] with { PriceTicks = 2200 },
            HandComputedSlot.MakeLot(4, slot.S, slot.B1, 300, 2000, 0),
        };
        var report = await AuditAsync(slot, exchange);

        Assert.Equal(3, report.Discrepancies.Count);
        var changed = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.LotFieldsDiffer);
        Assert.Equal(2, changed.LotId);
        Assert.Contains("lot 2", changed.Message, StringComparison.Ordinal);
        Assert.Contains("price exchange 2200 ticks, chain 2100 ticks", changed.Message, StringComparison.Ordinal);
        var unknown = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.ChainLotUnknownToExchange);
        Assert.Equal(3, unknown.LotId);
        Assert.Contains("lot 3 on chain", unknown.Message, StringComparison.Ordinal);
        var missing = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.ExchangeLotMissingOnChain);
        Assert.Equal(4, missing.LotId);
        Assert.Contains("lot 4 of the exchange", missing.Message, StringComparison.Ordinal);
        Assert.StartsWith("audit failed: 3 lots, 1 settled slots, 3 participants, 3 discrepancies", AuditReportWriter.SummaryLine(report), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_settlement_that_breaks_FIFO_is_detected_and_the_lots_named()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        // The contract only checks flows against the readings (S: 700 + 500 + 0 <= 1200 exported; B1: 1500 <= 1800),
        // so it accepts S's export given to lot 2 in full before lot 1 is full. FIFO gives lot 1 1000 and lot 2 200.
        // On chain, policy 1, in 1e-5 JPY:
        // lot 1: settled 700, shortfall 300: energy 1,400,000; wheeling 700,000; retail 786,000; compensation 300 x 620 = 186,000 S -> B1.
        // lot 2: settled 500: energy 1,050,000.  B1 unallocated import 300 x 2620 = 786,000.
        // S  = 1,400,000 + 1,050,000 - 186,000 = 2,264,000 (by coincidence FIFO's 2,264,000 too);
        // B1 = -(1,400,000 + 700,000 + 786,000 + 1,050,000) + 186,000 - 786,000 = -4,536,000 (FIFO: -4,836,000);
        // grid = 700,000 + 786,000 + 786,000 = 2,272,000 (FIFO: 2,572,000).
        await slot.SettleAsync([new LotFlow(1, 700, 1000), new LotFlow(2, 500, 500), new LotFlow(3, 0, 0)]);

        var report = await AuditAsync(slot);

        var notFifo = report.Discrepancies.Where(d => d.Kind == DiscrepancyKind.NotFifo).ToList();
        Assert.Equal(new[] { 1L, 2L }, notFifo.Select(d => d.LotId!.Value));
        Assert.Contains("on chain delivered 700 Wh, consumed 1000 Wh, settled 700 Wh", notFifo[0].Message, StringComparison.Ordinal);
        Assert.Contains("FIFO by lot id from the readings gives delivered 1000 Wh, consumed 1000 Wh, settled 1000 Wh", notFifo[0].Message, StringComparison.Ordinal);
        Assert.Contains("slot 989100 lot 2: on chain delivered 500 Wh, consumed 500 Wh, settled 500 Wh", notFifo[1].Message, StringComparison.Ordinal);
        var net = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.NetMismatch);
        Assert.Equal(HandComputedSlot.Eth(slot.B1), net.Account);
        Assert.Contains("-45.36000 JPY on chain, the settlement engine gives -48.36000 JPY", net.Message, StringComparison.Ordinal);
        var grid = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.GridNetMismatch);
        Assert.Contains("22.72000 JPY on chain, the settlement engine gives 25.72000 JPY", grid.Message, StringComparison.Ordinal);
        // Nothing else: the contract's own arithmetic, the readings root, the transfers and the balances all hold.
        Assert.Equal(4, report.Discrepancies.Count);
        Assert.Equal(-4_536_000, report.StatementOf(slot.B1)!.Lines[0].ChainNet);
        Assert.Equal(HandComputedSlot.NetB1, report.StatementOf(slot.B1)!.Lines[0].Bill.Net);
    }

    [Fact]
    public async Task A_slot_with_lots_and_no_settlement_is_reported_as_unsettled_not_as_a_discrepancy()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettleAsync();
        await slot.Contract.CommitOrderRootAsync(_chain.OperatorKey, HandComputedSlot.Slot, Enumerable.Repeat((byte)0x11, 32).ToArray(), 6);
        const long next = HandComputedSlot.Slot + 1;
        await slot.Contract.RecordLotsAsync(_chain.OperatorKey, [HandComputedSlot.MakeLot(4, slot.S, slot.B2, 300, 2000, 0, next)]);

        var report = await AuditAsync(slot);

        Assert.True(report.Passed, Listed(report));
        Assert.Equal(new[] { next }, report.UnsettledSlots);
        Assert.Equal(new[] { next }, report.SlotsWithoutOrderRoot); // the settled slot's root is committed
        var summary = report.SlotOf(next)!;
        Assert.Equal(SlotStatus.Unsettled, summary.Status);
        Assert.Equal(1, summary.Lots);
        Assert.Equal(300, summary.ContractedWh);
        Assert.Null(summary.Recomputed);
        Assert.Equal(4, report.Totals.Lots);
        Assert.Equal(1, report.Totals.SettledSlots);
        Assert.Equal(1, report.Totals.UnsettledSlots);
        Assert.Equal(2, report.StatementOf(slot.B2)!.LotsBought); // lot 3, settled, and lot 4, not yet
        Assert.Single(report.StatementOf(slot.B2)!.Lines);
        var text = new StringWriter();
        AuditReportWriter.WriteText(report, text);
        Assert.Contains($"slot {next}: 1 lots recorded, not settled yet", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ordinary_transfers_withdrawals_and_a_new_grid_operator_keep_the_balances_consistent()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettleAsync();
        // S (2,264,000 after settlement) pays B2 100,000, sends 50,000 to the ledger's own address and withdraws 14,000.
        await slot.TransferFromSAsync(HandComputedSlot.Eth(slot.B2), 100_000);
        await slot.TransferFromSAsync(slot.Deployment.Ledger, 50_000);
        await slot.WithdrawFromSAsync(14_000);
        // The grid operator changes after the settlement: the settlement's transfers still went to the old one.
        var newGrid = HandComputedSlot.Eth(TestLots.AddressOf(0x9002));
        await slot.Contract.SetGridOperatorAsync(_chain.AdminKey, newGrid);

        var report = await AuditAsync(slot);

        Assert.True(report.Passed, Listed(report));
        Assert.Equal(newGrid, report.GridOperator);
        var s = report.StatementOf(slot.S)!.Account;
        Assert.Equal(2_264_000 - 100_000 - 50_000 - 14_000, (long)s.OnChain); // 2,100,000
        Assert.Equal(s.OnChain, s.Replayed);
        Assert.Equal(150_000, (long)s.TransfersOut);
        Assert.Equal(14_000, (long)s.Withdrawn);
        Assert.Equal(100_000, (long)report.StatementOf(slot.B2)!.Account.OnChain);
        Assert.Equal(100_000, (long)report.StatementOf(slot.B2)!.Account.TransfersIn);
        Assert.Equal(50_000, (long)report.AccountOf(slot.Deployment.Ledger)!.OnChain);
        Assert.Equal(HandComputedSlot.NetGrid, (long)report.AccountOf(slot.Grid)!.OnChain);
        Assert.Equal("grid operator", report.AccountOf(slot.Grid)!.Role);
        // Deposits 10,000,000 - withdrawals 14,000.
        Assert.Equal(HandComputedSlot.B1Deposit - 14_000, (long)report.Totals.TotalSupply);
        Assert.Equal(14_000, (long)report.Totals.Withdrawn);
    }

    [Fact]
    public async Task Audited_from_the_deploy_block_it_finds_the_same_as_from_block_0()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettleAsync();
        var fromDeploy = await new LedgerAuditor(_chain.Client, slot.Deployment.Ledger, slot.Deployment.DeployBlock).AuditAsync();
        Assert.True(fromDeploy.Passed, Listed(fromDeploy));
        Assert.Equal(slot.Deployment.DeployBlock, fromDeploy.FromBlock);

        // From after the deposit, the replayed balances cannot add up: the audit says so instead of passing.
        var late = await new LedgerAuditor(_chain.Client, slot.Deployment.Ledger, slot.Deployment.DeployBlock + 3).AuditAsync();
        Assert.False(late.Passed);
        Assert.Contains(late.Discrepancies, d => d.Kind == DiscrepancyKind.SupplyMismatch);
    }
}

public sealed class JpyTextTests
{
    [Theory]
    [InlineData(2_264_000, "22.64000")]
    [InlineData(-4_836_000, "-48.36000")]
    [InlineData(-5, "-0.00005")]
    [InlineData(0, "0.00000")]
    [InlineData(100_000, "1.00000")]
    public void Shows_money_exactly_with_five_decimals(long units, string expected) =>
        Assert.Equal(expected, JpyText.Exact(units));

    [Theory]
    [InlineData(2_264_499, "22.64")] // 22.64499 JPY
    [InlineData(2_264_500, "22.65")] // 22.645 JPY: half away from zero
    [InlineData(-2_264_500, "-22.65")]
    [InlineData(-400, "0.00")] // -0.004 JPY rounds to zero, without a sign
    [InlineData(-500, "-0.01")]
    public void Rounds_to_a_sen_half_away_from_zero(long units, string expected) =>
        Assert.Equal(expected, JpyText.RoundedToSen(units));
}
