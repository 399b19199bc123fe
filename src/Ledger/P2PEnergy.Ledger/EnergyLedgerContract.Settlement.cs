using System.Buffers.Binary;
using System.Numerics;
using P2PEnergy.Settlement;

namespace P2PEnergy.Ledger;

/// <summary>One party of an on-chain settlement: its meter's reading, or <see cref="Address.Zero"/> and 0/0 when its meter did not report.</summary>
public sealed record SettlementParty(Address Meter, ParticipantAddress Participant, long ImportWh, long ExportWh);

/// <summary>What a lot's seller delivered to it and its buyer consumed of it (docs/settlement-rules.md, FIFO allocation).</summary>
public sealed record LotFlow(long LotId, long DeliveredWh, long ConsumedWh);

/// <summary>
/// Everything settleSlot needs besides the lots themselves (which are taken from the chain, in recording order):
/// per-lot flows, every party's reading, the slot's grid prices and the policy.
/// </summary>
public sealed record SlotSettlementOrder(
    long Slot, IReadOnlyList<LotFlow> Flows, IReadOnlyList<SettlementParty> Parties, long RetailTicks, long BuyBackTicks, byte Policy)
{
    public const byte SellerCompensatesShortfall = 1;
    public const byte ShortfallNetOfWheeling = 2;
    public const byte BuyerCompensatesUnderconsumption = 4;

    /// <summary>The contract's policy bits for an engine policy.</summary>
    public static byte PolicyBits(SettlementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        byte bits = 0;
        if (policy.SellerCompensatesShortfall) bits |= SellerCompensatesShortfall;
        if (policy.ShortfallCompensation == ShortfallCompensation.RetailMinusPriceAndWheeling) bits |= ShortfallNetOfWheeling;
        if (policy.BuyerCompensatesUnderconsumption) bits |= BuyerCompensatesUnderconsumption;
        return bits;
    }

    /// <summary>The engine policy of the contract's policy bits.</summary>
    public static SettlementPolicy PolicyOf(byte bits) => new()
    {
        SellerCompensatesShortfall = (bits & SellerCompensatesShortfall) != 0,
        ShortfallCompensation = (bits & ShortfallNetOfWheeling) != 0 ? ShortfallCompensation.RetailMinusPriceAndWheeling : ShortfallCompensation.RetailMinusPrice,
        BuyerCompensatesUnderconsumption = (bits & BuyerCompensatesUnderconsumption) != 0,
    };

    /// <summary>
    /// The order of an engine result: flows from its lot results, a party per bill (the meter from
    /// <paramref name="meterOf"/>; a participant whose reading is missing gets meter 0 and 0/0).
    /// </summary>
    public static SlotSettlementOrder From(SlotSettlement settlement, Func<ParticipantAddress, Address?> meterOf, ISet<ParticipantAddress> missing)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        ArgumentNullException.ThrowIfNull(meterOf);
        ArgumentNullException.ThrowIfNull(missing);
        var flows = settlement.Lots.Select(l => new LotFlow(l.LotId, l.DeliveredWh, l.ConsumedWh)).ToArray();
        var parties = settlement.Bills.Select(b =>
        {
            var meter = missing.Contains(b.Participant) ? null : meterOf(b.Participant);
            return meter is { } m
                ? new SettlementParty(m, b.Participant, b.MeteredImportWh, b.MeteredExportWh)
                : new SettlementParty(Address.Zero, b.Participant, 0, 0);
        }).ToArray();
        return new SlotSettlementOrder(
            settlement.Slot, flows, parties, settlement.Prices.RetailTicks, settlement.Prices.BuyBackTicks, PolicyBits(settlement.Policy));
    }
}

/// <summary>A LotSettled event.</summary>
public sealed record SettledLotEvent(long Slot, long LotId, long DeliveredWh, long ConsumedWh, long SettledWh, ulong BlockNumber);

/// <summary>A PartySettled event: the reading used and the party's net money for the slot (positive: received).</summary>
public sealed record SettledPartyEvent(long Slot, ParticipantAddress Participant, Address Meter, long ImportWh, long ExportWh, long Net, ulong BlockNumber);

/// <summary>A SlotSettled event.</summary>
public sealed record SettledSlotEvent(
    long Slot, byte[] ReadingsRoot, int Lots, int Parties, long RetailTicks, long BuyBackTicks, byte Policy, long GridNet, ulong BlockNumber, string TransactionHash);

/// <summary>A SettlementBegun event: a paged settlement of the slot began at these prices and policy.</summary>
public sealed record BegunSettlementEvent(long Slot, long RetailTicks, long BuyBackTicks, byte Policy, ulong BlockNumber);

/// <summary>A SettlementPage event: <see cref="Count"/> lots (<see cref="Phase"/> 1) or parties (2) of a paged settlement from index <see cref="First"/>.</summary>
public sealed record SettledPageEvent(long Slot, byte Phase, long First, long Count, ulong BlockNumber);

/// <summary>A SettlementAborted event: a paged settlement aborted during its lot pages, after <see cref="LotsDone"/> lots (nothing had moved).</summary>
public sealed record AbortedSettlementEvent(long Slot, long LotsDone, ulong BlockNumber);

/// <summary>Where a slot's settlement stands on chain (settlementProgress).</summary>
/// <param name="Phase">0: not begun (or settled in one transaction: see isSettled); 1: lot pages; 2: party pages; 3: settled.</param>
public sealed record SettlementProgress(byte Phase, long LotsDone, long PartiesDone)
{
    public const byte NotBegun = 0;
    public const byte Lots = 1;
    public const byte Parties = 2;
    public const byte Settled = 3;
}

/// <summary>A Transfer event of the settlement token (from 0: a deposit; to 0: a withdrawal; the ledger itself: the settlement clearing).</summary>
public sealed record TokenTransferEvent(Address From, Address To, BigInteger Value, ulong BlockNumber);

/// <summary>Everything the ledger's settlement emitted, in chain order.</summary>
public sealed record LedgerSettlementEvents(
    IReadOnlyList<SettledSlotEvent> Slots, IReadOnlyList<SettledLotEvent> Lots, IReadOnlyList<SettledPartyEvent> Parties, IReadOnlyList<TokenTransferEvent> Transfers);

public sealed partial class EnergyLedgerContract
{
    public static AbiFunction SettleSlotFunction { get; } = Abi.Function("settleSlot(uint64,bytes,bytes,bytes,uint32,uint32,uint8)");
    public static AbiFunction DepositFunction { get; } = Abi.Function("deposit(address,uint256)");
    public static AbiFunction SetGridOperatorFunction { get; } = Abi.Function("setGridOperator(address)");
    public static AbiFunction GridOperatorFunction { get; } = Abi.Function("gridOperator()");
    public static AbiFunction BalanceOfFunction { get; } = Abi.Function("balanceOf(address)");
    public static AbiFunction TotalSupplyFunction { get; } = Abi.Function("totalSupply()");
    public static AbiFunction IsSettledFunction { get; } = Abi.Function("isSettled(uint64)");
    public static AbiFunction ReadingsRootFunction { get; } = Abi.Function("readingsRoot(uint64)");
    public static AbiEvent LotSettledEvent { get; } = Abi.Event("LotSettled(uint64,uint64,uint256,uint256,uint256)");
    public static AbiEvent PartySettledEvent { get; } = Abi.Event("PartySettled(uint64,address,address,uint256,uint256,int256)");
    public static AbiEvent SlotSettledEvent { get; } = Abi.Event("SlotSettled(uint64,bytes32,uint32,uint32,uint32,uint32,uint8,int256)");
    public static AbiEvent TransferEvent { get; } = Abi.Event("Transfer(address,address,uint256)");
    public static AbiFunction BeginSettlementFunction { get; } = Abi.Function("beginSettlement(uint64,uint32,uint32,uint8)");
    public static AbiFunction SettleLotsPageFunction { get; } = Abi.Function("settleLotsPage(uint64,uint32,bytes,bytes)");
    public static AbiFunction SettlePartiesPageFunction { get; } = Abi.Function("settlePartiesPage(uint64,uint32,bytes,bool)");
    public static AbiFunction SettlementProgressFunction { get; } = Abi.Function("settlementProgress(uint64)");
    public static AbiFunction AbortSettlementFunction { get; } = Abi.Function("abortSettlement(uint64)");
    public static AbiFunction ClearingFunction { get; } = Abi.Function("clearing()");
    public static AbiEvent SettlementAbortedEvent { get; } = Abi.Event("SettlementAborted(uint64,uint32)");
    public static AbiEvent SettlementBegunEvent { get; } = Abi.Event("SettlementBegun(uint64,uint32,uint32,uint8)");
    public static AbiEvent SettlementPageEvent { get; } = Abi.Event("SettlementPage(uint64,uint8,uint32,uint32)");

    /// <summary>Bytes per lot flow and per party in settleSlot's packed arguments (the contract's FLOW_BYTES, PARTY_BYTES).</summary>
    public const int FlowBytes = 10;

    public const int PartyBytes = 50;

    /// <summary>
    /// settleSlot's call data: <paramref name="lotsInRecordingOrder"/> as the chain recorded them (the contract checks
    /// them against its running hash), the order's flow for each, and its parties sorted as the contract wants
    /// (strictly ascending participant).
    /// </summary>
    public static byte[] EncodeSettleSlot(SlotSettlementOrder order, IReadOnlyList<Lot> lotsInRecordingOrder)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(lotsInRecordingOrder);
        var flowOf = FlowsByLot(order, lotsInRecordingOrder);
        var (lots, flows) = PackLots(flowOf, lotsInRecordingOrder, 0, lotsInRecordingOrder.Count);
        var sorted = SortParties(order.Parties);
        return SettleSlotFunction.EncodeCall(
            checked((ulong)order.Slot), lots, flows, PackParties(sorted, 0, sorted.Count), checked((uint)order.RetailTicks), checked((uint)order.BuyBackTicks), order.Policy);
    }

    /// <summary>beginSettlement's call data: the paged settlement of the order's slot, at its prices and policy.</summary>
    public static byte[] EncodeBeginSettlement(SlotSettlementOrder order)
    {
        ArgumentNullException.ThrowIfNull(order);
        return BeginSettlementFunction.EncodeCall(checked((ulong)order.Slot), checked((uint)order.RetailTicks), checked((uint)order.BuyBackTicks), order.Policy);
    }

    /// <summary>settleLotsPage's call data: lots [<paramref name="first"/>, first + <paramref name="count"/>) of the slot in recording order, with their flows.</summary>
    public static byte[] EncodeSettleLotsPage(SlotSettlementOrder order, IReadOnlyList<Lot> lotsInRecordingOrder, int first, int count)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(lotsInRecordingOrder);
        var (lots, flows) = PackLots(FlowsByLot(order, lotsInRecordingOrder), lotsInRecordingOrder, first, count);
        return SettleLotsPageFunction.EncodeCall(checked((ulong)order.Slot), checked((uint)first), lots, flows);
    }

    /// <summary>settlePartiesPage's call data: parties [<paramref name="first"/>, first + <paramref name="count"/>) of <paramref name="sortedParties"/> (<see cref="SortParties"/>).</summary>
    public static byte[] EncodeSettlePartiesPage(long slot, IReadOnlyList<SettlementParty> sortedParties, int first, int count, bool last)
    {
        ArgumentNullException.ThrowIfNull(sortedParties);
        return SettlePartiesPageFunction.EncodeCall(checked((ulong)slot), checked((uint)first), PackParties(sortedParties, first, count), last);
    }

    private static Dictionary<long, LotFlow> FlowsByLot(SlotSettlementOrder order, IReadOnlyList<Lot> lotsInRecordingOrder)
    {
        var flowOf = order.Flows.ToDictionary(f => f.LotId);
        foreach (var lot in lotsInRecordingOrder)
        {
            if (!flowOf.ContainsKey(lot.LotId)) throw new ArgumentException($"No flow for lot {lot.LotId}.", nameof(order));
        }
        if (flowOf.Count != lotsInRecordingOrder.Count) throw new ArgumentException("The order has flows of lots that are not given.", nameof(order));
        return flowOf;
    }

    private static (byte[] Lots, byte[] Flows) PackLots(Dictionary<long, LotFlow> flowOf, IReadOnlyList<Lot> lotsInRecordingOrder, int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (first + count > lotsInRecordingOrder.Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"Lots {first}..{first + count} of {lotsInRecordingOrder.Count}.");
        var lots = new byte[count * LotPacking.LotBytes];
        var flows = new byte[count * FlowBytes];
        for (int i = 0; i < count; i++)
        {
            var lot = lotsInRecordingOrder[first + i];
            var flow = flowOf[lot.LotId];
            LotPacking.Pack(lot, lots.AsSpan(i * LotPacking.LotBytes, LotPacking.LotBytes));
            WriteUInt40(flows.AsSpan(i * FlowBytes), flow.DeliveredWh);
            WriteUInt40(flows.AsSpan(i * FlowBytes + 5), flow.ConsumedWh);
        }
        return (lots, flows);
    }

    private static byte[] PackParties(IReadOnlyList<SettlementParty> sorted, int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (first + count > sorted.Count) throw new ArgumentOutOfRangeException(nameof(count), count, $"Parties {first}..{first + count} of {sorted.Count}.");
        var parties = new byte[count * PartyBytes];
        for (int i = 0; i < count; i++)
        {
            var p = sorted[first + i];
            var span = parties.AsSpan(i * PartyBytes, PartyBytes);
            p.Meter.ToBytes().CopyTo(span);
            p.Participant.ToBytes().CopyTo(span[20..]);
            WriteUInt40(span[40..], p.ImportWh);
            WriteUInt40(span[45..], p.ExportWh);
        }
        return parties;
    }

    /// <summary>Parties in the contract's order: by participant (20 bytes), bytewise ascending (each participant once).</summary>
    public static IReadOnlyList<SettlementParty> SortParties(IEnumerable<SettlementParty> parties)
    {
        var list = parties.ToList();
        list.Sort((a, b) => a.Participant.ToBytes().AsSpan().SequenceCompareTo(b.Participant.ToBytes()));
        return list;
    }

    public static byte[] EncodeDeposit(Address account, BigInteger amount) => DepositFunction.EncodeCall(account, amount);

    public static byte[] EncodeSetGridOperator(Address gridOperator) => SetGridOperatorFunction.EncodeCall(gridOperator);

    public Task<TransactionReceipt> SettleSlotAsync(EthKey operatorKey, SlotSettlementOrder order, IReadOnlyList<Lot> lotsInRecordingOrder, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, EncodeSettleSlot(order, lotsInRecordingOrder), "settleSlot", cancellationToken);

    public Task<TransactionReceipt> BeginSettlementAsync(EthKey operatorKey, SlotSettlementOrder order, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, EncodeBeginSettlement(order), "beginSettlement", cancellationToken);

    /// <param name="gasLimit">The page's gas limit (planned by the caller, see <see cref="TransactionSender.SendWithGasLimitAsync"/>); null: eth_estimateGas's.</param>
    public Task<TransactionReceipt> SettleLotsPageAsync(
        EthKey operatorKey, SlotSettlementOrder order, IReadOnlyList<Lot> lotsInRecordingOrder, int first, int count, CancellationToken cancellationToken = default, ulong? gasLimit = null) =>
        Send(operatorKey, EncodeSettleLotsPage(order, lotsInRecordingOrder, first, count), "settleLotsPage", gasLimit, cancellationToken);

    /// <param name="gasLimit">The page's gas limit (planned by the caller, see <see cref="TransactionSender.SendWithGasLimitAsync"/>); null: eth_estimateGas's.</param>
    public Task<TransactionReceipt> SettlePartiesPageAsync(
        EthKey operatorKey, long slot, IReadOnlyList<SettlementParty> sortedParties, int first, int count, bool last, CancellationToken cancellationToken = default, ulong? gasLimit = null) =>
        Send(operatorKey, EncodeSettlePartiesPage(slot, sortedParties, first, count, last), "settlePartiesPage", gasLimit, cancellationToken);

    private Task<TransactionReceipt> Send(EthKey key, byte[] data, string operation, ulong? gasLimit, CancellationToken cancellationToken) =>
        gasLimit is { } limit
            ? Sender.SendWithGasLimitAsync(key, Address, data, limit, operation, cancellationToken)
            : Sender.SendAsync(key, Address, data, operation, cancellationToken);

    /// <summary>Aborts a paged settlement still in its lot pages (the slot is then as before it began).</summary>
    public Task<TransactionReceipt> AbortSettlementAsync(EthKey operatorKey, long slot, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, AbortSettlementFunction.EncodeCall(checked((ulong)slot)), "abortSettlement", cancellationToken);

    /// <summary>The settlement clearing's money: paid in and not yet paid out by open paged settlements (negative: creditors paid first).</summary>
    public async Task<BigInteger> ClearingAsync(BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (BigInteger)(await CallAsync(ClearingFunction, [], block, cancellationToken).ConfigureAwait(false))[0]!;

    /// <summary>Where the slot's settlement stands on chain.</summary>
    public async Task<SettlementProgress> SettlementProgressAsync(long slot, BlockParameter? block = null, CancellationToken cancellationToken = default)
    {
        var v = await CallAsync(SettlementProgressFunction, [checked((ulong)slot)], block, cancellationToken).ConfigureAwait(false);
        return new SettlementProgress(checked((byte)L(v[0])), L(v[1]), L(v[2]));
    }

    public Task<TransactionReceipt> DepositAsync(EthKey operatorKey, Address account, BigInteger amount, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, EncodeDeposit(account, amount), "deposit", cancellationToken);

    public Task<TransactionReceipt> SetGridOperatorAsync(EthKey adminKey, Address gridOperator, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(adminKey, Address, EncodeSetGridOperator(gridOperator), "setGridOperator", cancellationToken);

    public async Task<BigInteger> BalanceOfAsync(Address account, BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (BigInteger)(await CallAsync(BalanceOfFunction, [account], block, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<BigInteger> TotalSupplyAsync(BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (BigInteger)(await CallAsync(TotalSupplyFunction, [], block, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<Address> GridOperatorAsync(CancellationToken cancellationToken = default) =>
        (Address)(await CallAsync(GridOperatorFunction, [], null, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<bool> IsSettledAsync(long slot, BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (bool)(await CallAsync(IsSettledFunction, [checked((ulong)slot)], block, cancellationToken).ConfigureAwait(false))[0]!;

    /// <summary>The readings root stored when the slot was settled; null before (or when the slot had no reading).</summary>
    public async Task<byte[]?> ReadingsRootAsync(long slot, CancellationToken cancellationToken = default)
    {
        var root = (byte[])(await CallAsync(ReadingsRootFunction, [checked((ulong)slot)], null, cancellationToken).ConfigureAwait(false))[0]!;
        return root.All(b => b == 0) ? null : root;
    }

    /// <summary>Every settlement event and token transfer of this ledger, in chain order.</summary>
    public async Task<LedgerSettlementEvents> GetSettlementEventsAsync(ulong fromBlock = 0, ulong? toBlock = null, CancellationToken cancellationToken = default)
    {
        var logs = await GetLogsAsync(
            [new[] { SlotSettledEvent.Topic0, LotSettledEvent.Topic0, PartySettledEvent.Topic0, TransferEvent.Topic0 }], fromBlock, toBlock, cancellationToken).ConfigureAwait(false);
        var slots = new List<SettledSlotEvent>();
        var lots = new List<SettledLotEvent>();
        var parties = new List<SettledPartyEvent>();
        var transfers = new List<TokenTransferEvent>();
        foreach (var log in logs)
        {
            var topic = log.Topics.Count > 0 ? log.Topics[0] : [];
            if (topic.AsSpan().SequenceEqual(SlotSettledEvent.Topic0)) slots.Add(DecodeSlotSettled(log));
            else if (topic.AsSpan().SequenceEqual(LotSettledEvent.Topic0)) lots.Add(DecodeLotSettled(log));
            else if (topic.AsSpan().SequenceEqual(PartySettledEvent.Topic0)) parties.Add(DecodePartySettled(log));
            else if (topic.AsSpan().SequenceEqual(TransferEvent.Topic0)) transfers.Add(DecodeTransfer(log));
        }
        return new LedgerSettlementEvents(slots, lots, parties, transfers);
    }

    public static SettledSlotEvent DecodeSlotSettled(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = SlotSettledEvent.DecodeLog(log.Topics, log.Data);
        return new SettledSlotEvent(
            L(v[0]), (byte[])v[1]!, checked((int)L(v[2])), checked((int)L(v[3])), L(v[4]), L(v[5]), checked((byte)L(v[6])), L(v[7]),
            log.BlockNumber ?? 0, log.TransactionHash is { } h ? Hex.Encode(h) : string.Empty);
    }

    public static SettledLotEvent DecodeLotSettled(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = LotSettledEvent.DecodeLog(log.Topics, log.Data);
        return new SettledLotEvent(L(v[0]), L(v[1]), L(v[2]), L(v[3]), L(v[4]), log.BlockNumber ?? 0);
    }

    public static SettledPartyEvent DecodePartySettled(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = PartySettledEvent.DecodeLog(log.Topics, log.Data);
        return new SettledPartyEvent(
            L(v[0]), ParticipantAddress.FromBytes(((Address)v[1]!).ToBytes()), (Address)v[2]!, L(v[3]), L(v[4]), L(v[5]), log.BlockNumber ?? 0);
    }

    public static BegunSettlementEvent DecodeSettlementBegun(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = SettlementBegunEvent.DecodeLog(log.Topics, log.Data);
        return new BegunSettlementEvent(L(v[0]), L(v[1]), L(v[2]), checked((byte)L(v[3])), log.BlockNumber ?? 0);
    }

    public static SettledPageEvent DecodeSettlementPage(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = SettlementPageEvent.DecodeLog(log.Topics, log.Data);
        return new SettledPageEvent(L(v[0]), checked((byte)L(v[1])), L(v[2]), L(v[3]), log.BlockNumber ?? 0);
    }

    public static AbortedSettlementEvent DecodeSettlementAborted(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = SettlementAbortedEvent.DecodeLog(log.Topics, log.Data);
        return new AbortedSettlementEvent(L(v[0]), L(v[1]), log.BlockNumber ?? 0);
    }

    public static TokenTransferEvent DecodeTransfer(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = TransferEvent.DecodeLog(log.Topics, log.Data);
        return new TokenTransferEvent((Address)v[0]!, (Address)v[1]!, (BigInteger)v[2]!, log.BlockNumber ?? 0);
    }

    // Event values arrive as BigInteger; every amount here fits a long (money of a slot is far below 2^63 units).
    private static long L(object? value) => checked((long)(BigInteger)value!);

    private static void WriteUInt40(Span<byte> destination, long value)
    {
        if (value is < 0 or > 0xFF_FFFF_FFFF) throw new ArgumentOutOfRangeException(nameof(value), value, "Wh must fit 5 bytes.");
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(eight, (ulong)value);
        eight[3..].CopyTo(destination);
    }
}
