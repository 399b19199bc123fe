using P2PEnergy.Exchange;

namespace P2PEnergy.Settlement;

/// <summary>
/// Settles one slot's lots against its meter readings (issue 5; the exact rules are docs/settlement-rules.md).
/// Pure: no I/O, no clock; the result depends only on the inputs as sets, not on the order they are given in.
/// All money is exact (Wh × ticks = 1e-5 JPY) under checked arithmetic: absurd inputs throw
/// <see cref="OverflowException"/>, never wrap.
/// </summary>
public static class SettlementEngine
{
    /// <summary>
    /// Settles <paramref name="slot"/>. Every seller and buyer of a lot needs a reading
    /// (else <see cref="SettlementError.MissingReading"/>; see <see cref="MissingReadings.TreatAsZero"/>);
    /// participants with a reading and no lot are billed against the grid only.
    /// </summary>
    /// <exception cref="SettlementInputException">The inputs are inconsistent; the first problem found is named.</exception>
    public static SlotSettlement Settle(
        long slot,
        IEnumerable<Lot> lots,
        IEnumerable<MeterReading> readings,
        GridPrices prices,
        SettlementPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(lots);
        ArgumentNullException.ThrowIfNull(readings);
        policy ??= SettlementPolicy.Default;

        if (slot <= 0)
        {
            Fail(SettlementError.InvalidSlot, $"slot index must be positive, not {slot}");
        }
        if (prices.RetailTicks < 0 || prices.BuyBackTicks < 0)
        {
            Fail(SettlementError.NegativeGridPrice, $"grid prices must not be negative (retail {prices.RetailTicks}, buy-back {prices.BuyBackTicks})");
        }
        if (!Enum.IsDefined(policy.ShortfallCompensation))
        {
            Fail(SettlementError.InvalidPolicy, $"unknown shortfall compensation rule {policy.ShortfallCompensation}");
        }

        var sortedReadings = SortedReadings(slot, readings);
        var sortedLots = SortedLots(slot, lots);

        var index = new Dictionary<Address, int>(sortedReadings.Length);
        for (var i = 0; i < sortedReadings.Length; i++)
        {
            index.Add(sortedReadings[i].Participant, i);
        }

        var bills = new BillBuilder[sortedReadings.Length];
        var exportLeft = new long[sortedReadings.Length];
        var importLeft = new long[sortedReadings.Length];
        for (var i = 0; i < sortedReadings.Length; i++)
        {
            bills[i] = new BillBuilder();
            exportLeft[i] = sortedReadings[i].ExportWh;
            importLeft[i] = sortedReadings[i].ImportWh;
        }

        var lotResults = new LotSettlement[sortedLots.Length];
        for (var k = 0; k < sortedLots.Length; k++)
        {
            var lot = sortedLots[k];
            var s = PartyIndex(index, lot, lot.Seller, "seller");
            var b = PartyIndex(index, lot, lot.Buyer, "buyer");

            // FIFO by lot id (DESIGN.md, Settlement): lots are visited in ascending id, so each participant's
            // export fills its sell lots, and its import its buy lots, in that order, each up to its contracted Wh.
            var delivered = Math.Min(exportLeft[s], lot.EnergyWh);
            exportLeft[s] -= delivered;
            var consumed = Math.Min(importLeft[b], lot.EnergyWh);
            importLeft[b] -= consumed;

            // DESIGN.md, Settlement: settled Wh = min(what the seller delivered to it, what the buyer consumed of it).
            var settled = Math.Min(delivered, consumed);
            var shortfall = consumed - settled;
            var over = delivered - settled;

            var result = new LotSettlement(
                lot.LotId,
                lot.Seller,
                lot.Buyer,
                lot.PriceTicks,
                lot.WheelingFeeTicks,
                ContractedWh: lot.EnergyWh,
                DeliveredWh: delivered,
                ConsumedWh: consumed,
                SettledWh: settled,
                // DESIGN.md, Wheeling: the buyer pays price + wheeling, the seller receives the price.
                EnergyMoney: settled * lot.PriceTicks,
                WheelingMoney: settled * lot.WheelingFeeTicks,
                // DESIGN.md, Settlement: the buyer is supplied by the grid at retail for what was not delivered ...
                ShortfallGridMoney: shortfall * prices.RetailTicks,
                // ... and the seller compensates the difference to the lot price (configurable).
                ShortfallCompensation: shortfall * policy.ShortfallRateTicks(lot.PriceTicks, lot.WheelingFeeTicks, prices),
                // DESIGN.md, Grid fallback: energy not taken by the market is settled with the grid at buy-back.
                OverDeliveryGridMoney: over * prices.BuyBackTicks,
                UnderconsumptionCompensation: over * policy.UnderconsumptionRateTicks(lot.PriceTicks, prices));
            lotResults[k] = result;

            ref var seller = ref bills[s];
            seller.EnergySoldWh += settled;
            seller.EnergySoldMoney += result.EnergyMoney;
            seller.GridExportWh += over;
            seller.GridExportMoney += result.OverDeliveryGridMoney;
            seller.CompensationPaid += result.ShortfallCompensation;
            seller.CompensationReceived += result.UnderconsumptionCompensation;

            ref var buyer = ref bills[b];
            buyer.EnergyBoughtWh += settled;
            buyer.EnergyBoughtMoney += result.EnergyMoney;
            buyer.WheelingPaid += result.WheelingMoney;
            buyer.GridImportWh += shortfall;
            buyer.GridImportMoney += result.ShortfallGridMoney;
            buyer.CompensationReceived += result.ShortfallCompensation;
            buyer.CompensationPaid += result.UnderconsumptionCompensation;
        }

        var billList = new Bill[sortedReadings.Length];
        for (var i = 0; i < sortedReadings.Length; i++)
        {
            // DESIGN.md, Grid fallback: unmatched energy is settled with the grid; export allocated to no sell lot
            // is sold at buy-back, import allocated to no buy lot is bought at retail.
            ref var bill = ref bills[i];
            bill.GridExportWh += exportLeft[i];
            bill.GridExportMoney += exportLeft[i] * prices.BuyBackTicks;
            bill.GridImportWh += importLeft[i];
            bill.GridImportMoney += importLeft[i] * prices.RetailTicks;
            billList[i] = bill.Build(sortedReadings[i], slot);
        }

        var grid = new GridAccount(
            WheelingReceived: billList.Sum(x => x.WheelingPaid),
            RetailWh: billList.Sum(x => x.GridImportWh),
            RetailMoney: billList.Sum(x => x.GridImportMoney),
            BuyBackWh: billList.Sum(x => x.GridExportWh),
            BuyBackMoney: billList.Sum(x => x.GridExportMoney));
        var totals = new SlotTotals(
            ContractedWh: lotResults.Sum(x => x.ContractedWh),
            DeliveredWh: lotResults.Sum(x => x.DeliveredWh),
            ConsumedWh: lotResults.Sum(x => x.ConsumedWh),
            SettledWh: lotResults.Sum(x => x.SettledWh),
            MeteredImportWh: billList.Sum(x => x.MeteredImportWh),
            MeteredExportWh: billList.Sum(x => x.MeteredExportWh),
            EnergyMoney: lotResults.Sum(x => x.EnergyMoney),
            CompensationMoney: lotResults.Sum(x => x.ShortfallCompensation + x.UnderconsumptionCompensation),
            ParticipantsPaid: billList.Sum(x => x.Paid),
            ParticipantsReceived: billList.Sum(x => x.Received));

        return new SlotSettlement(slot, prices, policy, lotResults, billList, grid, totals);
    }

    private static MeterReading[] SortedReadings(long slot, IEnumerable<MeterReading> readings)
    {
        // Checked in ascending address order, so the error reported does not depend on the input order.
        var sorted = readings.ToArray();
        Array.Sort(sorted, static (x, y) => x.Participant.CompareTo(y.Participant));
        for (var i = 0; i < sorted.Length; i++)
        {
            var r = sorted[i];
            if (r.Participant.IsZero)
            {
                Fail(SettlementError.ReadingParticipantMissing, "a meter reading has no participant (zero address)");
            }
            if (i > 0 && r.Participant == sorted[i - 1].Participant)
            {
                Fail(SettlementError.DuplicateReading, $"{r.Participant} has more than one reading for slot {slot}");
            }
            if (r.Slot != slot)
            {
                Fail(SettlementError.ReadingOfAnotherSlot, $"the reading of {r.Participant} is for slot {r.Slot}, not {slot}");
            }
            if (r.ImportWh < 0 || r.ExportWh < 0)
            {
                Fail(SettlementError.NegativeReading, $"the reading of {r.Participant} is negative (import {r.ImportWh} Wh, export {r.ExportWh} Wh)");
            }
        }
        return sorted;
    }

    private static Lot[] SortedLots(long slot, IEnumerable<Lot> lots)
    {
        // Checked in ascending lot id order, so the error reported does not depend on the input order.
        var sorted = lots.ToArray();
        Array.Sort(sorted, static (x, y) => x.LotId.CompareTo(y.LotId));
        for (var i = 0; i < sorted.Length; i++)
        {
            var lot = sorted[i];
            if (i > 0 && lot.LotId == sorted[i - 1].LotId)
            {
                Fail(SettlementError.DuplicateLotId, $"lot id {lot.LotId} appears more than once");
            }
            if (lot.Slot != slot)
            {
                Fail(SettlementError.LotOfAnotherSlot, $"lot {lot.LotId} is for slot {lot.Slot}, not {slot}");
            }
            if (lot.EnergyWh <= 0)
            {
                Fail(SettlementError.LotEnergyNotPositive, $"lot {lot.LotId} has {lot.EnergyWh} Wh");
            }
            if (lot.PriceTicks < 0)
            {
                Fail(SettlementError.LotPriceNegative, $"lot {lot.LotId} has a negative price ({lot.PriceTicks} ticks)");
            }
            if (lot.WheelingFeeTicks < 0)
            {
                Fail(SettlementError.LotWheelingFeeNegative, $"lot {lot.LotId} has a negative wheeling fee ({lot.WheelingFeeTicks} ticks)");
            }
            if (lot.Seller.IsZero || lot.Buyer.IsZero)
            {
                Fail(SettlementError.LotPartyMissing, $"lot {lot.LotId} has no seller or no buyer (zero address)");
            }
            if (lot.Seller == lot.Buyer)
            {
                // The exchange prevents self-trades (docs/matching-rules.md), so such a lot is a corrupt input.
                Fail(SettlementError.LotSellerIsBuyer, $"lot {lot.LotId} has {lot.Seller} as both seller and buyer");
            }
        }
        return sorted;
    }

    private static int PartyIndex(Dictionary<Address, int> index, Lot lot, Address party, string role)
    {
        if (!index.TryGetValue(party, out var i))
        {
            Fail(SettlementError.MissingReading, $"{role} {party} of lot {lot.LotId} has no meter reading for slot {lot.Slot}");
        }
        return i;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(SettlementError error, string message) => throw new SettlementInputException(error, message);

    private struct BillBuilder
    {
        public long EnergyBoughtWh;
        public long EnergyBoughtMoney;
        public long EnergySoldWh;
        public long EnergySoldMoney;
        public long WheelingPaid;
        public long GridImportWh;
        public long GridImportMoney;
        public long GridExportWh;
        public long GridExportMoney;
        public long CompensationPaid;
        public long CompensationReceived;

        public readonly Bill Build(MeterReading reading, long slot) => new(
            reading.Participant,
            slot,
            reading.ImportWh,
            reading.ExportWh,
            EnergyBoughtWh,
            EnergyBoughtMoney,
            EnergySoldWh,
            EnergySoldMoney,
            WheelingPaid,
            GridImportWh,
            GridImportMoney,
            GridExportWh,
            GridExportMoney,
            CompensationPaid,
            CompensationReceived);
    }
}
