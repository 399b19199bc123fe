using Grpc.Core;
using P2PEnergy.Exchange.Server.Services;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>What meters and participants call (metering.proto, docs/metering-rules.md): check the shape, call the store, map the result.</summary>
public sealed class MeteringGrpcService(MeterReadingStore store) : Api.MeteringService.MeteringServiceBase
{
    public override async Task<Api.SubmitReadingResponse> SubmitReading(Api.SubmitReadingRequest request, ServerCallContext context)
    {
        if (!MeteringWire.TryParse(request.Reading, out var reading, out var signature, out var refusal)) throw refusal.ToException();
        var outcome = store.Submit(reading, signature);
        var meter = reading.Meter.ToString();
        var slot = reading.Slot;
        refusal = outcome.Result switch
        {
            ReadingResult.Accepted or ReadingResult.Duplicate => default,
            ReadingResult.UnknownMeter => ResultStatus.Metering(ResultStatus.UnknownMeter, "reading.meter",
                "no participant is bound to this meter (MeteringAdmin.BindMeter)", $"got {meter}"),
            ReadingResult.NotMetersParticipant => ResultStatus.Metering(ResultStatus.NotMetersParticipant, "reading.participant",
                "the meter is bound to another participant", $"got {reading.Participant}, meter {meter} belongs to {outcome.BoundParticipant}"),
            ReadingResult.FutureSlot => ResultStatus.Metering(ResultStatus.FutureSlot, "reading.slot",
                "future slot: its delivery has not ended yet", $"got {slot}, delivery ends at {store.SlotEndUnixMs(slot) / 1000} unix seconds"),
            ReadingResult.BadSignature => signature.Length == 0
                ? ResultStatus.Unauthenticated("reading.signature", "the meter's EIP-712 signature is required", "got none")
                : ResultStatus.Unauthenticated("reading.signature", "signature does not match the meter",
                    $"meter {meter}; domain: {store.SigningDomain}"),
            ReadingResult.Late => ResultStatus.Metering(ResultStatus.LateReading, "reading.slot",
                "late: the slot's readings are sealed; the reading is kept for audit and not settled",
                $"got {slot}, deadline {store.DeadlineUnixMs(slot) / 1000} unix seconds"),
            ReadingResult.Conflicting => ResultStatus.Metering(ResultStatus.ConflictingReading, "reading",
                "the meter already has a different reading for this slot; this one is kept for audit",
                $"accepted import {outcome.Reading!.Reading.ImportWh} Wh, export {outcome.Reading.Reading.ExportWh} Wh; got {reading.ImportWh}, {reading.ExportWh}"),
            _ => throw new InvalidOperationException($"unexpected result {outcome.Result}"),
        };
        // Answer once what the store did (an accepted reading, or a refusal kept for audit) is durable (Redis mode).
        await store.WhenDurableAsync(context.CancellationToken);
        if (outcome.Result is not (ReadingResult.Accepted or ReadingResult.Duplicate)) throw refusal.ToException();
        return new Api.SubmitReadingResponse
        {
            Accepted = outcome.Result == ReadingResult.Accepted,
            ReadingId = outcome.Reading!.ReadingId,
        };
    }

    public override Task<Api.GetReadingResponse> GetReading(Api.GetReadingRequest request, ServerCallContext context)
    {
        if (!MeteringWire.TryCheckSlot(request.Slot, "slot", out var refusal)) throw refusal.ToException();
        Address meter;
        switch (request.OwnerCase)
        {
            case Api.GetReadingRequest.OwnerOneofCase.Meter:
                if (!Wire.TryParseParticipant(request.Meter, "meter", out meter, out refusal)) throw refusal.ToException();
                break;
            case Api.GetReadingRequest.OwnerOneofCase.Participant:
                if (!Wire.TryParseParticipant(request.Participant, "participant", out var participant, out refusal)) throw refusal.ToException();
                if (!store.TryGetMeterOf(participant, out meter))
                {
                    throw ResultStatus.Metering(ResultStatus.UnknownMeter, "participant", "no meter is bound to this participant", $"got {request.Participant}").ToException();
                }
                break;
            default:
                throw ResultStatus.Invalid("owner", "set meter or participant", "got neither").ToException();
        }
        var lookup = store.TryGetReading(meter, request.Slot, out var reading, out var isSealed);
        if (lookup != ReadingLookup.Found) throw NotFound(lookup, meter, request.Slot).ToException();
        return Task.FromResult(new Api.GetReadingResponse
        {
            Reading = reading!.Reading.ToWire(reading.Signature),
            ReadingId = reading.ReadingId,
            ReceivedUnixMs = reading.ReceivedUnixMs,
            Sealed = isSealed,
        });
    }

    public override Task<Api.GetReadingProofResponse> GetReadingProof(Api.GetReadingProofRequest request, ServerCallContext context)
    {
        if (!Wire.TryParseParticipant(request.Participant, "participant", out var participant, out var refusal)) throw refusal.ToException();
        if (!MeteringWire.TryCheckSlot(request.Slot, "slot", out refusal)) throw refusal.ToException();
        var lookup = store.TryGetProof(participant, request.Slot, out var proof);
        refusal = lookup switch
        {
            ReadingLookup.Found => default,
            ReadingLookup.UnknownMeter => ResultStatus.Metering(ResultStatus.UnknownMeter, "participant", "no meter is bound to this participant", $"got {request.Participant}"),
            ReadingLookup.RootPending => ResultStatus.Metering(ResultStatus.ReadingRootPending, "slot",
                "the slot's readings are not sealed yet: its reading root is built by SealReadings or at its deadline",
                $"got {request.Slot}, deadline {store.DeadlineUnixMs(request.Slot) / 1000} unix seconds"),
            _ => ResultStatus.Metering(ResultStatus.ReadingNotFound, "slot", "no accepted reading of the participant's meter for this slot", $"got {request.Slot}"),
        };
        if (lookup != ReadingLookup.Found) throw refusal.ToException();
        return Task.FromResult(proof!.ToWire(store.SigningDomain));
    }

    private static Refusal NotFound(ReadingLookup lookup, Address meter, long slot) => lookup == ReadingLookup.UnknownMeter
        ? ResultStatus.Metering(ResultStatus.UnknownMeter, "meter", "no participant is bound to this meter", $"got {meter}")
        : ResultStatus.Metering(ResultStatus.ReadingNotFound, "slot", "no accepted reading of this meter for this slot", $"got {slot}, meter {meter}");
}
