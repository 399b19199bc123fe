using R = P2PEnergy.Report;

namespace P2PEnergy.Simulator.Day;

/// <summary>The simulator's <see cref="DayResult"/> as the report library's input (P2PEnergy.Report.SimulationResult).</summary>
public static class ReportMapping
{
    /// <summary>Why a day without --rpc has no audit in its report.</summary>
    public const string AuditNotRun = "the day ran without --rpc; audit the ledger from the chain alone with `day --rpc URL --deployment FILE` or `p2penergy-ledger audit`";

    /// <summary>
    /// The report's input. Chain figures: with the day's audit (<see cref="DayResult.Audit"/>), lots of the run's slots
    /// on chain as the auditor found them, and transactions and gas from the receipts of the ledger's transactions
    /// mined during the day; without it, the exchange's LedgerStatus. The verdict: <paramref name="audit"/> when given
    /// (report --audit), else the day's audit, else "not run".
    /// </summary>
    public static R.SimulationResult ToReportInput(DayResult r, R.AuditResult? audit = null)
    {
        var byId = r.Participants.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var scenario = new R.Scenario
        {
            Name = r.Run.Scenario,
            Seed = checked((long)r.Run.Seed),
            Mechanism = r.Run.Mechanism == "continuous" ? R.Mechanism.Continuous : R.Mechanism.CallAuction,
            Days = r.Run.Days,
            GridEmissionFactor = R.GridEmissionFactor.TokyoAreaAssumption,
            SlotSeconds = r.Run.SlotSeconds,
            UtcOffset = TimeSpan.FromMinutes(r.Run.UtcOffsetMinutes),
        };
        var participants = r.Participants.Select(p => new R.Participant(p.Address, p.Id, TypeOf(p.Kind), p.Zone.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var slots = r.Slots.Select(s => new R.MarketSlot
        {
            Slot = s.Slot,
            RetailTicks = s.RetailTicks,
            BuyBackTicks = s.BuyBackTicks,
            ClearingPrices = s.ClearingPrices.Select(p => new R.ClearingPrice(p.Product == "green" ? R.Product.Green : R.Product.Standard, p.Ticks)).ToList(),
            RenewableTradedWh = s.RenewableTradedWh,
            MixedTradedWh = s.MixedTradedWh,
            LotCount = s.LotCount,
        }).ToList();
        var rows = r.ParticipantSlots.Select(p =>
        {
            var who = byId[p.Participant];
            var phev = p.Kind == "phev";
            return new R.ParticipantSlot
            {
                Participant = who.Address,
                Slot = p.Slot,
                // The report's loads: a PHEV's is what it is charged with, its generation what it discharges; a
                // home battery's charging is not load (it counts when used), so a home's load is its consumption.
                LoadWh = phev ? p.ChargedWh : p.LoadWh,
                GenerationWh = phev ? p.DischargedWh : p.PvWh,
                BoughtWh = p.BoughtWh,
                BoughtMoney = p.BoughtMoney,
                // Renewable Wh of its lots, at most what was settled (a shortfall is not told apart by source).
                BoughtRenewableWh = Math.Min(p.TradedBoughtRenewableWh, p.BoughtWh),
                SoldWh = p.SoldWh,
                SoldMoney = p.SoldMoney,
                WheelingPaid = p.WheelingPaid,
                GridImportWh = p.GridImportWh,
                GridImportMoney = p.GridImportMoney,
                GridExportWh = p.GridExportWh,
                GridExportMoney = p.GridExportMoney,
                CompensationPaid = p.CompensationPaid,
                CompensationReceived = p.CompensationReceived,
                Storage = p.StorageWh is { } e ? new R.StorageState(Math.Min(e, who.StorageCapacityWh), who.StorageCapacityWh) : null,
                PetrolMoney = p.PetrolMoney,
            };
        }).ToList();
        var baselines = r.Baseline.Select(b =>
        {
            return new R.BaselineSlot
            {
                Participant = byId[b.Participant].Address,
                Slot = b.Slot,
                GridImportWh = b.GridImportWh,
                GridImportMoney = b.GridImportMoney,
                GridExportWh = b.GridExportWh,
                GridExportMoney = b.GridExportMoney,
                PetrolMoney = b.PetrolMoney,
            };
        }).ToList();
        var c = r.Chain;
        R.ChainSummary chain;
        string chainAssumption;
        if (r.Audit is { } a)
        {
            var u = a.Usage;
            chain = new R.ChainSummary(a.RunLotsOnChain, u.Transactions, new R.GasUsed(u.RecordingGas, u.OrderRootGas, u.SettlementGas),
                audit ?? new R.AuditResult(a.Passed, a.Discrepancies));
            chainAssumption = $"Chain figures: lots of the run's slots on chain as the ledger auditor rebuilt them from the chain's events (ledger {a.Ledger}, block {a.Block}); "
                + $"transactions and gas from the receipts of the ledger's transactions mined during the day (blocks {u.FromBlock}-{u.ToBlock}): recordLots (recording), commitOrderRoot (order roots), settleSlot, paged settlement (beginSettlement and every page) and deposits (settlement).";
        }
        else
        {
            chain = new R.ChainSummary(c.LotsRecorded + c.LotsFoundOnChain, c.Transactions,
                new R.GasUsed(c.GasUsed, 0, c.SettlementGasUsed),
                audit ?? R.AuditResult.NotRun(AuditNotRun));
            chainAssumption = "Chain figures: the exchange's LedgerStatus since it started; transactions are the lot recorder's; gas_used (lot recording and order roots, not split) and settlement_gas_used.";
        }
        var assumptions = r.Assumptions.Append(chainAssumption).ToList();
        return new R.SimulationResult
        {
            Scenario = scenario,
            Participants = participants,
            Slots = slots,
            ParticipantSlots = rows,
            Baselines = baselines,
            Chain = chain,
            Assumptions = assumptions,
        };
    }

    private static R.ParticipantType TypeOf(string kind) => kind switch
    {
        "household" => R.ParticipantType.Household,
        "prosumer" => R.ParticipantType.Prosumer,
        "office" => R.ParticipantType.Office,
        "phev" => R.ParticipantType.Phev,
        // A home with a battery, or a battery on its own meter: storage without a car.
        _ => R.ParticipantType.HomeWithBattery,
    };
}
