namespace P2PEnergy.Exchange.Server.Tests.Integration;

using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMetering;
using Core = P2PEnergy.Exchange;
using IReadingRootSink = P2PEnergy.Exchange.Server.Metering.IReadingRootSink;
using NoReadingRootSink = P2PEnergy.Exchange.Server.Metering.NoReadingRootSink;
using SettlingReadingRootSink = P2PEnergy.Exchange.Server.Settlement.SettlingReadingRootSink;
using SlotSettler = P2PEnergy.Exchange.Server.Settlement.SlotSettler;

/// <summary>
/// A slot from trading to its off-chain settlement through the whole host (simulated clock, signed orders,
/// bound meters, signed readings) with real gRPC clients.
/// </summary>
public sealed class SettlementHostTests : IDisposable
{
    /// <summary>Delivered 2026-01-01 01:00–01:30 UTC = 10:00–10:30 JST: half hour 20 of the market's day (UTC+9).</summary>
    private const long Slot = Slot0 + 2;
    private const int HalfHour = 20;

    // Small prices (ticks) so that every line can be computed by hand: wheeling 100 for every zone pair,
    // retail 3000 except 2500 in half hour 20 (time of use), buy-back 800.
    private readonly ExchangeHostFactory _host = new(new Dictionary<string, string?>
    {
        ["Exchange:DefaultWheelingFeeTicks"] = "100",
        ["Exchange:RetailPriceTicks"] = "3000",
        ["Exchange:BuyBackPriceTicks"] = "800",
    });
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _timeout.Dispose();
        _host.Dispose();
    }

    private CancellationToken Ct => _timeout.Token;

    private MeteringService.MeteringServiceClient Metering => new(_host.Channel);

    private MeteringAdmin.MeteringAdminClient MeteringAdminClient => new(_host.Channel);

    private SettlementService.SettlementServiceClient Settlement => new(_host.Channel);

    private static async Task<RpcException> RefusedAsync(Task call, StatusCode status, int code)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.True(status == ex.StatusCode, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        return ex;
    }

    private Task<GetSettlementResponse> GetSettlementAsync(long slot) =>
        Settlement.GetSettlementAsync(new GetSettlementRequest { Slot = slot }, cancellationToken: Ct).ResponseAsync;

    private Task<GetBillResponse> GetBillAsync(string participant, long slot) =>
        Settlement.GetBillAsync(new GetBillRequest { Participant = participant, Slot = slot }, cancellationToken: Ct).ResponseAsync;

    private async Task SubmitOrderAsync(NewOrder order) =>
        await _host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Signed(order) }, cancellationToken: Ct);

    private async Task SetUpAsync()
    {
        foreach (var (who, zone) in new[] { (Seller, 0), (Buyer, 1), (Other, 2) })
        {
            await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = who, Zone = zone, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);
        }
        foreach (var (meter, who) in new[] { (SellerMeter, Seller), (BuyerMeter, Buyer), (OtherMeter, Other) })
        {
            await MeteringAdminClient.BindMeterAsync(new BindMeterRequest { Meter = AddressOf(meter), Participant = who }, cancellationToken: Ct);
        }
        var tariff = new GridTariff { RetailTicks = 3000, BuyBackTicks = 800 };
        tariff.TimeOfUse.Add(new TimeOfUsePrice { HalfHourOfDay = HalfHour, RetailTicks = 2500 });
        await _host.Admin.SetGridTariffAsync(new SetGridTariffRequest { Tariff = tariff }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Slot, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
    }

    /// <summary>Lot 1: seller → buyer 500 Wh at 2000; lot 2: other → buyer 300 Wh at 1800 (continuous: the resting order's price).</summary>
    private async Task TradeAsync()
    {
        await SubmitOrderAsync(Sell(Seller, 1, Slot, 500, 2000));
        await SubmitOrderAsync(Buy(Buyer, 1, Slot, 500, 2200));
        await SubmitOrderAsync(Sell(Other, 1, Slot, 300, 1800));
        await SubmitOrderAsync(Buy(Buyer, 2, Slot, 300, 2200));
        var lots = (await _host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = Slot }, cancellationToken: Ct)).Lots;
        Assert.Equal([(1L, Seller, Buyer, 500L, 2000L, 100L), (2L, Other, Buyer, 300L, 1800L, 100L)],
            lots.Select(l => (l.LotId, l.Seller, l.Buyer, l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks)));
    }

    [Fact]
    public async Task A_sealed_slot_is_settled_once_with_every_line_as_computed_by_hand()
    {
        await SetUpAsync();
        await TradeAsync();

        // Not settled while the gate is open, nor after delivery until the readings are sealed.
        await RefusedAsync(GetSettlementAsync(Slot), StatusCode.FailedPrecondition, ResultStatus.NotSettled);
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (Slot + 1) * 1800 }, cancellationToken: Ct);
        await RefusedAsync(GetSettlementAsync(Slot), StatusCode.FailedPrecondition, ResultStatus.NotSettled);

        // The seller delivered 400 of its 500 Wh; the buyer took 1000 Wh (bought 800) and fed in 50 Wh of its
        // own; the other participant's meter never reports.
        await Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(SellerMeter, Seller, Slot, 0, 400) }, cancellationToken: Ct);
        await Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(BuyerMeter, Buyer, Slot, 1000, 50) }, cancellationToken: Ct);
        var early = await RefusedAsync(GetSettlementAsync(Slot), StatusCode.FailedPrecondition, ResultStatus.NotSettled);
        Assert.StartsWith("slot: not settled yet: readings not sealed", early.Status.Detail);
        await RefusedAsync(GetBillAsync(Buyer, Slot), StatusCode.FailedPrecondition, ResultStatus.NotSettled);

        var seal = await MeteringAdminClient.SealReadingsAsync(new SealReadingsRequest { Slot = Slot }, cancellationToken: Ct);
        Assert.True(seal.NewlySealed);
        Assert.Equal(2, seal.ReadingCount);

        var s = await GetSettlementAsync(Slot);
        Assert.Equal(Slot, s.Slot);
        // Prices of the slot: retail by time of use for half hour 20, buy-back.
        Assert.Equal((2500L, 800L), (s.RetailTicks, s.BuyBackTicks));
        Assert.Equal(new SettlementPolicy { SellerCompensatesShortfall = true }, s.Policy); // SettlementPolicy.Default
        Assert.True(s.Conserved);
        Assert.Equal(2, s.ReadingCount);
        Assert.Equal([Other], s.MissingReadingParticipants);
        Assert.Equal((Slot + 1) * 1800 * 1000, s.SettledUnixMs);

        // FIFO by lot id (docs/settlement-rules.md). Export: seller 400 → lot 1; other 0 (no reading: 0/0) → lot 2.
        // Import: buyer 1000 → lot 1 takes 500, lot 2 takes 300, 200 are left (bought from the grid).
        // Lot 1: delivered 400, consumed 500, settled 400, shortfall 100, over-delivered 0.
        //   energy      400 × 2000 = 800 000        wheeling 400 × 100 = 40 000
        //   shortfall grid 100 × 2500 = 250 000     shortfall compensation 100 × (2500 − 2000) = 50 000
        // Lot 2: delivered 0, consumed 300, settled 0, shortfall 300.
        //   energy 0, wheeling 0, shortfall grid 300 × 2500 = 750 000, compensation 300 × (2500 − 1800) = 210 000
        Assert.Equal(2, s.Lots.Count);
        var lot1 = s.Lots[0];
        Assert.Equal((1L, Seller, Buyer, 2000L, 100L), (lot1.LotId, lot1.Seller, lot1.Buyer, lot1.PriceTicks, lot1.WheelingFeeTicks));
        Assert.Equal((500L, 400L, 500L, 400L, 100L, 0L), (lot1.ContractedWh, lot1.DeliveredWh, lot1.ConsumedWh, lot1.SettledWh, lot1.ShortfallWh, lot1.OverDeliveredWh));
        Assert.Equal((800_000L, 40_000L, 250_000L, 50_000L, 0L, 0L),
            (lot1.EnergyMoney, lot1.WheelingMoney, lot1.ShortfallGridMoney, lot1.ShortfallCompensation, lot1.OverDeliveryGridMoney, lot1.UnderconsumptionCompensation));
        var lot2 = s.Lots[1];
        Assert.Equal((2L, Other, Buyer, 1800L, 100L), (lot2.LotId, lot2.Seller, lot2.Buyer, lot2.PriceTicks, lot2.WheelingFeeTicks));
        Assert.Equal((300L, 0L, 300L, 0L, 300L, 0L), (lot2.ContractedWh, lot2.DeliveredWh, lot2.ConsumedWh, lot2.SettledWh, lot2.ShortfallWh, lot2.OverDeliveredWh));
        Assert.Equal((0L, 0L, 750_000L, 210_000L, 0L, 0L),
            (lot2.EnergyMoney, lot2.WheelingMoney, lot2.ShortfallGridMoney, lot2.ShortfallCompensation, lot2.OverDeliveryGridMoney, lot2.UnderconsumptionCompensation));

        // Bills, ascending address (other 0x7a…, seller 0xbb…, buyer 0xcb…).
        Assert.Equal([Other, Seller, Buyer], s.Bills.Select(b => b.Participant));
        // Other (no reading: 0/0): pays lot 2's shortfall compensation 210 000; net −210 000.
        Assert.Equal(new Bill
        {
            Participant = Other, Slot = Slot, CompensationPaid = 210_000, Paid = 210_000, Net = -210_000, ReadingMissing = true,
        }, s.Bills[0]);
        // Seller: export 400 all sold (lot 1): 800 000; pays lot 1's compensation 50 000; net 750 000.
        Assert.Equal(new Bill
        {
            Participant = Seller, Slot = Slot, MeteredExportWh = 400, EnergySoldWh = 400, EnergySoldMoney = 800_000,
            CompensationPaid = 50_000, Paid = 50_000, Received = 800_000, Net = 750_000,
        }, s.Bills[1]);
        // Buyer: import 1000 = 400 bought (800 000 + wheeling 40 000) + 600 from the grid (shortfall 100 + 300,
        // unallocated 200) × 2500 = 1 500 000; export 50 to the grid × 800 = 40 000; compensation received
        // 50 000 + 210 000 = 260 000. Paid 800 000 + 40 000 + 1 500 000 = 2 340 000; received 40 000 + 260 000
        // = 300 000; net −2 040 000.
        var buyerBill = new Bill
        {
            Participant = Buyer, Slot = Slot, MeteredImportWh = 1000, MeteredExportWh = 50,
            EnergyBoughtWh = 400, EnergyBoughtMoney = 800_000, WheelingPaid = 40_000,
            GridImportWh = 600, GridImportMoney = 1_500_000, GridExportWh = 50, GridExportMoney = 40_000,
            CompensationReceived = 260_000, Paid = 2_340_000, Received = 300_000, Net = -2_040_000,
        };
        Assert.Equal(buyerBill, s.Bills[2]);

        // Grid operator: wheeling 40 000 + retail 600 Wh 1 500 000 − buy-back 50 Wh 40 000 = 1 500 000,
        // which is what the participants pay net: 210 000 − 750 000 + 2 040 000.
        Assert.Equal(new Protos.V1.GridAccount
        {
            WheelingReceived = 40_000, RetailWh = 600, RetailMoney = 1_500_000, BuyBackWh = 50, BuyBackMoney = 40_000, Net = 1_500_000,
        }, s.Grid);
        Assert.Equal(new SettlementTotals
        {
            ContractedWh = 800, DeliveredWh = 400, ConsumedWh = 800, SettledWh = 400, MeteredImportWh = 1000, MeteredExportWh = 450,
            EnergyMoney = 800_000, CompensationMoney = 260_000, ParticipantsPaid = 2_600_000, ParticipantsReceived = 1_100_000,
        }, s.Totals);

        // One participant's bill.
        var bill = await GetBillAsync(Buyer, Slot);
        Assert.True(bill.Billed);
        Assert.Equal(buyerBill, bill.Bill);
        Assert.Equal((2500L, 800L), (bill.RetailTicks, bill.BuyBackTicks));
        Assert.True((await GetBillAsync(Other, Slot)).Bill.ReadingMissing);
        await RefusedAsync(GetBillAsync(Stranger, Slot), StatusCode.PermissionDenied, (int)Core.ResultCode.UnknownParticipant);
        await RefusedAsync(GetBillAsync("0x12", Slot), StatusCode.InvalidArgument, (int)Core.ResultCode.InvalidParticipant);

        // Computed once: sealing again, the deadline passing and a late reading of the other meter change nothing.
        Assert.False((await MeteringAdminClient.SealReadingsAsync(new SealReadingsRequest { Slot = Slot }, cancellationToken: Ct)).NewlySealed);
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { By = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(2)) }, cancellationToken: Ct);
        await RefusedAsync(Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(OtherMeter, Other, Slot, 0, 300) }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition, ResultStatus.LateReading);
        Assert.Equal(s, await GetSettlementAsync(Slot));
    }

    [Fact]
    public async Task A_slot_never_opened_is_not_found_and_the_slot_must_be_positive()
    {
        await SetUpAsync();
        await RefusedAsync(GetSettlementAsync(Slot0 + 40), StatusCode.NotFound, (int)Core.ResultCode.UnknownSlot);
        await RefusedAsync(GetBillAsync(Seller, Slot0 + 40), StatusCode.NotFound, (int)Core.ResultCode.UnknownSlot);
        await RefusedAsync(GetSettlementAsync(0), StatusCode.InvalidArgument, ResultStatus.EdgeValidation);
    }

    [Fact]
    public async Task The_reading_deadline_settles_a_call_auction_slot_and_a_member_without_flows_has_an_empty_bill()
    {
        await SetUpAsync();
        const long auction = Slot0 + 3;
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = auction, Mechanism = Mechanism.CallAuction }, cancellationToken: Ct);
        await SubmitOrderAsync(Sell(Seller, 10, auction, 200, 1500));
        await SubmitOrderAsync(Buy(Buyer, 10, auction, 200, 2100));
        // Delivery ends; the seller's meter reports exactly the lot, the buyer's 100 Wh less.
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (auction + 1) * 1800 }, cancellationToken: Ct);
        await Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(SellerMeter, Seller, auction, 0, 200) }, cancellationToken: Ct);
        await Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(BuyerMeter, Buyer, auction, 100, 0) }, cancellationToken: Ct);
        await RefusedAsync(GetSettlementAsync(auction), StatusCode.FailedPrecondition, ResultStatus.NotSettled);

        // The deadline (1 h after delivery) seals the slot; the settlement query sees it first.
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { By = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)) }, cancellationToken: Ct);
        var s = await GetSettlementAsync(auction);
        Assert.True(s.Conserved);
        Assert.Empty(s.MissingReadingParticipants);
        // Clearing price p between 1500 and 2100 (uniform); retail in that half hour (10:30 JST, not time of use) 3000.
        // The lot: delivered 200, consumed 100, settled 100, over-delivered 100 sold to the grid at 800.
        var lot = Assert.Single(s.Lots);
        var p = lot.PriceTicks;
        Assert.InRange(p, 1500, 2100);
        Assert.Equal((3000L, 800L), (s.RetailTicks, s.BuyBackTicks));
        Assert.Equal((200L, 100L, 100L, 100L), (lot.DeliveredWh, lot.ConsumedWh, lot.SettledWh, lot.OverDeliveredWh));
        Assert.Equal((100 * p, 100 * 100L, 0L, 0L, 100 * 800L, 0L),
            (lot.EnergyMoney, lot.WheelingMoney, lot.ShortfallGridMoney, lot.ShortfallCompensation, lot.OverDeliveryGridMoney, lot.UnderconsumptionCompensation));
        // Seller: receives 100 × p + 80 000; buyer: pays 100 × p + 10 000.
        Assert.Equal((100 * p + 80_000, 0L), (s.Bills.Single(b => b.Participant == Seller).Received, s.Bills.Single(b => b.Participant == Seller).Paid));
        Assert.Equal(-(100 * p + 10_000), s.Bills.Single(b => b.Participant == Buyer).Net);

        // Other has neither a lot nor a reading in this slot: an empty bill.
        var none = await GetBillAsync(Other, auction);
        Assert.False(none.Billed);
        Assert.Equal(new Bill { Participant = Other, Slot = auction }, none.Bill);
    }

    [Fact]
    public async Task A_slot_where_no_meter_reported_is_settled_after_the_deadline_with_every_party_missing()
    {
        await SetUpAsync();
        await TradeAsync();
        // Delivery ends and nobody reports: not settled before the deadline, settled after it.
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (Slot + 1) * 1800 }, cancellationToken: Ct);
        await RefusedAsync(GetSettlementAsync(Slot), StatusCode.FailedPrecondition, ResultStatus.NotSettled);
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { By = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)) }, cancellationToken: Ct);
        var s = await GetSettlementAsync(Slot);
        Assert.True(s.Conserved);
        Assert.Equal(0, s.ReadingCount);
        Assert.Equal(new[] { Seller, Buyer, Other }.Order(), s.MissingReadingParticipants.Order());
        // No flow at all: nothing delivered, nothing consumed, so no lot settles and no money moves.
        Assert.All(s.Lots, l => Assert.Equal((0L, 0L, 0L, 0L, 0L), (l.DeliveredWh, l.ConsumedWh, l.SettledWh, l.EnergyMoney, l.WheelingMoney)));
        Assert.All(s.Bills, b => Assert.Equal((0L, 0L), (b.Paid, b.Received)));
        // Final: a reading now is late and changes nothing.
        await Assert.ThrowsAsync<RpcException>(() => Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(SellerMeter, Seller, Slot, 0, 500) }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(s, await GetSettlementAsync(Slot));
    }

    [Fact]
    public void The_policy_comes_from_configuration()
    {
        Assert.Equal(P2PEnergy.Settlement.SettlementPolicy.Default, _host.Services.GetRequiredService<SlotSettler>().Policy);
        using var host = new ExchangeHostFactory(new Dictionary<string, string?>
        {
            ["Exchange:Settlement:SellerCompensatesShortfall"] = "true",
            ["Exchange:Settlement:ShortfallCompensation"] = "RetailMinusPriceAndWheeling",
            ["Exchange:Settlement:BuyerCompensatesUnderconsumption"] = "true",
        });
        Assert.Equal(new P2PEnergy.Settlement.SettlementPolicy
        {
            ShortfallCompensation = P2PEnergy.Settlement.ShortfallCompensation.RetailMinusPriceAndWheeling,
            BuyerCompensatesUnderconsumption = true,
        }, host.Services.GetRequiredService<SlotSettler>().Policy);
    }

    [Fact]
    public void Settlement_wraps_the_reading_root_sink_registered_before()
    {
        var sink = Assert.IsType<SettlingReadingRootSink>(_host.Services.GetRequiredService<IReadingRootSink>());
        Assert.Same(NoReadingRootSink.Instance, sink.Next);
    }
}
