namespace P2PEnergy.Exchange.Server.Tests.Unit;

using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;

/// <summary>
/// The exchange service called directly: every bad input is refused with the right status, a message naming
/// the field and value, the core's result code in the trailer, and the market exactly as it was.
/// </summary>
public sealed class ExchangeServiceTests
{
    private const long Cda = Slot0 + 2;
    private const long Auction = Slot0 + 3;

    private readonly TestMarket _m = new();
    private readonly long _restingSellId;
    private readonly long _buyerBuyId;

    public ExchangeServiceTests()
    {
        _m.Register(Seller, 0);
        _m.Register(Buyer, 1, ParticipantKind.Household);
        _m.Register(Other, 0, ParticipantKind.Office);
        _m.Open(Cda, Mechanism.Continuous);
        _m.Open(Auction, Mechanism.CallAuction);
        // A book with depth on both sides and one lot, so that "unchanged" means something.
        _restingSellId = _m.Submit(Sell(Seller, 1, Cda, 1000, 2000)).Order.OrderId;
        _m.Submit(Buy(Buyer, 1, Cda, 300, 2100));
        _buyerBuyId = _m.Submit(Buy(Buyer, 2, Cda, 500, 1500)).Order.OrderId;
        _m.Submit(Sell(Seller, 2, Auction, 500, 1800));
    }

    private static NewOrder Valid() => Buy(Buyer, 99, Cda, 200, 1000);

    public static TheoryData<string, Action<NewOrder>, StatusCode, int, string> BadOrders => new()
    {
        { "zero Wh", o => o.EnergyWh = 0, StatusCode.InvalidArgument, 101, "order.energy_wh: energy must be a positive number of Wh (got 0)" },
        { "negative Wh", o => o.EnergyWh = -100, StatusCode.InvalidArgument, 101, "order.energy_wh: energy must be a positive number of Wh (got -100)" },
        { "not a lot multiple", o => o.EnergyWh = 150, StatusCode.InvalidArgument, 102, "order.energy_wh: energy must be a whole number of lot steps (got 150, step 100)" },
        { "too large", o => o.EnergyWh = 2_000_000_000, StatusCode.InvalidArgument, 103, "order.energy_wh: energy is above the market's largest order (got 2000000000, largest 1000000000)" },
        { "price zero", o => o.LimitPriceTicks = 0, StatusCode.InvalidArgument, 104, "order.limit_price_ticks: limit price is outside the market's price band (got 0, band 1 … 100000)" },
        { "price above band", o => o.LimitPriceTicks = 100_001, StatusCode.InvalidArgument, 104, "order.limit_price_ticks" },
        { "no side", o => o.Side = Side.Unspecified, StatusCode.InvalidArgument, 105, "order.side" },
        { "unknown side value", o => o.Side = (Side)7, StatusCode.InvalidArgument, 105, "order.side" },
        { "buy without product", o => o.Product = Product.Unspecified, StatusCode.InvalidArgument, 106, "order.product" },
        { "sell without source", o => { o.Side = Side.Sell; o.Source = EnergySource.Unspecified; }, StatusCode.InvalidArgument, 107, "order.source" },
        { "malformed address", o => o.Participant = "0x12", StatusCode.InvalidArgument, 109, "order.participant: participant address is missing or malformed (got \"0x12\", expected 0x and 40 hex digits)" },
        { "address without 0x", o => o.Participant = "2222222222222222222222222222222222222222", StatusCode.InvalidArgument, 109, "order.participant" },
        { "zero address", o => o.Participant = "0x0000000000000000000000000000000000000000", StatusCode.InvalidArgument, 109, "order.participant" },
        { "unknown participant", o => o.Participant = Stranger, StatusCode.PermissionDenied, 201, $"order.participant: participant is not registered in this market (got {Stranger})" },
        { "unknown slot", o => o.Slot = Cda + 100, StatusCode.NotFound, 301, $"order.slot: slot is not open in this market (got {Cda + 100})" },
        { "duplicate client order id", o => o.ClientOrderId = 2, StatusCode.AlreadyExists, 303, "order.client_order_id: this participant already used this client order id (got 2)" },
        { "client order id missing", o => o.ClientOrderId = 0, StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "order.client_order_id" },
        { "signature of wrong length", o => o.Signature = ByteString.CopyFrom(new byte[10]), StatusCode.InvalidArgument, ResultStatus.EdgeValidation, "order.signature" },
    };

    [Theory]
    [MemberData(nameof(BadOrders))]
    public void Bad_order_is_refused_naming_the_field_and_changes_nothing(string why, Action<NewOrder> spoil, StatusCode status, int code, string message)
    {
        var order = Valid();
        spoil(order);
        var before = _m.Fingerprint();

        var ex = Assert.Throws<RpcException>(() => _m.Submit(order));

        Assert.True(status == ex.StatusCode, $"{why}: {ex.StatusCode} {ex.Status.Detail}");
        Assert.StartsWith(message, ex.Status.Detail);
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public void A_valid_order_passes_the_same_checks()
    {
        var before = _m.Fingerprint();
        var response = _m.Submit(Valid());
        Assert.Equal(200, response.RemainingWh);
        Assert.NotEqual(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Missing_order_is_invalid_argument()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.SubmitOrder(new SubmitOrderRequest(), Context()));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("order:", ex.Status.Detail);
    }

    [Fact]
    public void Order_for_a_slot_whose_gate_time_passed_is_failed_precondition()
    {
        // The clock moves past the gate without anyone closing it: the command's timestamp decides.
        _m.Clock.Simulated!.Advance(TimeSpan.FromSeconds(2 * 1800 - 300));
        var before = _m.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => _m.Submit(Valid()));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal($"order.slot: the slot's gate is closed (got {Cda})", ex.Status.Detail);
        Assert.Equal("302", ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Order_for_a_closed_slot_is_failed_precondition()
    {
        await _m.Admin.CloseGate(new CloseGateRequest { Slot = Cda }, Context());
        var before = _m.Fingerprint();
        var ex = Assert.Throws<RpcException>(() => _m.Submit(Valid()));
        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Cancel_of_another_participants_order_is_permission_denied_and_changes_nothing()
    {
        var before = _m.Fingerprint();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _m.Exchange.CancelOrder(SignedCancel(Other, _restingSellId), Context()));
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal($"order_id: the order belongs to another participant (got {_restingSellId})", ex.Status.Detail);
        Assert.Equal("202", ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
    }

    [Theory]
    [InlineData("0xnothex", 1L, StatusCode.InvalidArgument, 109, "participant")]
    [InlineData(Stranger, 1L, StatusCode.PermissionDenied, 201, "participant")]
    [InlineData(Seller, 999L, StatusCode.NotFound, 304, "order_id")]
    public async Task Bad_cancel_is_refused_and_changes_nothing(string participant, long orderId, StatusCode status, int code, string field)
    {
        var before = _m.Fingerprint();
        var request = Keys.ContainsKey(participant) ? SignedCancel(participant, orderId) : new CancelOrderRequest { Participant = participant, OrderId = orderId };
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.CancelOrder(request, Context()));
        Assert.Equal(status, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Status.Detail);
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Cancel_by_the_owner_releases_the_rest()
    {
        var response = await _m.Exchange.CancelOrder(SignedCancel(Seller, _restingSellId), Context());
        Assert.Equal(OrderDoneReason.Cancelled, response.Done.Reason);
        Assert.Equal(300, response.Done.FilledWh);
        Assert.Equal(700, response.Done.ReleasedWh);
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrder(new GetOrderRequest { OrderId = _restingSellId }, Context()));
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Theory]
    [InlineData(150L, "reduce_by_wh: a reduction must be positive, a whole number of lot steps, and below the order's remaining Wh (cancel the order to remove it all) (got 150, step 100)")]
    [InlineData(0L, "reduce_by_wh")]
    [InlineData(500L, "reduce_by_wh")]
    public async Task Bad_reduction_is_invalid_argument_and_changes_nothing(long reduceBy, string message)
    {
        var before = _m.Fingerprint();
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.ReduceOrder(
            SignedReduce(Buyer, _buyerBuyId, reduceBy), Context()));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(message, ex.Status.Detail);
        Assert.Equal("108", ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Reduce_of_another_participants_order_is_permission_denied()
    {
        var before = _m.Fingerprint();
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.ReduceOrder(
            SignedReduce(Seller, _buyerBuyId, 100), Context()));
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal(before, _m.Fingerprint());
    }

    [Fact]
    public async Task Reduce_keeps_the_order_and_shrinks_the_book()
    {
        var response = await _m.Exchange.ReduceOrder(SignedReduce(Buyer, _buyerBuyId, 200), Context());
        Assert.Equal(300, response.RemainingWh);
        var book = await _m.Exchange.GetOrderBook(new GetOrderBookRequest { Slot = Cda, Product = Product.Standard }, Context());
        Assert.Equal([(1500L, 300L)], book.Books.Single().Bids.Select(l => (l.PriceTicks, l.EnergyWh)));
    }

    [Fact]
    public async Task Order_book_of_a_call_auction_is_blind_and_of_an_unknown_slot_not_found()
    {
        var blind = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrderBook(new GetOrderBookRequest { Slot = Auction }, Context()));
        Assert.Equal(StatusCode.FailedPrecondition, blind.StatusCode);
        Assert.Equal("305", blind.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        Assert.StartsWith("slot:", blind.Status.Detail);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetOrderBook(new GetOrderBookRequest { Slot = 5 }, Context()));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Order_book_shows_both_products_aggregated()
    {
        _m.Submit(Sell(Other, 1, Cda, 400, 2000, EnergySource.Mixed));
        var book = await _m.Exchange.GetOrderBook(new GetOrderBookRequest { Slot = Cda }, Context());
        var green = book.Books.Single(b => b.Product == Product.Green);
        var standard = book.Books.Single(b => b.Product == Product.Standard);
        Assert.Equal([(2000L, 700L, 1)], green.Asks.Select(l => (l.PriceTicks, l.EnergyWh, l.Orders)));
        Assert.Equal([(2000L, 1100L, 2)], standard.Asks.Select(l => (l.PriceTicks, l.EnergyWh, l.Orders)));
        Assert.Empty(green.Bids);
    }

    [Theory]
    [InlineData("0x12", 0, "", "participant")]
    [InlineData("", 1001, "", "page_size")]
    [InlineData("", -1, "", "page_size")]
    [InlineData("", 0, "abc", "page_token")]
    public async Task Bad_lot_query_is_invalid_argument(string participant, int pageSize, string token, string field)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => _m.Exchange.GetLots(
            new GetLotsRequest { Participant = participant, PageSize = pageSize, PageToken = token }, Context()));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Status.Detail);
    }

    [Fact]
    public async Task Lots_page_by_slot_and_participant()
    {
        _m.Submit(Buy(Other, 1, Cda, 300, 2500));
        _m.Submit(Buy(Buyer, 3, Cda, 200, 2500));
        var bySlot = await _m.Exchange.GetLots(new GetLotsRequest { Slot = Cda, PageSize = 2 }, Context());
        Assert.Equal([1L, 2L], bySlot.Lots.Select(l => l.LotId));
        var rest = await _m.Exchange.GetLots(new GetLotsRequest { Slot = Cda, PageSize = 2, PageToken = bySlot.NextPageToken }, Context());
        Assert.Equal([3L], rest.Lots.Select(l => l.LotId));
        Assert.Empty(rest.NextPageToken);

        var buyer = await _m.Exchange.GetLots(new GetLotsRequest { Participant = Buyer }, Context());
        Assert.Equal([1L, 3L], buyer.Lots.Select(l => l.LotId));
        Assert.All(buyer.Lots, l => Assert.Equal(Buyer, l.Buyer));
        var otherSlot = await _m.Exchange.GetLots(new GetLotsRequest { Participant = Buyer, Slot = Auction }, Context());
        Assert.Empty(otherSlot.Lots);
    }
}
