using P2PEnergy.Exchange.Server.Durability;
using P2PEnergy.Exchange.Server.Durability.Journal;
using P2PEnergy.Signing;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>The meter-reading store's part of the journal and of snapshots (Redis mode, issue 7).</summary>
public sealed partial class MeterReadingStore
{
    /// <summary>
    /// Applies one of the store's journal entries at start-up, as it happened (no checks against the clock: the entry
    /// says what the store did). Seals tell the reading-root sink again, so that settlement follows as it did.
    /// </summary>
    internal void Replay(long seq, JournalEntry entry)
    {
        var sealedNow = new List<SealedReadings>();
        lock (_lock)
        {
            _replaying = true;
            _replayNow = entry.UnixMs;
            try
            {
                switch (entry.CommandCase)
                {
                    case JournalEntry.CommandOneofCase.BindMeter:
                        var meter = JournalEntries.ToAddress(entry.BindMeter.Meter, "bind_meter.meter");
                        var participant = JournalEntries.ToAddress(entry.BindMeter.Participant, "bind_meter.participant");
                        if (!_participantOfMeter.TryAdd(meter, participant) || !_meterOfParticipant.TryAdd(participant, meter))
                            throw new InvalidDataException($"journal entry {seq} binds meter {meter} or participant {participant} a second time");
                        break;
                    case JournalEntry.CommandOneofCase.Reading:
                        ReplayReading(seq, entry.Reading, entry.UnixMs);
                        break;
                    case JournalEntry.CommandOneofCase.ReadingsSealed:
                        var slot = GetOrAddSlot(entry.ReadingsSealed.Slot);
                        if (slot.Sealed) throw new InvalidDataException($"journal entry {seq} seals slot {entry.ReadingsSealed.Slot} a second time");
                        SealLocked(entry.ReadingsSealed.Slot, slot, sealedNow);
                        break;
                    default:
                        throw new InvalidDataException($"journal entry {seq} ({entry.CommandCase}) is not a meter-reading entry");
                }
            }
            finally
            {
                _replaying = false;
            }
        }
        Notify(sealedNow);
    }

    private void ReplayReading(long seq, ReadingReceived r, long now)
    {
        var reading = JournalEntries.ToReading(r);
        var signature = r.Signature.ToByteArray();
        var slot = GetOrAddSlot(reading.Slot);
        switch (r.Outcome)
        {
            case OutcomeAccepted:
                if (r.ReadingId != _nextReadingId)
                    throw new InvalidDataException($"journal entry {seq} accepted reading {r.ReadingId}; replay is at reading id {_nextReadingId}");
                if (slot.Sealed || slot.ByMeter.ContainsKey(reading.Meter))
                    throw new InvalidDataException($"journal entry {seq} accepts a reading of meter {reading.Meter} for slot {reading.Slot}, which replay cannot take");
                var digest = MeterReadingSigning.Digest(SigningDomain, reading.ToMessage());
                slot.ByMeter.Add(reading.Meter, new AcceptedReading(_nextReadingId++, reading, digest, signature, now));
                _unsealed.Add(reading.Slot);
                break;
            case OutcomeConflicting:
                KeepRejected(slot, reading, signature, ReadingRejection.Conflicting, now);
                break;
            case OutcomeLate:
                KeepRejected(slot, reading, signature, ReadingRejection.Late, now);
                break;
            default:
                throw new InvalidDataException($"journal entry {seq} has reading outcome {r.Outcome}");
        }
    }

    /// <summary>Runs <paramref name="capture"/> under the store's lock: nothing the store does can fall between its state and what else is captured.</summary>
    internal T UnderLock<T>(Func<T> capture)
    {
        lock (_lock) return capture();
    }

    /// <summary>The store's state for a snapshot. Call under <see cref="UnderLock"/>.</summary>
    internal MeteringState ExportLocked()
    {
        var bindings = _participantOfMeter.Select(kv => new MeterBinding(kv.Key, kv.Value)).OrderBy(b => b.Meter.ToString(), StringComparer.Ordinal).ToList();
        var accepted = new List<AcceptedReadingRecord>();
        var rejected = new List<RejectedReadingRecord>();
        var sealedSlots = new List<long>();
        foreach (var (slot, readings) in _slots.OrderBy(kv => kv.Key))
        {
            accepted.AddRange(readings.ByMeter.Values.Select(a => new AcceptedReadingRecord(a.ReadingId, a.Reading, a.Signature, a.ReceivedUnixMs)));
            rejected.AddRange(readings.Rejected.Select(x => new RejectedReadingRecord(x.Reading, x.Signature, x.Reason, x.ReceivedUnixMs)));
            if (readings.Sealed) sealedSlots.Add(slot);
        }
        accepted.Sort((a, b) => a.ReadingId.CompareTo(b.ReadingId));
        return new MeteringState(bindings, accepted, rejected, sealedSlots, _nextReadingId);
    }

    /// <summary>Puts a snapshot's state in place of the empty store (start-up), then tells the sink of the sealed slots.</summary>
    internal void Import(MeteringState state)
    {
        var sealedNow = new List<SealedReadings>();
        lock (_lock)
        {
            if (_slots.Count > 0 || _participantOfMeter.Count > 0) throw new InvalidOperationException("a snapshot is restored only into an empty store");
            _replaying = true;
            try
            {
                foreach (var b in state.Bindings)
                {
                    _participantOfMeter.Add(b.Meter, b.Participant);
                    _meterOfParticipant.Add(b.Participant, b.Meter);
                }
                foreach (var a in state.Accepted)
                {
                    var digest = MeterReadingSigning.Digest(SigningDomain, a.Reading.ToMessage());
                    GetOrAddSlot(a.Reading.Slot).ByMeter.Add(a.Reading.Meter, new AcceptedReading(a.ReadingId, a.Reading, digest, a.Signature, a.ReceivedUnixMs));
                    _unsealed.Add(a.Reading.Slot);
                }
                foreach (var x in state.Rejected) GetOrAddSlot(x.Reading.Slot).Rejected.Add(new RejectedReading(x.Reading, x.Signature, x.Reason, x.ReceivedUnixMs));
                foreach (var slot in state.SealedSlots) SealLocked(slot, GetOrAddSlot(slot), sealedNow);
                _nextReadingId = state.NextReadingId;
            }
            finally
            {
                _replaying = false;
            }
        }
        Notify(sealedNow);
    }
}
