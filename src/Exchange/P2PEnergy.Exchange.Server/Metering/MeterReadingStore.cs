using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Ledger;
using P2PEnergy.Signing;
using EthAddress = P2PEnergy.Ethereum.Address;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>One meter's reading for one slot, as the meter signed it (docs/metering-rules.md). Energy in Wh.</summary>
public sealed record MeterReading(Address Meter, Address Participant, long Slot, long ImportWh, long ExportWh)
{
    /// <summary>The EIP-712 message (int64 values signed as the uint64 with the same bits).</summary>
    public MeterReadingMessage ToMessage() =>
        new(Meter.ToString(), Participant.ToString(), unchecked((ulong)Slot), unchecked((ulong)ImportWh), unchecked((ulong)ExportWh));

    /// <summary>The reading's leaf in its slot's <see cref="MeterReadingMerkleTree"/>.</summary>
    public byte[] Leaf() => MeterReadingMerkleTree.Leaf(ToEthereum(Meter), ToEthereum(Participant),
        unchecked((ulong)Slot), unchecked((ulong)ImportWh), unchecked((ulong)ExportWh));

    /// <summary>Same meter, participant, slot and values (the signature may differ).</summary>
    public bool SameValues(MeterReading other) => this == other;

    internal static EthAddress ToEthereum(Address address) => new(address.ToBytes());
}

/// <summary>An accepted reading with its EIP-712 digest and the signature the meter first sent.</summary>
public sealed record AcceptedReading(long ReadingId, MeterReading Reading, byte[] Digest, byte[] Signature, long ReceivedUnixMs);

public enum ReadingRejection
{
    /// <summary>The meter already had a different accepted reading for the slot.</summary>
    Conflicting = 1,

    /// <summary>The slot's readings were sealed (by the operator or the deadline) when it arrived.</summary>
    Late = 2,
}

/// <summary>A refused reading kept for audit: its signature was the meter's, but it was late or conflicting.</summary>
public sealed record RejectedReading(MeterReading Reading, byte[] Signature, ReadingRejection Reason, long ReceivedUnixMs);

/// <summary>An accepted reading with the proof that ties it to its slot's sealed reading root.</summary>
public sealed record ReadingProof(AcceptedReading Reading, byte[] Leaf, byte[] SlotRoot, IReadOnlyList<byte[]> Proof, int Count);

/// <summary>A sealed slot's readings: the root (empty when no reading was accepted) and how many.</summary>
public sealed record SealedReadings(long Slot, byte[] Root, int Count, bool NewlySealed);

public enum ReadingResult
{
    Accepted,

    /// <summary>The same values were accepted before: OK, nothing changes (idempotent).</summary>
    Duplicate,
    UnknownMeter,
    NotMetersParticipant,
    FutureSlot,
    BadSignature,
    Late,
    Conflicting,
}

/// <summary>What a submit did; <see cref="Reading"/> is the accepted reading (new, or the earlier one on a duplicate or conflict).</summary>
public readonly record struct ReadingOutcome(ReadingResult Result, AcceptedReading? Reading = null, Address BoundParticipant = default);

public enum BindResult
{
    Bound,

    /// <summary>The meter was bound to this participant already: OK, nothing changes.</summary>
    AlreadyBound,
    UnknownParticipant,

    /// <summary>The meter's address is a participant's (a meter has its own key).</summary>
    MeterIsParticipant,
    MeterBoundToAnother,
    ParticipantHasAnotherMeter,
}

public enum ReadingLookup
{
    Found,
    UnknownMeter,
    NoReading,

    /// <summary>The reading exists but its slot's readings are not sealed yet (proofs only).</summary>
    RootPending,
}

/// <summary>
/// Told of each slot's reading root once the slot's readings are sealed, e.g. for settlement to commit it on
/// chain. Called outside the store's lock, on the thread that sealed the slot: queue the work, do not block.
/// A slot sealed with no accepted reading has no root and is not reported.
/// </summary>
public interface IReadingRootSink
{
    void ReadingRootReady(long slot, byte[] root, int count);
}

/// <summary>The default sink: nobody commits reading roots yet (the settlement issue registers its own).</summary>
public sealed class NoReadingRootSink : IReadingRootSink
{
    public static readonly NoReadingRootSink Instance = new();

    public void ReadingRootReady(long slot, byte[] root, int count)
    {
    }
}

/// <summary>
/// Meter bindings and readings, in memory (Redis comes later), behind one lock. Rules in
/// docs/metering-rules.md. Signatures are checked outside the lock (recovering a key is CPU work); a slot's
/// tree is built under it (a few thousand keccaks per slot). Slots whose deadline has passed are sealed by
/// the first call that comes after it (every public method looks first) and, on the system clock, by
/// <see cref="MeteringDeadlineService"/>.
/// </summary>
public sealed partial class MeterReadingStore
{
    // Accepted readings, refusals kept for audit, bindings and seals go to the market's journal (Redis mode) under
    // this store's lock, in the order they happen here; JournalRecovery replays them through Replay below.
    public const int OutcomeAccepted = 1;
    public const int OutcomeConflicting = 2;
    public const int OutcomeLate = 3;

    private sealed class SlotReadings
    {
        public readonly Dictionary<Address, AcceptedReading> ByMeter = new();
        public readonly List<RejectedReading> Rejected = [];
        public bool Sealed;
        public MeterReadingMerkleTree? Tree;
    }

    /// <summary>Remembers each meter's public key after its first reading.</summary>
    private readonly SignatureVerifier _verifier = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<Address, Address> _participantOfMeter = new();
    private readonly Dictionary<Address, Address> _meterOfParticipant = new();
    private readonly Dictionary<long, SlotReadings> _slots = new();
    private readonly SortedSet<long> _unsealed = [];
    private readonly Market _market;
    private readonly IReadingRootSink _sink;
    private readonly ILogger<MeterReadingStore> _logger;
    private long _nextReadingId = 1;
    private bool _replaying;

    public MeterReadingStore(Market market, MeteringOptions options, ILogger<MeterReadingStore> logger, IReadingRootSink? sink = null)
    {
        options.Validate();
        _market = market;
        Options = options;
        _logger = logger;
        _sink = sink ?? NoReadingRootSink.Instance;
    }

    public MeteringOptions Options { get; }

    public MarketDomain SigningDomain => _market.SigningDomain;

    private long Now() => _replaying ? _replayNow : _market.Clock.NowUnixMs;

    private long _replayNow;

    private bool Journaling => !_replaying && _market.Journal.Enabled;

    private void EnsureJournalAccepting()
    {
        if (Journaling) _market.Journal.EnsureAccepting();
    }

    /// <summary>Appends what the store just did to the journal (under the store's lock).</summary>
    private void JournalLocked(Func<P2PEnergy.Exchange.Server.Durability.Journal.JournalEntry> entry, long now)
    {
        if (!Journaling) return;
        var e = entry();
        e.UnixMs = now;
        _market.Journal.Append(e, []);
    }

    /// <summary>Completes once everything the store (and the market) did so far is durable: answer the caller after it.</summary>
    public ValueTask WhenDurableAsync(CancellationToken cancellationToken) => _market.WhenAllDurableAsync(cancellationToken);

    private long SlotSeconds => _market.Config.SlotSeconds;

    /// <summary>When the slot's delivery ends, unix ms ((slot + 1) × slot length); Int128 so that no slot overflows.</summary>
    public Int128 SlotEndUnixMs(long slot) => ((Int128)slot + 1) * SlotSeconds * 1000;

    /// <summary>The slot's reading deadline, unix ms: delivery end + Exchange:ReadingDeadlineSeconds. Readings are on time while now is before it.</summary>
    public Int128 DeadlineUnixMs(long slot) => SlotEndUnixMs(slot) + (Int128)Options.ReadingDeadlineSeconds * 1000;

    // ---------------------------------------------------------------- meters

    public BindResult Bind(Address meter, Address participant, out Address boundTo)
    {
        // A binding is never removed and participants are never removed, so these reads need no common lock.
        var isParticipant = (Meter: _market.IsParticipant(meter), Participant: _market.IsParticipant(participant));
        boundTo = default;
        if (meter == participant || isParticipant.Meter) return BindResult.MeterIsParticipant;
        if (!isParticipant.Participant) return BindResult.UnknownParticipant;
        BindResult result;
        lock (_lock)
        {
            EnsureJournalAccepting();
            if (_participantOfMeter.TryGetValue(meter, out boundTo))
            {
                result = boundTo == participant ? BindResult.AlreadyBound : BindResult.MeterBoundToAnother;
            }
            else if (_meterOfParticipant.TryGetValue(participant, out boundTo))
            {
                result = BindResult.ParticipantHasAnotherMeter;
            }
            else
            {
                _participantOfMeter.Add(meter, participant);
                _meterOfParticipant.Add(participant, meter);
                boundTo = participant;
                result = BindResult.Bound;
                JournalLocked(() => Durability.JournalEntries.BindMeter(meter, participant), Now());
            }
        }
        if (result == BindResult.Bound) LogMeterBound(meter.ToString(), participant.ToString());
        return result;
    }

    public bool TryGetParticipantOf(Address meter, out Address participant)
    {
        lock (_lock) return _participantOfMeter.TryGetValue(meter, out participant);
    }

    public bool TryGetMeterOf(Address participant, out Address meter)
    {
        lock (_lock) return _meterOfParticipant.TryGetValue(participant, out meter);
    }

    // ---------------------------------------------------------------- readings

    /// <summary>
    /// Submits a reading with its signature (65 bytes, or empty: then refused as <see cref="ReadingResult.BadSignature"/>).
    /// Checks, in order: the meter is bound, the participant is its own, the slot's delivery has ended, the
    /// meter's signature; then against the accepted readings: same values (duplicate), different (conflicting,
    /// kept for audit), none while the slot is sealed or past its deadline (late, kept for audit).
    /// </summary>
    public ReadingOutcome Submit(MeterReading reading, byte[] signature)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(signature);
        SealDue();
        if (!TryGetParticipantOf(reading.Meter, out var bound)) return new ReadingOutcome(ReadingResult.UnknownMeter);
        if (bound != reading.Participant) return new ReadingOutcome(ReadingResult.NotMetersParticipant, BoundParticipant: bound);
        if (Now() < SlotEndUnixMs(reading.Slot)) return new ReadingOutcome(ReadingResult.FutureSlot, BoundParticipant: bound);
        var digest = MeterReadingSigning.Digest(SigningDomain, reading.ToMessage());
        if (!_verifier.IsSignedBy(digest, signature, MeterReading.ToEthereum(reading.Meter)))
        {
            return new ReadingOutcome(ReadingResult.BadSignature, BoundParticipant: bound);
        }

        var sealedNow = new List<SealedReadings>();
        ReadingOutcome outcome;
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            SealDueLocked(now, sealedNow);
            var slot = GetOrAddSlot(reading.Slot);
            if (slot.ByMeter.TryGetValue(reading.Meter, out var accepted))
            {
                if (accepted.Reading.SameValues(reading))
                {
                    outcome = new ReadingOutcome(ReadingResult.Duplicate, accepted, bound);
                }
                else
                {
                    if (KeepRejected(slot, reading, signature, ReadingRejection.Conflicting, now))
                        JournalLocked(() => Durability.JournalEntries.Reading(reading, signature, OutcomeConflicting, 0), now);
                    outcome = new ReadingOutcome(ReadingResult.Conflicting, accepted, bound);
                }
            }
            else if (slot.Sealed || now >= DeadlineUnixMs(reading.Slot))
            {
                // A slot first touched after its deadline is created sealed (with no readings): nothing can join it.
                if (!slot.Sealed) SealLocked(reading.Slot, slot, sealedNow);
                if (KeepRejected(slot, reading, signature, ReadingRejection.Late, now))
                    JournalLocked(() => Durability.JournalEntries.Reading(reading, signature, OutcomeLate, 0), now);
                outcome = new ReadingOutcome(ReadingResult.Late, BoundParticipant: bound);
            }
            else
            {
                accepted = new AcceptedReading(_nextReadingId++, reading, digest, (byte[])signature.Clone(), now);
                slot.ByMeter.Add(reading.Meter, accepted);
                _unsealed.Add(reading.Slot);
                var readingId = accepted.ReadingId;
                JournalLocked(() => Durability.JournalEntries.Reading(reading, signature, OutcomeAccepted, readingId), now);
                outcome = new ReadingOutcome(ReadingResult.Accepted, accepted, bound);
            }
        }
        Notify(sealedNow);
        return outcome;
    }

    /// <summary>Keeps a refused reading for audit; false when the same refusal is kept already.</summary>
    private static bool KeepRejected(SlotReadings slot, MeterReading reading, byte[] signature, ReadingRejection reason, long now)
    {
        // The same refused values again add nothing for the auditor: kept once.
        if (slot.Rejected.Exists(r => r.Reason == reason && r.Reading.SameValues(reading))) return false;
        slot.Rejected.Add(new RejectedReading(reading, (byte[])signature.Clone(), reason, now));
        return true;
    }

    /// <summary>The meter's accepted reading for the slot, and whether the slot is sealed.</summary>
    public ReadingLookup TryGetReading(Address meter, long slot, out AcceptedReading? reading, out bool isSealed)
    {
        SealDue();
        reading = null;
        isSealed = false;
        lock (_lock)
        {
            if (!_participantOfMeter.ContainsKey(meter)) return ReadingLookup.UnknownMeter;
            if (!_slots.TryGetValue(slot, out var readings) || !readings.ByMeter.TryGetValue(meter, out reading)) return ReadingLookup.NoReading;
            isSealed = readings.Sealed;
            return ReadingLookup.Found;
        }
    }

    /// <summary>The participant's meter's reading with its proof against the slot's sealed reading root.</summary>
    public ReadingLookup TryGetProof(Address participant, long slot, out ReadingProof? proof)
    {
        SealDue();
        proof = null;
        lock (_lock)
        {
            if (!_meterOfParticipant.TryGetValue(participant, out var meter)) return ReadingLookup.UnknownMeter;
            if (!_slots.TryGetValue(slot, out var readings) || !readings.ByMeter.TryGetValue(meter, out var reading)) return ReadingLookup.NoReading;
            if (readings.Tree is not { } tree) return ReadingLookup.RootPending;
            proof = new ReadingProof(reading, reading.Reading.Leaf(), tree.Root, tree.GetProof(MeterReading.ToEthereum(meter)), tree.Count);
            return ReadingLookup.Found;
        }
    }

    /// <summary>Readings refused for the slot but kept for audit, in arrival order.</summary>
    public IReadOnlyList<RejectedReading> GetRejected(long slot)
    {
        SealDue();
        lock (_lock) return _slots.TryGetValue(slot, out var readings) ? readings.Rejected.ToArray() : [];
    }

    // ---------------------------------------------------------------- sealing

    /// <summary>
    /// Seals the slot's readings now (operator): false when its delivery has not ended yet. Sealing a final
    /// slot (sealed, or past its deadline) answers its root with <see cref="SealedReadings.NewlySealed"/> false.
    /// </summary>
    public bool TrySeal(long slot, out SealedReadings result)
    {
        var sealedNow = new List<SealedReadings>();
        lock (_lock)
        {
            EnsureJournalAccepting();
            var now = Now();
            SealDueLocked(now, sealedNow);
            if (now < SlotEndUnixMs(slot))
            {
                result = new SealedReadings(slot, [], 0, false);
                return false;
            }
            var readings = GetOrAddSlot(slot);
            // Final already: sealed before, or its deadline has passed (then this call seals it on the deadline's behalf).
            var final = readings.Sealed || now >= DeadlineUnixMs(slot);
            if (!readings.Sealed) SealLocked(slot, readings, sealedNow);
            result = new SealedReadings(slot, readings.Tree?.Root ?? [], readings.Tree?.Count ?? 0, !final);
        }
        Notify(sealedNow);
        return true;
    }

    /// <summary>
    /// Whether the slot's readings are final: sealed, or past the reading deadline, also when no meter reported
    /// (such a slot has no tree, but it is settled all the same).
    /// </summary>
    public bool IsFinal(long slot)
    {
        SealDue();
        lock (_lock)
        {
            return (_slots.TryGetValue(slot, out var readings) && readings.Sealed) || Now() >= DeadlineUnixMs(slot);
        }
    }

    /// <summary>Seals every slot whose deadline has passed at the market clock.</summary>
    public void SealDue()
    {
        var sealedNow = new List<SealedReadings>();
        lock (_lock) SealDueLocked(Now(), sealedNow);
        Notify(sealedNow);
    }

    private void SealDueLocked(long now, List<SealedReadings> sealedNow)
    {
        // Deadlines grow with the slot: the due slots are the smallest unsealed ones.
        while (_unsealed.Count > 0 && now >= DeadlineUnixMs(_unsealed.Min))
        {
            var slot = _unsealed.Min;
            SealLocked(slot, _slots[slot], sealedNow);
        }
    }

    private void SealLocked(long slot, SlotReadings readings, List<SealedReadings> sealedNow)
    {
        JournalLocked(() => Durability.JournalEntries.ReadingsSealed(slot), Now());
        readings.Sealed = true;
        _unsealed.Remove(slot);
        if (readings.ByMeter.Count > 0)
        {
            readings.Tree = MeterReadingMerkleTree.Build(readings.ByMeter.Values.Select(r =>
                (MeterReading.ToEthereum(r.Reading.Meter), MeterReading.ToEthereum(r.Reading.Participant), r.Reading.Leaf())));
        }
        sealedNow.Add(new SealedReadings(slot, readings.Tree?.Root ?? [], readings.Tree?.Count ?? 0, true));
    }

    private SlotReadings GetOrAddSlot(long slot)
    {
        if (!_slots.TryGetValue(slot, out var readings)) _slots[slot] = readings = new SlotReadings();
        return readings;
    }

    private void Notify(List<SealedReadings> sealedNow)
    {
        foreach (var s in sealedNow)
        {
            LogReadingsSealed(s.Slot, s.Count);
            if (s.Count == 0) continue;
            try
            {
                _sink.ReadingRootReady(s.Slot, s.Root, s.Count);
            }
            catch (Exception ex)
            {
                LogReadingRootSinkFailed(ex, s.Slot);
            }
        }
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "Meter {Meter} bound to participant {Participant}")]
    private partial void LogMeterBound(string meter, string participant);

    [LoggerMessage(EventId = 121, Level = LogLevel.Information, Message = "Readings of slot {Slot} sealed: {Count} in the tree")]
    private partial void LogReadingsSealed(long slot, int count);

    [LoggerMessage(EventId = 122, Level = LogLevel.Error, Message = "The reading root sink failed for slot {Slot}")]
    private partial void LogReadingRootSinkFailed(Exception ex, long slot);
}
