namespace P2PEnergy.Ledger;

/// <summary>
/// How a slot goes on chain: in one settleSlot when it fits a transaction's gas budget, else as a paged settlement
/// (beginSettlement, lot pages, party pages) whose pages each fit it. Sizes come from a gas model measured on
/// EnergyLedger (contracts/test/Settlement.test.js and PagedSettlement.test.js print the figures); it errs high,
/// and eth_estimateGas still checks every transaction before it is sent.
/// </summary>
public static class SettlementPlan
{
    /// <summary>The default budget: well below the 16,777,216 gas a transaction may use (EIP-7825), so a model
    /// error or a costlier account (first balance of a participant) never meets the cap.</summary>
    public const long DefaultGasBudget = 10_000_000;

    /// <summary>The smallest budget a settlement transaction is planned with (a few lots or parties a page).</summary>
    public const long MinGasBudget = 200_000;

    // settleSlot, measured: 108,779 gas for 1 lot / 2 parties, 1,216,219 for 100 / 30, 4,296,619 for 500 / 60.
    public const long OneTransactionBase = 120_000;
    public const long OneTransactionPerLot = 8_000;
    public const long OneTransactionPerParty = 16_000;

    // Paged, measured on a 100x slot (700 lots, 2,901 parties): about 16,900 gas a party in a party page (25,900 when
    // the creditors' balances start at 0: a new storage word each); in a lot
    // page about 7,600 a lot (8,000 in a page of 1,300) plus about 23,000 for each party that no earlier page of the
    // slot touched (a new storage word) and about 5,000 for one touched before.
    public const long PageBase = 80_000;
    public const long PerPagedLot = 8_500; // 7,600 measured in pages of 400 to 800 lots; memory grows with the page
    public const long PerNewLotParty = 25_000;
    public const long PerKnownLotParty = 7_000;
    public const long PerPagedParty = 26_000; // 14,400-17,000 measured; 25,900 when creditors' balances start at 0

    /// <summary>The modelled gas of settling the slot in one transaction.</summary>
    public static long OneTransactionGas(int lots, int parties) => OneTransactionBase + OneTransactionPerLot * lots + OneTransactionPerParty * parties;

    /// <summary>Whether the slot goes in one settleSlot under <paramref name="gasBudget"/>.</summary>
    public static bool FitsOneTransaction(int lots, int parties, long gasBudget) => OneTransactionGas(lots, parties) <= gasBudget;

    /// <summary>
    /// The lot pages from <paramref name="firstLot"/> on, as (first, count): each page takes lots while its modelled
    /// gas stays within the budget (at least one lot a page). Parties touched by the lots before
    /// <paramref name="firstLot"/> (earlier pages) cost as known ones.
    /// </summary>
    public static IReadOnlyList<(int First, int Count)> LotPages(IReadOnlyList<Lot> lotsInRecordingOrder, int firstLot, long gasBudget)
    {
        ArgumentNullException.ThrowIfNull(lotsInRecordingOrder);
        ArgumentOutOfRangeException.ThrowIfNegative(firstLot);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstLot, lotsInRecordingOrder.Count);
        var touched = new HashSet<ParticipantAddress>();
        for (int i = 0; i < firstLot; i++)
        {
            touched.Add(lotsInRecordingOrder[i].Seller);
            touched.Add(lotsInRecordingOrder[i].Buyer);
        }
        var pages = new List<(int, int)>();
        int start = firstLot;
        while (start < lotsInRecordingOrder.Count)
        {
            long gas = PageBase;
            var inPage = new HashSet<ParticipantAddress>();
            int end = start;
            while (end < lotsInRecordingOrder.Count)
            {
                var lot = lotsInRecordingOrder[end];
                long more = PerPagedLot + PartyCost(lot.Seller) + (lot.Buyer == lot.Seller ? 0 : PartyCost(lot.Buyer));
                if (end > start && gas + more > gasBudget) break;
                gas += more;
                inPage.Add(lot.Seller);
                inPage.Add(lot.Buyer);
                end++;
            }
            touched.UnionWith(inPage);
            pages.Add((start, end - start));
            start = end;

            long PartyCost(ParticipantAddress p) => inPage.Contains(p) ? 0 : touched.Contains(p) ? PerKnownLotParty : PerNewLotParty;
        }
        return pages;
    }

    /// <summary>The party pages of <paramref name="parties"/> parties from <paramref name="firstParty"/> on, as (first, count); at least one page (the last closes the slot).</summary>
    public static IReadOnlyList<(int First, int Count)> PartyPages(int parties, int firstParty, long gasBudget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstParty);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstParty, parties);
        int perPage = (int)Math.Max(1, (gasBudget - PageBase) / PerPagedParty);
        var pages = new List<(int, int)>();
        for (int start = firstParty; start < parties; start += perPage) pages.Add((start, Math.Min(perPage, parties - start)));
        if (pages.Count == 0) pages.Add((firstParty, 0)); // only the closing page is left
        return pages;
    }
}
