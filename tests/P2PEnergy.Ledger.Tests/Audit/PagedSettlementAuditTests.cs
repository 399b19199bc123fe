using P2PEnergy.Ledger.Audit;
using P2PEnergy.Ledger.Tests.Infrastructure;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests.Audit;

/// <summary>
/// The auditor on paged settlements (beginSettlement, lot pages, party pages), against a real Hardhat node: the
/// hand-computed slot (<see cref="HandComputedSlot"/>) settled in pages audits as settled in one transaction; one in
/// progress is a note. What only a paged settlement can get wrong (pages out of order, page counts, other terms at
/// the end than at the start) the real contract refuses to emit, so those cases replay the real ledger's logs into a
/// rogue replica (<see cref="EventReplica"/>) with one change each.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class PagedSettlementAuditTests
{
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public PagedSettlementAuditTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    private async Task<(AuditReport Report, string Text)> AuditAsync(Address ledger, ulong fromBlock = 0)
    {
        var report = await new LedgerAuditor(_chain.Client, ledger, fromBlock).AuditAsync();
        var text = new StringWriter();
        AuditReportWriter.WriteText(report, text);
        _output.WriteLine(text.ToString());
        return (report, text.ToString());
    }

    private static string Listed(AuditReport report) => string.Join(Environment.NewLine, report.Discrepancies);

    /// <summary>The hand-computed slot settled in 6 transactions: begin, lot pages of 1 and 2 lots, a party page per party.</summary>
    private async Task<HandComputedSlot> PagedAsync()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.SettlePagedAsync();
        return slot;
    }

    [Fact]
    public async Task A_paged_settlement_audits_clean_with_the_figures_of_the_same_slot_settled_in_one_transaction()
    {
        var once = await HandComputedSlot.RecordAsync(_chain);
        await once.SettleAsync();
        var paged = await PagedAsync();

        var (a, _) = await AuditAsync(once.Deployment.Ledger);
        var (b, text) = await AuditAsync(paged.Deployment.Ledger);

        Assert.True(a.Passed, Listed(a));
        Assert.True(b.Passed, Listed(b));
        Assert.Equal(a.Totals, b.Totals);
        Assert.Equal(3, b.Totals.SettledLots);
        Assert.Equal(1200, b.Totals.SettledWh);
        Assert.Empty(b.SettlementsInProgress);
        Assert.Empty(b.UnsettledSlots);

        var sa = a.SlotOf(HandComputedSlot.Slot)!;
        var sb = b.SlotOf(HandComputedSlot.Slot)!;
        Assert.Equal(SlotStatus.Settled, sb.Status);
        Assert.Equal(1, sa.SettlementTransactions);
        Assert.Equal(6, sb.SettlementTransactions);
        Assert.Equal(sa with { SettledInBlock = null, SettlementTransaction = null, SettlementTransactions = 0, Recomputed = null },
                     sb with { SettledInBlock = null, SettlementTransaction = null, SettlementTransactions = 0, Recomputed = null });
        Assert.Equal(sa.Recomputed!.Lots, sb.Recomputed!.Lots);
        Assert.Equal(sa.Recomputed.Bills, sb.Recomputed.Bills);
        Assert.Equal(sa.Recomputed.Grid, sb.Recomputed.Grid);
        Assert.Equal(sa.Recomputed.Totals, sb.Recomputed.Totals);
        Assert.Equal(HandComputedSlot.NetGrid, sb.ChainGridNet);

        Assert.Equal(a.Statements.Count, b.Statements.Count);
        foreach (var (x, y) in a.Statements.Zip(b.Statements))
        {
            Assert.Equal(x.Participant, y.Participant);
            Assert.Equal(x.Lines, y.Lines);
            Assert.Equal(x.Totals, y.Totals);
            Assert.Equal(x.Account, y.Account);
        }
        Assert.Equal(HandComputedSlot.NetB1, b.StatementOf(paged.B1)!.Lines[0].ChainNet);
        // Every account but the clearing (another ledger, another address) moved alike: same deposits, settlement in and out, balance.
        static IEnumerable<AccountBalance> Holders(AuditReport r) => r.Accounts.Where(x => x.Account != r.Ledger);
        Assert.Equal(Holders(a), Holders(b));
        Assert.Equal(0, b.AccountOf(paged.Deployment.Ledger)!.OnChain);

        Assert.Contains($"Settled in pages: slot {HandComputedSlot.Slot} in 6 transactions.", text, StringComparison.Ordinal);
        Assert.EndsWith("audit passed: 3 lots, 1 settled slots, 3 participants, 0 discrepancies" + Environment.NewLine, text, StringComparison.Ordinal);
        Assert.Contains("\"settlementTransactions\": 6", AuditReportWriter.ToJson(b), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paged_settlement_aborted_in_its_lot_pages_is_a_note_and_the_slot_settled_anew_audits_clean()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        var ledger = slot.Deployment.Ledger;
        await slot.BeginAsync();
        // A lot page with lot 2 altered (another price): the contract takes it, the first party page would refuse.
        var altered = slot.Lots.Select(l => l.LotId == 2 ? l with { PriceTicks = l.PriceTicks + 1 } : l).ToList();
        await slot.Contract.SettleLotsPageAsync(_chain.OperatorKey, slot.Order(), altered, 0, 3);
        await slot.Contract.AbortSettlementAsync(_chain.OperatorKey, HandComputedSlot.Slot);

        var (report, text) = await AuditAsync(ledger);
        Assert.True(report.Passed, Listed(report));
        var aborted = Assert.Single(report.AbortedSettlements);
        Assert.Equal((HandComputedSlot.Slot, 3L), (aborted.Slot, aborted.LotsPaged));
        Assert.Contains($"slot {HandComputedSlot.Slot}: a paged settlement was aborted in block {aborted.AbortedInBlock} after 3 lots (nothing had moved)", text, StringComparison.Ordinal);
        Assert.Empty(report.SettlementsInProgress);
        Assert.Contains(HandComputedSlot.Slot, report.UnsettledSlots); // as before it began

        // Settled anew in pages: the same figures as the hand-computed slot, the aborted page's LotSettled left aside.
        await slot.SettlePagedAsync();
        (report, text) = await AuditAsync(ledger);
        Assert.True(report.Passed, Listed(report));
        Assert.Single(report.AbortedSettlements);
        Assert.Equal(HandComputedSlot.NetS, (long)report.StatementOf(slot.S)!.Account.OnChain);
        Assert.Equal(HandComputedSlot.NetGrid, (long)report.AccountOf(slot.Grid)!.OnChain);
        Assert.Equal(3, report.Totals.SettledLots);
        Assert.Equal(0, (long)report.Totals.InClearing);
    }

    [Fact]
    public async Task A_paged_settlement_in_progress_is_a_note_and_the_money_its_pages_moved_replays()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        var ledger = slot.Deployment.Ledger;
        await slot.BeginAsync();
        await slot.PagesAsync([2], []);

        var (report, text) = await AuditAsync(ledger);

        Assert.True(report.Passed, Listed(report));
        var progress = Assert.Single(report.SettlementsInProgress);
        Assert.Equal(new SettlementInProgress(HandComputedSlot.Slot, progress.BegunInBlock, Lots: 3, LotsPaged: 2, PartiesPaged: 0, Transactions: 2), progress);
        Assert.NotNull(progress.BegunInBlock);
        Assert.Contains($"slot {HandComputedSlot.Slot}: settlement in progress, 2 of 3 lots, 0 parties paged", text, StringComparison.Ordinal);
        Assert.Equal(SlotStatus.Settling, report.SlotOf(HandComputedSlot.Slot)!.Status);
        Assert.Empty(report.UnsettledSlots); // in progress, not "not settled yet"
        Assert.DoesNotContain("not settled yet", text, StringComparison.Ordinal);
        Assert.Equal(0, report.Totals.SettledSlots);
        Assert.Equal(1, report.Totals.SlotsSettling);
        Assert.Equal(0, report.Totals.SettledLots); // LotSettled of an unfinished settlement are not counted as settled

        // The last lot and B1's party page (the first party: participants ascending): B1's net has left its account
        // for the clearing until the creditors' pages. The clearing is not a balance: the contract debits B1 and
        // credits nobody yet, so the ledger's own balanceOf stays 0 and the balances sum to totalSupply − in clearing.
        await slot.PagesAsync([1], [1], firstLot: 2, last: false);
        (report, text) = await AuditAsync(ledger);

        Assert.True(report.Passed, Listed(report));
        Assert.Contains($"slot {HandComputedSlot.Slot}: settlement in progress, 3 of 3 lots, 1 parties paged", text, StringComparison.Ordinal);
        var b1 = report.AccountOf(HandComputedSlot.Eth(slot.B1))!;
        Assert.Equal(-HandComputedSlot.NetB1, (long)b1.SettlementPaid);
        Assert.Equal(HandComputedSlot.B1Deposit + HandComputedSlot.NetB1, (long)b1.OnChain);
        Assert.Equal(b1.OnChain, b1.Replayed);
        Assert.Equal(0, (long)b1.TransfersOut); // a settlement payment, not an ordinary transfer
        var clearing = report.AccountOf(ledger)!;
        Assert.Equal(0, (long)clearing.OnChain);
        Assert.Equal(clearing.OnChain, clearing.Replayed);
        Assert.Equal(-HandComputedSlot.NetB1, (long)report.Totals.InClearing);
        Assert.Equal(HandComputedSlot.B1Deposit, (long)report.Totals.TotalSupply);
        Assert.Equal(report.Totals.TotalSupply - report.Totals.InClearing, report.Accounts.Aggregate(System.Numerics.BigInteger.Zero, (sum, x) => sum + x.OnChain));
        Assert.Contains("of which 48.36000 in the clearing of settlements in progress", text, StringComparison.Ordinal);
        Assert.Equal(0, (long)report.AccountOf(slot.Grid)!.OnChain); // the grid operator's net moves with the last page
        Assert.Empty(report.StatementOf(slot.B1)!.Lines); // no settled slot yet
        Assert.Contains("settling", text, StringComparison.Ordinal);

        // The remaining party pages finish it: the same as the hand-computed slot.
        await slot.PagesAsync([], [1, 1], firstParty: 1);
        (report, _) = await AuditAsync(ledger);

        Assert.True(report.Passed, Listed(report));
        Assert.Empty(report.SettlementsInProgress);
        Assert.Equal(6, report.SlotOf(HandComputedSlot.Slot)!.SettlementTransactions);
        Assert.Equal(HandComputedSlot.NetS, (long)report.StatementOf(slot.S)!.Account.OnChain);
        Assert.Equal(HandComputedSlot.NetGrid, (long)report.AccountOf(slot.Grid)!.OnChain);
        Assert.Equal(0, (long)report.AccountOf(ledger)!.OnChain);
        Assert.Equal(0, (long)report.Totals.InClearing);
    }

    [Fact]
    public async Task A_paged_settlement_that_pays_a_creditor_before_its_debtor_pays_in_audits_clean()
    {
        // Party pages go by participant: seller X (…5001) sorts before buyer B1 (…5002), so X is paid out of the clearing
        // a page before B1 pays in. Nobody's replayed balance goes below 0 (the clearing's is not a balance).
        var slot = await HandComputedSlot.RecordAsync(_chain);
        var x = TestLots.AddressOf(0x5001);
        const long next = HandComputedSlot.Slot + 1;
        var lot = HandComputedSlot.MakeLot(10, x, slot.B1, 1000, 2000, 0, next);
        await slot.Contract.RecordLotsAsync(_chain.OperatorKey, [lot]);
        var order = new SlotSettlementOrder(
            next, [new LotFlow(10, 1000, 1000)],
            [new SettlementParty(HandComputedSlot.Eth(TestLots.AddressOf(0xa005)), x, 0, 1000), new SettlementParty(slot.MeterB1, slot.B1, 1000, 0)],
            HandComputedSlot.Retail, HandComputedSlot.BuyBack, HandComputedSlot.Policy);
        var sorted = EnergyLedgerContract.SortParties(order.Parties);
        Assert.Equal(x, sorted[0].Participant);
        await slot.Contract.BeginSettlementAsync(_chain.OperatorKey, order);
        await slot.Contract.SettleLotsPageAsync(_chain.OperatorKey, order, [lot], 0, 1);
        await slot.Contract.SettlePartiesPageAsync(_chain.OperatorKey, next, sorted, 0, 1, last: false);

        var (report, _) = await AuditAsync(slot.Deployment.Ledger);

        Assert.True(report.Passed, Listed(report));
        var paid = report.AccountOf(HandComputedSlot.Eth(x))!;
        Assert.Equal(2_000_000, (long)paid.SettlementReceived); // 1000 Wh x 2000 ticks, before B1 paid anything
        Assert.Equal(2_000_000, (long)paid.OnChain);
        Assert.Equal(-2_000_000, (long)report.Totals.InClearing);

        await slot.Contract.SettlePartiesPageAsync(_chain.OperatorKey, next, sorted, 1, 1, last: true);
        (report, _) = await AuditAsync(slot.Deployment.Ledger);

        Assert.True(report.Passed, Listed(report));
        Assert.Equal(SlotStatus.Settled, report.SlotOf(next)!.Status);
        Assert.Equal(0, (long)report.Totals.InClearing);
    }

    [Fact]
    public async Task A_paged_settlement_that_breaks_FIFO_is_detected_as_in_one_transaction()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        // The flows of AuditTests.A_settlement_that_breaks_FIFO_is_detected_and_the_lots_named, paged.
        var order = slot.Order([new LotFlow(1, 700, 1000), new LotFlow(2, 500, 500), new LotFlow(3, 0, 0)]);
        await slot.Contract.BeginSettlementAsync(_chain.OperatorKey, order);
        await slot.Contract.SettleLotsPageAsync(_chain.OperatorKey, order, slot.Lots, 0, 2);
        await slot.Contract.SettleLotsPageAsync(_chain.OperatorKey, order, slot.Lots, 2, 1);
        var sorted = EnergyLedgerContract.SortParties(slot.Parties);
        await slot.Contract.SettlePartiesPageAsync(_chain.OperatorKey, HandComputedSlot.Slot, sorted, 0, 2, last: false);
        await slot.Contract.SettlePartiesPageAsync(_chain.OperatorKey, HandComputedSlot.Slot, sorted, 2, 1, last: true);

        var (report, _) = await AuditAsync(slot.Deployment.Ledger);

        Assert.Equal(new[] { 1L, 2L }, report.Discrepancies.Where(d => d.Kind == DiscrepancyKind.NotFifo).Select(d => d.LotId!.Value));
        var net = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.NetMismatch);
        Assert.Contains("-45.36000 JPY on chain, the settlement engine gives -48.36000 JPY", net.Message, StringComparison.Ordinal);
        Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.GridNetMismatch);
        Assert.Equal(4, report.Discrepancies.Count);
    }

    [Fact]
    public async Task A_replica_of_a_paged_settlement_audits_clean()
    {
        // The tamper tests below rest on this: replayed unchanged, the replica is the ledger.
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        await replica.ReplayAsync();

        var (report, _) = await AuditAsync(replica.Address);

        Assert.True(report.Passed, Listed(report));
        Assert.Equal(6, report.SlotOf(HandComputedSlot.Slot)!.SettlementTransactions);
        Assert.Equal(HandComputedSlot.NetS, (long)report.StatementOf(slot.S)!.Account.OnChain);
        Assert.Equal(HandComputedSlot.NetS, (long)report.StatementOf(slot.S)!.Account.SettlementReceived);
    }

    [Fact]
    public async Task A_settlement_finished_at_other_prices_than_it_began_is_named()
    {
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        // SettlementBegun(slot, retail, buy-back, policy) said retail 2500; SlotSettled and every amount used 2620.
        await replica.ReplayAsync(txs =>
        {
            var logs = txs.Single(t => t.Has(EnergyLedgerContract.SettlementBegunEvent)).Logs;
            int i = logs.FindIndex(l => l.Is(EnergyLedgerContract.SettlementBegunEvent));
            logs[i] = logs[i].WithWord(0, 2500);
        });

        var (report, _) = await AuditAsync(replica.Address);

        var d = Assert.Single(report.Discrepancies);
        Assert.Equal(DiscrepancyKind.SettlementTermsDiffer, d.Kind);
        Assert.Equal(HandComputedSlot.Slot, d.Slot);
        Assert.Contains("begun", d.Message, StringComparison.Ordinal);
        Assert.Contains("at retail 2500 and buy-back 700 ticks, policy 1; SlotSettled says retail 2620 and buy-back 700 ticks, policy 1", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lot_page_that_does_not_follow_on_is_named()
    {
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        // The second lot page (lots 1 and 2) says it starts at lot 4.
        await replica.ReplayAsync(txs =>
        {
            var logs = txs.Where(t => t.Has(EnergyLedgerContract.SettlementPageEvent)).ElementAt(1).Logs;
            int i = logs.FindIndex(l => l.Is(EnergyLedgerContract.SettlementPageEvent));
            logs[i] = logs[i].WithWord(1, 4); // data: phase, first, count
        });

        var (report, _) = await AuditAsync(replica.Address);

        var d = Assert.Single(report.Discrepancies);
        Assert.Equal(DiscrepancyKind.PagesOutOfOrder, d.Kind);
        Assert.Contains($"slot {HandComputedSlot.Slot}: a page of 2 lots from index 4 at block", d.Message, StringComparison.Ordinal);
        Assert.Contains("does not follow on: the lot pages before it settled 1 lots", d.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_LotSettled_in_another_page_transaction_than_its_page_is_named()
    {
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        // Lot 2's LotSettled moves from the second lot page's transaction to the first's: the settlement as a whole
        // still has every lot once, only the pages' counts no longer match their transactions.
        await replica.ReplayAsync(txs =>
        {
            var lotPages = txs.Where(t => t.Logs.Any(l => l.Is(EnergyLedgerContract.SettlementPageEvent) && l.Data[31] == SettlementProgress.Lots)).ToList();
            Assert.Equal(2, lotPages.Count);
            var moved = lotPages[1].Logs.First(l => l.Is(EnergyLedgerContract.LotSettledEvent));
            lotPages[1].Logs.Remove(moved);
            lotPages[0].Logs.Insert(0, moved);
        });

        var (report, _) = await AuditAsync(replica.Address);

        Assert.Equal(2, report.Discrepancies.Count);
        Assert.All(report.Discrepancies, d => Assert.Equal(DiscrepancyKind.PageCountMismatch, d.Kind));
        Assert.Contains("count 1 lots, the transaction emitted 2 LotSettled", report.Discrepancies[0].Message, StringComparison.Ordinal);
        Assert.Contains("count 2 lots, the transaction emitted 1 LotSettled", report.Discrepancies[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lot_recorded_after_the_settlement_began_is_named()
    {
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        // Lot 3's LotRecorded replayed in a transaction of its own right after SettlementBegun (still before SlotSettled).
        await replica.ReplayAsync(txs =>
        {
            var recording = txs.Single(t => t.Has(EnergyLedgerContract.LotRecordedEvent));
            var lot3 = recording.Logs.Last(l => l.Is(EnergyLedgerContract.LotRecordedEvent));
            recording.Logs.Remove(lot3);
            int begun = txs.FindIndex(t => t.Has(EnergyLedgerContract.SettlementBegunEvent));
            txs.Insert(begun + 1, new ReplicaTransaction([lot3]));
        });

        var (report, _) = await AuditAsync(replica.Address);

        var late = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.LotAfterSettlement);
        Assert.Equal(3, late.LotId);
        Assert.Contains($"lot 3 was recorded for slot {HandComputedSlot.Slot} in block", late.Message, StringComparison.Ordinal);
        Assert.Contains("after the slot's settlement began in block", late.Message, StringComparison.Ordinal);
        // Not among the lots the settlement took: its LotSettled is of a lot recorded too late, and the counts are off by one.
        Assert.Contains(report.Discrepancies, d => d.Kind == DiscrepancyKind.UnknownLotSettled && d.LotId == 3);
        Assert.Contains(report.Discrepancies, d => d.Kind == DiscrepancyKind.CountMismatch);
    }

    [Fact]
    public async Task A_LotSettled_in_the_transaction_that_began_the_settlement_is_a_stray_event()
    {
        var slot = await PagedAsync();
        var replica = await EventReplica.DeployAsync(_chain, slot.Deployment.Ledger);
        await replica.ReplayAsync(txs =>
        {
            var lastLotPage = txs.Last(t => t.Logs.Any(l => l.Is(EnergyLedgerContract.SettlementPageEvent) && l.Data[31] == SettlementProgress.Lots));
            var moved = lastLotPage.Logs.Last(l => l.Is(EnergyLedgerContract.LotSettledEvent));
            lastLotPage.Logs.Remove(moved);
            txs.Single(t => t.Has(EnergyLedgerContract.SettlementBegunEvent)).Logs.Add(moved);
        });

        var (report, _) = await AuditAsync(replica.Address);

        var stray = Assert.Single(report.Discrepancies, d => d.Kind == DiscrepancyKind.SettlementWithoutSlot);
        Assert.Equal(3, stray.LotId);
        Assert.Contains("without a SlotSettled or SettlementPage of the slot in that transaction", stray.Message, StringComparison.Ordinal);
        Assert.Contains(report.Discrepancies, d => d.Kind == DiscrepancyKind.LotNotSettled && d.LotId == 3);
        Assert.Contains(report.Discrepancies, d => d.Kind == DiscrepancyKind.PageCountMismatch);
    }

    [Fact]
    public async Task Audited_from_inside_a_paged_settlement_it_says_its_start_is_missing()
    {
        var slot = await HandComputedSlot.RecordAsync(_chain);
        await slot.BeginAsync();
        var pages = await slot.PagesAsync([1, 2], [1, 1, 1]);
        var from = pages[1].BlockNumber; // the second lot page: SettlementBegun and the first page are before the audit

        var (report, _) = await AuditAsync(slot.Deployment.Ledger, from);

        Assert.False(report.Passed);
        var first = report.Discrepancies.First(d => d.Kind == DiscrepancyKind.PagesOutOfOrder);
        Assert.Contains($"without a SettlementBegun before it (begun before block {from}, where the audit starts?)", first.Message, StringComparison.Ordinal);
        Assert.Contains(report.Discrepancies, d => d.Kind == DiscrepancyKind.PagesOutOfOrder && d.Message.Contains("does not follow on: the lot pages before it settled 0 lots", StringComparison.Ordinal));
        Assert.Empty(report.SettlementsInProgress);
    }
}
