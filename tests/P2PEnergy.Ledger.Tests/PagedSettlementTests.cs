using System.Diagnostics;
using System.Numerics;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Ledger.Tests.Paged;
using Xunit.Abstractions;

namespace P2PEnergy.Ledger.Tests;

/// <summary>
/// The paged settlement (beginSettlement, settleLotsPage, settlePartiesPage) through the C# bindings against a real
/// Hardhat node: the same slot settled in one transaction and in pages gives the same events, root and money; the
/// readings frontier gives the readings tree's root for any count and page size; each refusal decodes to its
/// LedgerError and changes nothing. Every test deploys its own ledgers.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class PagedSettlementTests
{
    private const ulong MaxGasPerTransaction = 16_777_216;
    private readonly HardhatNodeFixture _chain;
    private readonly ITestOutputHelper _output;

    public PagedSettlementTests(HardhatNodeFixture chain, ITestOutputHelper output)
    {
        _chain = chain;
        _output = output;
    }

    // ------------------------------------------------------------------ what a settlement leaves behind

    private sealed record Outcome(
        (long LotId, long DeliveredWh, long ConsumedWh, long SettledWh)[] Lots,
        (ParticipantAddress Participant, Address Meter, long ImportWh, long ExportWh, long Net)[] Parties,
        (string Root, int Lots, int Parties, long Retail, long BuyBack, byte Policy, long GridNet) Slot,
        byte[]? ReadingsRoot,
        Dictionary<Address, BigInteger> BalanceChanges,
        BigInteger SupplyBefore,
        BigInteger SupplyAfter,
        bool IsSettled,
        SettlementProgress Progress,
        (Address From, Address To, BigInteger Value)[] Transfers);

    private static async Task<Outcome> SettleAsync(PreparedLedger ledger, Func<Task> settle)
    {
        var before = await ledger.BalancesAsync();
        var supplyBefore = await ledger.Contract.TotalSupplyAsync();
        await settle();
        var after = await ledger.BalancesAsync();
        var events = await ledger.Contract.GetSettlementEventsAsync(ledger.SettlementFromBlock);
        var slot = Assert.Single(events.Slots);
        var slotNumber = ledger.Case.Slot;
        Assert.All(events.Lots, l => Assert.Equal(slotNumber, l.Slot));
        Assert.All(events.Parties, p => Assert.Equal(slotNumber, p.Slot));
        Assert.Equal(slotNumber, slot.Slot);
        return new Outcome(
            events.Lots.Select(l => (l.LotId, l.DeliveredWh, l.ConsumedWh, l.SettledWh)).ToArray(),
            events.Parties.Select(p => (p.Participant, p.Meter, p.ImportWh, p.ExportWh, p.Net)).ToArray(),
            (Hex.Encode(slot.ReadingsRoot), slot.Lots, slot.Parties, slot.RetailTicks, slot.BuyBackTicks, slot.Policy, slot.GridNet),
            await ledger.Contract.ReadingsRootAsync(slotNumber),
            after.ToDictionary(kv => kv.Key, kv => kv.Value - before[kv.Key]),
            supplyBefore,
            await ledger.Contract.TotalSupplyAsync(),
            await ledger.Contract.IsSettledAsync(slotNumber),
            await ledger.Contract.SettlementProgressAsync(slotNumber),
            events.Transfers.Select(t => (t.From, t.To, t.Value)).ToArray());
    }

    /// <summary>What holds for any settlement of the case, however it was sent (<paramref name="depositedDuring"/>: deposits made between its pages).</summary>
    private static void AssertConsistent(SettlementCase c, PreparedLedger ledger, Outcome o, IReadOnlyDictionary<Address, BigInteger>? depositedDuring = null)
    {
        BigInteger Deposited(Address a) => depositedDuring is not null && depositedDuring.TryGetValue(a, out var d) ? d : 0;
        Assert.Equal(c.Lots.Select(l => l.LotId), o.Lots.Select(l => l.LotId)); // recording order
        foreach (var (lot, flow) in o.Lots.Zip(c.Flows))
        {
            Assert.Equal((flow.DeliveredWh, flow.ConsumedWh, Math.Min(flow.DeliveredWh, flow.ConsumedWh)), (lot.DeliveredWh, lot.ConsumedWh, lot.SettledWh));
        }
        var sorted = c.Sorted;
        Assert.Equal(sorted.Select(p => (p.Participant, p.Meter, p.ImportWh, p.ExportWh)), o.Parties.Select(p => (p.Participant, p.Meter, p.ImportWh, p.ExportWh)));
        Assert.Equal(0, o.Parties.Sum(p => p.Net) + o.Slot.GridNet); // the nets sum to 0
        foreach (var p in o.Parties)
        {
            var account = SettlementCase.Eth(p.Participant);
            Assert.Equal(p.Net, (long)(o.BalanceChanges[account] - Deposited(account)));
        }
        Assert.Equal(o.Slot.GridNet, (long)o.BalanceChanges[c.Grid]);
        Assert.Equal(BigInteger.Zero, o.BalanceChanges[ledger.Deployment.Ledger]); // the clearing keeps nothing
        var ledgerAddress = ledger.Deployment.Ledger;
        Assert.Equal(
            o.Transfers.Where(t => t.To == ledgerAddress).Aggregate(BigInteger.Zero, (s, t) => s + t.Value),
            o.Transfers.Where(t => t.From == ledgerAddress).Aggregate(BigInteger.Zero, (s, t) => s + t.Value));
        Assert.DoesNotContain(o.Transfers, t => t.To.IsZero); // no burn
        Assert.Equal(
            (depositedDuring ?? new Dictionary<Address, BigInteger>()).OrderBy(kv => kv.Key.ToLowerHex()).Select(kv => (kv.Key, kv.Value)),
            o.Transfers.Where(t => t.From.IsZero).OrderBy(t => t.To.ToLowerHex()).Select(t => (t.To, t.Value))); // no mint but those deposits
        Assert.Equal(o.SupplyBefore + (depositedDuring?.Values.Aggregate(BigInteger.Zero, (a, b) => a + b) ?? 0), o.SupplyAfter);
        Assert.Equal((c.Lots.Length, sorted.Count, c.Retail, c.BuyBack, c.Policy), (o.Slot.Lots, o.Slot.Parties, o.Slot.Retail, o.Slot.BuyBack, o.Slot.Policy));
        var root = c.ReadingsRoot();
        Assert.Equal(Hex.Encode(root), o.Slot.Root);
        Assert.Equal(root, o.ReadingsRoot);
        Assert.True(o.IsSettled);
        Assert.Equal(new SettlementProgress(SettlementProgress.Settled, 0, 0), o.Progress);
    }

    // ------------------------------------------------------------------ paging

    /// <summary>
    /// Sends a whole paged settlement, checking after each page its SettlementPage event, its LotSettled/PartySettled
    /// count and the progress the contract reports. Returns the receipts (begin, lot pages, party pages).
    /// </summary>
    private async Task<List<TransactionReceipt>> SettlePagedAsync(PreparedLedger ledger, IReadOnlyList<int> lotPages, IReadOnlyList<int> partyPages)
    {
        var c = ledger.Case;
        var contract = ledger.Contract;
        var sorted = c.Sorted;
        Assert.Equal(c.Lots.Length, lotPages.Sum());
        Assert.Equal(sorted.Count, partyPages.Sum());
        var receipts = new List<TransactionReceipt>();

        var begin = await contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
        receipts.Add(begin);
        var begun = EnergyLedgerContract.DecodeSettlementBegun(SingleEvent(begin, EnergyLedgerContract.SettlementBegunEvent));
        Assert.Equal((c.Slot, c.Retail, c.BuyBack, c.Policy), (begun.Slot, begun.RetailTicks, begun.BuyBackTicks, begun.Policy));
        Assert.Equal(new SettlementProgress(SettlementProgress.Lots, 0, 0), await contract.SettlementProgressAsync(c.Slot));

        int first = 0;
        foreach (int count in lotPages)
        {
            var receipt = await contract.SettleLotsPageAsync(_chain.OperatorKey, c.Order, c.Lots, first, count);
            receipts.Add(receipt);
            AssertPage(receipt, c.Slot, SettlementProgress.Lots, first, count);
            Assert.Equal(count, receipt.Logs.Count(IsEvent(EnergyLedgerContract.LotSettledEvent)));
            first += count;
            Assert.Equal(new SettlementProgress(SettlementProgress.Lots, first, 0), await contract.SettlementProgressAsync(c.Slot));
        }

        first = 0;
        for (int page = 0; page < partyPages.Count; page++)
        {
            int count = partyPages[page];
            bool last = page == partyPages.Count - 1;
            var receipt = await contract.SettlePartiesPageAsync(_chain.OperatorKey, c.Slot, sorted, first, count, last);
            receipts.Add(receipt);
            AssertPage(receipt, c.Slot, SettlementProgress.Parties, first, count);
            Assert.Equal(count, receipt.Logs.Count(IsEvent(EnergyLedgerContract.PartySettledEvent)));
            Assert.Equal(last ? 1 : 0, receipt.Logs.Count(IsEvent(EnergyLedgerContract.SlotSettledEvent)));
            first += count;
            Assert.Equal(
                last ? new SettlementProgress(SettlementProgress.Settled, 0, 0) : new SettlementProgress(SettlementProgress.Parties, c.Lots.Length, first),
                await contract.SettlementProgressAsync(c.Slot));
        }
        return receipts;
    }

    private static Func<LogEntry, bool> IsEvent(AbiEvent e) => log => log.Topics.Count > 0 && log.Topics[0].AsSpan().SequenceEqual(e.Topic0);

    private static LogEntry SingleEvent(TransactionReceipt receipt, AbiEvent e)
    {
        var logs = receipt.Logs.Where(IsEvent(e)).ToArray();
        Assert.True(logs.Length == 1, $"{logs.Length} {e.Name} events in one transaction");
        return logs[0];
    }

    private static void AssertPage(TransactionReceipt receipt, long slot, byte phase, int first, int count)
    {
        var page = EnergyLedgerContract.DecodeSettlementPage(SingleEvent(receipt, EnergyLedgerContract.SettlementPageEvent));
        Assert.Equal((slot, phase, (long)first, (long)count), (page.Slot, page.Phase, page.First, page.Count));
    }

    private static string Pages(int[] pages) => pages.All(p => p == 1) ? $"{pages.Length} x 1" : $"[{string.Join(", ", pages)}]";

    private static int[] OnePerPage(int n) => Enumerable.Repeat(1, n).ToArray();

    /// <summary>Pages of random sizes from 1 to about a third of <paramref name="n"/>; optionally an empty last page after them.</summary>
    private static int[] Uneven(Random random, int n, bool emptyLast = false)
    {
        var pages = new List<int>();
        for (int left = n; left > 0;)
        {
            int size = Math.Min(left, random.Next(1, Math.Max(2, n / 3) + 1));
            pages.Add(size);
            left -= size;
        }
        if (emptyLast) pages.Add(0);
        return [.. pages];
    }

    // ------------------------------------------------------------------ equivalence

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public async Task Paged_in_any_split_a_random_slot_settles_as_settleSlot_does(byte policy)
    {
        var clock = Stopwatch.StartNew();
        var c = SettlementCase.Random(seed: 5100 + policy, slot: 990_000 + policy, policy);
        var random = new Random(policy);
        _output.WriteLine($"policy {policy}: {c.Lots.Length} lots, {c.Parties.Length} parties ({c.Parties.Count(p => p.Meter.IsZero)} without a meter)");
        Assert.Contains(c.Parties, p => p.Meter.IsZero);
        var lotParties = c.Lots.SelectMany(l => new[] { l.Seller, l.Buyer }).ToHashSet();
        Assert.Contains(c.Parties, p => !p.Meter.IsZero && !lotParties.Contains(p.Participant)); // grid only

        var once = await PreparedLedger.PrepareAsync(_chain, c);
        var expected = await SettleAsync(once, () => once.Contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots));
        AssertConsistent(c, once, expected);
        Assert.Contains(expected.Parties, p => p.Net < 0);
        Assert.Contains(expected.Parties, p => p.Net > 0);

        var splits = new (string Name, int[] Lots, int[] Parties)[]
        {
            ("one per page", OnePerPage(c.Lots.Length), OnePerPage(c.Parties.Length)),
            ("uneven", Uneven(random, c.Lots.Length), Uneven(random, c.Parties.Length, emptyLast: policy % 2 == 1)),
            ("all in one", [c.Lots.Length], [c.Parties.Length]),
        };
        foreach (var (name, lotPages, partyPages) in splits)
        {
            var paged = await PreparedLedger.PrepareAsync(_chain, c);
            var outcome = await SettleAsync(paged, () => SettlePagedAsync(paged, lotPages, partyPages));
            _output.WriteLine($"  {name}: lot pages {Pages(lotPages)}, party pages {Pages(partyPages)}");
            AssertConsistent(c, paged, outcome);
            AssertSameSettlement(expected, outcome);
            Assert.Equal(c.Accounts.Select(a => (a, expected.BalanceChanges[a])), c.Accounts.Select(a => (a, outcome.BalanceChanges[a])));
        }
        _output.WriteLine($"  {clock.Elapsed.TotalSeconds:0.0} s");
    }

    // ------------------------------------------------------------------ refusals

    /// <summary>A small slot: 12 lots among 10 participants (2 without a meter, 2 grid only), policy 1.</summary>
    private static SettlementCase SmallCase(int seed) => SettlementCase.Random(seed, slot: 992_000 + seed, policy: 1, minParties: 10, maxParties: 10, minLots: 12, maxLots: 12);

    /// <summary>The same slot settled by settleSlot on a ledger of its own: what every paged settlement of it must give.</summary>
    private async Task<Outcome> ReferenceAsync(SettlementCase c)
    {
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var outcome = await SettleAsync(ledger, () => ledger.Contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots));
        AssertConsistent(c, ledger, outcome);
        return outcome;
    }

    private static void AssertSameSettlement(Outcome expected, Outcome actual)
    {
        Assert.Equal(expected.Lots, actual.Lots);
        Assert.Equal(expected.Parties, actual.Parties);
        Assert.Equal(expected.Slot, actual.Slot);
        Assert.Equal(expected.ReadingsRoot, actual.ReadingsRoot);
    }

    /// <summary>
    /// Sends the rest of the slot's settlement from where the contract says it stands (as a settler resuming after a
    /// crash or a refusal would): the remaining lots in pages of <paramref name="lotPage"/>, then the parties.
    /// </summary>
    private async Task ResumeAsync(PreparedLedger ledger, int lotPage, int partyPage)
    {
        var c = ledger.Case;
        var sorted = c.Sorted;
        var progress = await ledger.Contract.SettlementProgressAsync(c.Slot);
        if (progress.Phase == SettlementProgress.NotBegun)
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            progress = await ledger.Contract.SettlementProgressAsync(c.Slot);
        }
        if (progress.Phase == SettlementProgress.Lots)
        {
            for (int first = (int)progress.LotsDone; first < c.Lots.Length; first += lotPage)
            {
                await ledger.Contract.SettleLotsPageAsync(_chain.OperatorKey, c.Order, c.Lots, first, Math.Min(lotPage, c.Lots.Length - first));
            }
        }
        for (int first = (int)progress.PartiesDone; first < sorted.Count; first += partyPage)
        {
            int count = Math.Min(partyPage, sorted.Count - first);
            await ledger.Contract.SettlePartiesPageAsync(_chain.OperatorKey, c.Slot, sorted, first, count, last: first + count == sorted.Count);
        }
    }

    /// <summary>The call must be refused; the progress, every balance and the total supply stay as they were.</summary>
    private static async Task<LedgerError> RefusedAsync(PreparedLedger ledger, Func<Task> call)
    {
        var progress = await ledger.Contract.SettlementProgressAsync(ledger.Case.Slot);
        var balances = await ledger.BalancesAsync();
        var supply = await ledger.Contract.TotalSupplyAsync();
        var refused = await Assert.ThrowsAsync<LedgerRevertException>(call);
        Assert.Equal(progress, await ledger.Contract.SettlementProgressAsync(ledger.Case.Slot));
        var after = await ledger.BalancesAsync();
        Assert.All(balances, kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Equal(supply, await ledger.Contract.TotalSupplyAsync());
        return refused.Error;
    }

    private Task<TransactionReceipt> LotsPage(PreparedLedger ledger, int first, int count) =>
        ledger.Contract.SettleLotsPageAsync(_chain.OperatorKey, ledger.Case.Order, ledger.Case.Lots, first, count);

    private Task<TransactionReceipt> PartiesPage(PreparedLedger ledger, IReadOnlyList<SettlementParty> parties, int first, int count, bool last = false) =>
        ledger.Contract.SettlePartiesPageAsync(_chain.OperatorKey, ledger.Case.Slot, parties, first, count, last);

    [Fact]
    public async Task Pages_before_begin_are_refused_with_SettlementNotBegun_and_only_the_operator_may_page()
    {
        var c = SmallCase(1);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var slot = (ulong)c.Slot;
        var contract = ledger.Contract;
        var outcome = await SettleAsync(ledger, async () =>
        {
            Assert.Equal(new LedgerError.SettlementNotBegun(slot), await RefusedAsync(ledger, () => LotsPage(ledger, 0, 4)));
            Assert.Equal(new LedgerError.SettlementNotBegun(slot), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 0, 3)));
            Assert.Equal(new LedgerError.SettlementNotBegun(slot), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 0, 0, last: true)));
            var stranger = new LedgerError.NotOperator(_chain.StrangerKey.Address);
            Assert.Equal(stranger, await RefusedAsync(ledger, () => contract.BeginSettlementAsync(_chain.StrangerKey, c.Order)));
            Assert.Equal(new SettlementProgress(SettlementProgress.NotBegun, 0, 0), await contract.SettlementProgressAsync(c.Slot));

            await contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            Assert.Equal(stranger, await RefusedAsync(ledger, () => contract.SettleLotsPageAsync(_chain.StrangerKey, c.Order, c.Lots, 0, 4)));
            await LotsPage(ledger, 0, 12);
            Assert.Equal(stranger, await RefusedAsync(ledger, () => contract.SettlePartiesPageAsync(_chain.StrangerKey, c.Slot, c.Sorted, 0, 3, false)));
            await ResumeAsync(ledger, 4, 3);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task While_paging_begin_again_settleSlot_and_recordLots_of_the_slot_are_refused_with_SettlementInProgress()
    {
        var c = SmallCase(2);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var slot = (ulong)c.Slot;
        var contract = ledger.Contract;
        var lotsBefore = await contract.LotCountAsync();
        var late = c.Lots[0] with { LotId = 10_001 };
        async Task AllRefused()
        {
            Assert.Equal(new LedgerError.SettlementInProgress(slot), await RefusedAsync(ledger, () => contract.BeginSettlementAsync(_chain.OperatorKey, c.Order)));
            Assert.Equal(new LedgerError.SettlementInProgress(slot), await RefusedAsync(ledger, () => contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots)));
            Assert.Equal(new LedgerError.SettlementInProgress(slot), await RefusedAsync(ledger, () => contract.RecordLotsAsync(_chain.OperatorKey, [late])));
            Assert.Equal(lotsBefore, await contract.LotCountAsync());
            Assert.False(await contract.IsRecordedAsync(late.LotId));
        }

        var outcome = await SettleAsync(ledger, async () =>
        {
            await contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await AllRefused(); // begun, no page yet
            await LotsPage(ledger, 0, 5);
            await AllRefused(); // lot pages
            await LotsPage(ledger, 5, 7);
            await PartiesPage(ledger, c.Sorted, 0, 4);
            await AllRefused(); // party pages
            await ResumeAsync(ledger, 5, 4);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
        // Another slot's lots are recorded as ever.
        await contract.RecordLotsAsync(_chain.OperatorKey, [late with { Slot = c.Slot + 1 }]);
        Assert.True(await contract.IsRecordedAsync(late.LotId));
    }

    [Fact]
    public async Task A_page_resent_after_it_landed_is_refused_with_PageOutOfOrder_and_a_lot_page_after_a_party_page_with_WrongPhase()
    {
        var c = SmallCase(3);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var slot = (ulong)c.Slot;
        var outcome = await SettleAsync(ledger, async () =>
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await LotsPage(ledger, 0, 4);
            await LotsPage(ledger, 4, 4);
            Assert.Equal(new LedgerError.PageOutOfOrder(slot, 8, 4), await RefusedAsync(ledger, () => LotsPage(ledger, 4, 4))); // a retry of a page that landed
            Assert.Equal(new LedgerError.PageOutOfOrder(slot, 8, 0), await RefusedAsync(ledger, () => LotsPage(ledger, 0, 12)));
            Assert.Equal(new LedgerError.PageOutOfOrder(slot, 8, 10), await RefusedAsync(ledger, () => LotsPage(ledger, 10, 2))); // a gap
            Assert.Equal(new SettlementProgress(SettlementProgress.Lots, 8, 0), await ledger.Contract.SettlementProgressAsync(c.Slot));
            await LotsPage(ledger, 8, 4);

            await PartiesPage(ledger, c.Sorted, 0, 3);
            Assert.Equal(new LedgerError.PageOutOfOrder(slot, 3, 0), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 0, 3)));
            Assert.Equal(new LedgerError.PageOutOfOrder(slot, 3, 5), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 5, 2)));
            Assert.Equal(new LedgerError.WrongPhase(slot, SettlementProgress.Parties), await RefusedAsync(ledger, () => LotsPage(ledger, 11, 1)));
            Assert.Equal(new LedgerError.WrongPhase(slot, SettlementProgress.Parties), await RefusedAsync(ledger, () => LotsPage(ledger, 12, 0)));
            Assert.Equal(new SettlementProgress(SettlementProgress.Parties, 12, 3), await ledger.Contract.SettlementProgressAsync(c.Slot));
            await ResumeAsync(ledger, 4, 3);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task The_first_party_page_with_a_lot_left_out_is_refused_with_LotsMismatch_and_the_lot_may_still_follow()
    {
        var c = SmallCase(4);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var slot = (ulong)c.Slot;
        var outcome = await SettleAsync(ledger, async () =>
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await LotsPage(ledger, 0, 11); // the last recorded lot is left out
            Assert.Equal(new LedgerError.LotsMismatch(slot), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 0, 3)));
            Assert.Equal(new LedgerError.LotsMismatch(slot), await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, 0, c.Sorted.Count, last: true)));
            Assert.Equal(new SettlementProgress(SettlementProgress.Lots, 11, 0), await ledger.Contract.SettlementProgressAsync(c.Slot));
            await ResumeAsync(ledger, 4, 3);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task The_last_party_page_with_lot_parties_missing_is_refused_with_PartiesMissing_and_their_count()
    {
        var c = SmallCase(5);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var slot = (ulong)c.Slot;
        var sorted = c.Sorted;
        var lotParties = c.Lots.SelectMany(l => new[] { l.Seller, l.Buyer }).ToHashSet();
        var missing = Enumerable.Range(0, sorted.Count).Where(i => lotParties.Contains(sorted[i].Participant)).TakeLast(2).ToArray();
        var without = sorted.Where((_, i) => !missing.Contains(i)).ToList();
        int first = missing[0] - 1; // a page ends just before the first one left out
        Assert.True(first > 0);
        var outcome = await SettleAsync(ledger, async () =>
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await LotsPage(ledger, 0, 12);
            await PartiesPage(ledger, sorted, 0, first);
            Assert.Equal(
                new LedgerError.PartiesMissing(slot, 2),
                await RefusedAsync(ledger, () => PartiesPage(ledger, without, first, without.Count - first, last: true)));
            // An empty last page with every party still to come: all the lot parties above the first page are missing.
            int open = lotParties.Count(p => sorted.Skip(first).Any(s => s.Participant == p));
            Assert.Equal(new LedgerError.PartiesMissing(slot, (uint)open), await RefusedAsync(ledger, () => PartiesPage(ledger, sorted, first, 0, last: true)));
            Assert.Equal(new SettlementProgress(SettlementProgress.Parties, 12, first), await ledger.Contract.SettlementProgressAsync(c.Slot));
            await ResumeAsync(ledger, 4, 3);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task Parties_out_of_order_across_a_page_boundary_are_refused_with_the_index_in_the_whole_settlement()
    {
        var c = SmallCase(6);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c);
        var sorted = c.Sorted;
        const int k = 4; // parties [0, 4) landed
        List<SettlementParty> With(int at, SettlementParty p) => [.. sorted.Take(at), p, .. sorted.Skip(at)];
        var swapped = sorted.ToList();
        (swapped[k], swapped[k + 1]) = (swapped[k + 1], swapped[k]);
        var lower = sorted.ToList();
        lower[k] = sorted[k - 2];

        var outcome = await SettleAsync(ledger, async () =>
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await LotsPage(ledger, 0, 12);
            await PartiesPage(ledger, sorted, 0, k);
            // The last party of the page before, again.
            Assert.Equal(
                new LedgerError.DuplicateParty(SettlementCase.Eth(sorted[k - 1].Participant)),
                await RefusedAsync(ledger, () => PartiesPage(ledger, With(k, sorted[k - 1]), k, 3)));
            // Below the last party of the page before: index k of the settlement, the page's first.
            Assert.Equal(new LedgerError.InvalidParty(k, "order"), await RefusedAsync(ledger, () => PartiesPage(ledger, lower, k, 3)));
            // Out of order within the page: the page's second, index k + 1.
            Assert.Equal(new LedgerError.InvalidParty(k + 1, "order"), await RefusedAsync(ledger, () => PartiesPage(ledger, swapped, k, 3)));
            // A party twice within the page.
            Assert.Equal(
                new LedgerError.DuplicateParty(SettlementCase.Eth(sorted[k + 1].Participant)),
                await RefusedAsync(ledger, () => PartiesPage(ledger, With(k + 2, sorted[k + 1]), k, 3)));
            Assert.Equal(new SettlementProgress(SettlementProgress.Parties, 12, k), await ledger.Contract.SettlementProgressAsync(c.Slot));
            await ResumeAsync(ledger, 4, 3);
        });
        AssertConsistent(c, ledger, outcome);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task A_debtor_without_the_balance_refuses_only_its_page_and_after_a_deposit_the_settlement_resumes()
    {
        // A metered party without lots that imported 1000 Wh: it owes 1000 Wh at retail and has no deposit. The last
        // such party in participant order, so that party pages land before its page is refused.
        var small = SmallCase(7);
        var lotParties = small.Lots.SelectMany(l => new[] { l.Seller, l.Buyer }).ToHashSet();
        var gridOnly = small.Sorted.Last(p => !p.Meter.IsZero && !lotParties.Contains(p.Participant));
        var c = small with { Parties = [.. small.Parties.Select(p => p == gridOnly ? p with { ImportWh = 1000, ExportWh = 0 } : p)] };
        var debtor = SettlementCase.Eth(gridOnly.Participant);
        var owed = new BigInteger(1000 * c.Retail);
        var ledger = await PreparedLedger.PrepareAsync(_chain, c, withoutDeposit: [debtor]);
        var sorted = c.Sorted;
        int at = sorted.Select(p => p.Participant).ToList().IndexOf(gridOnly.Participant);
        const int size = 3;
        int refusedPage = at / size * size;
        Assert.True(refusedPage > 0, $"the debtor is party {at}: no page would land before its own");

        var outcome = await SettleAsync(ledger, async () =>
        {
            await ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order);
            await LotsPage(ledger, 0, 12);
            for (int first = 0; first < refusedPage; first += size)
            {
                await PartiesPage(ledger, sorted, first, size);
            }
            int count = Math.Min(size, sorted.Count - refusedPage);
            bool last = refusedPage + count == sorted.Count;
            Assert.Equal(
                new LedgerError.InsufficientBalance(debtor, 0, owed),
                await RefusedAsync(ledger, () => PartiesPage(ledger, sorted, refusedPage, count, last)));
            Assert.Equal(new SettlementProgress(SettlementProgress.Parties, 12, refusedPage), await ledger.Contract.SettlementProgressAsync(c.Slot));

            await ledger.Contract.DepositAsync(_chain.OperatorKey, debtor, owed);
            await ResumeAsync(ledger, 4, size); // from settlementProgress: the refused page again, then the rest
        });
        AssertConsistent(c, ledger, outcome, depositedDuring: new Dictionary<Address, BigInteger> { [debtor] = owed });
        Assert.Equal(BigInteger.Zero, await ledger.Contract.BalanceOfAsync(debtor));
        Assert.Equal(-(long)owed, outcome.Parties.Single(p => p.Participant == gridOnly.Participant).Net);
        AssertSameSettlement(await ReferenceAsync(c), outcome);
    }

    [Fact]
    public async Task After_the_slot_is_settled_pages_begin_settleSlot_and_recordLots_are_refused_with_SlotAlreadySettled()
    {
        var c = SmallCase(8);
        var slot = (ulong)c.Slot;
        var late = c.Lots[0] with { LotId = 10_001 };
        var paged = await PreparedLedger.PrepareAsync(_chain, c);
        await SettlePagedAsync(paged, [5, 7], [4, c.Sorted.Count - 4]);
        var once = await PreparedLedger.PrepareAsync(_chain, c);
        await once.Contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots);

        foreach (var ledger in new[] { paged, once })
        {
            var settled = new LedgerError.SlotAlreadySettled(slot);
            Assert.Equal(settled, await RefusedAsync(ledger, () => LotsPage(ledger, 0, 12)));
            Assert.Equal(settled, await RefusedAsync(ledger, () => LotsPage(ledger, 11, 1)));
            Assert.Equal(settled, await RefusedAsync(ledger, () => PartiesPage(ledger, c.Sorted, c.Sorted.Count, 0, last: true)));
            Assert.Equal(settled, await RefusedAsync(ledger, () => ledger.Contract.BeginSettlementAsync(_chain.OperatorKey, c.Order)));
            Assert.Equal(settled, await RefusedAsync(ledger, () => ledger.Contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots)));
            Assert.Equal(settled, await RefusedAsync(ledger, () => ledger.Contract.RecordLotsAsync(_chain.OperatorKey, [late])));
            Assert.Equal(new SettlementProgress(SettlementProgress.Settled, 0, 0), await ledger.Contract.SettlementProgressAsync(c.Slot));
            Assert.True(await ledger.Contract.IsSettledAsync(c.Slot));
        }
    }

    // ------------------------------------------------------------------ gas

    [Fact]
    public async Task Gas_of_each_page_kind_for_300_lots_and_400_parties_stays_below_the_transaction_cap()
    {
        var c = SettlementCase.Market(seed: 8300, slot: 993_000, sellerCount: 200, buyerCount: 200, lotCount: 300);
        var sellers = c.Lots.Select(l => SettlementCase.Eth(l.Seller)).ToHashSet();
        int[] lotPages = [1, 49, 100, 150];
        // Hardhat 2.29's eth_estimateGas first tries 3x the gas used when refunds make that too little for a limit, and
        // fails once that is above the 16,777,216 cap: a party page (storage deleted, refunds) must use under a third of
        // the cap to be estimated there (about 220 parties here); 250 parties (6.3 M gas) would fit a transaction.
        int[] partyPages = [1, 49, 150, 200];
        var paged = await PreparedLedger.PrepareAsync(_chain, c, withoutDeposit: sellers, recordingBatches: 1);
        List<TransactionReceipt> receipts = [];
        var outcome = await SettleAsync(paged, async () => receipts = await SettlePagedAsync(paged, lotPages, partyPages));
        AssertConsistent(c, paged, outcome);
        // The same slot in one transaction, for comparison.
        var once = await PreparedLedger.PrepareAsync(_chain, c, withoutDeposit: sellers, recordingBatches: 1);
        TransactionReceipt settleSlot = null!;
        var expected = await SettleAsync(once, async () => settleSlot = await once.Contract.SettleSlotAsync(_chain.OperatorKey, c.Order, c.Lots));
        AssertSameSettlement(expected, outcome);

        _output.WriteLine($"{c.Lots.Length} lots, {c.Parties.Length} parties (200 sellers paid into empty balances, 200 buyers paying):");
        _output.WriteLine($"  beginSettlement: {receipts[0].GasUsed,12:N0} gas");
        var opened = new HashSet<ParticipantAddress>();
        int first = 0;
        for (int i = 0; i < lotPages.Length; i++)
        {
            int newParties = c.Lots.Skip(first).Take(lotPages[i]).SelectMany(l => new[] { l.Seller, l.Buyer }).Count(opened.Add);
            var gas = receipts[1 + i].GasUsed;
            _output.WriteLine($"  settleLotsPage, {lotPages[i],3} lots ({newParties,3} new lot parties): {gas,12:N0} gas, {gas / (ulong)lotPages[i],9:N0} a lot");
            first += lotPages[i];
        }
        for (int i = 0; i < partyPages.Length; i++)
        {
            var gas = receipts[1 + lotPages.Length + i].GasUsed;
            _output.WriteLine($"  settlePartiesPage, {partyPages[i],3} parties{(i == partyPages.Length - 1 ? " (last)" : "")}: {gas,12:N0} gas, {gas / (ulong)partyPages[i],9:N0} a party");
        }
        _output.WriteLine($"  paged in all: {receipts.Aggregate(0UL, (sum, r) => sum + r.GasUsed),12:N0} gas in {receipts.Count} transactions");
        _output.WriteLine($"  settleSlot:   {settleSlot.GasUsed,12:N0} gas in 1 transaction");
        Assert.All(receipts.Append(settleSlot), r => Assert.True(r.GasUsed < MaxGasPerTransaction, $"{r.GasUsed:N0} gas"));
    }

    // ------------------------------------------------------------------ the readings frontier

    /// <summary>
    /// For each page size, one slot's sorted parties (257 with a meter, some without, in participant order) are paged
    /// up; before each page, every prefix that ends within it is settled from there by a last page (then undone with
    /// evm_revert): the prefix's on-chain root must be its readings tree's. Checked: every leaf count from 0 to 40, and
    /// 64, 100 and 257, each in pages of 1, 2, 3, 5 and 8, so with the frontier stored and reloaded at every offset.
    /// </summary>
    [Fact]
    public async Task The_readings_root_built_page_by_page_is_the_readings_trees_root_for_any_count_and_page_size()
    {
        var clock = Stopwatch.StartNew();
        var deployment = await _chain.DeployLedgerAsync();
        var contract = _chain.Contract(deployment);
        var random = new Random(7100);
        await contract.SetGridOperatorAsync(_chain.AdminKey, SettlementCase.RandomAddress(random));
        // Grid prices 0: every net is 0, so no party needs a deposit.
        var parties = Enumerable.Range(0, 257)
            .Select(_ => new SettlementParty(SettlementCase.RandomAddress(random), SettlementCase.RandomParticipant(random), random.Next(0, 100_000), random.Next(0, 100_000)))
            .Concat(Enumerable.Range(0, 26).Select(_ => new SettlementParty(Address.Zero, SettlementCase.RandomParticipant(random), 0, 0)))
            .Append(new SettlementParty(Address.Zero, TestLots.AddressOf(1), 0, 0)) // the first party: a prefix without any reading (root 0)
            .ToArray();
        var sorted = EnergyLedgerContract.SortParties(parties);
        var leavesIn = new int[sorted.Count + 1]; // leavesIn[q]: leaves among the first q parties
        for (int q = 0; q < sorted.Count; q++) leavesIn[q + 1] = leavesIn[q] + (sorted[q].Meter.IsZero ? 0 : 1);
        int[] big = [64, 100, 257];
        var checkpoints = Enumerable.Range(1, sorted.Count)
            .Where(q => leavesIn[q] <= 40 || (big.Contains(leavesIn[q]) && !sorted[q - 1].Meter.IsZero))
            .ToArray();
        int[] sizes = [1, 2, 3, 5, 8];
        var sender = await QuickSender.StartAsync(_chain);
        var checkedLeaves = new HashSet<(int Leaves, int Size)>();
        int transactions = 0;
        long slot = 991_000;
        foreach (int size in sizes)
        {
            slot++;
            var order = new SlotSettlementOrder(slot, [], parties, 0, 0, 0);
            await sender.SendAsync(deployment.Ledger, EnergyLedgerContract.EncodeBeginSettlement(order));
            transactions++;
            for (int first = 0; first < checkpoints[^1]; first += size)
            {
                foreach (int q in checkpoints.Where(q => q > first && q <= first + size))
                {
                    var snapshot = await _chain.Client.SendAsync("evm_snapshot");
                    var nonce = sender.Nonce;
                    await sender.SendAsync(deployment.Ledger, EnergyLedgerContract.EncodeSettlePartiesPage(slot, sorted, first, q - first, last: true), 1_000_000);
                    transactions++;
                    var onChain = await contract.ReadingsRootAsync(slot);
                    var expected = leavesIn[q] == 0 ? null : ReadingsTree(slot, sorted.Take(q)).Root;
                    Assert.True(
                        expected is null ? onChain is null : onChain is not null && expected.AsSpan().SequenceEqual(onChain),
                        $"{leavesIn[q]} readings ({q} parties) in pages of {size}: chain {Hex.Encode(onChain ?? [])}, tree {Hex.Encode(expected ?? [])}");
                    Assert.True((await _chain.Client.SendAsync("evm_revert", [snapshot.GetString()])).GetBoolean());
                    sender.Nonce = nonce;
                    checkedLeaves.Add((leavesIn[q], size));
                }
                if (first + size < checkpoints[^1])
                {
                    await sender.SendAsync(deployment.Ledger, EnergyLedgerContract.EncodeSettlePartiesPage(slot, sorted, first, size, last: false), 1_000_000);
                    transactions++;
                }
            }
            Assert.Equal(new SettlementProgress(SettlementProgress.Parties, 0, (checkpoints[^1] - 1) / size * size), await contract.SettlementProgressAsync(slot));
        }
        foreach (int size in sizes)
        {
            foreach (int leaves in Enumerable.Range(0, 41).Concat(big))
            {
                Assert.Contains((leaves, size), checkedLeaves);
            }
        }
        _output.WriteLine($"{checkedLeaves.Count} (leaves, page size) pairs, {transactions} transactions in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    private static MeterReadingMerkleTree ReadingsTree(long slot, IEnumerable<SettlementParty> parties) =>
        MeterReadingMerkleTree.Build(parties.Where(p => !p.Meter.IsZero).Select(p =>
            (p.Meter, SettlementCase.Eth(p.Participant), MeterReadingMerkleTree.Leaf(p.Meter, SettlementCase.Eth(p.Participant), (ulong)slot, (ulong)p.ImportWh, (ulong)p.ExportWh))));
}
