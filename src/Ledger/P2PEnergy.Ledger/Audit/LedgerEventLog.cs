using System.Numerics;

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
/// settlement, and whether a lot was recorded before or after its slot was settled.
/// </summary>
internal sealed class LedgerEventLog
{
    // Nodes limit the block range of one eth_getLogs: ask in windows (as EnergyLedgerContract does).
    private const ulong LogWindow = 10_000;

    private static readonly AbiEvent GridOperatorSetEvent = EnergyLedgerContract.Abi.Event("GridOperatorSet(address)");
    private static readonly byte[] LotRecordedTopic = EnergyLedgerContract.LotRecordedEvent.Topic0;
    private static readonly byte[] OrderRootTopic = EnergyLedgerContract.OrderRootCommittedEvent.Topic0;
    private static readonly byte[] SlotSettledTopic = EnergyLedgerContract.SlotSettledEvent.Topic0;
    private static readonly byte[] LotSettledTopic = EnergyLedgerContract.LotSettledEvent.Topic0;
    private static readonly byte[] PartySettledTopic = EnergyLedgerContract.PartySettledEvent.Topic0;
    private static readonly byte[] TransferTopic = EnergyLedgerContract.TransferEvent.Topic0;
    private static readonly byte[] GridOperatorSetTopic = GridOperatorSetEvent.Topic0;

    public List<RecordedLot> Lots { get; } = [];

    public List<Logged<OrderRootCommitment>> OrderRoots { get; } = [];

    public List<Logged<Address>> GridOperatorsSet { get; } = [];

    public List<Logged<SettledSlotEvent>> SlotsSettled { get; } = [];

    public List<Logged<SettledLotEvent>> LotsSettled { get; } = [];

    public List<Logged<SettledPartyEvent>> PartiesSettled { get; } = [];

    public List<Logged<TokenTransferEvent>> Transfers { get; } = [];

    /// <summary>Logs of the ledger that could not be decoded (position and why).</summary>
    public List<(LogPosition Position, string Problem)> Undecodable { get; } = [];

    public static async Task<LedgerEventLog> ReadAsync(EthJsonRpcClient client, Address ledger, ulong fromBlock, ulong toBlock, CancellationToken cancellationToken)
    {
        var logs = new List<LogEntry>();
        for (ulong from = fromBlock; from <= toBlock; from += LogWindow)
        {
            ulong to = Math.Min(toBlock, from + LogWindow - 1);
            var window = await client.GetLogsAsync(
                new LogFilter { Addresses = [ledger], FromBlock = BlockParameter.At(from), ToBlock = BlockParameter.At(to) },
                cancellationToken).ConfigureAwait(false);
            logs.AddRange(window.Where(l => !l.Removed && l.Address == ledger));
        }
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
                var v = EnergyLedgerContract.OrderRootCommittedEvent.DecodeLog(log.Topics, log.Data);
                OrderRoots.Add(new(position, new OrderRootCommitment(L(v[0]), Hex.Encode((byte[])v[1]!), checked((uint)(BigInteger)v[2]!), position.Block, position.TransactionHash)));
            }
            else if (topic.SequenceEqual(GridOperatorSetTopic))
            {
                var v = GridOperatorSetEvent.DecodeLog(log.Topics, log.Data);
                GridOperatorsSet.Add(new(position, (Address)v[0]!));
            }
            else if (topic.SequenceEqual(SlotSettledTopic))
            {
                var v = EnergyLedgerContract.SlotSettledEvent.DecodeLog(log.Topics, log.Data);
                SlotsSettled.Add(new(position, new SettledSlotEvent(
                    L(v[0]), (byte[])v[1]!, checked((int)L(v[2])), checked((int)L(v[3])), L(v[4]), L(v[5]), checked((byte)L(v[6])), L(v[7]),
                    position.Block, position.TransactionHash)));
            }
            else if (topic.SequenceEqual(LotSettledTopic))
            {
                var v = EnergyLedgerContract.LotSettledEvent.DecodeLog(log.Topics, log.Data);
                LotsSettled.Add(new(position, new SettledLotEvent(L(v[0]), L(v[1]), L(v[2]), L(v[3]), L(v[4]), position.Block)));
            }
            else if (topic.SequenceEqual(PartySettledTopic))
            {
                var v = EnergyLedgerContract.PartySettledEvent.DecodeLog(log.Topics, log.Data);
                PartiesSettled.Add(new(position, new SettledPartyEvent(
                    L(v[0]), ParticipantAddress.FromBytes(((Address)v[1]!).ToBytes()), (Address)v[2]!, L(v[3]), L(v[4]), L(v[5]), position.Block)));
            }
            else if (topic.SequenceEqual(TransferTopic))
            {
                var v = EnergyLedgerContract.TransferEvent.DecodeLog(log.Topics, log.Data);
                Transfers.Add(new(position, new TokenTransferEvent((Address)v[0]!, (Address)v[1]!, (BigInteger)v[2]!, position.Block)));
            }
        }
        catch (Exception e) when (e is AbiDecodingException or OverflowException or FormatException or ArgumentException)
        {
            // A value of our own contract's events always fits (5-byte Wh, 4-byte prices); anything else is reported.
            Undecodable.Add((position, e.Message));
        }
    }

    private static long L(object? value) => checked((long)(BigInteger)value!);
}
