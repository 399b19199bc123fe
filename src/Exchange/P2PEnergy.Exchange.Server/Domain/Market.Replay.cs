using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Durability;
using P2PEnergy.Exchange.Server.Durability.Journal;

namespace P2PEnergy.Exchange.Server.Domain;

public sealed partial class Market
{
    /// <summary>
    /// Applies one journal entry at start-up, before the exchange serves anyone: the command as it was
    /// applied, at the market time it was applied at, without journaling it again. The core is deterministic,
    /// so the entry must make exactly the order and lot ids it made the first time; otherwise the journal and
    /// this build disagree and the exchange must not start (<see cref="InvalidDataException"/>).
    /// Returns the lots the entry made (for the outbox: those not yet in it are added again).
    /// </summary>
    internal IReadOnlyList<Lot> Replay(long seq, JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var lotsBefore = 0;
        lock (_lock)
        {
            _replaying = true;
            _replayNow = entry.UnixMs;
            lotsBefore = _lots.Count;
        }
        try
        {
            ReplayCommand(seq, entry);
        }
        finally
        {
            lock (_lock) _replaying = false;
        }
        lock (_lock)
        {
            if (_engine.NextOrderId != entry.NextOrderId || _engine.NextLotId != entry.NextLotId)
            {
                throw new InvalidDataException(
                    $"journal entry {seq} ({entry.CommandCase}) replayed to next order id {_engine.NextOrderId} and next lot id {_engine.NextLotId}; " +
                    $"the journal says {entry.NextOrderId} and {entry.NextLotId}. The journal was written by a build with other matching rules or " +
                    "configuration, or it is damaged: the exchange stops rather than make other lots under the same ids.");
            }
            return lotsBefore == _lots.Count ? [] : _lots.Range(lotsBefore, _lots.Count - lotsBefore);
        }
    }

    private void ReplayCommand(long seq, JournalEntry entry)
    {
        ResultCode code;
        switch (entry.CommandCase)
        {
            case JournalEntry.CommandOneofCase.Submit:
                code = Submit(JournalEntries.ToCommand(entry.Submit, entry.UnixMs), JournalEntries.ToSignedOrder(entry.Submit, SigningDomain)).Code;
                break;
            case JournalEntry.CommandOneofCase.Cancel:
                code = Cancel(JournalEntries.ToAddress(entry.Cancel.Participant, "cancel.participant"), entry.Cancel.OrderId).Code;
                break;
            case JournalEntry.CommandOneofCase.Reduce:
                code = Reduce(JournalEntries.ToAddress(entry.Reduce.Participant, "reduce.participant"), entry.Reduce.OrderId, entry.Reduce.ReduceByWh).Code;
                break;
            case JournalEntry.CommandOneofCase.Register:
                code = RegisterParticipant(JournalEntries.ToAddress(entry.Register.Address, "register.address"), entry.Register.Zone, (ParticipantKind)entry.Register.Kind);
                break;
            case JournalEntry.CommandOneofCase.OpenSlots:
                code = OpenSlots(entry.OpenSlots.FirstSlot, entry.OpenSlots.Count, (Mechanism)entry.OpenSlots.Mechanism, out _, out _);
                break;
            case JournalEntry.CommandOneofCase.CloseGate:
                code = CloseGate(entry.CloseGate.Slot, out _);
                break;
            case JournalEntry.CommandOneofCase.CloseDueGates:
                if (CloseDueGates().Count == 0)
                    throw new InvalidDataException($"journal entry {seq} closed due gates at {entry.UnixMs} ms, but none is due on replay: the journal and this build disagree");
                code = ResultCode.Ok;
                break;
            case JournalEntry.CommandOneofCase.AdvanceClock:
                var clock = Clock.Simulated ?? throw new InvalidDataException(
                    $"journal entry {seq} moved the simulated clock, but this exchange runs on the system clock (Exchange:Clock)");
                if (clock.GetUtcNow().ToUnixTimeMilliseconds() > entry.UnixMs)
                    throw new InvalidDataException($"journal entry {seq} moves the simulated clock back to {entry.UnixMs} ms (Exchange:SimulatedStartUnixSeconds changed?)");
                lock (_lock)
                {
                    clock.AdvanceTo(DateTimeOffset.FromUnixTimeMilliseconds(entry.UnixMs));
                }
                CloseDueGates(); // none may be due: the clock moving is the entry
                code = ResultCode.Ok;
                break;
            case JournalEntry.CommandOneofCase.SetWheeling:
                code = SetWheelingTable(entry.SetWheeling.DefaultFeeTicks, JournalEntries.ToWheelingEntries(entry.SetWheeling));
                break;
            case JournalEntry.CommandOneofCase.SetTariff:
                SetGridTariff(JournalEntries.ToTariff(entry.SetTariff));
                code = ResultCode.Ok;
                break;
            default:
                throw new InvalidDataException($"journal entry {seq} holds no command this build knows ({entry.CommandCase}); a newer exchange wrote it?");
        }
        if (code != ResultCode.Ok)
            throw new InvalidDataException($"journal entry {seq} ({entry.CommandCase}) was accepted when written but is refused on replay ({code}): the journal and this build disagree");
    }
}
