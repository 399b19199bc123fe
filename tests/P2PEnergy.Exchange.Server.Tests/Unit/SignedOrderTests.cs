namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using P2PEnergy.Ledger;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>
/// Signed orders at the edge: forged, unsigned, tampered and replayed commands are refused with the market
/// unchanged; accepted orders are kept per slot and proven against the slot's order root after gate closure.
/// </summary>
public sealed class SignedOrderTests
{
    private const long Cda = Slot0 + 2;
    private const long Auction = Slot0 + 3;

    private readonly RecordingSink _sink = new();
    private readonly TestMarket _m;
    private readonly long _restingSellId;

    public SignedOrderTests()
    {
        _m = new TestMarket(orderRoots: _sink);
        _m.Register(Seller, 0);
        _m.Register(Buyer, 1, ParticipantKind.Household);
        _m.Register(Other, 0, ParticipantKind.Office);
        _m.Open(Cda, Mechanism.Continuous);
        _m.Open(Auction, Mechanism.CallAuction);
        _restingSellId = _m.Submit(Sell(Seller, 1, Cda, 1000, 2000)).Order.OrderId;
        _m.Submit(Buy(Buyer, 1, Cda, 300, 2100));
    }

    private sealed class RecordingSink : IOrderRootSink
    {
        public List<(long Slot, byte[] Root, int Count)> Roots { get; } = [];

        public void OrderRootReady(long slot, byte[] root, int count) => Roots.Add((slot, root, count));
    }

    private RpcException Refused(NewOrder order, StatusCode status, int code, string messageStart)
    {
        var before = _m.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => _m.SubmitAsIs(order));
        Assert.True(status == ex.StatusCode, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.StartsWith(messageStart, ex.Status.Detail);
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
        return ex;
    }

    [Fact]
    public void Test_keys_are_the_participants()
    {
        Assert.Equal(Seller, KeyOf("seller").Address.ToLowerHex());
        Assert.Equal(Buyer, KeyOf("buyer").Address.ToLowerHex());
        Assert.Equal(Other, KeyOf("other").Address.ToLowerHex());
        Assert.Equal(Stranger, KeyOf("stranger").Address.ToLowerHex());
        Assert.Equal(DefaultDomain, _m.Market.SigningDomain);
        Assert.True(_m.Options.RequireSignatures);
    }

    [Fact]
    public void A_validly_signed_order_is_accepted()
    {
        var order = Signed(Buy(Buyer, 2, Cda, 200, 1500));
        var response = _m.SubmitAsIs(order);
        Assert.Equal(200, response.RemainingWh);
        Assert.Equal(Buyer, response.Order.Participant);
    }

    [Fact]
    public void A_forged_order_is_unauthenticated_and_changes_nothing()
    {
        var forged = Signed(Buy(Buyer, 2, Cda, 200, 5000), by: Mallory);
        var ex = Refused(forged, StatusCode.Unauthenticated, ResultStatus.BadSignature, "order.signature: signature does not match the participant");
        Assert.Contains($"signed by {Mallory.Address.ToLowerHex()}", ex.Status.Detail);
    }

    [Fact]
    public void An_unsigned_order_is_unauthenticated_when_signatures_are_required()
    {
        Refused(Buy(Buyer, 2, Cda, 200, 5000), StatusCode.Unauthenticated, ResultStatus.BadSignature, "order.signature: the participant's EIP-712 signature is required");
    }

    public static TheoryData<string, Action<NewOrder>> Tampering => new()
    {
        { "energy", o => o.EnergyWh = 900 },
        { "price", o => o.LimitPriceTicks = 4_999 },
        { "slot", o => o.Slot = Auction },
        { "client order id", o => o.ClientOrderId = 3 },
        { "product", o => o.Product = Product.Green },
        { "participant", o => o.Participant = Other },
        { "signature bits", o => o.Signature = ByteString.CopyFrom(o.Signature.Span[..64].ToArray().Append((byte)(o.Signature[64] ^ 1)).ToArray()) },
        { "all-zero signature", o => o.Signature = ByteString.CopyFrom(new byte[65]) },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void A_signed_order_changed_after_signing_is_unauthenticated(string what, Action<NewOrder> tamper)
    {
        var order = Signed(Buy(Buyer, 2, Cda, 200, 5000));
        tamper(order);
        var before = _m.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => _m.SubmitAsIs(order));
        Assert.True(ex.StatusCode == StatusCode.Unauthenticated, $"{what}: {ex.StatusCode} {ex.Status.Detail}");
        Assert.StartsWith("order.signature:", ex.Status.Detail);
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public void An_order_signed_for_another_market_is_unauthenticated()
    {
        var otherChain = Signed(Buy(Buyer, 2, Cda, 200, 5000), domain: new MarketDomain(1, Ethereum.Address.Zero));
        Refused(otherChain, StatusCode.Unauthenticated, ResultStatus.BadSignature, "order.signature: signature does not match the participant");
        var otherLedger = Signed(Buy(Buyer, 3, Cda, 200, 5000), domain: new MarketDomain(31337, KeyOf("ledger").Address));
        Refused(otherLedger, StatusCode.Unauthenticated, ResultStatus.BadSignature, "order.signature: signature does not match the participant");
    }

    [Fact]
    public void The_exact_replay_of_a_signed_order_is_already_exists_and_changes_nothing()
    {
        var order = Signed(Buy(Buyer, 2, Cda, 200, 1500));
        _m.SubmitAsIs(order);
        var replay = NewOrder.Parser.ParseFrom(order.ToByteArray()); // the same bytes again
        Refused(replay, StatusCode.AlreadyExists, 303, "order.client_order_id: this participant already used this client order id (got 2)");
    }

    [Fact]
    public void An_enum_number_that_cannot_be_signed_is_invalid_argument()
    {
        var order = Signed(Buy(Buyer, 2, Cda, 200, 1500)); // signed as side 1
        order.Side = (Side)300;
        Refused(order, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "order.side");
    }

    [Fact]
    public async Task A_cancel_signed_by_another_key_is_unauthenticated_and_changes_nothing()
    {
        var before = _m.Fingerprint();
        var forged = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.CancelOrder(SignedCancel(Seller, _restingSellId, by: Mallory), Context()));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);
        Assert.StartsWith("signature: signature does not match the participant", forged.Status.Detail);
        Assert.Equal("110", forged.Trailers.GetValue(ResultStatus.ResultCodeTrailer));

        // The owner's signature for another order does not cancel this one.
        var moved = SignedCancel(Seller, _restingSellId + 1);
        moved.OrderId = _restingSellId;
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.CancelOrder(moved, Context()));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);

        var unsigned = await Assert.ThrowsAsync<RpcException>(() =>
            _m.Exchange.CancelOrder(new CancelOrderRequest { Participant = Seller, OrderId = _restingSellId }, Context()));
        Assert.Equal(StatusCode.Unauthenticated, unsigned.StatusCode);
        Assert.StartsWith("signature:", unsigned.Status.Detail);
        Assert.Equal(before, _m.Fingerprint());

        await _m.Exchange.CancelOrder(SignedCancel(Seller, _restingSellId), Context());
        Assert.NotEqual(before, _m.Fingerprint());
    }

    [Fact]
    public async Task A_reduce_signed_by_another_key_or_for_another_amount_is_unauthenticated()
    {
        var before = _m.Fingerprint();
        var forged = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.ReduceOrder(SignedReduce(Seller, _restingSellId, 100, by: Mallory), Context()));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);
        var bigger = SignedReduce(Seller, _restingSellId, 100);
        bigger.ReduceByWh = 500;
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.ReduceOrder(bigger, Context()));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Equal(before, _m.Fingerprint());

        var reduced = await _m.Exchange.ReduceOrder(SignedReduce(Seller, _restingSellId, 100), Context());
        Assert.Equal(600, reduced.RemainingWh);
    }

    [Fact]
    public async Task Development_mode_accepts_unsigned_commands_but_still_refuses_wrong_signatures()
    {
        var m = new TestMarket(o => o.RequireSignatures = false);
        m.Register(Seller, 0);
        m.Open(Cda, Mechanism.Continuous);

        var unsigned = m.SubmitAsIs(Sell(Seller, 1, Cda, 500, 2000));
        Assert.Equal(500, unsigned.RemainingWh);

        var before = m.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => m.SubmitAsIs(Signed(Sell(Seller, 2, Cda, 500, 2000), by: Mallory)));
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.StartsWith("order.signature:", ex.Status.Detail);
        var cancel = await Assert.ThrowsAsync<RpcException>(() => m.Exchange.CancelOrder(SignedCancel(Seller, unsigned.Order.OrderId, by: Mallory), Context()));
        Assert.Equal(StatusCode.Unauthenticated, cancel.StatusCode);
        Assert.Equal(before, m.Fingerprint());

        Assert.Equal(200, m.SubmitAsIs(Signed(Sell(Seller, 3, Cda, 200, 2000))).RemainingWh);
        var done = await m.Exchange.CancelOrder(new CancelOrderRequest { Participant = Seller, OrderId = unsigned.Order.OrderId }, Context());
        Assert.Equal(OrderDoneReason.Cancelled, done.Done.Reason);

        // The unsigned order is in its slot's tree all the same, with an empty signature.
        await m.Admin.CloseGate(new CloseGateRequest { Slot = Cda }, Context());
        var proof = await m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = unsigned.Order.OrderId }, Context());
        Assert.True(proof.Order.Signature.IsEmpty);
        Assert.Equal(2, proof.OrderCount);
    }

    [Fact]
    public void A_configured_ledger_address_is_the_signing_domain()
    {
        var ledger = KeyOf("ledger").Address;
        var m = new TestMarket(o => { o.ChainId = 5; o.LedgerAddress = ledger.ToString(); });
        m.Register(Buyer, 0);
        m.Open(Cda, Mechanism.Continuous);
        Assert.Equal(new MarketDomain(5, ledger), m.Market.SigningDomain);

        var ex = Assert.Throws<RpcException>(() => m.SubmitAsIs(Signed(Buy(Buyer, 1, Cda, 100, 1000)))); // default domain
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        Assert.Contains("chain 5", ex.Status.Detail);
        Assert.Equal(100, m.SubmitAsIs(Signed(Buy(Buyer, 1, Cda, 100, 1000), domain: new MarketDomain(5, ledger))).RemainingWh);
    }

    [Theory]
    [InlineData("0x12")]
    [InlineData("")]
    public void A_malformed_ledger_address_does_not_start(string ledger)
    {
        Assert.Throws<ArgumentException>(() => new TestMarket(o => o.LedgerAddress = ledger));
    }

    [Fact]
    public async Task Market_info_tells_agents_the_signing_domain()
    {
        var info = await _m.Admin.GetMarketInfo(new GetMarketInfoRequest(), Context());
        Assert.Equal(31337UL, info.Config.ChainId);
        Assert.Equal("0x0000000000000000000000000000000000000000", info.Config.LedgerAddress);
        Assert.True(info.Config.RequireSignatures);
    }

    // ---------------------------------------------------------------- proofs

    [Fact]
    public async Task Proof_is_failed_precondition_while_the_gate_is_open_and_not_found_for_an_unknown_order()
    {
        var open = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = _restingSellId }, Context()));
        Assert.Equal(StatusCode.FailedPrecondition, open.StatusCode);
        Assert.StartsWith("order_id: the order's slot is still open", open.Status.Detail);
        Assert.Equal(ResultStatus.OrderRootPending.ToString(), open.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.False(_m.Market.TryGetSlotOrderRoot(Cda, out _, out _));

        var unknown = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = 999 }, Context()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("order_id: no order with this id was accepted (got 999)", unknown.Status.Detail);
        Assert.Equal("304", unknown.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
    }

    [Fact]
    public async Task After_gate_closure_every_accepted_order_is_proven_against_the_slot_root()
    {
        // Slot Cda: the resting sell, the filled buy, one order cancelled and one refused (not in the tree).
        var cancelled = _m.Submit(Sell(Other, 1, Cda, 400, 2500, EnergySource.Mixed)).Order.OrderId;
        await _m.Exchange.CancelOrder(SignedCancel(Other, cancelled), Context());
        Assert.Throws<RpcException>(() => _m.SubmitAsIs(Signed(Buy(Buyer, 9, Cda, 100, 1000), by: Mallory)));
        var auctionOrder = _m.Submit(Buy(Buyer, 2, Auction, 100, 1000)).Order.OrderId; // another slot, still open
        long[] cdaOrders = [_restingSellId, _restingSellId + 1, cancelled];

        await _m.Admin.CloseGate(new CloseGateRequest { Slot = Cda }, Context());

        Assert.True(_m.Market.TryGetSlotOrderRoot(Cda, out var root, out var count));
        Assert.Equal(3, count);
        Assert.Equal((Cda, 3), (_sink.Roots.Single().Slot, _sink.Roots.Single().Count));
        Assert.Equal(root, _sink.Roots.Single().Root);
        foreach (var id in cdaOrders)
        {
            var p = await _m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = id }, Context());
            Assert.Equal((id, Cda, 3), (p.OrderId, p.Slot, p.OrderCount));
            Assert.Equal(root, p.SlotRoot.ToByteArray());

            // Client side: rebuild the domain and the digest from the returned fields, recover the signer.
            var domain = new MarketDomain(p.ChainId, Ethereum.Address.Parse(p.LedgerAddress));
            var digest = MarketSigning.Digest(domain, MessageOf(p.Order));
            Assert.Equal(digest, p.Digest.ToByteArray());
            Assert.True(MarketSigning.TryRecoverSigner(digest, p.Order.Signature.Span, out var signer));
            Assert.Equal(p.Order.Participant, signer.ToLowerHex());
            var proof = p.Proof.Select(b => b.ToByteArray()).ToList();
            Assert.True(OrderMerkleTree.Verify(p.SlotRoot.Span, id, digest, proof), $"order {id}");

            // Any change breaks it: a sibling, the order id, the digest.
            if (proof.Count > 0)
            {
                var tampered = proof.Select(b => (byte[])b.Clone()).ToList();
                tampered[0][0] ^= 1;
                Assert.False(OrderMerkleTree.Verify(p.SlotRoot.Span, id, digest, tampered));
            }
            Assert.False(OrderMerkleTree.Verify(p.SlotRoot.Span, id + 100, digest, proof));
            var otherDigest = MarketSigning.Digest(domain, MessageOf(p.Order) with { EnergyWh = 100_000 });
            Assert.False(OrderMerkleTree.Verify(p.SlotRoot.Span, id, otherDigest, proof));
        }

        var stillOpen = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = auctionOrder }, Context()));
        Assert.Equal(StatusCode.FailedPrecondition, stillOpen.StatusCode);
    }

    [Fact]
    public async Task Lots_are_bound_to_both_signed_orders()
    {
        _m.Submit(Sell(Seller, 2, Auction, 500, 1500));
        _m.Submit(Buy(Buyer, 2, Auction, 500, 2000));
        await _m.Admin.AdvanceClock(new AdvanceClockRequest { ToUnixSeconds = Auction * 1800 - 300 }, Context()); // closes both gates

        Assert.Equal([Cda, Auction], _sink.Roots.Select(r => r.Slot));
        var lots = await _m.Exchange.GetLots(new GetLotsRequest(), Context());
        Assert.Equal(2, lots.Lots.Count);
        foreach (var lot in lots.Lots)
        {
            foreach (var (orderId, party) in new[] { (lot.SellOrderId, lot.Seller), (lot.BuyOrderId, lot.Buyer) })
            {
                var p = await _m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = orderId }, Context());
                Assert.Equal(lot.Slot, p.Slot);
                var digest = MarketSigning.Digest(DefaultDomain, MessageOf(p.Order));
                Assert.True(MarketSigning.IsSignedBy(digest, p.Order.Signature.Span, Ethereum.Address.Parse(party)));
                Assert.True(OrderMerkleTree.Verify(p.SlotRoot.Span, orderId, digest, p.Proof.Select(b => b.ToByteArray()).ToList()));
                Assert.True(_m.Market.TryGetSlotOrderRoot(lot.Slot, out var root, out _));
                Assert.Equal(root, p.SlotRoot.ToByteArray());
            }
        }
    }

    [Fact]
    public async Task A_slot_without_orders_has_no_root_and_is_not_reported()
    {
        _m.Open(Slot0 + 4, Mechanism.CallAuction);
        await _m.Admin.CloseGate(new CloseGateRequest { Slot = Slot0 + 4 }, Context());
        Assert.False(_m.Market.TryGetSlotOrderRoot(Slot0 + 4, out _, out _));
        Assert.Empty(_sink.Roots);
    }

    [Fact]
    public async Task A_failing_sink_does_not_stop_the_gate_closure()
    {
        var m = new TestMarket(orderRoots: new ThrowingSink());
        m.Register(Seller, 0);
        m.Open(Cda, Mechanism.Continuous);
        var id = m.Submit(Sell(Seller, 1, Cda, 100, 1000)).Order.OrderId;
        var closed = await m.Admin.CloseGate(new CloseGateRequest { Slot = Cda }, Context());
        Assert.Equal(1, closed.Closure.ExpiredOrders);
        Assert.Equal(1, (await m.Exchange.GetOrderProof(new GetOrderProofRequest { OrderId = id }, Context())).OrderCount);
    }

    private sealed class ThrowingSink : IOrderRootSink
    {
        public void OrderRootReady(long slot, byte[] root, int count) => throw new InvalidOperationException("chain down");
    }
}
