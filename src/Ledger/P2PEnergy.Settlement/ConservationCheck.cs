namespace P2PEnergy.Settlement;

/// <summary>
/// The conservation laws of a settled slot (issue 5; DESIGN.md, Settlement: money paid = money received +
/// wheeling + grid, settled Wh never exceed metered Wh). Recomputed from the per-lot results and the metered Wh,
/// so a bill that was summed wrongly is caught.
/// </summary>
internal static class ConservationCheck
{
    public static IReadOnlyList<string> Run(SlotSettlement s)
    {
        var v = new List<string>();
        var bills = s.Bills.ToDictionary(b => b.Participant);

        foreach (var lot in s.Lots)
        {
            if (lot.SettledWh < 0) v.Add($"lot {lot.LotId}: settled {lot.SettledWh} Wh is negative");
            if (lot.SettledWh > lot.ContractedWh) v.Add($"lot {lot.LotId}: settled {lot.SettledWh} Wh > contracted {lot.ContractedWh} Wh");
            if (lot.SettledWh > lot.DeliveredWh) v.Add($"lot {lot.LotId}: settled {lot.SettledWh} Wh > delivered {lot.DeliveredWh} Wh");
            if (lot.SettledWh > lot.ConsumedWh) v.Add($"lot {lot.LotId}: settled {lot.SettledWh} Wh > consumed {lot.ConsumedWh} Wh");
            if (lot.DeliveredWh > lot.ContractedWh) v.Add($"lot {lot.LotId}: delivered {lot.DeliveredWh} Wh > contracted {lot.ContractedWh} Wh");
            if (lot.ConsumedWh > lot.ContractedWh) v.Add($"lot {lot.LotId}: consumed {lot.ConsumedWh} Wh > contracted {lot.ContractedWh} Wh");
            if (lot.SettledWh != Math.Min(lot.DeliveredWh, lot.ConsumedWh)) v.Add($"lot {lot.LotId}: settled is not min(delivered, consumed)");
            if (!bills.ContainsKey(lot.Seller)) v.Add($"lot {lot.LotId}: seller {lot.Seller} has no bill");
            if (!bills.ContainsKey(lot.Buyer)) v.Add($"lot {lot.LotId}: buyer {lot.Buyer} has no bill");
        }

        long paid = 0, received = 0;
        foreach (var bill in s.Bills)
        {
            var p = bill.Participant;
            var sells = s.Lots.Where(l => l.Seller == p).ToList();
            var buys = s.Lots.Where(l => l.Buyer == p).ToList();
            var delivered = sells.Sum(l => l.DeliveredWh);
            var consumed = buys.Sum(l => l.ConsumedWh);
            if (delivered > bill.MeteredExportWh) v.Add($"{p}: delivered {delivered} Wh to its lots > metered export {bill.MeteredExportWh} Wh");
            if (consumed > bill.MeteredImportWh) v.Add($"{p}: consumed {consumed} Wh of its lots > metered import {bill.MeteredImportWh} Wh");

            // Every Wh of the reading is on exactly one line.
            if (bill.EnergySoldWh + bill.GridExportWh != bill.MeteredExportWh) v.Add($"{p}: sold + grid export != metered export");
            if (bill.EnergyBoughtWh + bill.GridImportWh != bill.MeteredImportWh) v.Add($"{p}: bought + grid import != metered import");

            // The bill's lines are the sums of its lots' lines plus the unallocated rest at grid prices.
            Expect(v, p, "energy sold Wh", bill.EnergySoldWh, sells.Sum(l => l.SettledWh));
            Expect(v, p, "energy sold money", bill.EnergySoldMoney, sells.Sum(l => l.EnergyMoney));
            Expect(v, p, "energy bought Wh", bill.EnergyBoughtWh, buys.Sum(l => l.SettledWh));
            Expect(v, p, "energy bought money", bill.EnergyBoughtMoney, buys.Sum(l => l.EnergyMoney));
            Expect(v, p, "wheeling", bill.WheelingPaid, buys.Sum(l => l.WheelingMoney));
            Expect(v, p, "grid import money", bill.GridImportMoney,
                buys.Sum(l => l.ShortfallGridMoney) + (bill.MeteredImportWh - consumed) * s.Prices.RetailTicks);
            Expect(v, p, "grid export money", bill.GridExportMoney,
                sells.Sum(l => l.OverDeliveryGridMoney) + (bill.MeteredExportWh - delivered) * s.Prices.BuyBackTicks);
            Expect(v, p, "compensation paid", bill.CompensationPaid,
                sells.Sum(l => l.ShortfallCompensation) + buys.Sum(l => l.UnderconsumptionCompensation));
            Expect(v, p, "compensation received", bill.CompensationReceived,
                buys.Sum(l => l.ShortfallCompensation) + sells.Sum(l => l.UnderconsumptionCompensation));
            paid += bill.Paid;
            received += bill.Received;
        }

        // Per lot money is the lot's Wh at its prices.
        foreach (var lot in s.Lots)
        {
            if (lot.EnergyMoney != lot.SettledWh * lot.PriceTicks) v.Add($"lot {lot.LotId}: energy money != settled × price");
            if (lot.WheelingMoney != lot.SettledWh * lot.WheelingFeeTicks) v.Add($"lot {lot.LotId}: wheeling != settled × fee");
            if (lot.ShortfallGridMoney != lot.ShortfallWh * s.Prices.RetailTicks) v.Add($"lot {lot.LotId}: shortfall grid money != shortfall × retail");
            if (lot.OverDeliveryGridMoney != lot.OverDeliveredWh * s.Prices.BuyBackTicks) v.Add($"lot {lot.LotId}: over-delivery grid money != over × buy-back");
        }

        // The grid operator's account against the bills.
        Expect(v, "grid", "wheeling received", s.Grid.WheelingReceived, s.Lots.Sum(l => l.WheelingMoney));
        Expect(v, "grid", "retail Wh", s.Grid.RetailWh, s.Bills.Sum(b => b.GridImportWh));
        Expect(v, "grid", "retail money", s.Grid.RetailMoney, s.Bills.Sum(b => b.GridImportMoney));
        Expect(v, "grid", "buy-back Wh", s.Grid.BuyBackWh, s.Bills.Sum(b => b.GridExportWh));
        Expect(v, "grid", "buy-back money", s.Grid.BuyBackMoney, s.Bills.Sum(b => b.GridExportMoney));

        // Energy: the grid supplies what was imported and not settled, takes what was exported and not settled.
        var settled = s.Lots.Sum(l => l.SettledWh);
        var import = s.Bills.Sum(b => b.MeteredImportWh);
        var export = s.Bills.Sum(b => b.MeteredExportWh);
        if (settled > import || settled > export) v.Add($"settled {settled} Wh exceeds metered import {import} Wh or export {export} Wh");
        if (s.Grid.RetailWh != import - settled) v.Add("grid retail Wh != metered import − settled");
        if (s.Grid.BuyBackWh != export - settled) v.Add("grid buy-back Wh != metered export − settled");

        // Money: what participants pay = what participants receive + wheeling + grid (retail − buy-back).
        if (paid != received + s.Grid.WheelingReceived + s.Grid.RetailMoney - s.Grid.BuyBackMoney)
        {
            v.Add($"participants paid {paid} != received {received} + wheeling {s.Grid.WheelingReceived} + retail {s.Grid.RetailMoney} − buy-back {s.Grid.BuyBackMoney}");
        }
        if (paid != s.Totals.ParticipantsPaid || received != s.Totals.ParticipantsReceived) v.Add("totals disagree with the bills");
        return v;
    }

    private static void Expect(List<string> v, object who, string line, long actual, long expected)
    {
        if (actual != expected) v.Add($"{who}: {line} is {actual}, expected {expected}");
    }
}
