using System.Globalization;
using System.Runtime.ExceptionServices;
using Grpc.Core;
using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Domain;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>The participants' API: validate at the edge, call the market, map the result.</summary>
public sealed class ExchangeGrpcService(Market market, MarketDataHub marketData) : Api.ExchangeService.ExchangeServiceBase
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public override async Task<Api.SubmitOrderResponse> SubmitOrder(Api.SubmitOrderRequest request, ServerCallContext context)
    {
        if (!Wire.TryParseOrder(request.Order, out var command, out var refusal)) throw refusal.ToException();
        if (!OrderSignatures.TryAuthenticate(market, request.Order, command.Participant, "order.", out var signed, out refusal)) throw refusal.ToException();
        var outcome = market.Submit(command, signed);
        if (!outcome.Ok) throw ResultStatus.ForSubmit(outcome.Code, request.Order, market.Config).ToException();
        var response = new Api.SubmitOrderResponse
        {
            Order = outcome.Accepted!.Value.ToWire(),
            RemainingWh = outcome.Live?.RemainingWh ?? 0,
            Done = outcome.Done?.ToWire(),
            AcceptedAtUnixMs = outcome.UnixMs,
        };
        foreach (var lot in outcome.Lots) response.Lots.Add(lot.ToWire());
        await market.WhenDurableAsync(outcome.JournalSeq, context.CancellationToken);
        return response;
    }

    public override async Task<Api.CancelOrderResponse> CancelOrder(Api.CancelOrderRequest request, ServerCallContext context)
    {
        if (!TryParseOwner(request.Participant, request.Signature, out var participant, out var refusal)
            || !OrderSignatures.TryAuthenticate(market, request, participant, out refusal)) throw refusal.ToException();
        var outcome = market.Cancel(participant, request.OrderId);
        if (!outcome.Ok) throw ResultStatus.ForOrderCommand(outcome.Code, request.Participant, request.OrderId, 0, market.Config).ToException();
        await market.WhenDurableAsync(outcome.JournalSeq, context.CancellationToken);
        return new Api.CancelOrderResponse { Done = outcome.Done!.ToWire() };
    }

    public override async Task<Api.ReduceOrderResponse> ReduceOrder(Api.ReduceOrderRequest request, ServerCallContext context)
    {
        if (!TryParseOwner(request.Participant, request.Signature, out var participant, out var refusal)
            || !OrderSignatures.TryAuthenticate(market, request, participant, out refusal)) throw refusal.ToException();
        var outcome = market.Reduce(participant, request.OrderId, request.ReduceByWh);
        if (!outcome.Ok) throw ResultStatus.ForOrderCommand(outcome.Code, request.Participant, request.OrderId, request.ReduceByWh, market.Config).ToException();
        await market.WhenDurableAsync(outcome.JournalSeq, context.CancellationToken);
        return new Api.ReduceOrderResponse { OrderId = request.OrderId, RemainingWh = outcome.Live!.Value.RemainingWh };
    }

    public override Task<Api.GetOrderResponse> GetOrder(Api.GetOrderRequest request, ServerCallContext context)
    {
        if (!market.TryGetOrder(request.OrderId, out var state))
            throw ResultStatus.Refuse(ResultCode.OrderNotFound, "order_id", $"got {request.OrderId}").ToException();
        return Task.FromResult(new Api.GetOrderResponse { Order = state.ToWire() });
    }

    public override Task<Api.GetOrderProofResponse> GetOrderProof(Api.GetOrderProofRequest request, ServerCallContext context)
    {
        var lookup = market.TryGetOrderProof(request.OrderId, out var proof);
        var refusal = lookup switch
        {
            OrderProofLookup.UnknownOrder => ResultStatus.Refuse(ResultCode.OrderNotFound, "order_id", "no order with this id was accepted", $"got {request.OrderId}"),
            OrderProofLookup.RootPending => ResultStatus.RootPending("order_id",
                "the order's slot is still open: its order root is built when its gate closes", $"order {request.OrderId}"),
            _ => default,
        };
        if (lookup != OrderProofLookup.Found) throw refusal.ToException();
        return Task.FromResult(proof!.ToWire(market.SigningDomain));
    }

    public override Task<Api.GetOrderBookResponse> GetOrderBook(Api.GetOrderBookRequest request, ServerCallContext context)
    {
        if (request.MaxLevels < 0) throw ResultStatus.Invalid("max_levels", "must be 0 (all) or more", $"got {request.MaxLevels}").ToException();
        Product[] products = request.Product == Api.Product.Unspecified ? [Product.Green, Product.Standard] : [request.Product.ToCore()];
        var response = new Api.GetOrderBookResponse();
        foreach (var product in products)
        {
            var code = market.GetDepth(request.Slot, product, request.MaxLevels, out var depth);
            if (code != ResultCode.Ok)
            {
                var refusal = code == ResultCode.InvalidProduct
                    ? ResultStatus.Refuse(code, "product", $"got {request.Product}")
                    : ResultStatus.Refuse(code, "slot", $"got {request.Slot}");
                throw refusal.ToException();
            }
            response.Books.Add(depth!.ToWire());
        }
        return Task.FromResult(response);
    }

    public override Task<Api.GetLotsResponse> GetLots(Api.GetLotsRequest request, ServerCallContext context)
    {
        Address? participant = null;
        if (request.Participant.Length > 0)
        {
            if (!Wire.TryParseAddress(request.Participant, "participant", out var p, out var refusal)) throw refusal.ToException();
            participant = p;
        }
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        if (pageSize is < 1 or > MaxPageSize)
            throw ResultStatus.Invalid("page_size", $"must be 1 … {MaxPageSize}, or 0 for {DefaultPageSize}", $"got {request.PageSize}").ToException();
        var after = 0L;
        if (request.PageToken.Length > 0 && (!long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out after)))
            throw ResultStatus.Invalid("page_token", "not a token from a previous GetLots response", $"got {ResultStatus.Quote(request.PageToken)}").ToException();

        var lots = market.GetLots(request.HasSlot ? request.Slot : null, participant, after, pageSize, out var more);
        var response = new Api.GetLotsResponse();
        foreach (var lot in lots) response.Lots.Add(lot.ToWire());
        // The token is the last lot id returned; ids only grow, so paging is stable while lots are added.
        if (more) response.NextPageToken = lots[^1].LotId.ToString(CultureInfo.InvariantCulture);
        return Task.FromResult(response);
    }

    public override async Task StreamOrders(
        IAsyncStreamReader<Api.StreamOrdersRequest> requestStream,
        IServerStreamWriter<Api.StreamOrdersResponse> responseStream,
        ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var session = new OrderStreamSession(market);
        var writer = WriteOrderStreamAsync(session, responseStream, ct);
        ExceptionDispatchInfo? readFailure = null;
        try
        {
            while (await requestStream.MoveNext(ct))
            {
                // Back-pressure: a client that does not read its acks stops being read.
                await session.Outbox.WaitForRoomAsync(ct);
                if (session.Outbox.DropReason is not null) break;
                var request = requestStream.Current;
                if (request.Batch.Count == 0)
                {
                    Handle(request, session);
                }
                else
                {
                    HandleBatch(request, session);
                }
            }
        }
        catch (Exception ex)
        {
            readFailure = ExceptionDispatchInfo.Capture(ex);
        }
        session.Dispose(); // stop listening; the writer sends what is queued, then ends
        try
        {
            await writer;
        }
        catch when (readFailure is not null)
        {
            // The read side's failure is the one to report.
        }
        readFailure?.Throw();
        if (session.Outbox.DropReason is { } reason) throw new RpcException(new Status(StatusCode.ResourceExhausted, reason));
    }

    /// <summary>
    /// Drains an outbox into a response stream. While more messages are already queued they are written
    /// with BufferHint (no flush); the last one of a burst is flushed. A busy stream so sends many
    /// messages per HTTP/2 write instead of one flush per message, and a quiet one still gets each at once.
    /// </summary>
    private static async Task WriteAllAsync<T>(Outbox<T> outbox, IServerStreamWriter<T> stream, CancellationToken ct)
    {
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        var burst = 0;
        await foreach (var message in outbox.ReadAllAsync(ct))
        {
            // Flush at least every 256 messages so that a steady flood still reaches the client.
            var more = outbox.Count > 0 && ++burst < 256;
            if (!more) burst = 0;
            stream.WriteOptions = more ? buffered : null;
            await stream.WriteAsync(message, ct);
        }
    }

    /// <summary>The most requests one StreamOrders message may carry.</summary>
    public const int MaxBatch = 1000;

    /// <summary>Several requests in one message: handled in order, each acked as if sent alone.</summary>
    private void HandleBatch(Api.StreamOrdersRequest request, OrderStreamSession session)
    {
        session.Batching = true;
        if (request.CommandCase != Api.StreamOrdersRequest.CommandOneofCase.None || request.Batch.Count > MaxBatch)
        {
            var problem = request.Batch.Count > MaxBatch
                ? $"at most {MaxBatch} requests a message (got {request.Batch.Count})"
                : "a message carries one command or a batch, not both";
            session.Acknowledge(Ack(request.RequestId, 0, ResultStatus.Invalid("batch", problem)), null);
            return;
        }
        // Parsing and signature checks (the CPU work) run on every core; the market then takes the requests
        // one by one, in the batch's order.
        var batch = request.Batch;
        var prepared = new Prepared[batch.Count];
        if (batch.Count >= 8)
        {
            Parallel.For(0, batch.Count, i => prepared[i] = PrepareInBatch(batch[i], i));
        }
        else
        {
            for (var i = 0; i < batch.Count; i++) prepared[i] = PrepareInBatch(batch[i], i);
        }
        for (var i = 0; i < batch.Count; i++)
        {
            Apply(batch[i], prepared[i], session);
        }
    }

    /// <summary>
    /// Drains an order stream's outbox. Once the client has sent a batch, whatever is waiting is packed into
    /// one message (up to <see cref="MaxBatch"/> events): per-message costs then fall on many orders at once.
    /// </summary>
    private static async Task WriteOrderStreamAsync(OrderStreamSession session, IServerStreamWriter<Api.StreamOrdersResponse> stream, CancellationToken ct)
    {
        var outbox = session.Outbox;
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        var burst = 0;
        Api.StreamOrdersResponse? pack = null;
        await foreach (var message in outbox.ReadAllAsync(ct))
        {
            var more = outbox.Count > 0;
            if (session.Batching || pack is not null)
            {
                pack ??= new Api.StreamOrdersResponse();
                pack.Batch.Add(message);
                if (more && pack.Batch.Count < MaxBatch) continue;
                stream.WriteOptions = null;
                await stream.WriteAsync(pack, ct);
                pack = null;
                continue;
            }
            // One message each: flush at the end of a burst, and at least every 256 messages.
            more = more && ++burst < 256;
            if (!more) burst = 0;
            stream.WriteOptions = more ? buffered : null;
            await stream.WriteAsync(message, ct);
        }
        if (pack is not null)
        {
            stream.WriteOptions = null;
            await stream.WriteAsync(pack, ct);
        }
    }

    private Prepared PrepareInBatch(Api.StreamOrdersRequest inner, int index) => inner.Batch.Count > 0
        ? new Prepared(false, ResultStatus.Invalid($"batch[{index}].batch", "a request in a batch may not carry a batch"), default, null, default)
        : Prepare(inner);

    /// <summary>A stream request parsed and authenticated (thread-safe work, done before the market sees it).</summary>
    private readonly record struct Prepared(bool Ok, Refusal Refusal, SubmitOrder Command, SignedOrder? Signed, Address Participant);

    private void Handle(Api.StreamOrdersRequest request, OrderStreamSession session) => Apply(request, Prepare(request), session);

    private Prepared Prepare(Api.StreamOrdersRequest request)
    {
        switch (request.CommandCase)
        {
            case Api.StreamOrdersRequest.CommandOneofCase.Submit:
            {
                var order = request.Submit.Order;
                if (!Wire.TryParseOrder(order, out var command, out var refusal)
                    || !OrderSignatures.TryAuthenticate(market, order, command.Participant, "order.", out var signed, out refusal))
                {
                    return new Prepared(false, refusal, default, null, default);
                }
                return new Prepared(true, default, command, signed, command.Participant);
            }
            case Api.StreamOrdersRequest.CommandOneofCase.Cancel:
            {
                var cancel = request.Cancel;
                var ok = TryParseOwner(cancel.Participant, cancel.Signature, out var participant, out var refusal)
                    && OrderSignatures.TryAuthenticate(market, cancel, participant, out refusal);
                return new Prepared(ok, refusal, default, null, participant);
            }
            case Api.StreamOrdersRequest.CommandOneofCase.Reduce:
            {
                var reduce = request.Reduce;
                var ok = TryParseOwner(reduce.Participant, reduce.Signature, out var participant, out var refusal)
                    && OrderSignatures.TryAuthenticate(market, reduce, participant, out refusal);
                return new Prepared(ok, refusal, default, null, participant);
            }
            default:
                return new Prepared(false, ResultStatus.Invalid("command", "one of submit, cancel or reduce is required"), default, null, default);
        }
    }

    private void Apply(Api.StreamOrdersRequest request, in Prepared prepared, OrderStreamSession session)
    {
        try
        {
            ApplyToMarket(request, prepared, session);
        }
        catch (Durability.JournalUnavailableException e)
        {
            // Refused before the market applied it: this request alone is answered UNAVAILABLE, the stream goes on.
            var orderId = request.CommandCase switch
            {
                Api.StreamOrdersRequest.CommandOneofCase.Cancel => request.Cancel.OrderId,
                Api.StreamOrdersRequest.CommandOneofCase.Reduce => request.Reduce.OrderId,
                _ => 0,
            };
            session.Acknowledge(Ack(request.RequestId, orderId, ResultStatus.Unavailable(e.Message)), null);
        }
    }

    private void ApplyToMarket(Api.StreamOrdersRequest request, in Prepared prepared, OrderStreamSession session)
    {
        var id = request.RequestId;
        switch (request.CommandCase)
        {
            case Api.StreamOrdersRequest.CommandOneofCase.Submit:
            {
                var order = request.Submit.Order;
                if (!prepared.Ok)
                {
                    session.Acknowledge(Ack(id, 0, prepared.Refusal), null);
                    return;
                }
                var participant = prepared.Participant;
                market.Submit(prepared.Command, prepared.Signed!, o => session.Acknowledge(
                    o.Ok ? Ack(id, o) : Ack(id, 0, ResultStatus.ForSubmit(o.Code, order, market.Config)),
                    o.Ok ? participant : null));
                return;
            }
            case Api.StreamOrdersRequest.CommandOneofCase.Cancel:
            {
                var cancel = request.Cancel;
                if (!prepared.Ok)
                {
                    session.Acknowledge(Ack(id, cancel.OrderId, prepared.Refusal), null);
                    return;
                }
                var participant = prepared.Participant;
                market.Cancel(participant, cancel.OrderId, o => session.Acknowledge(
                    o.Ok ? Ack(id, o) : Ack(id, cancel.OrderId, ResultStatus.ForOrderCommand(o.Code, cancel.Participant, cancel.OrderId, 0, market.Config)),
                    o.Ok ? participant : null));
                return;
            }
            case Api.StreamOrdersRequest.CommandOneofCase.Reduce:
            {
                var reduce = request.Reduce;
                if (!prepared.Ok)
                {
                    session.Acknowledge(Ack(id, reduce.OrderId, prepared.Refusal), null);
                    return;
                }
                var participant = prepared.Participant;
                market.Reduce(participant, reduce.OrderId, reduce.ReduceByWh, o => session.Acknowledge(
                    o.Ok ? Ack(id, o) : Ack(id, reduce.OrderId, ResultStatus.ForOrderCommand(o.Code, reduce.Participant, reduce.OrderId, reduce.ReduceByWh, market.Config)),
                    o.Ok ? participant : null));
                return;
            }
            default:
                session.Acknowledge(Ack(id, 0, prepared.Refusal), null);
                return;
        }
    }

    private static Api.OrderAck Ack(ulong requestId, CommandOutcome outcome) => new()
    {
        RequestId = requestId,
        OrderId = outcome.OrderId,
        ResultCode = 0,
        Message = "ok",
        StatusCode = (int)StatusCode.OK,
        Order = outcome.Live?.ToWire(),
        UnixMs = outcome.UnixMs,
    };

    private Api.OrderAck Ack(ulong requestId, long orderId, Refusal refusal) => new()
    {
        RequestId = requestId,
        OrderId = orderId,
        ResultCode = refusal.ResultCode,
        Message = refusal.Message,
        StatusCode = (int)refusal.Status,
        UnixMs = market.Clock.NowUnixMs,
    };

    public override async Task SubscribeMarketData(
        Api.SubscribeMarketDataRequest request,
        IServerStreamWriter<Api.MarketDataEvent> responseStream,
        ServerCallContext context)
    {
        var ct = context.CancellationToken;
        using var subscription = marketData.Subscribe(request.HasSlot ? request.Slot : null);
        // Headers go out once the subscription is live: a client that waits for them sees every later event.
        await context.WriteResponseHeadersAsync([]);
        try
        {
            await WriteAllAsync(subscription.Outbox, responseStream, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return; // the client went away
        }
        if (subscription.Outbox.DropReason is { } reason) throw new RpcException(new Status(StatusCode.ResourceExhausted, reason));
    }

    private static bool TryParseOwner(string participant, Google.Protobuf.ByteString signature, out Address address, out Refusal refusal)
    {
        address = default;
        return Wire.TryParseParticipant(participant, "participant", out address, out refusal)
            && Wire.CheckSignature(signature, "signature", out refusal);
    }
}
