
namespace P2PEnergy.Ledger.Audit;

/// <summary>Where a log sits on the chain: its block, its index in the block and its transaction.</summary>
public readonly record struct LogPosition(ulong Block, ulong LogIndex, string TransactionHash) : IComparable<LogPosition>
{
    public int CompareTo(LogPosition other)
    {
        int byBlock = Block.CompareTo(other.Block);
        return byBlock != 0 ? byBlock : LogIndex.CompareTo(other.LogIndex);
    }

    public static bool operator <(LogPosition left, LogPosition right) => left.CompareTo(right) < 0;

    public static bool operator >(LogPosition left, LogPosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(LogPosition left, LogPosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(LogPosition left, LogPosition right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"block {Block}, log {LogIndex}, tx {TransactionHash}";
}

/// <summary>An event of the ledger with its position.</summary>
internal sealed record Logged<T>(LogPosition Position, T Event);

/// <summary>
/// Every event of one ledger up to one block, read in one pass of eth_getLogs (in windows) and decoded with the
/// contract's bindings. One pass rather than the per-kind readers of <see cref="EnergyLedgerContract"/>
/// because the auditor needs every event's transaction and log index: which Transfers belong to which
/// settlement (of one transaction, or paged over several), and whether a lot was recorded before or after its
/// slot's settlement began.
/// </summary>
internal sealed class LedgerEventLog
{
    private static readonly AbiEvent GridOperatorSetEvent = EnergyLedgerContract.Abi.Event("GridOperatorSet(address)");
    private static readonly byte[] LotRecordedTopic = EnergyLedgerContract.LotRecordedEvent.Topic0;
    private static readonly byte[] OrderRootTopic = EnergyLedgerContract.OrderRootCommittedEvent.Topic0;
    private static readonly byte[] SlotSettledTopic = EnergyLedgerContract.SlotSettledEvent.Topic0;
    private static readonly byte[] LotSettledTopic = EnergyLedgerContract.LotSettledEvent.Topic0;
    private static readonly byte[] PartySettledTopic = EnergyLedgerContract.PartySettledEvent.Topic0;
    private static readonly byte[] SettlementBegunTopic = EnergyLedgerContract.SettlementBegunEvent.Topic0;
    private static readonly byte[] SettlementPageTopic = EnergyLedgerContract.SettlementPageEvent.Topic0;
    private static readonly byte[] SettlementAbortedTopic = EnergyLedgerContract.SettlementAbortedEvent.Topic0;
    private static readonly byte[] TransferTopic = EnergyLedgerContract.TransferEvent.Topic0;
    private static readonly byte[] GridOperatorSetTopic = GridOperatorSetEvent.Topic0;

    public List<RecordedLot> Lots { get; } = [];

    public List<Logged<OrderRootCommitment>> OrderRoots { get; } = [];

    public List<Logged<Address>> GridOperatorsSet { get; } = [];

    public List<Logged<SettledSlotEvent>> SlotsSettled { get; } = [];

    public List<Logged<SettledLotEvent>> LotsSettled { get; } = [];

    public List<Logged<SettledPartyEvent>> PartiesSettled { get; } = [];

    public List<Logged<TokenTransferEvent>> Transfers { get; } = [];

    /// <summary>SettlementBegun: a paged settlement of a slot began (its pages and SlotSettled follow in later transactions).</summary>
    public List<Logged<BegunSettlementEvent>> SettlementsBegun { get; } = [];

    /// <summary>SettlementPage: a page of lots (phase 1) or parties (phase 2) of a paged settlement.</summary>
    public List<Logged<SettledPageEvent>> SettlementPages { get; } = [];

    /// <summary>SettlementAborted: a paged settlement aborted during its lot pages (the slot is as before it began).</summary>
    public List<Logged<AbortedSettlementEvent>> SettlementsAborted { get; } = [];

    /// <summary>Logs of the ledger that could not be decoded (position and why).</summary>
    public List<(LogPosition Position, string Problem)> Undecodable { get; } = [];

    public static async Task<LedgerEventLog> ReadAsync(EthJsonRpcClient client, Address ledger, ulong fromBlock, ulong toBlock, CancellationToken cancellationToken)
    {
        var logs = (await EnergyLedgerContract.ReadLogsAsync(client, ledger, [], fromBlock, toBlock, cancellationToken).ConfigureAwait(false))
            .Where(l => l.Address == ledger);
        var log = new LedgerEventLog();
        foreach (var entry in logs.OrderBy(l => l.BlockNumber ?? 0).ThenBy(l => l.LogIndex ?? 0))
        {
            log.Add(entry);
        }
        return log;
    }

    private void Add(LogEntry log)
    {
        var position = new LogPosition(log.BlockNumber ?? 0, log.LogIndex ?? 0, log.TransactionHash is { } h ? Hex.Encode(h) : string.Empty);
        if (log.Topics.Count == 0) return;
        var topic = log.Topics[0].AsSpan();
        try
        {
            if (topic.SequenceEqual(LotRecordedTopic))
            {
                Lots.Add(EnergyLedgerContract.DecodeLotRecorded(log));
            }
            else if (topic.SequenceEqual(OrderRootTopic))
            {
                OrderRoots.Add(new(position, EnergyLedgerContract.DecodeOrderRootCommitted(log)));
            }
            else if (topic.SequenceEqual(GridOperatorSetTopic))
            {
                var v = GridOperatorSetEvent.DecodeLog(log.Topics, log.Data);
                GridOperatorsSet.Add(new(position, (Address)v[0]!));
            }
            else if (topic.SequenceEqual(SlotSettledTopic))
            {
                SlotsSettled.Add(new(position, EnergyLedgerContract.DecodeSlotSettled(log)));
            }
            else if (topic.SequenceEqual(LotSettledTopic))
            {
                LotsSettled.Add(new(position, EnergyLedgerContract.DecodeLotSettled(log)));
            }
            else if (topic.SequenceEqual(PartySettledTopic))
            {
                PartiesSettled.Add(new(position, EnergyLedgerContract.DecodePartySettled(log)));
            }
            else if (topic.SequenceEqual(TransferTopic))
            {
                Transfers.Add(new(position, EnergyLedgerContract.DecodeTransfer(log)));
            }
            else if (topic.SequenceEqual(SettlementBegunTopic))
            {
                SettlementsBegun.Add(new(position, EnergyLedgerContract.DecodeSettlementBegun(log)));
            }
            else if (topic.SequenceEqual(SettlementPageTopic))
            {
                SettlementPages.Add(new(position, EnergyLedgerContract.DecodeSettlementPage(log)));
            }
            else if (topic.SequenceEqual(SettlementAbortedTopic))
            {
                SettlementsAborted.Add(new(position, EnergyLedgerContract.DecodeSettlementAborted(log)));
            }
        }
        catch (Exception e) when (e is AbiDecodingException or OverflowException or FormatException or ArgumentException)
        {
            // A value of our own contract's events always fits (5-byte Wh, 4-byte prices); anything else is reported.
            Undecodable.Add((position, e.Message));
        }
    }
}
