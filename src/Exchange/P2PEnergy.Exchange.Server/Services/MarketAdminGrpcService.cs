using Grpc.Core;
using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Domain;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>The market operator's API. Every call first checks the admin token (when one is configured).</summary>
public sealed class MarketAdminGrpcService(Market market) : Api.MarketAdmin.MarketAdminBase
{
    public const int MaxSlotsPerCall = 1000;

    /// <summary>How far one AdvanceClock may move the clock (keeps unix-ms arithmetic far from overflow).</summary>
    public static readonly TimeSpan MaxAdvance = TimeSpan.FromDays(3660);

    private MarketConfig Config => market.Config;

    private void Authorize(ServerCallContext context) => AdminGuard.Authorize(market.Options.AdminToken, context);

    /// <summary>Answers once the command just applied is durable (Redis mode; at once in memory).</summary>
    private async Task<T> Durable<T>(ServerCallContext context, T response)
    {
        await market.WhenAllDurableAsync(context.CancellationToken);
        return response;
    }

    public override Task<Api.RegisterParticipantResponse> RegisterParticipant(Api.RegisterParticipantRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (!Wire.TryParseAddress(request.Address, "address", out var address, out var refusal)) throw refusal.ToException();
        var kind = request.Kind.ToCore();
        var code = market.RegisterParticipant(address, request.Zone, kind);
        if (code != ResultCode.Ok)
        {
            throw (code switch
            {
                ResultCode.InvalidZone => ResultStatus.Refuse(code, "zone", $"got {request.Zone}, zones 0 … {Config.MaxZones - 1}"),
                ResultCode.InvalidKind => ResultStatus.Refuse(code, "kind", $"got {request.Kind}"),
                _ => ResultStatus.Refuse(code, "address", $"got {request.Address}"),
            }).ToException();
        }
        return Durable(context, new Api.RegisterParticipantResponse
        {
            Participant = new Participant(address, request.Zone, kind).ToWire(),
        });
    }

    public override Task<Api.OpenSlotResponse> OpenSlot(Api.OpenSlotRequest request, ServerCallContext context)
    {
        Authorize(context);
        var code = market.OpenSlot(request.Slot, MechanismOrDefault(request.Mechanism), out var info);
        if (code != ResultCode.Ok) throw SlotRefusal(code, "slot", request.Slot, request.Mechanism).ToException();
        return Durable(context, new Api.OpenSlotResponse { Slot = info.ToWire(Config) });
    }

    public override Task<Api.OpenSlotsResponse> OpenSlots(Api.OpenSlotsRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (request.Count is < 1 or > MaxSlotsPerCall)
            throw ResultStatus.Invalid("count", $"must be 1 … {MaxSlotsPerCall}", $"got {request.Count}").ToException();
        if (request.FirstSlot <= 0)
            throw ResultStatus.Refuse(ResultCode.InvalidSlot, "first_slot", $"got {request.FirstSlot}").ToException();
        var code = market.OpenSlots(request.FirstSlot, request.Count, MechanismOrDefault(request.Mechanism), out var opened, out var failed);
        if (code != ResultCode.Ok) throw SlotRefusal(code, "first_slot", failed, request.Mechanism).ToException();
        var response = new Api.OpenSlotsResponse();
        foreach (var s in opened) response.Slots.Add(s.ToWire(Config));
        return Durable(context, response);
    }

    private static Mechanism? MechanismOrDefault(Api.Mechanism mechanism) =>
        mechanism == Api.Mechanism.Unspecified ? null : mechanism.ToCore();

    private Refusal SlotRefusal(ResultCode code, string field, long slot, Api.Mechanism mechanism) => code switch
    {
        ResultCode.InvalidMechanism => ResultStatus.Refuse(code, "mechanism", $"got {mechanism}"),
        ResultCode.SlotClosed => ResultStatus.Refuse(code, field,
            $"slot {slot}: its gate time {DateTimeOffset.FromUnixTimeMilliseconds(Config.GateClosureUnixMs(slot)):O} has passed (now {market.Clock.Time.GetUtcNow():O})"),
        _ => ResultStatus.Refuse(code, field, $"slot {slot}"),
    };

    public override Task<Api.CloseGateResponse> CloseGate(Api.CloseGateRequest request, ServerCallContext context)
    {
        Authorize(context);
        var code = market.CloseGate(request.Slot, out var closure);
        if (code != ResultCode.Ok) throw ResultStatus.Refuse(code, "slot", $"got {request.Slot}").ToException();
        return Durable(context, new Api.CloseGateResponse { Closure = closure!.ToWire() });
    }

    public override Task<Api.SetWheelingTableResponse> SetWheelingTable(Api.SetWheelingTableRequest request, ServerCallContext context)
    {
        Authorize(context);
        var maxFee = Config.MaxPriceTicks;
        if (request.DefaultFeeTicks < 0 || request.DefaultFeeTicks > maxFee)
            throw ResultStatus.Refuse(ResultCode.InvalidWheelingFee, "default_fee_ticks", $"got {request.DefaultFeeTicks}, allowed 0 … {maxFee}").ToException();
        var entries = new List<WheelingEntry>(request.Entries.Count);
        for (var i = 0; i < request.Entries.Count; i++)
        {
            var e = request.Entries[i];
            if ((uint)e.SellerZone >= (uint)Config.MaxZones)
                throw ResultStatus.Refuse(ResultCode.InvalidZone, $"entries[{i}].seller_zone", $"got {e.SellerZone}, zones 0 … {Config.MaxZones - 1}").ToException();
            if ((uint)e.BuyerZone >= (uint)Config.MaxZones)
                throw ResultStatus.Refuse(ResultCode.InvalidZone, $"entries[{i}].buyer_zone", $"got {e.BuyerZone}, zones 0 … {Config.MaxZones - 1}").ToException();
            if (e.FeeTicks < 0 || e.FeeTicks > maxFee)
                throw ResultStatus.Refuse(ResultCode.InvalidWheelingFee, $"entries[{i}].fee_ticks", $"got {e.FeeTicks}, allowed 0 … {maxFee}").ToException();
            entries.Add(new WheelingEntry(e.SellerZone, e.BuyerZone, e.FeeTicks));
        }
        var code = market.SetWheelingTable(request.DefaultFeeTicks, entries);
        if (code != ResultCode.Ok) throw ResultStatus.Refuse(code, "entries", null).ToException();
        return Durable(context, market.Snapshot().Wheeling.ToWire());
    }

    public override Task<Api.SetGridTariffResponse> SetGridTariff(Api.SetGridTariffRequest request, ServerCallContext context)
    {
        Authorize(context);
        var t = request.Tariff ?? throw ResultStatus.Invalid("tariff", "a tariff is required").ToException();
        var band = $"band {Config.MinPriceTicks} … {Config.MaxPriceTicks}";
        if (!InBand(t.RetailTicks))
            throw ResultStatus.Refuse(ResultCode.PriceOutOfRange, "tariff.retail_ticks", $"got {t.RetailTicks}, {band}").ToException();
        if (!InBand(t.BuyBackTicks))
            throw ResultStatus.Refuse(ResultCode.PriceOutOfRange, "tariff.buy_back_ticks", $"got {t.BuyBackTicks}, {band}").ToException();
        if (t.BuyBackTicks > t.RetailTicks)
            throw ResultStatus.Invalid("tariff.buy_back_ticks", "the grid buys back at no more than it sells", $"got {t.BuyBackTicks}, retail {t.RetailTicks}").ToException();
        var timeOfUse = new Dictionary<int, long>();
        for (var i = 0; i < t.TimeOfUse.Count; i++)
        {
            var p = t.TimeOfUse[i];
            var field = $"tariff.time_of_use[{i}]";
            if (p.HalfHourOfDay is < 0 or >= GridTariff.HalfHoursPerDay)
                throw ResultStatus.Invalid(field + ".half_hour_of_day", "must be 0 … 47", $"got {p.HalfHourOfDay}").ToException();
            if (!timeOfUse.TryAdd(p.HalfHourOfDay, p.RetailTicks))
                throw ResultStatus.Invalid(field + ".half_hour_of_day", "each half hour at most once", $"got {p.HalfHourOfDay} again").ToException();
            if (!InBand(p.RetailTicks))
                throw ResultStatus.Refuse(ResultCode.PriceOutOfRange, field + ".retail_ticks", $"got {p.RetailTicks}, {band}").ToException();
            if (p.RetailTicks < t.BuyBackTicks)
                throw ResultStatus.Invalid(field + ".retail_ticks", "the grid buys back at no more than it sells", $"got {p.RetailTicks}, buy-back {t.BuyBackTicks}").ToException();
        }
        var tariff = new GridTariff(t.RetailTicks, t.BuyBackTicks, timeOfUse, market.Options.TariffUtcOffsetMinutes);
        market.SetGridTariff(tariff);
        return Durable(context, new Api.SetGridTariffResponse { Tariff = tariff.ToWire() });
    }

    private bool InBand(long ticks) => ticks >= Config.MinPriceTicks && ticks <= Config.MaxPriceTicks;

    public override Task<Api.GetMarketInfoResponse> GetMarketInfo(Api.GetMarketInfoRequest request, ServerCallContext context)
    {
        Authorize(context);
        var s = market.Snapshot();
        var response = new Api.GetMarketInfoResponse
        {
            Config = new Api.MarketConfig
            {
                LotStepWh = s.Config.LotStepWh,
                MinPriceTicks = s.Config.MinPriceTicks,
                MaxPriceTicks = s.Config.MaxPriceTicks,
                MaxOrderWh = s.Config.MaxOrderWh,
                SlotSeconds = s.Config.SlotSeconds,
                GateLeadSeconds = s.Config.GateLeadSeconds,
                Zones = s.Config.MaxZones,
                DefaultMechanism = s.DefaultMechanism.ToWire(),
                MaxMessageSizeBytes = market.Options.MaxMessageSizeBytes,
                ChainId = market.SigningDomain.ChainId,
                LedgerAddress = market.SigningDomain.Ledger.ToLowerHex(),
                RequireSignatures = market.Options.RequireSignatures,
            },
            NowUnixMs = s.NowUnixMs,
            SimulatedClock = s.SimulatedClock,
            Tariff = s.Tariff.ToWire(),
            Wheeling = s.Wheeling.ToWire(),
            NextOrderId = s.NextOrderId,
            NextLotId = s.NextLotId,
        };
        foreach (var slot in s.Slots) response.Slots.Add(slot.ToWire(s.Config));
        foreach (var p in s.Participants) response.Participants.Add(p.ToWire());
        return Task.FromResult(response);
    }

    public override Task<Api.AdvanceClockResponse> AdvanceClock(Api.AdvanceClockRequest request, ServerCallContext context)
    {
        Authorize(context);
        if (market.Clock.Simulated is null)
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                "clock: the server runs on the system clock (Exchange:Clock = System); only a simulated clock can be advanced"));
        TimeSpan? by = null;
        long? to = null;
        switch (request.TargetCase)
        {
            case Api.AdvanceClockRequest.TargetOneofCase.By:
                TimeSpan d;
                try
                {
                    d = request.By.ToTimeSpan();
                }
                catch (InvalidOperationException)
                {
                    throw ResultStatus.Invalid("by", "not a valid duration", $"got {request.By}").ToException();
                }
                if (d < TimeSpan.Zero || d > MaxAdvance)
                    throw ResultStatus.Invalid("by", $"must be 0 … {MaxAdvance.TotalDays:0} days", $"got {request.By}").ToException();
                by = d;
                break;
            case Api.AdvanceClockRequest.TargetOneofCase.ToUnixSeconds:
                var nowSeconds = market.Clock.Time.GetUtcNow().ToUnixTimeSeconds();
                if (request.ToUnixSeconds < nowSeconds || request.ToUnixSeconds - nowSeconds > (long)MaxAdvance.TotalSeconds)
                    throw ResultStatus.Invalid("to_unix_seconds", "must not be before the clock nor too far ahead", $"got {request.ToUnixSeconds}, now {nowSeconds}").ToException();
                to = request.ToUnixSeconds;
                break;
            default:
                throw ResultStatus.Invalid("target", "by or to_unix_seconds is required").ToException();
        }
        IReadOnlyList<GateClosure> closed;
        long now;
        try
        {
            closed = market.AdvanceClock(by, to, out now);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw ResultStatus.Invalid("to_unix_seconds", "must not be before the clock", ex.Message).ToException();
        }
        var response = new Api.AdvanceClockResponse { NowUnixMs = now };
        foreach (var c in closed) response.Closed.Add(c.ToWire());
        return Durable(context, response);
    }
}
