using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Domain;
using Api = P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>
/// Conversions between the wire messages and the core's values. Proto enums carry the core's numbers, and
/// a value the core does not know maps to 0 so that the core refuses it with its own result code.
/// </summary>
public static class Wire
{
    /// <summary>EIP-712 signature: r (32) || s (32) || v (1).</summary>
    public const int SignatureLength = 65;

    public static Side ToCore(this Api.Side side) => side switch
    {
        Api.Side.Buy => Side.Buy,
        Api.Side.Sell => Side.Sell,
        _ => default,
    };

    public static Product ToCore(this Api.Product product) => product switch
    {
        Api.Product.Standard => Product.Standard,
        Api.Product.Green => Product.Green,
        _ => default,
    };

    public static EnergySource ToCore(this Api.EnergySource source) => source switch
    {
        Api.EnergySource.Mixed => EnergySource.Mixed,
        Api.EnergySource.Renewable => EnergySource.Renewable,
        _ => default,
    };

    public static Mechanism ToCore(this Api.Mechanism mechanism) => mechanism switch
    {
        Api.Mechanism.CallAuction => Mechanism.CallAuction,
        Api.Mechanism.Continuous => Mechanism.Continuous,
        _ => default,
    };

    public static ParticipantKind ToCore(this Api.ParticipantKind kind) => kind switch
    {
        Api.ParticipantKind.Household => ParticipantKind.Household,
        Api.ParticipantKind.Prosumer => ParticipantKind.Prosumer,
        Api.ParticipantKind.Office => ParticipantKind.Office,
        Api.ParticipantKind.Phev => ParticipantKind.Phev,
        Api.ParticipantKind.Battery => ParticipantKind.Battery,
        Api.ParticipantKind.GridOperator => ParticipantKind.GridOperator,
        _ => default,
    };

    public static Api.Side ToWire(this Side side) => (Api.Side)(int)side;

    public static Api.Product ToWire(this Product product) => (Api.Product)(int)product;

    public static Api.EnergySource ToWire(this EnergySource source) => (Api.EnergySource)(int)source;

    public static Api.Mechanism ToWire(this Mechanism mechanism) => (Api.Mechanism)(int)mechanism;

    public static Api.ParticipantKind ToWire(this ParticipantKind kind) => (Api.ParticipantKind)(int)kind;

    public static Api.OrderDoneReason ToWire(this OrderDoneReason reason) => (Api.OrderDoneReason)(int)reason;

    public static Api.SlotPhase ToWire(this SlotPhase phase) => (Api.SlotPhase)(int)phase;

    /// <summary>Parses a 0x-hex address, or says which field was wrong.</summary>
    public static bool TryParseAddress(string? text, string field, out Address address, out Refusal refusal)
    {
        if (Address.TryParse(text, out address))
        {
            refusal = default;
            return true;
        }
        refusal = ResultStatus.Refuse(ResultCode.InvalidParticipant, field,
            $"got {ResultStatus.Quote(text)}, expected 0x and 40 hex digits");
        return false;
    }

    /// <summary>
    /// The participant of a command: a parsed, non-zero address. The zero address is refused here, with the
    /// core's own code, because no key signs for it (it would otherwise fail as a bad signature).
    /// </summary>
    public static bool TryParseParticipant(string? text, string field, out Address address, out Refusal refusal)
    {
        if (!TryParseAddress(text, field, out address, out refusal)) return false;
        if (!address.IsZero) return true;
        refusal = ResultStatus.Refuse(ResultCode.InvalidParticipant, field, $"got {ResultStatus.Quote(text)}, the zero address");
        return false;
    }

    /// <summary>A signature's shape: empty (unsigned) or 65 bytes; <see cref="OrderSignatures"/> checks who made it.</summary>
    public static bool CheckSignature(Google.Protobuf.ByteString signature, string field, out Refusal refusal)
    {
        if (signature.Length is 0 or SignatureLength)
        {
            refusal = default;
            return true;
        }
        refusal = ResultStatus.Invalid(field, "a signature is empty or 65 bytes (r, s, v)", $"got {signature.Length} bytes");
        return false;
    }

    /// <summary>The edge checks of a new order; the core checks the rest.</summary>
    public static bool TryParseOrder(Api.NewOrder? order, out SubmitOrder command, out Refusal refusal, string prefix = "order.")
    {
        command = default;
        if (order is null)
        {
            refusal = ResultStatus.Invalid(prefix.TrimEnd('.'), "an order is required");
            return false;
        }
        if (!TryParseParticipant(order.Participant, prefix + "participant", out var participant, out refusal)) return false;
        if (order.ClientOrderId == 0)
        {
            refusal = ResultStatus.Invalid(prefix + "client_order_id", "a client order id must be set (non-zero)", "got 0");
            return false;
        }
        if (!CheckSignature(order.Signature, prefix + "signature", out refusal)) return false;
        command = new SubmitOrder(
            participant,
            order.ClientOrderId,
            order.Side.ToCore(),
            order.Slot,
            order.EnergyWh,
            order.LimitPriceTicks,
            order.Product.ToCore(),
            order.Source.ToCore(),
            TimestampUnixMs: 0); // stamped by the market
        return true;
    }

    public static Api.Order ToWire(this in Order o) => new()
    {
        OrderId = o.OrderId,
        Participant = o.Participant.ToString(),
        ClientOrderId = o.ClientOrderId,
        Side = o.Side.ToWire(),
        Slot = o.Slot,
        EnergyWh = o.EnergyWh,
        LimitPriceTicks = o.LimitPriceTicks,
        Product = o.Product.ToWire(),
        Source = o.Source.ToWire(),
        Zone = o.Zone,
    };

    /// <summary>An accepted order as signed, with its proof (GetOrderProof).</summary>
    public static Api.GetOrderProofResponse ToWire(this OrderProof p, P2PEnergy.Signing.MarketDomain domain)
    {
        var m = p.Order.Message;
        var w = new Api.GetOrderProofResponse
        {
            OrderId = p.OrderId,
            Order = new Api.NewOrder
            {
                Participant = m.Participant,
                ClientOrderId = m.ClientOrderId,
                Side = (Api.Side)m.Side,
                Slot = unchecked((long)m.Slot),
                EnergyWh = unchecked((long)m.EnergyWh),
                LimitPriceTicks = unchecked((long)m.LimitPriceTicks),
                Product = (Api.Product)m.Product,
                Source = (Api.EnergySource)m.Source,
                Signature = Google.Protobuf.ByteString.CopyFrom(p.Order.Signature),
            },
            Digest = Google.Protobuf.ByteString.CopyFrom(p.Order.Digest),
            Slot = p.Slot,
            SlotRoot = Google.Protobuf.ByteString.CopyFrom(p.SlotRoot),
            OrderCount = p.OrderCount,
            ChainId = domain.ChainId,
            LedgerAddress = domain.Ledger.ToLowerHex(),
        };
        foreach (var sibling in p.Proof) w.Proof.Add(Google.Protobuf.ByteString.CopyFrom(sibling));
        return w;
    }

    public static Api.OrderState ToWire(this in OrderState s) => new()
    {
        Order = s.Order.ToWire(),
        RemainingWh = s.RemainingWh,
        FilledWh = s.FilledWh,
    };

    public static Api.Lot ToWire(this in Lot l) => new()
    {
        LotId = l.LotId,
        Slot = l.Slot,
        Seller = l.Seller.ToString(),
        Buyer = l.Buyer.ToString(),
        EnergyWh = l.EnergyWh,
        PriceTicks = l.PriceTicks,
        WheelingFeeTicks = l.WheelingFeeTicks,
        Product = l.Product.ToWire(),
        Source = l.Source.ToWire(),
        SellOrderId = l.SellOrderId,
        BuyOrderId = l.BuyOrderId,
        Money = l.Money,
        WheelingMoney = l.WheelingMoney,
        BuyerPays = l.BuyerPays,
    };

    public static Api.OrderDone ToWire(this OrderDoneEvent d) => new()
    {
        OrderId = d.OrderId,
        Participant = d.Participant.ToString(),
        Reason = d.Reason.ToWire(),
        FilledWh = d.FilledWh,
        ReleasedWh = d.ReleasedWh,
    };

    public static Api.ClearingResult ToWire(this in ClearingResult r) => new()
    {
        Slot = r.Slot,
        Product = r.Product.ToWire(),
        Cleared = r.Cleared,
        ClearingPriceTicks = r.ClearingPriceTicks,
        MatchedWh = r.MatchedWh,
        SupplyWh = r.SupplyWh,
        DemandWh = r.DemandWh,
        LotCount = r.LotCount,
    };

    public static Api.BookDepth ToWire(this BookDepth d)
    {
        var w = new Api.BookDepth { Slot = d.Slot, Product = d.Product.ToWire() };
        foreach (var l in d.Bids) w.Bids.Add(new Api.DepthLevel { PriceTicks = l.PriceTicks, EnergyWh = l.EnergyWh, Orders = l.Orders });
        foreach (var l in d.Asks) w.Asks.Add(new Api.DepthLevel { PriceTicks = l.PriceTicks, EnergyWh = l.EnergyWh, Orders = l.Orders });
        return w;
    }

    public static Api.GateClosure ToWire(this GateClosure c)
    {
        var w = new Api.GateClosure
        {
            Slot = c.Slot,
            Mechanism = c.Mechanism.ToWire(),
            LotCount = c.LotCount,
            MatchedWh = c.MatchedWh,
            ExpiredOrders = c.ExpiredOrders,
            ClosedAtUnixMs = c.UnixMs,
        };
        foreach (var r in c.Results) w.Results.Add(r.ToWire());
        return w;
    }

    public static Api.SlotInfo ToWire(this in SlotInfo s, MarketConfig config) => new()
    {
        Slot = s.Slot,
        Mechanism = s.Mechanism.ToWire(),
        Phase = s.Phase.ToWire(),
        LiveOrders = s.LiveOrders,
        GateClosureUnixMs = s.GateClosureUnixMs,
        DeliveryStartUnixSeconds = config.DeliveryStartUnixSeconds(s.Slot),
    };

    public static Api.Participant ToWire(this in Participant p) => new()
    {
        Address = p.Address.ToString(),
        Zone = p.Zone,
        Kind = p.Kind.ToWire(),
    };

    public static Api.GridTariff ToWire(this GridTariff t)
    {
        var w = new Api.GridTariff { RetailTicks = t.RetailTicks, BuyBackTicks = t.BuyBackTicks, UtcOffsetMinutes = t.UtcOffsetMinutes };
        foreach (var (halfHour, ticks) in t.TimeOfUseRetail.OrderBy(kv => kv.Key))
        {
            w.TimeOfUse.Add(new Api.TimeOfUsePrice { HalfHourOfDay = halfHour, RetailTicks = ticks });
        }
        return w;
    }

    /// <summary>The table as its default fee plus the pairs that differ from the default rule.</summary>
    public static Api.SetWheelingTableResponse ToWire(this WheelingTable table)
    {
        var w = new Api.SetWheelingTableResponse { Zones = table.Zones, DefaultFeeTicks = table.DefaultFeeTicks };
        foreach (var e in table.Entries())
        {
            var rule = e.SellerZone == e.BuyerZone ? 0 : table.DefaultFeeTicks;
            if (e.FeeTicks != rule) w.Entries.Add(new Api.WheelingEntry { SellerZone = e.SellerZone, BuyerZone = e.BuyerZone, FeeTicks = e.FeeTicks });
        }
        return w;
    }
}
