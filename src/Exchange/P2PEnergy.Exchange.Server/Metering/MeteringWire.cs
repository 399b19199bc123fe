using Google.Protobuf;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Signing;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>Metering's wire checks and conversions (metering.proto).</summary>
internal static class MeteringWire
{
    /// <summary>The shape of a submitted reading: addresses (109), slot and Wh (100), signature length (100).</summary>
    public static bool TryParse(Api.MeterReading? wire, out MeterReading reading, out byte[] signature, out Refusal refusal)
    {
        reading = null!;
        signature = [];
        if (wire is null)
        {
            refusal = ResultStatus.Invalid("reading", "a reading is required", "got none");
            return false;
        }
        if (!Wire.TryParseParticipant(wire.Meter, "reading.meter", out var meter, out refusal)) return false;
        if (!Wire.TryParseParticipant(wire.Participant, "reading.participant", out var participant, out refusal)) return false;
        if (!TryCheckSlot(wire.Slot, "reading.slot", out refusal)) return false;
        if (wire.ImportWh < 0)
        {
            refusal = ResultStatus.Invalid("reading.import_wh", "energy must not be negative", $"got {wire.ImportWh}");
            return false;
        }
        if (wire.ExportWh < 0)
        {
            refusal = ResultStatus.Invalid("reading.export_wh", "energy must not be negative", $"got {wire.ExportWh}");
            return false;
        }
        if (!Wire.CheckSignature(wire.Signature, "reading.signature", out refusal)) return false;
        reading = new MeterReading(meter, participant, wire.Slot, wire.ImportWh, wire.ExportWh);
        signature = wire.Signature.ToByteArray();
        return true;
    }

    public static bool TryCheckSlot(long slot, string field, out Refusal refusal)
    {
        refusal = default;
        if (slot > 0) return true;
        refusal = ResultStatus.Invalid(field, "a slot index is positive", $"got {slot}");
        return false;
    }

    public static Api.MeterReading ToWire(this MeterReading reading, byte[] signature) => new()
    {
        Meter = reading.Meter.ToString(),
        Participant = reading.Participant.ToString(),
        Slot = reading.Slot,
        ImportWh = reading.ImportWh,
        ExportWh = reading.ExportWh,
        Signature = ByteString.CopyFrom(signature),
    };

    public static Api.GetReadingProofResponse ToWire(this ReadingProof proof, MarketDomain domain)
    {
        var response = new Api.GetReadingProofResponse
        {
            Reading = proof.Reading.Reading.ToWire(proof.Reading.Signature),
            ReadingId = proof.Reading.ReadingId,
            Digest = ByteString.CopyFrom(proof.Reading.Digest),
            Leaf = ByteString.CopyFrom(proof.Leaf),
            SlotRoot = ByteString.CopyFrom(proof.SlotRoot),
            ReadingCount = proof.Count,
            ChainId = domain.ChainId,
            LedgerAddress = domain.Ledger.ToLowerHex(),
        };
        foreach (var sibling in proof.Proof) response.Proof.Add(ByteString.CopyFrom(sibling));
        return response;
    }

    public static Api.RejectedReading ToWire(this RejectedReading rejected) => new()
    {
        Reading = rejected.Reading.ToWire(rejected.Signature),
        Reason = rejected.Reason switch
        {
            ReadingRejection.Conflicting => Api.ReadingRejection.Conflicting,
            ReadingRejection.Late => Api.ReadingRejection.Late,
            _ => Api.ReadingRejection.Unspecified,
        },
        ReceivedUnixMs = rejected.ReceivedUnixMs,
    };
}
