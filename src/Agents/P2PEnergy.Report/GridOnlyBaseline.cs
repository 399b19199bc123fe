namespace P2PEnergy.Report;

/// <summary>
/// The simplest grid-only baseline: a participant without storage takes what its generation does not cover from
/// the grid at retail and sends its surplus to the grid at buy-back, slot by slot. Participants with a battery or
/// an EV need the caller's own baseline, because what storage would do without the market is a modelling choice.
/// </summary>
public static class GridOnlyBaseline
{
    /// <summary>import = max(0, load − generation) × retail, export = max(0, generation − load) × buy-back.</summary>
    public static BaselineSlot ForSlot(string participant, long slot, long loadWh, long generationWh, long retailTicks, long buyBackTicks)
    {
        if (loadWh < 0 || generationWh < 0) throw new ArgumentException("load and generation must not be negative");
        if (retailTicks < 0 || buyBackTicks < 0) throw new ArgumentException("grid prices must not be negative");
        var import = Math.Max(0, loadWh - generationWh);
        var export = Math.Max(0, generationWh - loadWh);
        return new BaselineSlot
        {
            Participant = participant,
            Slot = slot,
            GridImportWh = import,
            GridImportMoney = import * retailTicks,
            GridExportWh = export,
            GridExportMoney = export * buyBackTicks,
        };
    }

    /// <summary>
    /// The baseline of each given participant slot, at the retail and buy-back prices of its market slot. Throws
    /// when a row has storage or petrol (state its baseline yourself) or its slot has no market slot.
    /// </summary>
    public static IReadOnlyList<BaselineSlot> WithoutStorage(IEnumerable<ParticipantSlot> rows, IEnumerable<MarketSlot> market)
    {
        var prices = market.ToDictionary(m => m.Slot);
        var result = new List<BaselineSlot>();
        foreach (var row in rows)
        {
            if (row.Storage is not null || row.PetrolMoney != 0)
                throw new ArgumentException($"participant {row.Participant}, slot {row.Slot}: has storage or petrol; its grid-only baseline must be stated by the caller");
            if (!prices.TryGetValue(row.Slot, out var m))
                throw new ArgumentException($"participant {row.Participant}, slot {row.Slot}: no market slot with grid prices");
            result.Add(ForSlot(row.Participant, row.Slot, row.LoadWh, row.GenerationWh, m.RetailTicks, m.BuyBackTicks));
        }
        return result;
    }
}
