using Grpc.Core;
using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Metering;
using P2PEnergy.Exchange.Server.Services;
using Api = P2PEnergy.Exchange.Protos.V1;
using Engine = P2PEnergy.Settlement;

namespace P2PEnergy.Exchange.Server.Settlement;

/// <summary>Serves settled slots (settlement.proto, docs/settlement-rules.md "In the exchange").</summary>
public sealed class SettlementGrpcService(SlotSettler settler, Market market) : Api.SettlementService.SettlementServiceBase
{
    public override Task<Api.GetSettlementResponse> GetSettlement(Api.GetSettlementRequest request, ServerCallContext context)
    {
        var settled = Lookup(request.Slot);
        var s = settled.Settlement;
        var response = new Api.GetSettlementResponse
        {
            Slot = s.Slot,
            RetailTicks = s.Prices.RetailTicks,
            BuyBackTicks = s.Prices.BuyBackTicks,
            Policy = new Api.SettlementPolicy
            {
                SellerCompensatesShortfall = s.Policy.SellerCompensatesShortfall,
                ShortfallRateSubtractsWheeling = s.Policy.ShortfallCompensation == Engine.ShortfallCompensation.RetailMinusPriceAndWheeling,
                BuyerCompensatesUnderconsumption = s.Policy.BuyerCompensatesUnderconsumption,
            },
            Grid = new Api.GridAccount
            {
                WheelingReceived = s.Grid.WheelingReceived,
                RetailWh = s.Grid.RetailWh,
                RetailMoney = s.Grid.RetailMoney,
                BuyBackWh = s.Grid.BuyBackWh,
                BuyBackMoney = s.Grid.BuyBackMoney,
                Net = s.Grid.Net,
            },
            Totals = new Api.SettlementTotals
            {
                ContractedWh = s.Totals.ContractedWh,
                DeliveredWh = s.Totals.DeliveredWh,
                ConsumedWh = s.Totals.ConsumedWh,
                SettledWh = s.Totals.SettledWh,
                MeteredImportWh = s.Totals.MeteredImportWh,
                MeteredExportWh = s.Totals.MeteredExportWh,
                EnergyMoney = s.Totals.EnergyMoney,
                CompensationMoney = s.Totals.CompensationMoney,
                ParticipantsPaid = s.Totals.ParticipantsPaid,
                ParticipantsReceived = s.Totals.ParticipantsReceived,
            },
            Conserved = s.Conserves,
            ReadingCount = settled.ReadingCount,
            SettledUnixMs = settled.SettledUnixMs,
        };
        response.Lots.AddRange(s.Lots.Select(ToWire));
        response.Bills.AddRange(s.Bills.Select(b => ToWire(b, settled.IsMissing(b.Participant))));
        response.MissingReadingParticipants.AddRange(settled.MissingReadings.Select(p => p.ToString()));
        return Task.FromResult(response);
    }

    public override Task<Api.GetBillResponse> GetBill(Api.GetBillRequest request, ServerCallContext context)
    {
        if (!Wire.TryParseParticipant(request.Participant, "participant", out var participant, out var refusal)) throw refusal.ToException();
        if (!MeteringWire.TryCheckSlot(request.Slot, "slot", out refusal)) throw refusal.ToException();
        if (!market.IsParticipant(participant))
        {
            throw ResultStatus.Refuse(ResultCode.UnknownParticipant, "participant", $"got {request.Participant}").ToException();
        }
        var settled = Lookup(request.Slot);
        var bill = settled.Settlement.BillOf(participant);
        return Task.FromResult(new Api.GetBillResponse
        {
            // Neither a reading nor a lot in the slot: nothing flowed, nothing is owed.
            Bill = bill is null
                ? new Api.Bill { Participant = participant.ToString(), Slot = request.Slot }
                : ToWire(bill, settled.IsMissing(participant)),
            Billed = bill is not null,
            RetailTicks = settled.Settlement.Prices.RetailTicks,
            BuyBackTicks = settled.Settlement.Prices.BuyBackTicks,
        });
    }

    private SettledSlot Lookup(long slot)
    {
        if (!MeteringWire.TryCheckSlot(slot, "slot", out var refusal)) throw refusal.ToException();
        var lookup = settler.TryGet(slot, out var settled);
        refusal = lookup switch
        {
            SettlementLookup.Settled => default,
            SettlementLookup.UnknownSlot => ResultStatus.Refuse(ResultCode.UnknownSlot, "slot", "slot was never opened in this market", $"got {slot}"),
            SettlementLookup.NotSettled => ResultStatus.NotSettledYet("slot", "not settled yet: readings not sealed",
                $"got {slot}; the slot settles when its readings are sealed (MeteringAdmin.SealReadings or the reading deadline) and its gate is closed"),
            SettlementLookup.Failed => throw new RpcException(new Status(StatusCode.Internal, $"slot: the slot could not be settled (got {slot}); see the exchange's log")),
            _ => throw new InvalidOperationException($"unexpected lookup {lookup}"),
        };
        if (lookup != SettlementLookup.Settled) throw refusal.ToException();
        return settled!;
    }

    private static Api.LotSettlement ToWire(Engine.LotSettlement l) => new()
    {
        LotId = l.LotId,
        Seller = l.Seller.ToString(),
        Buyer = l.Buyer.ToString(),
        PriceTicks = l.PriceTicks,
        WheelingFeeTicks = l.WheelingFeeTicks,
        ContractedWh = l.ContractedWh,
        DeliveredWh = l.DeliveredWh,
        ConsumedWh = l.ConsumedWh,
        SettledWh = l.SettledWh,
        ShortfallWh = l.ShortfallWh,
        OverDeliveredWh = l.OverDeliveredWh,
        EnergyMoney = l.EnergyMoney,
        WheelingMoney = l.WheelingMoney,
        ShortfallGridMoney = l.ShortfallGridMoney,
        ShortfallCompensation = l.ShortfallCompensation,
        OverDeliveryGridMoney = l.OverDeliveryGridMoney,
        UnderconsumptionCompensation = l.UnderconsumptionCompensation,
    };

    private static Api.Bill ToWire(Engine.Bill b, bool readingMissing) => new()
    {
        Participant = b.Participant.ToString(),
        Slot = b.Slot,
        MeteredImportWh = b.MeteredImportWh,
        MeteredExportWh = b.MeteredExportWh,
        EnergyBoughtWh = b.EnergyBoughtWh,
        EnergyBoughtMoney = b.EnergyBoughtMoney,
        EnergySoldWh = b.EnergySoldWh,
        EnergySoldMoney = b.EnergySoldMoney,
        WheelingPaid = b.WheelingPaid,
        GridImportWh = b.GridImportWh,
        GridImportMoney = b.GridImportMoney,
        GridExportWh = b.GridExportWh,
        GridExportMoney = b.GridExportMoney,
        CompensationPaid = b.CompensationPaid,
        CompensationReceived = b.CompensationReceived,
        Paid = b.Paid,
        Received = b.Received,
        Net = b.Net,
        ReadingMissing = readingMissing,
    };
}
