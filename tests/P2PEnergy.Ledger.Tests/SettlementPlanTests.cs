namespace P2PEnergy.Ledger.Tests;

using P2PEnergy.Exchange;
using Lot = P2PEnergy.Exchange.Lot;

/// <summary>The page plan of a paged settlement: pages cover every lot and party once, in order, each within the budget by the model.</summary>
public sealed class SettlementPlanTests
{
    private static Address Person(int i)
    {
        var bytes = new byte[20];
        bytes[0] = 0x11;
        BitConverter.TryWriteBytes(bytes.AsSpan(16), i);
        return Address.FromBytes(bytes);
    }

    private static Lot LotOf(long id, int seller, int buyer) =>
        new(id, 7, Person(seller), Person(buyer), 500, 2000, 0, Product.Standard, EnergySource.Renewable, 2 * id, 2 * id + 1);

    /// <summary>The model's gas of a lot page, counted independently: parties new to the slot, parties of earlier pages, once per page.</summary>
    private static long ModelledGas(IReadOnlyList<Lot> lots, int first, int count)
    {
        var before = lots.Take(first).SelectMany(l => new[] { l.Seller, l.Buyer }).ToHashSet();
        var page = lots.Skip(first).Take(count).ToList();
        var distinct = page.SelectMany(l => new[] { l.Seller, l.Buyer }).Distinct().ToList();
        return SettlementPlan.PageBase + SettlementPlan.PerPagedLot * page.Count
            + distinct.Sum(p => before.Contains(p) ? SettlementPlan.PerKnownLotParty : SettlementPlan.PerNewLotParty);
    }

    [Theory]
    [InlineData(1, 2, 1_000_000)]
    [InlineData(700, 1450, 10_000_000)]
    [InlineData(700, 40, 10_000_000)]
    [InlineData(3000, 300, 2_000_000)]
    public void Lot_pages_cover_every_lot_once_in_order_and_each_stays_within_the_budget(int lotCount, int traders, long budget)
    {
        var random = new Random(lotCount + traders);
        var lots = Enumerable.Range(1, lotCount).Select(i =>
        {
            int s = random.Next(traders);
            return LotOf(i, s, (s + 1 + random.Next(Math.Max(1, traders - 1))) % traders);
        }).ToList();
        foreach (var from in new[] { 0, lotCount / 3 })
        {
            var pages = SettlementPlan.LotPages(lots, from, budget);
            Assert.Equal(from, pages[0].First);
            for (int i = 1; i < pages.Count; i++) Assert.Equal(pages[i - 1].First + pages[i - 1].Count, pages[i].First);
            Assert.Equal(lotCount, pages[^1].First + pages[^1].Count);
            foreach (var (first, count) in pages)
            {
                Assert.True(count >= 1);
                Assert.True(ModelledGas(lots, first, count) <= budget, $"page {first}+{count}: {ModelledGas(lots, first, count)} gas");
                // Greedy: one more lot would not have fitted (except on the last page).
                if (first + count < lotCount) Assert.True(ModelledGas(lots, first, count + 1) > budget, $"page {first}+{count} could take one more lot");
            }
        }
    }

    [Fact]
    public void A_party_touched_by_an_earlier_page_costs_less_than_a_new_one()
    {
        // Lots 1..n between the same two parties: only the first page pays for new storage words.
        var same = Enumerable.Range(1, 400).Select(i => LotOf(i, 1, 2)).ToList();
        var pages = SettlementPlan.LotPages(same, 0, 1_000_000);
        Assert.Equal((1_000_000 - SettlementPlan.PageBase - 2 * SettlementPlan.PerNewLotParty) / SettlementPlan.PerPagedLot, pages[0].Count);
        Assert.Equal((1_000_000 - SettlementPlan.PageBase - 2 * SettlementPlan.PerKnownLotParty) / SettlementPlan.PerPagedLot, pages[1].Count);
        // Resuming after page 0 plans page 1 the same way (the parties before firstLot are known).
        Assert.Equal(pages.Skip(1), SettlementPlan.LotPages(same, pages[0].Count, 1_000_000));
    }

    [Fact]
    public void Party_pages_cover_every_party_and_there_is_always_a_closing_page()
    {
        var perPage = (int)((10_000_000 - SettlementPlan.PageBase) / SettlementPlan.PerPagedParty);
        var pages = SettlementPlan.PartyPages(2901, 0, 10_000_000);
        Assert.Equal(Enumerable.Range(0, pages.Count).Select(i => (i * perPage, Math.Min(perPage, 2901 - i * perPage))), pages);
        Assert.Equal([(2900, 1)], SettlementPlan.PartyPages(2901, 2900, 10_000_000));
        Assert.Equal([(2901, 0)], SettlementPlan.PartyPages(2901, 2901, 10_000_000)); // all settled, the slot not closed yet
        Assert.Throws<ArgumentOutOfRangeException>(() => SettlementPlan.PartyPages(10, 11, 10_000_000));
    }

    [Fact]
    public void The_one_transaction_model_errs_high_against_the_measured_gas()
    {
        // Measured with `hardhat test` (docs/settlement-rules.md, Gas): lots, parties, gas of settleSlot.
        foreach (var (lots, parties, measured) in new[] { (1, 2, 108_779L), (10, 10, 301_912L), (100, 30, 1_216_219L), (500, 60, 4_296_619L) })
        {
            var modelled = SettlementPlan.OneTransactionGas(lots, parties);
            Assert.InRange(modelled, measured, measured * 3 / 2);
        }
        Assert.True(SettlementPlan.FitsOneTransaction(500, 60, SettlementPlan.DefaultGasBudget));
        Assert.False(SettlementPlan.FitsOneTransaction(700, 2901, SettlementPlan.DefaultGasBudget)); // a 100x slot
    }
}
