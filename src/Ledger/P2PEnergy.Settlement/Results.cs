using P2PEnergy.Exchange;

namespace P2PEnergy.Settlement;

/// <summary>
/// One lot after delivery. Energy in Wh, money in 1e-5 JPY (Wh × ticks, exact).
/// Settled = min(delivered, consumed); shortfall = consumed − settled; over-delivered = delivered − settled.
/// </summary>
public sealed record LotSettlement(
    long LotId,
    Address Seller,
    Address Buyer,
    long PriceTicks,
    long WheelingFeeTicks,
    long ContractedWh,
    long DeliveredWh,
    long ConsumedWh,
    long SettledWh,
    // Buyer → seller: settled × price.
    long EnergyMoney,
    // Buyer → grid operator: settled × wheeling fee.
    long WheelingMoney,
    // Buyer → grid operator: shortfall × retail.
    long ShortfallGridMoney,
    // Seller → buyer: shortfall × the policy's shortfall rate.
    long ShortfallCompensation,
    // Grid operator → seller: over-delivered × buy-back.
    long OverDeliveryGridMoney,
    // Buyer → seller: over-delivered × the policy's under-consumption rate.
    long UnderconsumptionCompensation)
{
    /// <summary>Wh the buyer consumed under this lot that its seller did not deliver (bought from the grid at retail).</summary>
    public long ShortfallWh => ConsumedWh - SettledWh;

    /// <summary>Wh the seller delivered to this lot that its buyer did not consume (sold to the grid at buy-back).</summary>
    public long OverDeliveredWh => DeliveredWh - SettledWh;
}

/// <summary>
/// A participant's bill for one slot, one exact line per kind of flow, in Wh and 1e-5 JPY.
/// Every Wh of its reading is on exactly one line: import = bought + grid import, export = sold + grid export.
/// </summary>
public sealed record Bill(
    Address Participant,
    long Slot,
    long MeteredImportWh,
    long MeteredExportWh,
    // Settled Wh of its buy lots and what it pays their sellers.
    long EnergyBoughtWh,
    long EnergyBoughtMoney,
    // Settled Wh of its sell lots and what their buyers pay it.
    long EnergySoldWh,
    long EnergySoldMoney,
    long WheelingPaid,
    // Shortfall of its buy lots plus import allocated to no buy lot, at retail.
    long GridImportWh,
    long GridImportMoney,
    // Over-delivery of its sell lots plus export allocated to no sell lot, at buy-back.
    long GridExportWh,
    long GridExportMoney,
    long CompensationPaid,
    long CompensationReceived)
{
    public long Paid => EnergyBoughtMoney + WheelingPaid + GridImportMoney + CompensationPaid;

    public long Received => EnergySoldMoney + GridExportMoney + CompensationReceived;

    /// <summary>Received − paid: positive when the participant is owed money for the slot.</summary>
    public long Net => Received - Paid;
}

/// <summary>The grid operator's account for the slot, in Wh and 1e-5 JPY.</summary>
public sealed record GridAccount(
    long WheelingReceived,
    // Energy the grid supplied to participants and what they pay for it at retail.
    long RetailWh,
    long RetailMoney,
    // Energy participants sent to the grid and what the grid pays for it at buy-back.
    long BuyBackWh,
    long BuyBackMoney)
{
    /// <summary>What the grid operator receives net: wheeling + retail − buy-back.</summary>
    public long Net => WheelingReceived + RetailMoney - BuyBackMoney;
}

/// <summary>Sums over the slot.</summary>
public sealed record SlotTotals(
    long ContractedWh,
    long DeliveredWh,
    long ConsumedWh,
    long SettledWh,
    long MeteredImportWh,
    long MeteredExportWh,
    long EnergyMoney,
    long CompensationMoney,
    long ParticipantsPaid,
    long ParticipantsReceived);

/// <summary>
/// The settlement of one slot: per-lot results (by ascending lot id), one bill per participant with a
/// reading (by ascending address), the grid operator's account and totals.
/// </summary>
public sealed class SlotSettlement
{
    internal SlotSettlement(
        long slot,
        GridPrices prices,
        SettlementPolicy policy,
        IReadOnlyList<LotSettlement> lots,
        IReadOnlyList<Bill> bills,
        GridAccount grid,
        SlotTotals totals)
    {
        Slot = slot;
        Prices = prices;
        Policy = policy;
        Lots = lots;
        Bills = bills;
        Grid = grid;
        Totals = totals;
    }

    public long Slot { get; }

    public GridPrices Prices { get; }

    public SettlementPolicy Policy { get; }

    public IReadOnlyList<LotSettlement> Lots { get; }

    public IReadOnlyList<Bill> Bills { get; }

    public GridAccount Grid { get; }

    public SlotTotals Totals { get; }

    /// <summary>The participant's bill, or null when it had no reading in this slot.</summary>
    public Bill? BillOf(Address participant) => Bills.FirstOrDefault(b => b.Participant == participant);

    /// <summary>True when <see cref="FindConservationViolations"/> finds nothing.</summary>
    public bool Conserves => FindConservationViolations().Count == 0;

    /// <summary>
    /// Checks the slot's conservation laws (issue 5, DESIGN.md Settlement) from the per-lot results and the
    /// metered Wh, independently of how the bills were summed; returns one message per violation.
    /// </summary>
    public IReadOnlyList<string> FindConservationViolations() => ConservationCheck.Run(this);

    /// <summary>Throws <see cref="InvalidOperationException"/> listing the violations, if any.</summary>
    public void EnsureConserved()
    {
        var violations = FindConservationViolations();
        if (violations.Count > 0)
        {
            throw new InvalidOperationException($"slot {Slot} does not conserve: {string.Join("; ", violations)}");
        }
    }
}
