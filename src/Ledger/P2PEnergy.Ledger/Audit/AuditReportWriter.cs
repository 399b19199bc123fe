using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace P2PEnergy.Ledger.Audit;

/// <summary>
/// An <see cref="AuditReport"/> for people (plain-text tables) or for programs (one JSON document).
/// Money in the tables is exact JPY with 5 decimals (<see cref="JpyText.Exact"/>); the only rounded figure is each
/// participant's balance, shown besides rounded to 0.01 JPY half away from zero and marked as such.
/// </summary>
public static class AuditReportWriter
{
    /// <summary>
    /// The last line: "audit passed: N lots, M settled slots, K participants, 0 discrepancies", or
    /// "audit failed: ... , D discrepancies".
    /// </summary>
    public static string SummaryLine(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var t = report.Totals;
        return string.Create(CultureInfo.InvariantCulture,
            $"audit {(report.Passed ? "passed" : "failed")}: {t.Lots} lots, {t.SettledSlots} settled slots, {t.Participants} participants, {report.Discrepancies.Count} discrepancies");
    }

    public static void WriteText(AuditReport report, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(output);
        var o = new Lines(output);
        o.Line($"Ledger {report.Ledger.ToLowerHex()} audited at block {report.Block} (events from block {report.FromBlock}); grid operator {report.GridOperator?.ToLowerHex() ?? "not set"}.");
        o.Line("Energy in Wh; money in JPY, exact to the ledger's unit of 0.00001 JPY (no rounding) unless marked rounded.");
        o.Line();

        o.Line("Slots");
        o.Line($"  {"slot",10} {"status",-9} {"lots",5} {"contracted Wh",13} {"delivered Wh",12} {"consumed Wh",11} {"settled Wh",10} {"parties",7} {"retail",6} {"buy-back",8} {"policy",6} {"wheeling JPY",14} {"grid net JPY",14} {"order root",10}");
        foreach (var s in report.Slots)
        {
            var r = s.Recomputed;
            o.Line($"  {s.Slot,10} {StatusText(s.Status),-9} {s.Lots,5} {s.ContractedWh,13} {Opt(r?.Totals.DeliveredWh),12} {Opt(r?.Totals.ConsumedWh),11} {Opt(r?.Totals.SettledWh),10} {(s.Status == SlotStatus.Unsettled ? "-" : s.Parties.ToString(CultureInfo.InvariantCulture)),7} {Opt(s.RetailTicks),6} {Opt(s.BuyBackTicks),8} {Opt(s.Policy),6} {OptJpy(r?.Grid.WheelingReceived),14} {OptJpy(s.ChainGridNet),14} {(s.OrderRoot is null ? "no" : "yes"),10}");
        }
        o.Line($"  {report.Totals.Lots} lots, {report.Totals.ContractedWh} Wh contracted; {report.Totals.SettledSlots} slots settled ({report.Totals.SettledLots} lots, {report.Totals.SettledWh} Wh settled), {report.Totals.UnsettledSlots} not yet{(report.Totals.SlotsSettling > 0 ? $", {report.Totals.SlotsSettling} being settled" : "")}.");
        o.Line("  Delivered, consumed and settled Wh and wheeling as the settlement engine gives them from chain data; grid net as settled on chain.");
        var paged = report.Slots.Where(s => s.Status == SlotStatus.Settled && s.SettlementTransactions > 1).Select(s => $"slot {s.Slot} in {s.SettlementTransactions} transactions").ToList();
        if (paged.Count > 0)
        {
            o.Line($"  Settled in pages: {string.Join(", ", paged)}.");
        }
        o.Line();

        foreach (var st in report.Statements)
        {
            o.Line($"Statement of {st.Participant}: {st.LotsSold} lots sold, {st.LotsBought} bought, {st.Lines.Count} settled slots");
            if (st.Lines.Count > 0)
            {
                o.Line($"  {"slot",10} {"import Wh",9} {"export Wh",9} {"bought Wh",9} {"bought JPY",13} {"sold Wh",9} {"sold JPY",13} {"wheeling JPY",13} {"grid in Wh",10} {"grid in JPY",13} {"grid out Wh",11} {"grid out JPY",13} {"comp paid JPY",13} {"comp recv JPY",13} {"net JPY",14} {"chain net JPY",14}");
                foreach (var l in st.Lines)
                {
                    var b = l.Bill;
                    o.Line($"  {l.Slot,10} {b.MeteredImportWh,9} {b.MeteredExportWh,9} {b.EnergyBoughtWh,9} {J(b.EnergyBoughtMoney),13} {b.EnergySoldWh,9} {J(b.EnergySoldMoney),13} {J(b.WheelingPaid),13} {b.GridImportWh,10} {J(b.GridImportMoney),13} {b.GridExportWh,11} {J(b.GridExportMoney),13} {J(b.CompensationPaid),13} {J(b.CompensationReceived),13} {J(b.Net),14} {J(l.ChainNet),14}{(l.Meter.IsZero ? "  (no reading: 0/0)" : string.Empty)}");
                }
                var t = st.Totals;
                o.Line($"  {"total",10} {t.MeteredImportWh,9} {t.MeteredExportWh,9} {t.EnergyBoughtWh,9} {J(t.EnergyBoughtMoney),13} {t.EnergySoldWh,9} {J(t.EnergySoldMoney),13} {J(t.WheelingPaid),13} {t.GridImportWh,10} {J(t.GridImportMoney),13} {t.GridExportWh,11} {J(t.GridExportMoney),13} {J(t.CompensationPaid),13} {J(t.CompensationReceived),13} {J(t.Net),14} {J(t.ChainNet),14}");
            }
            var a = st.Account;
            o.Line($"  account: deposited {J(a.Deposited)}, withdrawn {J(a.Withdrawn)}, settlements +{J(a.SettlementReceived)} -{J(a.SettlementPaid)}, transfers +{J(a.TransfersIn)} -{J(a.TransfersOut)}; balance {J(a.OnChain)} JPY (rounded half away from zero to 0.01 JPY: {JpyText.RoundedToSen(a.OnChain)} JPY)");
            o.Line();
        }

        o.Line("Accounts (balances replayed from Transfer events, and balanceOf on chain)");
        o.Line($"  {"account",-42} {"role",-26} {"deposited",14} {"withdrawn",14} {"settled in",14} {"settled out",14} {"transfers in",14} {"transfers out",14} {"replayed",14} {"balanceOf",14}");
        foreach (var a in report.Accounts)
        {
            o.Line($"  {a.Account.ToLowerHex(),-42} {a.Role,-26} {J(a.Deposited),14} {J(a.Withdrawn),14} {J(a.SettlementReceived),14} {J(a.SettlementPaid),14} {J(a.TransfersIn),14} {J(a.TransfersOut),14} {J(a.Replayed),14} {J(a.OnChain),14}");
        }
        o.Line($"  deposits {J(report.Totals.Deposited)} - withdrawals {J(report.Totals.Withdrawn)}; totalSupply {J(report.Totals.TotalSupply)}{(report.Totals.InClearing.IsZero ? "" : $", of which {J(report.Totals.InClearing)} in the clearing of settlements in progress (paid in, not yet paid out)")}.");
        o.Line();

        if (report.UnsettledSlots.Count > 0 || report.SettlementsInProgress.Count > 0 || report.AbortedSettlements.Count > 0 || report.SlotsWithoutOrderRoot.Count > 0 || report.ComparedWithExchange)
        {
            o.Line("Notes (not discrepancies)");
            foreach (var slot in report.UnsettledSlots)
            {
                o.Line($"  slot {slot}: {report.SlotOf(slot)?.Lots ?? 0} lots recorded, not settled yet");
            }
            foreach (var p in report.SettlementsInProgress)
            {
                o.Line($"  slot {p.Slot}: settlement in progress, {p.LotsPaged} of {p.Lots} lots, {p.PartiesPaged} parties paged");
            }
            foreach (var a in report.AbortedSettlements)
            {
                o.Line($"  slot {a.Slot}: a paged settlement was aborted in block {a.AbortedInBlock} after {a.LotsPaged} lots (nothing had moved)");
            }
            foreach (var slot in report.SlotsWithoutOrderRoot)
            {
                o.Line($"  slot {slot}: lots recorded, no order root committed");
            }
            if (report.ComparedWithExchange)
            {
                o.Line($"  compared with the exchange's {report.ExchangeLots} lots");
            }
            o.Line();
        }

        if (!report.Passed)
        {
            o.Line("Discrepancies");
            foreach (var d in report.Discrepancies)
            {
                o.Line($"  {d.Message}");
            }
        }
        o.Line(SummaryLine(report));
    }

    /// <summary>The report as one JSON document: addresses in lower-case hex, Wh and 1e-5 JPY as integers (token amounts as strings).</summary>
    public static string ToJson(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var document = new
        {
            ledger = report.Ledger.ToLowerHex(),
            fromBlock = report.FromBlock,
            block = report.Block,
            gridOperator = report.GridOperator?.ToLowerHex(),
            passed = report.Passed,
            summary = SummaryLine(report),
            discrepancies = report.Discrepancies.Select(d => new
            {
                kind = d.Kind.ToString(),
                code = (int)d.Kind,
                message = d.Message,
                slot = d.Slot,
                lotId = d.LotId,
                account = d.Account?.ToLowerHex(),
            }),
            slots = report.Slots.Select(s => new
            {
                slot = s.Slot,
                status = s.Status.ToString(),
                lots = s.Lots,
                contractedWh = s.ContractedWh,
                orderRoot = s.OrderRoot,
                settledInBlock = s.SettledInBlock,
                settlementTransaction = s.SettlementTransaction,
                settlementTransactions = s.SettlementTransactions,
                parties = s.Parties,
                retailTicks = s.RetailTicks,
                buyBackTicks = s.BuyBackTicks,
                policy = s.Policy,
                readingsRoot = s.ReadingsRoot,
                chainGridNet = s.ChainGridNet,
                recomputed = s.Recomputed is { } r ? new
                {
                    deliveredWh = r.Totals.DeliveredWh,
                    consumedWh = r.Totals.ConsumedWh,
                    settledWh = r.Totals.SettledWh,
                    energyMoney = r.Totals.EnergyMoney,
                    wheeling = r.Grid.WheelingReceived,
                    gridRetailWh = r.Grid.RetailWh,
                    gridRetailMoney = r.Grid.RetailMoney,
                    gridBuyBackWh = r.Grid.BuyBackWh,
                    gridBuyBackMoney = r.Grid.BuyBackMoney,
                    gridNet = r.Grid.Net,
                    lots = r.Lots.Select(l => new
                    {
                        lotId = l.LotId,
                        contractedWh = l.ContractedWh,
                        deliveredWh = l.DeliveredWh,
                        consumedWh = l.ConsumedWh,
                        settledWh = l.SettledWh,
                    }),
                } : null,
            }),
            statements = report.Statements.Select(st => new
            {
                participant = st.Participant.ToString(),
                lotsSold = st.LotsSold,
                lotsBought = st.LotsBought,
                slots = st.Lines.Select(l => new
                {
                    slot = l.Slot,
                    meter = l.Meter.IsZero ? null : l.Meter.ToLowerHex(),
                    importWh = l.Bill.MeteredImportWh,
                    exportWh = l.Bill.MeteredExportWh,
                    boughtWh = l.Bill.EnergyBoughtWh,
                    boughtMoney = l.Bill.EnergyBoughtMoney,
                    soldWh = l.Bill.EnergySoldWh,
                    soldMoney = l.Bill.EnergySoldMoney,
                    wheelingPaid = l.Bill.WheelingPaid,
                    gridImportWh = l.Bill.GridImportWh,
                    gridImportMoney = l.Bill.GridImportMoney,
                    gridExportWh = l.Bill.GridExportWh,
                    gridExportMoney = l.Bill.GridExportMoney,
                    compensationPaid = l.Bill.CompensationPaid,
                    compensationReceived = l.Bill.CompensationReceived,
                    net = l.Bill.Net,
                    chainNet = l.ChainNet,
                }),
                totals = st.Totals,
                balance = Amounts(st.Account),
            }),
            accounts = report.Accounts.Select(Amounts),
            unsettledSlots = report.UnsettledSlots,
            settlementsInProgress = report.SettlementsInProgress.Select(p => new
            {
                slot = p.Slot,
                begunInBlock = p.BegunInBlock,
                lots = p.Lots,
                lotsPaged = p.LotsPaged,
                partiesPaged = p.PartiesPaged,
                transactions = p.Transactions,
            }),
            abortedSettlements = report.AbortedSettlements.Select(a => new
            {
                slot = a.Slot,
                begunInBlock = a.BegunInBlock,
                abortedInBlock = a.AbortedInBlock,
                lotsPaged = a.LotsPaged,
            }),
            slotsWithoutOrderRoot = report.SlotsWithoutOrderRoot,
            comparedWithExchange = report.ComparedWithExchange,
            exchangeLots = report.ExchangeLots,
            totals = new
            {
                lots = report.Totals.Lots,
                contractedWh = report.Totals.ContractedWh,
                settledSlots = report.Totals.SettledSlots,
                unsettledSlots = report.Totals.UnsettledSlots,
                slotsSettling = report.Totals.SlotsSettling,
                settledLots = report.Totals.SettledLots,
                settledWh = report.Totals.SettledWh,
                participants = report.Totals.Participants,
                energyMoney = report.Totals.EnergyMoney,
                wheelingMoney = report.Totals.WheelingMoney,
                gridNet = report.Totals.GridNet,
                deposited = S(report.Totals.Deposited),
                withdrawn = S(report.Totals.Withdrawn),
                inClearing = S(report.Totals.InClearing),
                totalSupply = S(report.Totals.TotalSupply),
            },
        };
        return JsonSerializer.Serialize(document, JsonOptions);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private static object Amounts(AccountBalance a) => new
    {
        account = a.Account.ToLowerHex(),
        role = a.Role,
        deposited = S(a.Deposited),
        withdrawn = S(a.Withdrawn),
        settlementReceived = S(a.SettlementReceived),
        settlementPaid = S(a.SettlementPaid),
        transfersIn = S(a.TransfersIn),
        transfersOut = S(a.TransfersOut),
        replayed = S(a.Replayed),
        onChain = S(a.OnChain),
    };

    // Token amounts are uint256 on chain: strings, so that no JSON reader loses digits.
    private static string S(BigInteger value) => value.ToString(CultureInfo.InvariantCulture);

    private static string J(BigInteger units) => JpyText.Exact(units);

    private static string StatusText(SlotStatus status) => status switch
    {
        SlotStatus.Settled => "settled",
        SlotStatus.Settling => "settling",
        _ => "unsettled",
    };

    private static string Opt<T>(T? value) where T : struct, IFormattable =>
        value is { } v ? v.ToString(null, CultureInfo.InvariantCulture) : "-";

    private static string OptJpy(long? units) => units is { } u ? JpyText.Exact(u) : "-";

    private sealed class Lines(TextWriter output)
    {
        public void Line(string text = "") => output.WriteLine(text.TrimEnd());
    }
}
