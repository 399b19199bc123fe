using System.Numerics;
using P2PEnergy.Ledger.Audit;
using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests.Audit;

/// <summary>
/// The hand-computed slot of contracts/test/Settlement.test.js, on a ledger of its own: a seller S (the
/// fixture's stranger key, so that it can also move tokens itself), a buyer B1 with a meter, a buyer B2 whose
/// meter did not report, and a grid operator account G without a key.
/// </summary>
public sealed class HandComputedSlot
{
    public const long Slot = 989100;
    public const long Retail = 2620; // 26.20 JPY/kWh, the grid price of seed 004
    public const long BuyBack = 700; // 7.00 JPY/kWh
    public const byte Policy = SlotSettlementOrder.SellerCompensatesShortfall; // policy 1: the seller pays retail − price

    /// <summary>B1's deposit before settlement: 100 JPY.</summary>
    public const long B1Deposit = 10_000_000;

    // Hand computation, policy 1, money in 1e-5 JPY (contracts/test/Settlement.test.js):
    // lot 1: settled 1000: energy 1000 x 2000 = 2,000,000 B1 -> S; wheeling 1000 x 1000 = 1,000,000 B1 -> grid.
    // lot 2: settled 200, shortfall 300: energy 200 x 2100 = 420,000 B1 -> S; shortfall 300 x 2620 = 786,000 B1 -> grid;
    //        compensation 300 x (2620 - 2100) = 156,000 S -> B1.
    // lot 3: B2 consumed nothing, S delivered nothing to it: no money.
    // B1's unallocated import: 1800 - 1500 = 300 Wh x 2620 = 786,000 B1 -> grid.
    public const long NetS = 2_000_000 + 420_000 - 156_000; // 2,264,000 = 22.64 JPY
    public const long NetB1 = -(2_000_000 + 1_000_000 + 420_000 + 786_000) + 156_000 - 786_000; // -4,836,000
    public const long NetGrid = 1_000_000 + 786_000 + 786_000; // 2,572,000

    private HandComputedSlot(HardhatNodeFixture chain, LedgerDeployment deployment)
    {
        Chain = chain;
        Deployment = deployment;
        Contract = chain.Contract(deployment);
        S = ParticipantAddress.FromBytes(chain.StrangerKey.Address.ToBytes());
    }

    public HardhatNodeFixture Chain { get; }

    public LedgerDeployment Deployment { get; }

    public EnergyLedgerContract Contract { get; }

    public ParticipantAddress S { get; }

    public ParticipantAddress B1 { get; } = TestLots.AddressOf(0x5002);

    public ParticipantAddress B2 { get; } = TestLots.AddressOf(0x5003);

    public Address MeterS { get; } = Eth(TestLots.AddressOf(0xa001));

    public Address MeterB1 { get; } = Eth(TestLots.AddressOf(0xa002));

    public Address Grid { get; } = Eth(TestLots.AddressOf(0x9001));

    public Lot[] Lots => [MakeLot(1, S, B1, 1000, 2000, 1000), MakeLot(2, S, B1, 500, 2100, 0), MakeLot(3, S, B2, 400, 1900, 0)];

    /// <summary>
    /// FIFO (docs/settlement-rules.md): S's 1200 Wh export -> lot 1 1000, lot 2 200, lot 3 0;
    /// B1's 1800 Wh import -> lot 1 1000, lot 2 500, 300 Wh unallocated; B2 consumed nothing.
    /// </summary>
    public static LotFlow[] FifoFlows => [new(1, 1000, 1000), new(2, 200, 500), new(3, 0, 0)];

    public SettlementParty[] Parties =>
    [
        new(MeterS, S, 0, 1200),
        new(MeterB1, B1, 1800, 0),
        new(Address.Zero, B2, 0, 0),
    ];

    public static Address Eth(ParticipantAddress participant) => new(participant.ToBytes());

    public static Lot MakeLot(long lotId, ParticipantAddress seller, ParticipantAddress buyer, long energyWh, long priceTicks, long wheelingFeeTicks, long slot = Slot) =>
        new(lotId, slot, seller, buyer, energyWh, priceTicks, wheelingFeeTicks, Product.Standard, EnergySource.Mixed, 2 * lotId, 2 * lotId + 1);

    /// <summary>A fresh ledger with the grid operator set, B1's deposit made and the three lots recorded (not settled).</summary>
    public static async Task<HandComputedSlot> RecordAsync(HardhatNodeFixture chain)
    {
        var slot = new HandComputedSlot(chain, await chain.DeployLedgerAsync());
        await slot.Contract.SetGridOperatorAsync(chain.AdminKey, slot.Grid);
        await slot.Contract.DepositAsync(chain.OperatorKey, Eth(slot.B1), B1Deposit);
        await slot.Contract.RecordLotsAsync(chain.OperatorKey, slot.Lots);
        return slot;
    }

    /// <summary>Settles the slot with the given flows (default: the hand-computed FIFO ones).</summary>
    public Task<TransactionReceipt> SettleAsync(IReadOnlyList<LotFlow>? flows = null) =>
        Contract.SettleSlotAsync(
            Chain.OperatorKey,
            new SlotSettlementOrder(Slot, flows ?? FifoFlows, Parties, Retail, BuyBack, Policy),
            Lots);

    /// <summary>The order the settlement is made from (default flows: the hand-computed FIFO ones).</summary>
    public SlotSettlementOrder Order(IReadOnlyList<LotFlow>? flows = null) => new(Slot, flows ?? FifoFlows, Parties, Retail, BuyBack, Policy);

    /// <summary>beginSettlement for the slot: the first transaction of a paged settlement.</summary>
    public Task<TransactionReceipt> BeginAsync() => Contract.BeginSettlementAsync(Chain.OperatorKey, Order());

    /// <summary>
    /// Lot pages of the given sizes (recording order), then party pages of the given sizes (the contract's party order:
    /// B1, B2, S), from where the earlier pages stopped; the last party page finishes the settlement when <paramref name="last"/>.
    /// </summary>
    public async Task<List<TransactionReceipt>> PagesAsync(int[] lotPages, int[] partyPages, int firstLot = 0, int firstParty = 0, bool last = true)
    {
        var receipts = new List<TransactionReceipt>();
        var order = Order();
        foreach (var count in lotPages)
        {
            receipts.Add(await Contract.SettleLotsPageAsync(Chain.OperatorKey, order, Lots, firstLot, count));
            firstLot += count;
        }
        var sorted = EnergyLedgerContract.SortParties(Parties);
        for (int i = 0; i < partyPages.Length; i++)
        {
            receipts.Add(await Contract.SettlePartiesPageAsync(Chain.OperatorKey, Slot, sorted, firstParty, partyPages[i], last && i == partyPages.Length - 1));
            firstParty += partyPages[i];
        }
        return receipts;
    }

    /// <summary>The whole slot settled in pages: beginSettlement, lot pages of 1 and 2 lots, party pages of one party each (6 transactions).</summary>
    public async Task SettlePagedAsync()
    {
        await BeginAsync();
        await PagesAsync([1, 2], [1, 1, 1]);
    }

    /// <summary>S moves some of its own tokens: an ordinary ERC-20 transfer, not a settlement.</summary>
    public Task<TransactionReceipt> TransferFromSAsync(Address to, BigInteger amount) =>
        Contract.Sender.SendAsync(
            Chain.StrangerKey, Deployment.Ledger,
            EnergyLedgerContract.Abi.Function("transfer(address,uint256)").EncodeCall(to, amount), "transfer");

    /// <summary>S takes money out: its tokens are burnt.</summary>
    public Task<TransactionReceipt> WithdrawFromSAsync(BigInteger amount) =>
        Contract.Sender.SendAsync(
            Chain.StrangerKey, Deployment.Ledger, EnergyLedgerContract.Abi.Function("withdraw(uint256)").EncodeCall(amount), "withdraw");

    /// <summary>An auditor that knows only the node and the ledger's address (events from block 0).</summary>
    public LedgerAuditor Auditor() => new(Chain.Client, Deployment.Ledger);
}
