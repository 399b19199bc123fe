namespace P2PEnergy.Exchange.Chain.Tests;

using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;
using static P2PEnergy.Exchange.Chain.Tests.Infrastructure.Participants;
using CoreLot = P2PEnergy.Exchange.Lot;
using EthKey = P2PEnergy.Ethereum.EthKey;
using Keccak = P2PEnergy.Ethereum.Keccak;
using ParticipantAddress = P2PEnergy.Exchange.Address;

/// <summary>The chain settler on a real node: a slot that can never be settled does not hold up the work behind it.</summary>
[Collection(ChainTestCollection.Name)]
public sealed class ChainSettlerDeferralTests(HardhatNodeFixture chain) : IAsyncLifetime
{
    private const long BadSlot = ChainExchangeHost.Slot0 + 40;
    private const long GoodSlot = BadSlot + 1;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private FreshLedger _ledger = null!;

    private CancellationToken Ct => _timeout.Token;

    private static ParticipantAddress Seller => ParticipantAddress.Parse(AddressOf("pv1"));

    private static ParticipantAddress Buyer => ParticipantAddress.Parse(AddressOf("home1"));

    private static EthKey MeterKey(string who) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-chain-test-meter:" + who));

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

    /// <summary>pv1 sells home1 500 Wh at 1500 ticks, both meters read exactly the lot: nothing from or to the grid.</summary>
    private static (CoreLot Lot, SlotSettlementOrder Order) SlotOf(long slot, long lotId)
    {
        var lot = new CoreLot(lotId, slot, Seller, Buyer, 500, 1500, 0, Product.Standard, EnergySource.Renewable, 2 * lotId + 1, 2 * lotId + 2);
        var parties = new[]
        {
            new SettlementParty(MeterKey("pv1").Address, Seller, 0, 500),
            new SettlementParty(MeterKey("home1").Address, Buyer, 500, 0),
        }; // the call data sorts them by participant, as the contract wants
        return (lot, new SlotSettlementOrder(slot, [new LotFlow(lotId, 500, 500)], parties, 2620, 700, 1));
    }

    [Fact]
    public async Task A_slot_that_can_never_be_settled_is_deferred_and_later_slots_and_deposits_are_settled()
    {
        var (badLot, badOrder) = SlotOf(BadSlot, 940_001);
        var (goodLot, goodOrder) = SlotOf(GoodSlot, 940_002);
        await _ledger.Contract.RecordLotsAsync(chain.OperatorKey, [badLot, goodLot], Ct);
        var settler = new ChainSettler(chain.Contract(_ledger.Deployment), FreshLedger.SettlerKey, _ledger.Deployment.DeployBlock)
        {
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(100),
            MaxAttemptsBeforeDeferring = 2,
        };
        // First in the queue: the exchange's lot differs from the recorded one (another price), so it never settles.
        settler.EnqueueSettlement(badOrder, [badLot with { PriceTicks = 1 }]);
        settler.EnqueueDeposit(new P2PEnergy.Ethereum.Address(Buyer.ToBytes()), 1_000_000_000_000);
        settler.EnqueueSettlement(goodOrder, [goodLot]);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = settler.RunAsync(stop.Token);
        try
        {
            await Poll.UntilAsync(() => _ledger.Contract.IsSettledAsync(GoodSlot, cancellationToken: Ct), Deadline, "the slot behind the bad one is settled on chain", () => settler.Stats.ToString());
            await Poll.UntilAsync(() => settler.Pending == 1, Deadline, "only the bad slot is pending", () => settler.Stats.ToString());
        }
        finally
        {
            stop.Cancel();
            await run.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.True(run.IsCompletedSuccessfully);
        Assert.False(await _ledger.Contract.IsSettledAsync(BadSlot, cancellationToken: Ct));
        var stats = settler.Stats;
        Assert.Equal(1, settler.Pending); // deferred, not dropped
        Assert.True(stats.WorkDeferred >= 1, stats.ToString());
        Assert.Equal((1L, 1L), (stats.SlotsSettled, stats.Deposits));
        Assert.Contains($"slot {BadSlot}", stats.LastError);
    }
}
