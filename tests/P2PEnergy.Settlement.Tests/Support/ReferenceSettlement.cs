namespace P2PEnergy.Settlement.Tests.Support;

/// <summary>
/// A slow, obviously-right settlement written straight from docs/settlement-rules.md (STYLE.md: a naive
/// reference beside the real thing). Every quantity is a closed formula over the whole input: no running
/// balances, no accumulators shared between lots, no calls into the engine's policy helpers.
/// </summary>
public static class ReferenceSettlement
{
    public static (IReadOnlyList<LotSettlement> Lots, IReadOnlyList<Bill> Bills) Settle(
        long slot, IReadOnlyList<Lot> lots, IReadOnlyList<MeterReading> readings, GridPrices prices, SettlementPolicy policy)
    {
        MeterReading ReadingOf(Address p) => readings.Single(r => r.Participant == p);

        // FIFO by lot id: a sell lot gets what is left of its seller's export after all its lower-id sell lots
        // took theirs, up to its own Wh; the same for a buy lot and its buyer's import.
        long Delivered(Lot lot)
        {
            var before = lots.Where(m => m.Seller == lot.Seller && m.LotId < lot.LotId).Sum(m => m.EnergyWh);
            return Math.Clamp(ReadingOf(lot.Seller).ExportWh - before, 0, lot.EnergyWh);
        }

        long Consumed(Lot lot)
        {
            var before = lots.Where(m => m.Buyer == lot.Buyer && m.LotId < lot.LotId).Sum(m => m.EnergyWh);
            return Math.Clamp(ReadingOf(lot.Buyer).ImportWh - before, 0, lot.EnergyWh);
        }

        long ShortfallRate(Lot lot)
        {
            if (!policy.SellerCompensatesShortfall) return 0;
            var rate = policy.ShortfallCompensation == ShortfallCompensation.RetailMinusPrice
                ? prices.RetailTicks - lot.PriceTicks
                : prices.RetailTicks - lot.PriceTicks - lot.WheelingFeeTicks;
            return rate < 0 ? 0 : rate;
        }

        long UnderconsumptionRate(Lot lot)
        {
            if (!policy.BuyerCompensatesUnderconsumption) return 0;
            var rate = lot.PriceTicks - prices.BuyBackTicks;
            return rate < 0 ? 0 : rate;
        }

        var lotResults = lots
            .OrderBy(l => l.LotId)
            .Select(lot =>
            {
                var delivered = Delivered(lot);
                var consumed = Consumed(lot);
                var settled = Math.Min(delivered, consumed);
                return new LotSettlement(
                    lot.LotId, lot.Seller, lot.Buyer, lot.PriceTicks, lot.WheelingFeeTicks,
                    lot.EnergyWh, delivered, consumed, settled,
                    EnergyMoney: settled * lot.PriceTicks,
                    WheelingMoney: settled * lot.WheelingFeeTicks,
                    ShortfallGridMoney: (consumed - settled) * prices.RetailTicks,
                    ShortfallCompensation: (consumed - settled) * ShortfallRate(lot),
                    OverDeliveryGridMoney: (delivered - settled) * prices.BuyBackTicks,
                    UnderconsumptionCompensation: (delivered - settled) * UnderconsumptionRate(lot));
            })
            .ToList();

        var bills = readings
            .OrderBy(r => r.Participant)
            .Select(r =>
            {
                var p = r.Participant;
                var sells = lotResults.Where(l => l.Seller == p).ToList();
                var buys = lotResults.Where(l => l.Buyer == p).ToList();
                var unallocatedExport = r.ExportWh - sells.Sum(l => l.DeliveredWh);
                var unallocatedImport = r.ImportWh - buys.Sum(l => l.ConsumedWh);
                return new Bill(
                    p, slot, r.ImportWh, r.ExportWh,
                    EnergyBoughtWh: buys.Sum(l => l.SettledWh),
                    EnergyBoughtMoney: buys.Sum(l => l.SettledWh * l.PriceTicks),
                    EnergySoldWh: sells.Sum(l => l.SettledWh),
                    EnergySoldMoney: sells.Sum(l => l.SettledWh * l.PriceTicks),
                    WheelingPaid: buys.Sum(l => l.SettledWh * l.WheelingFeeTicks),
                    GridImportWh: buys.Sum(l => l.ConsumedWh - l.SettledWh) + unallocatedImport,
                    GridImportMoney: (buys.Sum(l => l.ConsumedWh - l.SettledWh) + unallocatedImport) * prices.RetailTicks,
                    GridExportWh: sells.Sum(l => l.DeliveredWh - l.SettledWh) + unallocatedExport,
                    GridExportMoney: (sells.Sum(l => l.DeliveredWh - l.SettledWh) + unallocatedExport) * prices.BuyBackTicks,
                    CompensationPaid: sells.Sum(l => l.ShortfallCompensation) + buys.Sum(l => l.UnderconsumptionCompensation),
                    CompensationReceived: buys.Sum(l => l.ShortfallCompensation) + sells.Sum(l => l.UnderconsumptionCompensation));
            })
            .ToList();
        return (lotResults, bills);
    }
}
