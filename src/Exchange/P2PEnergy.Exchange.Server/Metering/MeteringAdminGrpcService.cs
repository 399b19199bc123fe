using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Services;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>The operator's metering API. Every call first checks the admin token (same rule as MarketAdmin, <see cref="AdminGuard"/>).</summary>
public sealed class MeteringAdminGrpcService(MeterReadingStore store, Market market) : Api.MeteringAdmin.MeteringAdminBase
{
    private void Authorize(ServerCallContext context) => AdminGuard.Authorize(market.Options.AdminToken, context);

    public override async Task<Api.BindMeterResponse> BindMeter(Api.BindMeterRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (!Wire.TryParseParticipant(request.Meter, "meter", out var meter, out var refusal)) throw refusal.ToException();
        if (!Wire.TryParseParticipant(request.Participant, "participant", out var participant, out refusal)) throw refusal.ToException();
        var result = store.Bind(meter, participant, out var boundTo);
        refusal = result switch
        {
            BindResult.Bound or BindResult.AlreadyBound => default,
            BindResult.MeterIsParticipant => ResultStatus.Invalid("meter", "a meter has its own key, not a participant's", $"got {request.Meter}"),
            BindResult.UnknownParticipant => ResultStatus.Refuse(ResultCode.UnknownParticipant, "participant", $"got {request.Participant}"),
            BindResult.MeterBoundToAnother => ResultStatus.Metering(ResultStatus.MeterAlreadyBound, "meter",
                "the meter is bound to another participant (a binding is never changed)", $"got {request.Meter}, bound to {boundTo}"),
            _ => ResultStatus.Metering(ResultStatus.MeterAlreadyBound, "participant",
                "the participant already has another meter (one meter per participant)", $"got {request.Participant}, meter {boundTo}"),
        };
        if (result is not (BindResult.Bound or BindResult.AlreadyBound)) throw refusal.ToException();
        await store.WhenDurableAsync(context.CancellationToken);
        return new Api.BindMeterResponse { Bound = result == BindResult.Bound };
    }

    public override async Task<Api.SealReadingsResponse> SealReadings(Api.SealReadingsRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (!MeteringWire.TryCheckSlot(request.Slot, "slot", out var refusal)) throw refusal.ToException();
        if (!store.TrySeal(request.Slot, out var sealedReadings))
        {
            throw ResultStatus.Metering(ResultStatus.FutureSlot, "slot", "future slot: its delivery has not ended yet",
                $"got {request.Slot}, delivery ends at {store.SlotEndUnixMs(request.Slot) / 1000} unix seconds").ToException();
        }
        await store.WhenDurableAsync(context.CancellationToken);
        return new Api.SealReadingsResponse
        {
            SlotRoot = ByteString.CopyFrom(sealedReadings.Root),
            ReadingCount = sealedReadings.Count,
            NewlySealed = sealedReadings.NewlySealed,
        };
    }

    public override Task<Api.GetRejectedReadingsResponse> GetRejectedReadings(Api.GetRejectedReadingsRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (!MeteringWire.TryCheckSlot(request.Slot, "slot", out var refusal)) throw refusal.ToException();
        var response = new Api.GetRejectedReadingsResponse();
        foreach (var rejected in store.GetRejected(request.Slot)) response.Readings.Add(rejected.ToWire());
        return Task.FromResult(response);
    }
}
