namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using P2PEnergy.Ledger;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMetering;
using IReadingRootSink = P2PEnergy.Exchange.Server.Metering.IReadingRootSink;
using MeteringOptions = P2PEnergy.Exchange.Server.Metering.MeteringOptions;
using Core = P2PEnergy.Exchange;

/// <summary>
/// Meter readings at the service (docs/metering-rules.md): every refusal with its status, code and an
/// unchanged store; idempotent duplicates; conflicting and late readings kept for audit; sealing by the
/// operator and by the deadline; proofs against the sealed root.
/// </summary>
public sealed class MeteringServiceTests
{
    private readonly RecordingSink _sink = new();
    private readonly TestMetering _t;

    public MeteringServiceTests()
    {
        _t = new TestMetering(sink: _sink).WithMeters();
    }

    private sealed class RecordingSink : IReadingRootSink
    {
        public List<(long Slot, byte[] Root, int Count)> Roots { get; } = [];

        public void ReadingRootReady(long slot, byte[] root, int count) => Roots.Add((slot, root, count));
    }

    private static void AssertRefusal(RpcException ex, StatusCode status, int code, string messageStart)
    {
        Assert.True(status == ex.StatusCode, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.StartsWith(messageStart, ex.Status.Detail);
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
    }

    /// <summary>Submits a reading that must be refused, and checks that the store is as it was (audit list aside when <paramref name="audited"/>).</summary>
    private RpcException Refused(MeterReading reading, StatusCode status, int code, string messageStart, bool audited = false)
    {
        var before = _t.Fingerprint(withRejected: !audited);
        var rejectedBefore = _t.Rejected(reading.Slot > 0 ? reading.Slot : Ended).Count;
        var ex = Assert.Throws<RpcException>(() => _t.Submit(reading));
        AssertRefusal(ex, status, code, messageStart);
        // Every accepted reading is as it was; only an audited refusal adds to the audit list.
        Assert.Equal(before, _t.Fingerprint(withRejected: !audited));
        if (audited) Assert.Equal(rejectedBefore + 1, _t.Rejected(reading.Slot).Count);
        return ex;
    }

    // ---------------------------------------------------------------- accepting

    [Fact]
    public void A_reading_is_accepted_and_can_be_read_back()
    {
        var reading = Reading(SellerMeter, Seller, Ended, 350, 1200);
        var response = _t.Submit(reading);

        Assert.True(response.Accepted);
        Assert.Equal(1, response.ReadingId);
        var back = _t.Get(AddressOf(SellerMeter), Ended);
        Assert.Equal(reading, back.Reading);
        Assert.Equal(1, back.ReadingId);
        Assert.False(back.Sealed);
        Assert.Equal(StartUnixSeconds * 1000, back.ReceivedUnixMs);
        var byParticipant = _t.Get(new GetReadingRequest { Participant = Seller, Slot = Ended });
        Assert.Equal(back, byParticipant);
        Assert.True(_t.Submit(Reading(BuyerMeter, Buyer, Ended, 0, 0)).Accepted); // nothing flowed: a reading all the same
    }

    [Fact]
    public void The_same_reading_again_is_accepted_once()
    {
        var reading = Reading(SellerMeter, Seller, Ended, 350, 1200);
        var first = _t.Submit(reading);
        var fingerprint = _t.Fingerprint();

        var again = _t.Submit(reading);

        Assert.False(again.Accepted);
        Assert.Equal(first.ReadingId, again.ReadingId);
        Assert.Equal(fingerprint, _t.Fingerprint());
        Assert.Empty(_t.Rejected(Ended));
        // Addresses in another case are the same reading (and the same signed message).
        var upper = reading.Clone();
        upper.Meter = "0x" + upper.Meter[2..].ToUpperInvariant();
        Assert.False(_t.Submit(upper).Accepted);
        Assert.Equal(fingerprint, _t.Fingerprint());
    }

    [Fact]
    public void A_different_second_reading_is_refused_and_kept_for_audit()
    {
        var first = Reading(SellerMeter, Seller, Ended, 350, 1200);
        _t.Submit(first);
        var second = Reading(SellerMeter, Seller, Ended, 350, 1300);

        Refused(second, StatusCode.AlreadyExists, ResultStatus.ConflictingReading, "reading: the meter already has a different reading", audited: true);

        Assert.Equal(first, _t.Get(AddressOf(SellerMeter), Ended).Reading);
        var audit = Assert.Single(_t.Rejected(Ended));
        Assert.Equal(second, audit.Reading); // with its signature
        Assert.Equal(ReadingRejection.Conflicting, audit.Reason);
        // The same conflicting reading again is refused again but listed once.
        Assert.Throws<RpcException>(() => _t.Submit(second));
        Assert.Single(_t.Rejected(Ended));
        // And the first one is still idempotent.
        Assert.False(_t.Submit(first).Accepted);
    }

    // ---------------------------------------------------------------- refusals

    [Fact]
    public void A_reading_of_an_unknown_meter_is_refused()
    {
        var stranger = MeterKey("stranger");
        Refused(Reading(stranger, Seller, Ended, 1, 1), StatusCode.NotFound, ResultStatus.UnknownMeter, "reading.meter: no participant is bound to this meter");
        Assert.Empty(_t.Rejected(Ended));
    }

    [Fact]
    public void A_reading_for_another_participant_is_refused()
    {
        Refused(Reading(SellerMeter, Buyer, Ended, 1, 1), StatusCode.PermissionDenied, ResultStatus.NotMetersParticipant,
            "reading.participant: the meter is bound to another participant");
    }

    [Theory]
    [InlineData(-1, 0, "reading.import_wh")]
    [InlineData(0, -1, "reading.export_wh")]
    [InlineData(long.MinValue, 5, "reading.import_wh")]
    public void Negative_energy_is_refused(long importWh, long exportWh, string field)
    {
        Refused(Reading(SellerMeter, Seller, Ended, importWh, exportWh), StatusCode.InvalidArgument, ResultStatus.EdgeValidation, field + ": energy must not be negative");
    }

    [Fact]
    public void Malformed_fields_are_refused()
    {
        var noMeter = Reading(SellerMeter, Seller, Ended, 1, 1);
        noMeter.Meter = "meter";
        Refused(noMeter, StatusCode.InvalidArgument, 109, "reading.meter:");
        var zeroParticipant = Reading(SellerMeter, "0x0000000000000000000000000000000000000000", Ended, 1, 1);
        Refused(zeroParticipant, StatusCode.InvalidArgument, 109, "reading.participant:");
        Refused(Reading(SellerMeter, Seller, 0, 1, 1), StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "reading.slot: a slot index is positive");
        var shortSignature = Reading(SellerMeter, Seller, Ended, 1, 1);
        shortSignature.Signature = ByteString.CopyFrom(shortSignature.Signature.Span[..64]);
        Refused(shortSignature, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "reading.signature:");
        var ex = Assert.Throws<RpcException>(() => _t.Service.SubmitReading(new SubmitReadingRequest(), Context()).GetAwaiter().GetResult());
        AssertRefusal(ex, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "reading: a reading is required");
    }

    [Fact]
    public void A_reading_for_a_slot_still_being_delivered_is_refused_until_it_ends()
    {
        Refused(Reading(SellerMeter, Seller, Slot0, 10, 20), StatusCode.FailedPrecondition, ResultStatus.FutureSlot, "reading.slot: future slot");
        Refused(Reading(SellerMeter, Seller, Slot0 + 5, 10, 20), StatusCode.FailedPrecondition, ResultStatus.FutureSlot, "reading.slot: future slot");
        Refused(Reading(SellerMeter, Seller, long.MaxValue, 10, 20), StatusCode.FailedPrecondition, ResultStatus.FutureSlot, "reading.slot: future slot");

        _t.Advance(TimeSpan.FromSeconds(1799));
        Refused(Reading(SellerMeter, Seller, Slot0, 10, 20), StatusCode.FailedPrecondition, ResultStatus.FutureSlot, "reading.slot: future slot");
        _t.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_t.Submit(Reading(SellerMeter, Seller, Slot0, 10, 20)).Accepted);
    }

    [Fact]
    public void A_reading_not_signed_by_its_meter_is_refused_and_not_kept()
    {
        // Forged by someone else, by the participant itself (not its meter), or by another meter.
        Refused(Reading(SellerMeter, Seller, Ended, 1, 1, by: Mallory), StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature: signature does not match the meter");
        Refused(Reading(SellerMeter, Seller, Ended, 1, 1, by: KeyOf("seller")), StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature: signature does not match the meter");
        Refused(Reading(SellerMeter, Seller, Ended, 1, 1, by: BuyerMeter), StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature:");
        // Signed, then changed.
        var tampered = Reading(SellerMeter, Seller, Ended, 1, 1);
        tampered.ExportWh = 1000;
        Refused(tampered, StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature:");
        // Signed in another domain (another market).
        var otherDomain = Reading(SellerMeter, Seller, Ended, 1, 1);
        otherDomain.Signature = ByteString.CopyFrom(SellerMeter.Sign(new MarketDomain(1, Address.Zero),
            new MeterReadingMessage(otherDomain.Meter, Seller, (ulong)Ended, 1, 1)));
        Refused(otherDomain, StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature:");
        // Unsigned.
        var unsigned = Reading(SellerMeter, Seller, Ended, 1, 1);
        unsigned.Signature = ByteString.Empty;
        Refused(unsigned, StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature: the meter's EIP-712 signature is required");
        Assert.Empty(_t.Rejected(Ended));
    }

    [Fact]
    public void Unsigned_readings_are_refused_even_when_orders_need_no_signature()
    {
        var t = new TestMetering(o => o.RequireSignatures = false).WithMeters();
        var unsigned = Reading(SellerMeter, Seller, Ended, 1, 1);
        unsigned.Signature = ByteString.Empty;
        var ex = Assert.Throws<RpcException>(() => t.Submit(unsigned));
        AssertRefusal(ex, StatusCode.Unauthenticated, ResultStatus.BadSignature, "reading.signature:");
    }

    // ---------------------------------------------------------------- deadline and sealing

    [Fact]
    public void A_reading_after_the_deadline_is_late_kept_for_audit_and_not_settled()
    {
        var onTime = Reading(SellerMeter, Seller, Ended, 350, 1200);
        _t.Submit(onTime);
        _t.Advance(TimeSpan.FromSeconds(3599));
        Assert.True(_t.Submit(Reading(BuyerMeter, Buyer, Ended, 900, 0)).Accepted); // one second before the deadline
        Assert.Empty(_sink.Roots);

        _t.Advance(TimeSpan.FromSeconds(1));
        var late = Reading(OtherMeter, Other, Ended, 500, 0);
        Refused(late, StatusCode.FailedPrecondition, ResultStatus.LateReading, "reading.slot: late", audited: true);

        var audit = Assert.Single(_t.Rejected(Ended));
        Assert.Equal(late, audit.Reading);
        Assert.Equal(ReadingRejection.Late, audit.Reason);
        Assert.Equal((StartUnixSeconds + 3600) * 1000, audit.ReceivedUnixMs);
        // The deadline sealed the slot with the readings that were in on time; the late one is not in it.
        var (slot, root, count) = Assert.Single(_sink.Roots);
        Assert.Equal((Ended, 2), (slot, count));
        Assert.True(_t.Get(AddressOf(SellerMeter), Ended).Sealed);
        Assert.Equal(root, _t.Proof(Seller, Ended).SlotRoot.ToByteArray());
        var ex = Assert.Throws<RpcException>(() => _t.Proof(Other, Ended));
        AssertRefusal(ex, StatusCode.NotFound, ResultStatus.ReadingNotFound, "slot: no accepted reading");
        // A retry of an on-time reading is still idempotent after sealing; a change of it is a conflict.
        Assert.False(_t.Submit(onTime).Accepted);
        Refused(Reading(SellerMeter, Seller, Ended, 351, 1200), StatusCode.AlreadyExists, ResultStatus.ConflictingReading, "reading:", audited: true);
        var sealedAgain = _t.Seal(Ended);
        Assert.False(sealedAgain.NewlySealed);
        Assert.Equal(root, sealedAgain.SlotRoot.ToByteArray());
        Assert.Single(_sink.Roots);
    }

    [Fact]
    public void A_slot_first_seen_after_its_deadline_takes_no_reading()
    {
        _t.Advance(TimeSpan.FromHours(2));
        Refused(Reading(SellerMeter, Seller, Ended, 1, 2), StatusCode.FailedPrecondition, ResultStatus.LateReading, "reading.slot: late", audited: true);
        Assert.Empty(_sink.Roots); // sealed with no reading: no root
        var ex = Assert.Throws<RpcException>(() => _t.Get(AddressOf(SellerMeter), Ended));
        AssertRefusal(ex, StatusCode.NotFound, ResultStatus.ReadingNotFound, "slot:");
    }

    [Fact]
    public void The_deadline_is_configurable()
    {
        var t = new TestMetering(options: new MeteringOptions { ReadingDeadlineSeconds = 0 }).WithMeters();
        var ex = Assert.Throws<RpcException>(() => t.Submit(Reading(SellerMeter, Seller, Ended, 1, 2)));
        AssertRefusal(ex, StatusCode.FailedPrecondition, ResultStatus.LateReading, "reading.slot: late");
        Assert.Throws<ArgumentOutOfRangeException>(() => new TestMetering(options: new MeteringOptions { ReadingDeadlineSeconds = -1 }));
    }

    [Fact]
    public void The_operator_seals_a_slot_and_later_readings_are_late()
    {
        _t.Submit(Reading(SellerMeter, Seller, Ended, 350, 1200));
        _t.Submit(Reading(BuyerMeter, Buyer, Ended, 900, 0));

        var sealedReadings = _t.Seal(Ended);

        Assert.True(sealedReadings.NewlySealed);
        Assert.Equal(2, sealedReadings.ReadingCount);
        Assert.Equal(32, sealedReadings.SlotRoot.Length);
        var (slot, root, count) = Assert.Single(_sink.Roots);
        Assert.Equal((Ended, 2), (slot, count));
        Assert.Equal(root, sealedReadings.SlotRoot.ToByteArray());
        Refused(Reading(OtherMeter, Other, Ended, 1, 0), StatusCode.FailedPrecondition, ResultStatus.LateReading, "reading.slot: late", audited: true);
        var again = _t.Seal(Ended);
        Assert.False(again.NewlySealed);
        Assert.Equal(sealedReadings.SlotRoot, again.SlotRoot);
        Assert.Single(_sink.Roots);
        // The deadline passing later does not seal it again.
        _t.Advance(TimeSpan.FromHours(2));
        _t.Store.SealDue();
        Assert.Single(_sink.Roots);
    }

    [Fact]
    public void Sealing_a_slot_without_readings_gives_no_root()
    {
        var empty = _t.Seal(Ended);
        Assert.True(empty.NewlySealed);
        Assert.Equal(0, empty.ReadingCount);
        Assert.True(empty.SlotRoot.IsEmpty);
        Assert.Empty(_sink.Roots);
        var ex = Assert.Throws<RpcException>(() => _t.Submit(Reading(SellerMeter, Seller, Ended, 1, 0)));
        AssertRefusal(ex, StatusCode.FailedPrecondition, ResultStatus.LateReading, "reading.slot: late");
    }

    [Fact]
    public void A_slot_still_being_delivered_cannot_be_sealed()
    {
        var ex = Assert.Throws<RpcException>(() => _t.Seal(Slot0));
        AssertRefusal(ex, StatusCode.FailedPrecondition, ResultStatus.FutureSlot, "slot: future slot");
        ex = Assert.Throws<RpcException>(() => _t.Seal(0));
        AssertRefusal(ex, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "slot:");
        _t.Advance(TimeSpan.FromSeconds(1800));
        Assert.True(_t.Submit(Reading(SellerMeter, Seller, Slot0, 1, 0)).Accepted); // nothing was sealed
    }

    // ---------------------------------------------------------------- proofs

    [Fact]
    public void Every_participant_proves_its_reading_against_the_sealed_root()
    {
        var readings = new[]
        {
            Reading(SellerMeter, Seller, Ended, 350, 1200),
            Reading(BuyerMeter, Buyer, Ended, 900, 0),
            Reading(OtherMeter, Other, Ended, 4200, 10),
        };
        foreach (var r in readings) _t.Submit(r);
        var ex = Assert.Throws<RpcException>(() => _t.Proof(Seller, Ended));
        AssertRefusal(ex, StatusCode.FailedPrecondition, ResultStatus.ReadingRootPending, "slot: the slot's readings are not sealed yet");

        var root = _t.Seal(Ended).SlotRoot.ToByteArray();

        foreach (var r in readings)
        {
            var proof = _t.Proof(r.Participant, Ended);
            Assert.Equal(r, proof.Reading);
            Assert.Equal(root, proof.SlotRoot.ToByteArray());
            Assert.Equal(3, proof.ReadingCount);
            Assert.Equal(31337UL, proof.ChainId);
            Assert.Equal("0x0000000000000000000000000000000000000000", proof.LedgerAddress);
            // The participant recomputes everything from the reading's values.
            var message = new MeterReadingMessage(r.Meter, r.Participant, (ulong)r.Slot, (ulong)r.ImportWh, (ulong)r.ExportWh);
            var domain = new MarketDomain(proof.ChainId, Address.Parse(proof.LedgerAddress));
            Assert.Equal(MeterReadingSigning.Digest(domain, message), proof.Digest.ToByteArray());
            Assert.True(MeterReadingSigning.IsSignedByMeter(domain, message, proof.Reading.Signature.Span));
            var leaf = MeterReadingMerkleTree.Leaf(Address.Parse(r.Meter), Address.Parse(r.Participant), (ulong)r.Slot, (ulong)r.ImportWh, (ulong)r.ExportWh);
            Assert.Equal(leaf, proof.Leaf.ToByteArray());
            var siblings = proof.Proof.Select(p => p.ToByteArray()).ToList();
            Assert.True(MeterReadingMerkleTree.Verify(root, leaf, siblings));
            // As OpenZeppelin's MerkleProof.verify folds it (sorted pairs).
            var node = leaf;
            foreach (var sibling in siblings) node = OrderMerkleTree.HashPair(node, sibling);
            Assert.Equal(root, node);
            // A changed value does not verify.
            var forged = MeterReadingMerkleTree.Leaf(Address.Parse(r.Meter), Address.Parse(r.Participant), (ulong)r.Slot, (ulong)r.ImportWh, (ulong)r.ExportWh + 1);
            Assert.False(MeterReadingMerkleTree.Verify(root, forged, siblings));
        }
    }

    [Fact]
    public void Proofs_for_participants_without_meter_or_reading_are_refused()
    {
        _t.Market.Register(Stranger, 3);
        _t.Submit(Reading(SellerMeter, Seller, Ended, 1, 1));
        _t.Seal(Ended);
        var ex = Assert.Throws<RpcException>(() => _t.Proof(Stranger, Ended));
        AssertRefusal(ex, StatusCode.NotFound, ResultStatus.UnknownMeter, "participant: no meter is bound to this participant");
        ex = Assert.Throws<RpcException>(() => _t.Proof(Buyer, Ended));
        AssertRefusal(ex, StatusCode.NotFound, ResultStatus.ReadingNotFound, "slot: no accepted reading");
        ex = Assert.Throws<RpcException>(() => _t.Get(AddressOf(MeterKey("nobody")), Ended));
        AssertRefusal(ex, StatusCode.NotFound, ResultStatus.UnknownMeter, "meter:");
        ex = Assert.Throws<RpcException>(() => _t.Get(new GetReadingRequest { Slot = Ended }));
        AssertRefusal(ex, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "owner:");
    }

    [Fact]
    public void The_reading_tree_orders_leaves_by_meter_and_matches_a_rebuild()
    {
        var many = Enumerable.Range(0, 7).Select(i => MeterKey("many" + i)).ToArray();
        var participants = Enumerable.Range(0, 7).Select(i => KeyOf("many-participant" + i).Address.ToLowerHex()).ToArray();
        for (var i = 0; i < many.Length; i++)
        {
            _t.Market.Register(participants[i], i % 3);
            _t.Bind(AddressOf(many[i]), participants[i]);
            _t.Submit(Reading(many[i], participants[i], Ended, 100 * i, 7 * i));
        }
        var root = _t.Seal(Ended).SlotRoot.ToByteArray();
        var leaves = Enumerable.Range(0, many.Length).Select(i => (many[i].Address, Address.Parse(participants[i]),
            MeterReadingMerkleTree.Leaf(many[i].Address, Address.Parse(participants[i]), (ulong)Ended, (ulong)(100 * i), (ulong)(7 * i))));
        var rebuilt = MeterReadingMerkleTree.Build(leaves.Reverse());
        Assert.Equal(root, rebuilt.Root);
        var ordered = rebuilt.Participants.Select(m => m.ToLowerHex()).ToList();
        Assert.Equal(ordered.Order(StringComparer.Ordinal), ordered);
        for (var i = 0; i < many.Length; i++)
        {
            var proof = _t.Proof(participants[i], Ended);
            Assert.True(MeterReadingMerkleTree.Verify(root, proof.Leaf.Span, proof.Proof.Select(p => p.ToByteArray()).ToList()));
        }
    }

    // ---------------------------------------------------------------- binding

    [Fact]
    public void Binding_rules()
    {
        var fresh = AddressOf(MeterKey("fresh"));
        _t.Market.Register(Stranger, 3);
        Assert.False(_t.Bind(AddressOf(SellerMeter), Seller).Bound); // the same pair again: OK
        Assert.True(_t.Bind(fresh, Stranger).Bound);

        var before = _t.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => _t.Bind(AddressOf(SellerMeter), Buyer));
        AssertRefusal(ex, StatusCode.AlreadyExists, ResultStatus.MeterAlreadyBound, "meter: the meter is bound to another participant");
        ex = Assert.Throws<RpcException>(() => _t.Bind(AddressOf(MeterKey("second")), Seller));
        AssertRefusal(ex, StatusCode.AlreadyExists, ResultStatus.MeterAlreadyBound, "participant: the participant already has another meter");
        ex = Assert.Throws<RpcException>(() => _t.Bind(AddressOf(MeterKey("third")), "0x1111111111111111111111111111111111111111"));
        AssertRefusal(ex, StatusCode.PermissionDenied, (int)Core.ResultCode.UnknownParticipant, "participant:");
        ex = Assert.Throws<RpcException>(() => _t.Bind(Buyer, Buyer));
        AssertRefusal(ex, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "meter: a meter has its own key");
        ex = Assert.Throws<RpcException>(() => _t.Bind(Other, Stranger));
        AssertRefusal(ex, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "meter: a meter has its own key");
        ex = Assert.Throws<RpcException>(() => _t.Bind("0x12", Seller));
        AssertRefusal(ex, StatusCode.InvalidArgument, 109, "meter:");
        Assert.Equal(before, _t.Fingerprint());
        // The refused bindings left the meters as they were.
        Assert.True(_t.Submit(Reading(SellerMeter, Seller, Ended, 1, 1)).Accepted);
        Assert.True(_t.Submit(Reading(MeterKey("fresh"), Stranger, Ended, 1, 1)).Accepted);
    }

    [Fact]
    public void Metering_admin_needs_the_operators_token()
    {
        var t = new TestMetering(o => o.AdminToken = "operator").WithMeters();
        var calls = new Action<ServerCallContext>[]
        {
            c => t.Admin.BindMeter(new BindMeterRequest { Meter = AddressOf(MeterKey("x")), Participant = Seller }, c).GetAwaiter().GetResult(),
            c => t.Admin.SealReadings(new SealReadingsRequest { Slot = Ended }, c).GetAwaiter().GetResult(),
            c => t.Admin.GetRejectedReadings(new GetRejectedReadingsRequest { Slot = Ended }, c).GetAwaiter().GetResult(),
        };
        foreach (var call in calls)
        {
            Assert.Equal(StatusCode.Unauthenticated, Assert.Throws<RpcException>(() => call(Context())).StatusCode);
            Assert.Equal(StatusCode.PermissionDenied, Assert.Throws<RpcException>(() => call(Context("wrong"))).StatusCode);
        }
        // With the token, the calls go through (TestMetering passes it).
        t.Market.Register(Stranger, 3);
        Assert.True(t.Bind(AddressOf(MeterKey("x")), Stranger).Bound);
        Assert.True(t.Seal(Ended).NewlySealed);
        Assert.Empty(t.Rejected(Ended));
    }

    // ---------------------------------------------------------------- concurrency

    [Fact]
    public void Concurrent_submits_of_one_reading_accept_it_once_and_conflicts_never_replace_it()
    {
        var reading = Reading(SellerMeter, Seller, Ended, 350, 1200);
        var conflicting = Enumerable.Range(1, 8).Select(i => Reading(SellerMeter, Seller, Ended, 350 + i, 1200)).ToArray();
        var accepted = 0;
        var conflicts = 0;
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            try
            {
                if (_t.Submit(i % 2 == 0 ? reading : conflicting[i / 2 % conflicting.Length]).Accepted) Interlocked.Increment(ref accepted);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
            {
                Interlocked.Increment(ref conflicts);
            }
        });
        Assert.Equal(1, accepted);
        var kept = _t.Get(AddressOf(SellerMeter), Ended).Reading;
        var rejected = _t.Rejected(Ended);
        // Whichever came first is the reading; every other distinct one is in the audit list once.
        Assert.Equal(conflicting.Length + 1 - 1, rejected.Count);
        Assert.DoesNotContain(rejected, r => r.Reading.Equals(kept));
        Assert.True(conflicts >= rejected.Count);
    }
}
