namespace P2PEnergy.Exchange.Server.Tests.Integration;

using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>The host end to end: TestServer, real gRPC client, simulated clock.</summary>
public sealed class ExchangeHostTests : IDisposable
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
        await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = Other, Zone = 1, Kind = ParticipantKind.Phev }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Cda, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Auction, Mechanism = Mechanism.CallAuction }, cancellationToken: Ct);
    }

    /// <summary>Submits the order, signed by its participant's key unless it carries a signature already.</summary>
    private Task<SubmitOrderResponse> SubmitAsync(NewOrder order) =>
        _host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = order.Signature.IsEmpty ? Signed(order) : order }, cancellationToken: Ct).ResponseAsync;

    [Fact]
    public async Task Continuous_trade_end_to_end_with_book_and_lots()
    {
        await SetUpAsync();
        var sell = await SubmitAsync(Sell(Seller, 1, Cda, 1000, 2000));
        Assert.Equal(1000, sell.RemainingWh);
        Assert.Empty(sell.Lots);

        var buy = await SubmitAsync(Buy(Buyer, 1, Cda, 600, 2500));
        var lot = Assert.Single(buy.Lots);
        Assert.Equal((Seller, Buyer, 600L, 2000L, 1000L), (lot.Seller, lot.Buyer, lot.EnergyWh, lot.PriceTicks, lot.WheelingFeeTicks));
        Assert.Equal(600 * 2000, lot.Money);
        Assert.Equal(600 * 3000, lot.BuyerPays);
        Assert.Equal(OrderDoneReason.Filled, buy.Done.Reason);

        var book = await _host.Exchange.GetOrderBookAsync(new GetOrderBookRequest { Slot = Cda, Product = Product.Standard }, cancellationToken: Ct);
        Assert.Equal([(2000L, 400L, 1)], book.Books.Single().Asks.Select(l => (l.PriceTicks, l.EnergyWh, l.Orders)));
        Assert.Empty(book.Books.Single().Bids);

        await SubmitAsync(Buy(Other, 1, Cda, 200, 2000));
        var bySlot = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = Cda }, cancellationToken: Ct);
        Assert.Equal([1L, 2L], bySlot.Lots.Select(l => l.LotId));
        var byBuyer = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Participant = Buyer }, cancellationToken: Ct);
        Assert.Equal([1L], byBuyer.Lots.Select(l => l.LotId));
        var bySeller = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Participant = Seller.ToUpperInvariant().Replace("0X", "0x"), PageSize = 1 }, cancellationToken: Ct);
        Assert.Equal([1L], bySeller.Lots.Select(l => l.LotId));
        var page2 = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Participant = Seller, PageSize = 1, PageToken = bySeller.NextPageToken }, cancellationToken: Ct);
        Assert.Equal([2L], page2.Lots.Select(l => l.LotId));
    }

    [Fact]
    public async Task Refusal_carries_status_message_and_result_code_trailer_over_the_wire()
    {
        await SetUpAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(Buy(Buyer, 1, Cda, 150, 2000)));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("order.energy_wh: energy must be a whole number of lot steps (got 150, step 100)", ex.Status.Detail);
        Assert.Equal("102", ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));

        var blind = await Assert.ThrowsAsync<RpcException>(() => _host.Exchange.GetOrderBookAsync(new GetOrderBookRequest { Slot = Auction }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, blind.StatusCode);
    }

    private async Task SubmitAuctionOrdersAsync()
    {
        // S(p): 1000 Wh from 1500, 2000 Wh from 2000. D(p): 2000 Wh up to 1800, 1500 Wh up to 2500.
        // V is largest (1500) on [2000, 2500] with |S − D| = 500 throughout: price ⌊(2000 + 2500) / 2⌋ = 2250.
        await SubmitAsync(Sell(Seller, 1, Auction, 1000, 1500, EnergySource.Mixed));
        await SubmitAsync(Sell(Other, 1, Auction, 1000, 2000, EnergySource.Mixed));
        await SubmitAsync(Buy(Buyer, 1, Auction, 1500, 2500));
        await SubmitAsync(Buy(Other, 2, Auction, 500, 1800));
    }

    private static void AssertAuctionCleared(GateClosure closure)
    {
        Assert.Equal(Auction, closure.Slot);
        Assert.Equal(Mechanism.CallAuction, closure.Mechanism);
        Assert.Equal([Product.Green, Product.Standard], closure.Results.Select(r => r.Product));
        Assert.False(closure.Results[0].Cleared);
        var standard = closure.Results[1];
        Assert.True(standard.Cleared);
        Assert.Equal(2250, standard.ClearingPriceTicks);
        Assert.Equal(1500, standard.MatchedWh);
        Assert.Equal(1500, closure.MatchedWh);
        Assert.Equal(standard.LotCount, closure.LotCount);
    }

    [Fact]
    public async Task Call_auction_cleared_through_close_gate()
    {
        await SetUpAsync();
        await SubmitAuctionOrdersAsync();
        var closed = await _host.Admin.CloseGateAsync(new CloseGateRequest { Slot = Auction }, cancellationToken: Ct);
        AssertAuctionCleared(closed.Closure);

        var lots = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = Auction }, cancellationToken: Ct);
        Assert.Equal(1500, lots.Lots.Sum(l => l.EnergyWh));
        Assert.All(lots.Lots, l => Assert.Equal(2250, l.PriceTicks));
        Assert.All(lots.Lots, l => Assert.NotEqual(l.Seller, l.Buyer));

        var again = await Assert.ThrowsAsync<RpcException>(() => _host.Admin.CloseGateAsync(new CloseGateRequest { Slot = Auction }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, again.StatusCode);
    }

    [Fact]
    public async Task Call_auction_cleared_through_advance_clock()
    {
        await SetUpAsync();
        await SubmitAuctionOrdersAsync();
        // Gates: CDA slot at +3300 s, auction slot at +5100 s.
        var first = await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { By = Duration.FromTimeSpan(TimeSpan.FromSeconds(3300)) }, cancellationToken: Ct);
        Assert.Equal([Cda], first.Closed.Select(c => c.Slot));
        var second = await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = StartUnixSeconds + 5100 }, cancellationToken: Ct);
        AssertAuctionCleared(Assert.Single(second.Closed));

        var info = await _host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.True(info.SimulatedClock);
        Assert.Equal((StartUnixSeconds + 5100) * 1000, info.NowUnixMs);
        Assert.All(info.Slots, s => Assert.Equal(SlotPhase.Closed, s.Phase));
        Assert.Equal(3, info.Participants.Count);
    }

    [Fact]
    public async Task Stream_orders_acks_in_order_and_lots_of_both_sides()
    {
        await SetUpAsync();
        const int pairs = 100;
        using var sellerStream = _host.Exchange.StreamOrders(cancellationToken: Ct);
        using var buyerStream = _host.Exchange.StreamOrders(cancellationToken: Ct);

        // The seller rests 100 sells at rising prices, plus one refused order in the middle.
        for (var i = 1; i <= pairs; i++)
        {
            await sellerStream.RequestStream.WriteAsync(new StreamOrdersRequest
            {
                RequestId = (ulong)i,
                Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, (ulong)i, Cda, 100, 1000 + i)) },
            }, Ct);
        }
        await sellerStream.RequestStream.WriteAsync(new StreamOrdersRequest
        {
            RequestId = 999,
            Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 1, Cda, 100, 1000)) }, // duplicate client order id
        }, Ct);

        var sellAcks = new List<OrderAck>();
        while (sellAcks.Count < pairs + 1)
        {
            Assert.True(await sellerStream.ResponseStream.MoveNext(Ct));
            var m = sellerStream.ResponseStream.Current;
            Assert.Equal(StreamOrdersResponse.EventOneofCase.Ack, m.EventCase);
            sellAcks.Add(m.Ack);
        }
        Assert.Equal(Enumerable.Range(1, pairs).Select(i => (ulong)i).Append(999UL), sellAcks.Select(a => a.RequestId));
        Assert.All(sellAcks.Take(pairs), a => Assert.Equal(0, a.StatusCode));
        var sellOrderIds = sellAcks.Take(pairs).Select(a => a.OrderId).ToList();
        Assert.Equal(sellOrderIds.Order(), sellOrderIds);
        var refused = sellAcks[^1];
        Assert.Equal((int)StatusCode.AlreadyExists, refused.StatusCode);
        Assert.Equal(303, refused.ResultCode);
        Assert.StartsWith("order.client_order_id:", refused.Message);

        // The buyer, on its own stream, lifts them one by one.
        for (var i = 1; i <= pairs; i++)
        {
            await buyerStream.RequestStream.WriteAsync(new StreamOrdersRequest
            {
                RequestId = (ulong)(1000 + i),
                Submit = new SubmitOrderRequest { Order = Signed(Buy(Buyer, (ulong)i, Cda, 100, 5000)) },
            }, Ct);
        }
        await buyerStream.RequestStream.CompleteAsync();

        // Buyer side: each ack, then its lot, then its order's OrderDone; then the call ends.
        var buyerMessages = new List<StreamOrdersResponse>();
        while (await buyerStream.ResponseStream.MoveNext(Ct)) buyerMessages.Add(buyerStream.ResponseStream.Current);
        Assert.Equal(3 * pairs, buyerMessages.Count);
        for (var i = 0; i < pairs; i++)
        {
            var ack = buyerMessages[3 * i].Ack;
            var lot = buyerMessages[3 * i + 1].Lot;
            var done = buyerMessages[3 * i + 2].OrderDone;
            Assert.Equal((ulong)(1001 + i), ack.RequestId);
            Assert.Equal(ack.OrderId, lot.BuyOrderId);
            Assert.Equal(sellOrderIds[i], lot.SellOrderId); // cheapest first
            Assert.Equal(1001 + i, lot.PriceTicks);         // at the resting order's price
            Assert.Equal(ack.OrderId, done.OrderId);
        }

        // Seller side: the same lots, each followed by the sell's OrderDone, caused by the buyer's stream.
        var sellerLots = new List<Lot>();
        while (sellerLots.Count < pairs)
        {
            Assert.True(await sellerStream.ResponseStream.MoveNext(Ct));
            var m = sellerStream.ResponseStream.Current;
            if (m.EventCase == StreamOrdersResponse.EventOneofCase.Lot) sellerLots.Add(m.Lot);
            else Assert.Equal(StreamOrdersResponse.EventOneofCase.OrderDone, m.EventCase);
        }
        Assert.Equal(buyerMessages.Where(m => m.Lot is not null).Select(m => m.Lot.LotId), sellerLots.Select(l => l.LotId));
        await sellerStream.RequestStream.CompleteAsync();
        Assert.True(await sellerStream.ResponseStream.MoveNext(Ct)); // the last sell's OrderDone
        Assert.Equal(OrderDoneReason.Filled, sellerStream.ResponseStream.Current.OrderDone.Reason);
        Assert.False(await sellerStream.ResponseStream.MoveNext(Ct));
        Assert.Equal(StatusCode.OK, sellerStream.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Stream_orders_takes_batches_and_answers_in_batches()
    {
        await SetUpAsync();
        using var stream = _host.Exchange.StreamOrders(cancellationToken: Ct);

        // One message: 50 sells of the seller at 1001 … 1050, then 50 buys of the buyer at 5000 that lift them
        // one by one, then a duplicate client order id, and a request that itself carries a batch.
        var message = new StreamOrdersRequest();
        for (var i = 1; i <= 50; i++)
        {
            message.Batch.Add(new StreamOrdersRequest { RequestId = (ulong)i, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, (ulong)i, Cda, 100, 1000 + i)) } });
        }
        for (var i = 1; i <= 50; i++)
        {
            message.Batch.Add(new StreamOrdersRequest { RequestId = (ulong)(100 + i), Submit = new SubmitOrderRequest { Order = Signed(Buy(Buyer, (ulong)i, Cda, 100, 5000)) } });
        }
        message.Batch.Add(new StreamOrdersRequest { RequestId = 900, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 1, Cda, 100, 1000)) } });
        var nested = new StreamOrdersRequest { RequestId = 901 };
        nested.Batch.Add(new StreamOrdersRequest { RequestId = 902, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 77, Cda, 100, 1000)) } });
        message.Batch.Add(nested);
        await stream.RequestStream.WriteAsync(message, Ct);

        // A message with a command and a batch at once is refused whole.
        var both = new StreamOrdersRequest { RequestId = 950, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 78, Cda, 100, 1000)) } };
        both.Batch.Add(new StreamOrdersRequest { RequestId = 951, Submit = new SubmitOrderRequest { Order = Signed(Sell(Seller, 79, Cda, 100, 1000)) } });
        await stream.RequestStream.WriteAsync(both, Ct);
        await stream.RequestStream.CompleteAsync();

        var events = new List<StreamOrdersResponse>();
        var messages = 0;
        while (await stream.ResponseStream.MoveNext(Ct))
        {
            var m = stream.ResponseStream.Current;
            messages++;
            Assert.Equal(StreamOrdersResponse.EventOneofCase.None, m.EventCase); // batched: events only inside
            Assert.All(m.Batch, e => Assert.Empty(e.Batch));
            events.AddRange(m.Batch);
        }
        Assert.Equal(StatusCode.OK, stream.GetStatus().StatusCode);
        Assert.True(messages < events.Count, $"{events.Count} events came in {messages} messages");

        var acks = events.Where(e => e.EventCase == StreamOrdersResponse.EventOneofCase.Ack).Select(e => e.Ack).ToList();
        var expectedIds = Enumerable.Range(1, 50).Select(i => (ulong)i)
            .Concat(Enumerable.Range(101, 50).Select(i => (ulong)i))
            .Concat([900UL, 901UL, 950UL]);
        Assert.Equal(expectedIds, acks.Select(a => a.RequestId));
        Assert.All(acks.Take(100), a => Assert.Equal(0, a.StatusCode));
        Assert.Equal(303, acks[100].ResultCode); // duplicate client order id
        Assert.Equal((int)StatusCode.InvalidArgument, acks[101].StatusCode);
        Assert.StartsWith("batch[101].batch:", acks[101].Message);
        Assert.Equal((int)StatusCode.InvalidArgument, acks[102].StatusCode);
        Assert.StartsWith("batch:", acks[102].Message);

        // Each buy lifted the cheapest sell left, at the sell's price: 50 lots, 1001 … 1050.
        var lots = events.Where(e => e.EventCase == StreamOrdersResponse.EventOneofCase.Lot).Select(e => e.Lot).ToList();
        Assert.Equal(Enumerable.Range(1001, 50).Select(p => (long)p), lots.Select(l => l.PriceTicks));
        var page = await _host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = Cda, PageSize = 1000 }, cancellationToken: Ct);
        Assert.Equal(lots.Select(l => l.LotId), page.Lots.Select(l => l.LotId));
        // Nothing of the refused requests reached the market: 100 orders, no more.
        var info = await _host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.Equal(101, info.NextOrderId);
    }

    [Fact]
    public async Task Market_data_delivers_book_updates_trades_and_clearing_results()
    {
        await SetUpAsync();
        using var all = _host.Exchange.SubscribeMarketData(new SubscribeMarketDataRequest(), cancellationToken: Ct);
        using var auctionOnly = _host.Exchange.SubscribeMarketData(new SubscribeMarketDataRequest { Slot = Auction }, cancellationToken: Ct);
        await all.ResponseHeadersAsync;         // live from here on
        await auctionOnly.ResponseHeadersAsync;

        await SubmitAsync(Sell(Seller, 101, Cda, 1000, 2000));    // renewable: green and standard asks
        await SubmitAsync(Buy(Buyer, 101, Cda, 400, 2100));       // trade; standard asks shrink
        await SubmitAuctionOrdersAsync();                         // blind: nothing public
        await _host.Admin.CloseGateAsync(new CloseGateRequest { Slot = Auction }, cancellationToken: Ct);

        async Task<List<MarketDataEvent>> ReadUntilGateClosed(IAsyncStreamReader<MarketDataEvent> stream)
        {
            var events = new List<MarketDataEvent>();
            while (await stream.MoveNext(Ct))
            {
                events.Add(stream.Current);
                if (stream.Current.EventCase == MarketDataEvent.EventOneofCase.GateClosed) return events;
            }
            throw new Xunit.Sdk.XunitException("stream ended before the gate closed");
        }

        var events = await ReadUntilGateClosed(all.ResponseStream);
        var C = MarketDataEvent.EventOneofCase.Clearing;
        var T = MarketDataEvent.EventOneofCase.Trade;
        var B = MarketDataEvent.EventOneofCase.Book;
        var G = MarketDataEvent.EventOneofCase.GateClosed;
        var lotCount = events.Count(e => e.EventCase == T) - 1;
        Assert.Equal([B, B, T, B, B, C, C, .. Enumerable.Repeat(T, lotCount), G], events.Select(e => e.EventCase));
        Assert.Equal(events.Select(e => e.Sequence).Order(), events.Select(e => e.Sequence));

        var green = events[0].Book.Depth;
        Assert.Equal((Cda, Product.Green), (green.Slot, green.Product));
        Assert.Equal([(2000L, 1000L)], green.Asks.Select(l => (l.PriceTicks, l.EnergyWh)));
        Assert.Equal(400, events[2].Trade.EnergyWh);
        Assert.Equal([(2000L, 600L)], events[4].Book.Depth.Asks.Select(l => (l.PriceTicks, l.EnergyWh)));
        Assert.Equal(2250, events[6].Clearing.ClearingPriceTicks);
        Assert.All(events.Skip(7).SkipLast(1), e => Assert.Equal(Auction, e.Trade.Slot));

        var filtered = await ReadUntilGateClosed(auctionOnly.ResponseStream);
        Assert.Equal(events.Skip(5).Select(e => e.Sequence), filtered.Select(e => e.Sequence));
    }

    [Fact]
    public async Task Health_check_is_serving()
    {
        var health = new Health.HealthClient(_host.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest(), cancellationToken: Ct);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Reflection_lists_the_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_host.Channel);
        using var call = reflection.ServerReflectionInfo(cancellationToken: Ct);
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" }, Ct);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(Ct));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("p2penergy.v1.ExchangeService", services);
        Assert.Contains("p2penergy.v1.MarketAdmin", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Oversize_message_is_resource_exhausted_and_changes_nothing()
    {
        await SetUpAsync();
        var order = Buy(Buyer, 1, Cda, 100, 2000);
        order.Signature = ByteString.CopyFrom(new byte[70 * 1024]);
        var ex = await Assert.ThrowsAsync<RpcException>(() => SubmitAsync(order));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);

        var info = await _host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct);
        Assert.Equal(1, info.NextOrderId);
        Assert.Equal(64 * 1024, info.Config.MaxMessageSizeBytes);
    }

    [Fact]
    public async Task Admin_token_travels_in_metadata()
    {
        using var host = new ExchangeHostFactory(new Dictionary<string, string?> { ["Exchange:AdminToken"] = "operator" });
        var admin = host.Admin;
        var ex = await Assert.ThrowsAsync<RpcException>(() => admin.GetMarketInfoAsync(new GetMarketInfoRequest(), cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
        var info = await admin.GetMarketInfoAsync(new GetMarketInfoRequest(), new Metadata { { AdminGuard.Header, "operator" } }, cancellationToken: Ct);
        Assert.Equal(StartUnixSeconds * 1000, info.NowUnixMs);
    }
}
