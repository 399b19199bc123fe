namespace P2PEnergy.Exchange.Chain.Tests;

using System.Numerics;
using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;
using CoreLot = P2PEnergy.Exchange.Lot;
using EthAddress = P2PEnergy.Ethereum.Address;
using EthKey = P2PEnergy.Ethereum.EthKey;
using Keccak = P2PEnergy.Ethereum.Keccak;
using TransactionReceipt = P2PEnergy.Ethereum.TransactionReceipt;
using ParticipantAddress = P2PEnergy.Exchange.Address;

/// <summary>
/// The chain settler on a real node with a slot over its gas budget: settled in pages, each transaction within the
/// budget, with the same nets as the one-transaction settlement, and resumed where the chain stands.
/// </summary>
[Collection(ChainTestCollection.Name)]
public sealed class ChainSettlerPagingTests(HardhatNodeFixture chain) : IAsyncLifetime
{
    private const long OneSlot = ChainExchangeHost.Slot0 + 60;
    private const long PagedSlot = OneSlot + 1;
    private const long ResumedSlot = OneSlot + 2;
    private const long SmallBudget = 1_000_000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(150));
    private FreshLedger _ledger = null!;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _ledger = await FreshLedger.DeployAsync(chain);
        await _ledger.EnableSettlementAsync();
    }

    public Task DisposeAsync()
    {
        _ledger.Dispose();
        _timeout.Dispose();
        return Task.CompletedTask;
    }

    private static ParticipantAddress Person(int i) => ParticipantAddress.FromBytes(EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-paging-test:" + i)).Address.ToBytes());

    private static EthAddress MeterOf(int i) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-paging-test-meter:" + i)).Address;

    /// <summary>
    /// A slot of <paramref name="lotCount"/> lots among the first third of <paramref name="people"/> participants; every
    /// participant metered (a tenth without a reading). Each lot is delivered in full or in part and consumed in full,
    /// and readings add grid import and export on top, so every money line of the rules is used.
    /// </summary>
    private static (CoreLot[] Lots, SlotSettlementOrder Order) SlotOf(long slot, long firstLotId, int people, int lotCount, int seed)
    {
        var random = new Random(seed);
        int traders = people / 3;
        var lots = new CoreLot[lotCount];
        var flows = new LotFlow[lotCount];
        var exported = new long[people];
        var imported = new long[people];
        for (int k = 0; k < lotCount; k++)
        {
            int seller = random.Next(traders);
            int buyer = (seller + 1 + random.Next(traders - 1)) % traders;
            long wh = 100 * (1 + random.Next(20));
            long delivered = random.Next(3) == 0 ? wh / 2 : wh;
            lots[k] = new CoreLot(
                firstLotId + k, slot, Person(seller), Person(buyer), wh, 1500 + random.Next(1000), random.Next(2) * 300,
                Product.Standard, EnergySource.Renewable, 2 * (firstLotId + k), 2 * (firstLotId + k) + 1);
            flows[k] = new LotFlow(firstLotId + k, delivered, wh);
            exported[seller] += delivered;
            imported[buyer] += wh;
        }
        var parties = Enumerable.Range(0, people).Select(i =>
            i % 10 == 9 && exported[i] == 0 && imported[i] == 0
                ? new SettlementParty(EthAddress.Zero, Person(i), 0, 0)
                : new SettlementParty(MeterOf(i), Person(i), imported[i] + random.Next(500), exported[i] + random.Next(300))).ToArray();
        return (lots, new SlotSettlementOrder(slot, flows, parties, 2620, 700, 1));
    }

    private ChainSettler Settler(long gasBudget) => new(chain.Contract(_ledger.Deployment), FreshLedger.SettlerKey, _ledger.Deployment.DeployBlock)
    {
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        GasBudget = gasBudget,
    };

    private async Task FundAsync(IEnumerable<SettlementParty> parties)
    {
        foreach (var p in parties) await _ledger.Contract.DepositAsync(FreshLedger.SettlerKey, new EthAddress(p.Participant.ToBytes()), 1_000_000_000_000, Ct);
        await _ledger.Contract.DepositAsync(FreshLedger.SettlerKey, FreshLedger.GridOperatorKey.Address, 1_000_000_000_000, Ct);
    }

    private static async Task RunUntilSettledAsync(ChainSettler settler, EnergyLedgerContract contract, long slot, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = settler.RunAsync(stop.Token);
        try
        {
            await Poll.UntilAsync(() => settler.Pending == 0, Deadline, $"slot {slot} is settled on chain", () => settler.Stats.ToString());
        }
        finally
        {
            stop.Cancel();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.True(await contract.IsSettledAsync(slot, cancellationToken: ct));
    }

    /// <summary>Receipts of the transactions that emitted SettlementPage (or SettlementBegun) for the slot, in chain order.</summary>
    private async Task<List<TransactionReceipt>> PagedTransactionsAsync(long slot)
    {
        var head = await chain.Client.GetBlockNumberAsync(Ct);
        var logs = await EnergyLedgerContract.ReadLogsAsync(
            chain.Client, _ledger.Contract.Address,
            [new[] { EnergyLedgerContract.SettlementBegunEvent.Topic0, EnergyLedgerContract.SettlementPageEvent.Topic0 }, new[] { SlotTopic(slot) }],
            _ledger.Deployment.DeployBlock, head, Ct);
        var receipts = new List<TransactionReceipt>();
        foreach (var hash in logs.Select(l => l.TransactionHash!).DistinctBy(Convert.ToHexString))
        {
            receipts.Add((await chain.Client.GetTransactionReceiptAsync(hash, Ct))!);
        }
        return receipts;
    }

    private static byte[] SlotTopic(long slot)
    {
        var topic = new byte[32];
        BitConverter.TryWriteBytes(topic.AsSpan(24), (ulong)slot);
        topic.AsSpan(24).Reverse();
        return topic;
    }

    [Fact]
    public async Task A_slot_over_the_gas_budget_is_settled_in_pages_each_within_it_with_the_nets_of_one_transaction()
    {
        var (oneLots, oneOrder) = SlotOf(OneSlot, 950_001, people: 120, lotCount: 40, seed: 7);
        var (pagedLots, pagedOrder) = SlotOf(PagedSlot, 951_001, people: 120, lotCount: 40, seed: 7); // the same content
        Assert.False(SettlementPlan.FitsOneTransaction(pagedLots.Length, pagedOrder.Parties.Count, SmallBudget));
        Assert.True(SettlementPlan.FitsOneTransaction(oneLots.Length, oneOrder.Parties.Count, SettlementPlan.DefaultGasBudget));
        await _ledger.Contract.RecordLotsAsync(chain.OperatorKey, [.. oneLots, .. pagedLots], Ct);
        await FundAsync(oneOrder.Parties);

        var people = oneOrder.Parties.Select(p => new EthAddress(p.Participant.ToBytes())).Append(FreshLedger.GridOperatorKey.Address).ToArray();
        var before = await BalancesAsync(people);
        var one = Settler(SettlementPlan.DefaultGasBudget);
        one.EnqueueSettlement(oneOrder, oneLots);
        await RunUntilSettledAsync(one, _ledger.Contract, OneSlot, Ct);
        var middle = await BalancesAsync(people);

        var paged = Settler(SmallBudget);
        paged.EnqueueSettlement(pagedOrder, pagedLots);
        await RunUntilSettledAsync(paged, _ledger.Contract, PagedSlot, Ct);
        var after = await BalancesAsync(people);

        // The same money moved, account by account (the one-transaction path is the reference).
        for (int i = 0; i < people.Length; i++) Assert.Equal(middle[i] - before[i], after[i] - middle[i]);
        Assert.Contains(people.Select((_, i) => middle[i] - before[i]), d => d != 0);

        // As many transactions as the plan has pages, each within the budget, all from the settler.
        var plannedLotPages = SettlementPlan.LotPages(pagedLots, 0, SmallBudget).Count;
        var plannedPartyPages = SettlementPlan.PartyPages(pagedOrder.Parties.Count, 0, SmallBudget).Count;
        Assert.True(plannedLotPages > 1 && plannedPartyPages > 1, $"{plannedLotPages} lot pages, {plannedPartyPages} party pages");
        var stats = paged.Stats;
        Assert.Equal((1L, 1L, 1L + plannedLotPages + plannedPartyPages), (stats.SlotsSettled, stats.SlotsPaged, stats.SettlementTransactions));
        var receipts = await PagedTransactionsAsync(PagedSlot);
        Assert.Equal(stats.SettlementTransactions, receipts.Count);
        Assert.All(receipts, r => Assert.True(r.GasUsed <= SmallBudget, $"a page used {r.GasUsed} gas, over the budget of {SmallBudget}"));
        Assert.Equal(stats.GasUsed, receipts.Sum(r => (long)r.GasUsed));

        // The one-transaction slot's readings root and the paged one's both equal the exchange's tree of its readings.
        foreach (var (slot, order) in new[] { (OneSlot, oneOrder), (PagedSlot, pagedOrder) })
        {
            var tree = MeterReadingMerkleTree.Build(order.Parties.Where(p => !p.Meter.IsZero).Select(p =>
                (p.Meter, new EthAddress(p.Participant.ToBytes()), MeterReadingMerkleTree.Leaf(p.Meter, new EthAddress(p.Participant.ToBytes()), (ulong)slot, (ulong)p.ImportWh, (ulong)p.ExportWh))));
            Assert.Equal(tree.Root, await _ledger.Contract.ReadingsRootAsync(slot, Ct));
        }
    }

    [Fact]
    public async Task A_paged_settlement_begun_elsewhere_is_resumed_where_the_chain_stands_and_nothing_is_settled_twice()
    {
        var (lots, order) = SlotOf(ResumedSlot, 952_001, people: 90, lotCount: 80, seed: 11);
        await _ledger.Contract.RecordLotsAsync(chain.OperatorKey, lots, Ct);
        await FundAsync(order.Parties);
        var lotPages = SettlementPlan.LotPages(lots, 0, SmallBudget);
        Assert.True(lotPages.Count >= 2, $"{lotPages.Count} lot pages");

        // An earlier settler process began the settlement and got its first lot page through, then died.
        await _ledger.Contract.BeginSettlementAsync(FreshLedger.SettlerKey, order, Ct);
        await _ledger.Contract.SettleLotsPageAsync(FreshLedger.SettlerKey, order, lots, lotPages[0].First, lotPages[0].Count, Ct);
        var progress = await _ledger.Contract.SettlementProgressAsync(ResumedSlot, cancellationToken: Ct);
        Assert.Equal(new SettlementProgress(SettlementProgress.Lots, lotPages[0].Count, 0), progress);

        var settler = Settler(SmallBudget);
        settler.EnqueueSettlement(order, lots);
        await RunUntilSettledAsync(settler, _ledger.Contract, ResumedSlot, Ct);

        var remaining = SettlementPlan.LotPages(lots, lotPages[0].Count, SmallBudget).Count + SettlementPlan.PartyPages(order.Parties.Count, 0, SmallBudget).Count;
        Assert.Equal((1L, remaining), (settler.Stats.SlotsPaged, settler.Stats.SettlementTransactions));
        var events = await _ledger.Contract.GetSettlementEventsAsync(_ledger.Deployment.DeployBlock, cancellationToken: Ct);
        var lotEvents = events.Lots.Where(e => e.Slot == ResumedSlot).ToList();
        Assert.Equal(lots.Select(l => l.LotId), lotEvents.Select(e => e.LotId)); // each lot once, in recording order
        Assert.Equal(order.Parties.Count, events.Parties.Count(e => e.Slot == ResumedSlot));
        Assert.Single(events.Slots, e => e.Slot == ResumedSlot);
        Assert.Equal(SettlementProgress.Settled, (await _ledger.Contract.SettlementProgressAsync(ResumedSlot, cancellationToken: Ct)).Phase);
    }

    private async Task<BigInteger[]> BalancesAsync(IReadOnlyList<EthAddress> accounts)
    {
        var balances = new BigInteger[accounts.Count];
        for (int i = 0; i < accounts.Count; i++) balances[i] = await _ledger.Contract.BalanceOfAsync(accounts[i], cancellationToken: Ct);
        return balances;
    }
}
