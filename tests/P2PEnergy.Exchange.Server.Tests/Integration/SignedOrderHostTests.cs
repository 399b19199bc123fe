namespace P2PEnergy.Exchange.Server.Tests.Integration;

using Grpc.Core;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using P2PEnergy.Ledger;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>Signed orders through the whole host with its shipped configuration (appsettings.json: signatures required).</summary>
public sealed class SignedOrderHostTests : IDisposable
{
    private const long Cda = Slot0 + 2;
    private const long Auction = Slot0 + 3;

    private readonly ExchangeHostFactory _host = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _timeout.Dispose();
        _host.Dispose();
    }

    private CancellationToken Ct => _timeout.Token;

    private async Task SetUpAsync()
    {
        await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Seller, Zone = 0, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);
        await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Buyer, Zone = 1, Kind = ParticipantKind.Household }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Cda, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Auction, Mechanism = Mechanism.CallAuction }, cancellationToken: Ct);
    }

    private Task<SubmitOrderResponse> SubmitAsync(NewOrder order) =>
        _host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = order }, cancellationToken: Ct).ResponseAsync;

    [Fact]
    public async Task The_host_requires_signatures_and_tells_the_domain()
    {
        await SetUpAsync();
        var info = await _host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.True(info.Config.RequireSignatures);
        Assert.Equal(MarketDomain.DevChainId, info.Config.ChainId);
        Assert.Equal("0x0000000000000000000000000000000000000000", info.Config.LedgerAddress);

        var unsigned = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(Buy(Buyer, 1, Cda, 100, 2000)));
        Assert.Equal(StatusCode.Unauthenticated, unsigned.StatusCode);
        Assert.StartsWith("order.signature:", unsigned.Status.Detail);
        Assert.Equal("110", unsigned.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(100, (await SubmitAsync(Signed(Buy(Buyer, 1, Cda, 100, 2000)))).RemainingWh);
    }

    [Fact]
    public async Task A_configured_domain_is_used_and_published()
    {
        var ledger = KeyOf("ledger").Address;
        using var host = new ExchangeHostFactory(new Dictionary<string, string?> { ["Exchange:ChainId"] = "1337", ["Exchange:LedgerAddress"] = ledger.ToString() });
        var info = await host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.Equal(1337UL, info.Config.ChainId);
        Assert.Equal(ledger.ToLowerHex(), info.Config.LedgerAddress);
    }

    [Fact]
    public async Task Stream_orders_acks_a_forged_order_with_unauthenticated_alone_and_in_a_batch()
    {
        await SetUpAsync();
        using var stream = _host.Exchange.StreamOrders(cancellationToken: Ct);
        await stream.RequestStream.WriteAsync(new StreamOrdersRequest { RequestId = 1, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 1, Cda, 100, 1000), by: Mallory) } }, Ct);
        await stream.RequestStream.WriteAsync(new StreamOrdersRequest { RequestId = 2, Cancel = SignedCancel(Seller, 1, by: Mallory) }, Ct);
        var batch = new StreamOrdersRequest();
        batch.Batch.Add(new StreamOrdersRequest { RequestId = 3, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 2, Cda, 100, 1000)) } });
        batch.Batch.Add(new StreamOrdersRequest { RequestId = 4, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 3, Cda, 100, 1000), by: Mallory) } });
        batch.Batch.Add(new StreamOrdersRequest { RequestId = 5, Submit = new SubmitOrderRequest { Order = Sell(Seller, 4, Cda, 100, 1000) } }); // unsigned
        batch.Batch.Add(new StreamOrdersRequest { RequestId = 6, Reduce = SignedReduce(Seller, 1, 100, by: Mallory) });
        await stream.RequestStream.WriteAsync(batch, Ct);
        await stream.RequestStream.CompleteAsync();

        var acks = new List<OrderAck>();
        while (await stream.ResponseStream.MoveNext(Ct))
        {
            var m = stream.ResponseStream.Current;
            foreach (var e in m.Batch.Count > 0 ? m.Batch.ToList() : [m])
            {
                if (e.EventCase == StreamOrdersResponse.EventOneofCase.Ack) acks.Add(e.Ack);
            }
        }
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL, 6UL], acks.Select(a => a.RequestId));
        Assert.Equal([16, 16, 0, 16, 16, 16], acks.Select(a => a.StatusCode));
        Assert.All(acks.Where(a => a.StatusCode == 16), a => Assert.Equal(ResultStatus.BadSignature, a.ResultCode));
        Assert.StartsWith("order.signature: signature does not match the participant", acks[0].Message);
        Assert.StartsWith("signature:", acks[1].Message);
        Assert.Equal(1, acks[2].OrderId);
        var info = await _host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.Equal(2, info.NextOrderId); // only the validly signed order reached the market
    }

    [Fact]
    public async Task Order_proofs_after_the_gates_close_verify_client_side()
    {
        await SetUpAsync();
        var sell = await SubmitAsync(Signed(Sell(Seller, 1, Auction, 500, 1500)));
        var buy = await SubmitAsync(Signed(Buy(Buyer, 1, Auction, 500, 2000)));

        var early = await Assert.ThrowsAsync<RpcException>(() => _host.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = sell.Order.OrderId }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, early.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => _host.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = 77 }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);

        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = Auction * 1800 - 300 }, cancellationToken: Ct);

        var lot = (await _host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = Auction }, cancellationToken: Ct)).Lots.Single();
        foreach (var (orderId, party) in new[] { (lot.SellOrderId, lot.Seller), (lot.BuyOrderId, lot.Buyer) })
        {
            var p = await _host.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = orderId }, cancellationToken: Ct);
            Assert.Equal((Auction, 2), (p.Slot, p.OrderCount));
            var domain = new MarketDomain(p.ChainId, Ethereum.Address.Parse(p.LedgerAddress));
            var digest = MarketSigning.Digest(domain, MessageOf(p.Order));
            Assert.True(MarketSigning.TryRecoverSigner(digest, p.Order.Signature.Span, out var signer));
            Assert.Equal(party, signer.ToLowerHex());
            var proof = p.Proof.Select(b => b.ToByteArray()).ToList();
            Assert.True(OrderMerkleTree.Verify(p.SlotRoot.Span, orderId, digest, proof));
            proof[0][31] ^= 0x80;
            Assert.False(OrderMerkleTree.Verify(p.SlotRoot.Span, orderId, digest, proof));
        }
        Assert.Equal(sell.Order.OrderId, lot.SellOrderId);
        Assert.Equal(buy.Order.OrderId, lot.BuyOrderId);
    }
}
