using System.Numerics;
using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests.Paged;

/// <summary>
/// One slot's settlement content: its lots in recording order, a flow per lot, every party's reading and the grid
/// prices and policy, generated from a seed so that the contract's rules hold (flows within the lots and the readings).
/// </summary>
public sealed record SettlementCase(long Slot, Lot[] Lots, LotFlow[] Flows, SettlementParty[] Parties, long Retail, long BuyBack, byte Policy, Address Grid)
{
    /// <summary>What every party (and the grid operator) holds before settlement: far above any slot's money here.</summary>
    public static readonly BigInteger Deposit = 100_000_000_000;

    public SlotSettlementOrder Order => new(Slot, Flows, Parties, Retail, BuyBack, Policy);

    public IReadOnlyList<SettlementParty> Sorted => EnergyLedgerContract.SortParties(Parties);

    public IEnumerable<Address> Accounts => Parties.Select(p => Eth(p.Participant)).Append(Grid);

    /// <summary>The readings tree of the parties with a meter, as the exchange seals it.</summary>
    public byte[] ReadingsRoot() =>
        MeterReadingMerkleTree.Build(Parties.Where(p => !p.Meter.IsZero).Select(p =>
            (p.Meter, Eth(p.Participant), MeterReadingMerkleTree.Leaf(p.Meter, Eth(p.Participant), (ulong)Slot, (ulong)p.ImportWh, (ulong)p.ExportWh)))).Root;

    public static Address Eth(ParticipantAddress participant) => new(participant.ToBytes());

    public static ParticipantAddress RandomParticipant(Random random)
    {
        var bytes = new byte[20];
        random.NextBytes(bytes);
        return ParticipantAddress.FromBytes(bytes);
    }

    public static Address RandomAddress(Random random) => Eth(RandomParticipant(random));

    /// <summary>
    /// A random slot: about a fifth of the parties without a meter (their lots settle at 0 on their side), about a
    /// fifth metered without any lot (grid only), the rest traders. Prices above retail and below buy-back occur, so
    /// the compensation floors are exercised too.
    /// </summary>
    public static SettlementCase Random(int seed, long slot, byte policy, int minParties = 10, int maxParties = 40, int minLots = 20, int maxLots = 60)
    {
        var random = new Random(seed);
        int partyCount = random.Next(minParties, maxParties + 1);
        int lotCount = random.Next(minLots, maxLots + 1);
        var participants = Enumerable.Range(0, partyCount).Select(_ => RandomParticipant(random)).ToArray();
        int meterless = Math.Max(1, partyCount / 5);
        int gridOnly = Math.Max(1, partyCount / 5);
        var traders = participants.Where((_, i) => i >= gridOnly).ToArray(); // the meterless ones trade too
        var withoutMeter = participants.Skip(gridOnly).Take(meterless).ToHashSet();

        var lotIds = Enumerable.Range(1, lotCount).Select(i => (long)i * 7 + seed % 5).ToArray();
        random.Shuffle(lotIds); // recording order is not lot-id order
        var lots = new Lot[lotCount];
        var flows = new LotFlow[lotCount];
        var delivered = participants.ToDictionary(p => p, _ => 0L);
        var consumed = participants.ToDictionary(p => p, _ => 0L);
        for (int i = 0; i < lotCount; i++)
        {
            var seller = traders[random.Next(traders.Length)];
            ParticipantAddress buyer;
            do
            {
                buyer = traders[random.Next(traders.Length)];
            }
            while (buyer == seller);
            long wh = random.Next(3) == 0 ? 100 * random.Next(1, 30) : random.Next(1, 5000);
            long fee = random.Next(3) == 0 ? 0 : random.Next(100, 1500);
            lots[i] = new Lot(
                lotIds[i], slot, seller, buyer, wh, random.Next(500, 4000), fee,
                random.Next(2) == 0 ? Product.Standard : Product.Green, random.Next(2) == 0 ? EnergySource.Mixed : EnergySource.Renewable,
                random.Next(1, 1_000_000), random.Next(1, 1_000_000));
            long d = withoutMeter.Contains(seller) ? 0 : Part(random, wh);
            long c = withoutMeter.Contains(buyer) ? 0 : Part(random, wh);
            flows[i] = new LotFlow(lotIds[i], d, c);
            delivered[seller] += d;
            consumed[buyer] += c;
        }
        var lotParties = lots.SelectMany(l => new[] { l.Seller, l.Buyer }).ToHashSet();
        var parties = new List<SettlementParty>();
        foreach (var p in participants)
        {
            if (withoutMeter.Contains(p))
            {
                if (lotParties.Contains(p)) parties.Add(new SettlementParty(Address.Zero, p, 0, 0));
                continue;
            }
            long extraImport = random.Next(2) == 0 ? 0 : random.Next(1, 2000);
            long extraExport = random.Next(2) == 0 ? 0 : random.Next(1, 2000);
            parties.Add(new SettlementParty(RandomAddress(random), p, consumed[p] + extraImport, delivered[p] + extraExport));
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(parties)); // the bindings sort them
        return new SettlementCase(slot, lots, flows, [.. parties], random.Next(2000, 3500), random.Next(300, 1200), policy, RandomAddress(random));
    }

    /// <summary>
    /// A big slot for gas figures: <paramref name="sellerCount"/> sellers and <paramref name="buyerCount"/> buyers, each in
    /// at least one of <paramref name="lotCount"/> lots, every party metered; policy 0, so every seller is a creditor
    /// (paid into a zero balance, the costly case) and every buyer a debtor.
    /// </summary>
    public static SettlementCase Market(int seed, long slot, int sellerCount, int buyerCount, int lotCount)
    {
        var random = new Random(seed);
        var sellers = Enumerable.Range(0, sellerCount).Select(_ => RandomParticipant(random)).ToArray();
        var buyers = Enumerable.Range(0, buyerCount).Select(_ => RandomParticipant(random)).ToArray();
        var lots = new Lot[lotCount];
        var flows = new LotFlow[lotCount];
        var delivered = sellers.ToDictionary(p => p, _ => 0L);
        var consumed = buyers.ToDictionary(p => p, _ => 0L);
        for (int i = 0; i < lotCount; i++)
        {
            var (seller, buyer) = (sellers[i % sellerCount], buyers[(i * 7 + i / buyerCount) % buyerCount]);
            long wh = random.Next(100, 5000);
            lots[i] = new Lot(i + 1, slot, seller, buyer, wh, random.Next(1500, 2600), random.Next(2) == 0 ? 0 : 1000, Product.Standard, EnergySource.Mixed, 2 * i + 1, 2 * i + 2);
            flows[i] = new LotFlow(i + 1, Part(random, wh), Part(random, wh));
            delivered[seller] += flows[i].DeliveredWh;
            consumed[buyer] += flows[i].ConsumedWh;
        }
        var parties = sellers.Select(p => new SettlementParty(RandomAddress(random), p, 0, delivered[p] + random.Next(0, 500)))
            .Concat(buyers.Select(p => new SettlementParty(RandomAddress(random), p, consumed[p] + random.Next(0, 500), 0)))
            .ToArray();
        return new SettlementCase(slot, lots, flows, parties, 2620, 700, 0, RandomAddress(random));
    }

    /// <summary>All of a lot, none of it, or some.</summary>
    private static long Part(Random random, long wh) => random.Next(4) switch
    {
        0 or 1 => wh,
        2 => 0,
        _ => random.NextInt64(0, wh + 1),
    };
}

/// <summary>A fresh ledger with the grid operator set, deposits made and a case's lots recorded (not settled).</summary>
public sealed class PreparedLedger
{
    private PreparedLedger(HardhatNodeFixture chain, LedgerDeployment deployment, SettlementCase @case)
    {
        Chain = chain;
        Deployment = deployment;
        Contract = chain.Contract(deployment);
        Case = @case;
    }

    public HardhatNodeFixture Chain { get; }

    public LedgerDeployment Deployment { get; }

    public EnergyLedgerContract Contract { get; }

    public SettlementCase Case { get; }

    /// <summary>The block after the setup: settlement events are read from here.</summary>
    public ulong SettlementFromBlock { get; private set; }

    /// <param name="withoutDeposit">Accounts that get no deposit (a debtor without the balance).</param>
    /// <param name="recordingBatches">The lots are recorded in this many recordLots transactions (recording order kept).</param>
    public static async Task<PreparedLedger> PrepareAsync(
        HardhatNodeFixture chain, SettlementCase @case, IReadOnlyCollection<Address>? withoutDeposit = null, int recordingBatches = 2)
    {
        var ledger = new PreparedLedger(chain, await chain.DeployLedgerAsync(), @case);
        await ledger.Contract.SetGridOperatorAsync(chain.AdminKey, @case.Grid);
        var accounts = @case.Accounts.Where(a => withoutDeposit is null || !withoutDeposit.Contains(a)).ToArray();
        await QuickSender.SendAllAsync(chain, ledger.Deployment.Ledger, accounts.Select(a => EnergyLedgerContract.EncodeDeposit(a, SettlementCase.Deposit)).ToArray());
        int batch = Math.Max(1, (@case.Lots.Length + recordingBatches - 1) / recordingBatches);
        foreach (var lots in @case.Lots.Chunk(batch))
        {
            await ledger.Contract.RecordLotsAsync(chain.OperatorKey, lots);
        }
        ledger.SettlementFromBlock = await chain.Client.GetBlockNumberAsync() + 1;
        return ledger;
    }

    public async Task<Dictionary<Address, BigInteger>> BalancesAsync()
    {
        var balances = new Dictionary<Address, BigInteger>();
        foreach (var account in Case.Accounts.Append(Deployment.Ledger))
        {
            balances[account] = await Contract.BalanceOfAsync(account);
        }
        return balances;
    }
}

/// <summary>
/// Transactions from the operator key without an estimate each (setup and bulk pages): signed with consecutive
/// nonces kept here and a fixed gas limit; automine mines each as it arrives, and a revert throws.
/// </summary>
public sealed class QuickSender
{
    private readonly HardhatNodeFixture _chain;
    private readonly TransactionSender _sender;
    private readonly Fees _fees;

    private QuickSender(HardhatNodeFixture chain, Fees fees, ulong nonce)
    {
        _chain = chain;
        _sender = new TransactionSender(chain.Client, HardhatNode.ChainId);
        _fees = fees;
        Nonce = nonce;
    }

    /// <summary>The next transaction's nonce (set it back after an evm_revert).</summary>
    public ulong Nonce { get; set; }

    public static async Task<QuickSender> StartAsync(HardhatNodeFixture chain)
    {
        var sender = new TransactionSender(chain.Client, HardhatNode.ChainId);
        var fees = await sender.GetFeesAsync();
        // Automine: one transaction a block, far below the gas target, so the base fee only falls; 2x leaves room anyway.
        return new QuickSender(chain, new Fees(2 * fees.MaxFeePerGas, fees.MaxPriorityFeePerGas), await chain.Client.GetTransactionCountAsync(chain.OperatorKey.Address, BlockParameter.Pending));
    }

    public async Task SendAsync(Address to, byte[] call, ulong gasLimit = 200_000)
    {
        await _chain.Client.SendRawTransactionAsync(_sender.Sign(_chain.OperatorKey, Nonce, to, call, gasLimit, _fees));
        Nonce++;
    }

    public static async Task SendAllAsync(HardhatNodeFixture chain, Address to, IReadOnlyList<byte[]> calls, ulong gasLimit = 200_000)
    {
        var sender = await StartAsync(chain);
        foreach (var call in calls)
        {
            await sender.SendAsync(to, call, gasLimit);
        }
    }
}
