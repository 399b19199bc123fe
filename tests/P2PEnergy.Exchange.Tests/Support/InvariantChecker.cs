using System.Numerics;
using System.Runtime.CompilerServices;
using P2PEnergy.Exchange.Tests.Reference;

namespace P2PEnergy.Exchange.Tests.Support;

/// <summary>
/// The book's invariants, checked after every command from the events it emitted and the state it shows
/// (exchange-core: check the book's internal invariants after every command). Throws on the first breach.
/// </summary>
public sealed class InvariantChecker(IMarket market)
{
    private readonly Dictionary<long, Order> _orders = [];
    private readonly Dictionary<long, long> _lotWh = [];
    private readonly Dictionary<long, long> _reducedWh = [];
    private readonly HashSet<long> _done = [];
    private readonly Dictionary<(long Slot, Product Product), ClearingResult> _clearings = [];
    private readonly Dictionary<(long Slot, Product Product), long> _clearedLotWh = [];
    private long _lastLotId;
    private long _lastOrderId;

    public IMarket Market { get; } = market;

    public int CommandsChecked { get; private set; }

    public long LotsChecked => _lastLotId;

    public void AfterCommand(IReadOnlyList<MarketEvent> events)
    {
        foreach (var e in events)
        {
            Apply(e);
        }
        CheckState();
        CommandsChecked++;
    }

    private static void Fail(string message) => throw new InvariantException(message);

    // The message is only formatted when the condition fails (it runs after every command of every property case).
    private static void Require(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref FailureMessage message)
    {
        if (!condition) Fail(message.ToStringAndClear());
    }

    private Mechanism MechanismOf(long slot)
    {
        Require(Market.TryGetSlot(slot, out var info), $"slot {slot} of an order is unknown");
        return info.Mechanism;
    }

    private void Apply(MarketEvent e)
    {
        switch (e)
        {
            case OrderAcceptedEvent a:
                Require(a.Order.OrderId == _lastOrderId + 1, $"order id {a.Order.OrderId} after {_lastOrderId}: ids are 1, 2, 3, …");
                _lastOrderId = a.Order.OrderId;
                Require(a.Order.Side == Side.Buy ? a.Order.Source == default : a.Order.Product == default,
                    $"order {a.Order.OrderId}: only the field that applies to its side is kept");
                _orders.Add(a.Order.OrderId, a.Order);
                _lotWh[a.Order.OrderId] = 0;
                _reducedWh[a.Order.OrderId] = 0;
                break;
            case LotCreatedEvent l:
                CheckLot(l.Lot);
                break;
            case OrderReducedEvent r:
            {
                Require(_orders.ContainsKey(r.OrderId) && !_done.Contains(r.OrderId), $"reduce of order {r.OrderId} that is not live");
                var o = _orders[r.OrderId];
                _reducedWh[r.OrderId] = o.EnergyWh - _lotWh[r.OrderId] - r.RemainingWh;
                Require(r.RemainingWh > 0 && _reducedWh[r.OrderId] > 0, $"order {r.OrderId} reduced to {r.RemainingWh}");
                break;
            }
            case OrderDoneEvent d:
            {
                Require(_orders.TryGetValue(d.OrderId, out var o), $"done of unknown order {d.OrderId}");
                Require(_done.Add(d.OrderId), $"order {d.OrderId} done twice");
                Require(o.Participant == d.Participant, $"order {d.OrderId} done for the wrong participant");
                Require(d.FilledWh == _lotWh[d.OrderId], $"order {d.OrderId} done with filled {d.FilledWh} but its lots hold {_lotWh[d.OrderId]} Wh");
                Require(d.FilledWh + d.ReleasedWh + _reducedWh[d.OrderId] == o.EnergyWh,
                    $"order {d.OrderId}: filled {d.FilledWh} + released {d.ReleasedWh} + reduced {_reducedWh[d.OrderId]} ≠ {o.EnergyWh}");
                Require(d.ReleasedWh >= 0, $"order {d.OrderId} released {d.ReleasedWh}");
                if (d.Reason == OrderDoneReason.Filled) Require(d.ReleasedWh == 0, $"order {d.OrderId} 'filled' with {d.ReleasedWh} Wh left");
                if (d.Reason is OrderDoneReason.Expired or OrderDoneReason.Cancelled or OrderDoneReason.SelfTradePrevented)
                    Require(d.ReleasedWh > 0, $"order {d.OrderId} done as {d.Reason} with nothing left");
                break;
            }
            case SlotClearedEvent c:
            {
                var key = (c.Result.Slot, c.Result.Product);
                Require(MechanismOf(c.Result.Slot) == Mechanism.CallAuction, $"slot {c.Result.Slot} cleared but it is a CDA slot");
                Require(_clearings.TryAdd(key, c.Result), $"slot {key} cleared twice");
                Require(c.Result.Cleared == (c.Result.MatchedWh > 0), $"{key}: cleared {c.Result.Cleared} with {c.Result.MatchedWh} Wh");
                Require(c.Result.MatchedWh <= Math.Min(c.Result.SupplyWh, c.Result.DemandWh), $"{key}: matched more than supply or demand");
                if (c.Result.Cleared)
                    Require(c.Result.ClearingPriceTicks >= Market.Config.MinPriceTicks && c.Result.ClearingPriceTicks <= Market.Config.MaxPriceTicks,
                        $"{key}: clearing price {c.Result.ClearingPriceTicks} outside the band");
                else
                    Require(c.Result.ClearingPriceTicks == 0 && c.Result.LotCount == 0, $"{key}: not cleared but has a price or lots");
                _clearedLotWh[key] = 0;
                break;
            }
        }
    }

    private void CheckLot(Lot lot)
    {
        var step = Market.Config.LotStepWh;
        Require(lot.LotId == _lastLotId + 1, $"lot id {lot.LotId} after {_lastLotId}: lot ids are 1, 2, 3, …");
        _lastLotId = lot.LotId;
        Require(lot.EnergyWh > 0 && lot.EnergyWh % step == 0, $"lot {lot.LotId}: {lot.EnergyWh} Wh is not a positive multiple of {step}");
        Require(new BigInteger(lot.Money) == new BigInteger(lot.EnergyWh) * new BigInteger(lot.PriceTicks), $"lot {lot.LotId}: money is not Wh × price");
        Require(new BigInteger(lot.WheelingMoney) == new BigInteger(lot.EnergyWh) * new BigInteger(lot.WheelingFeeTicks), $"lot {lot.LotId}: wheeling money is not Wh × fee");
        Require(lot.BuyerPays == lot.Money + lot.WheelingMoney, $"lot {lot.LotId}: buyer pays ≠ money + wheeling");
        Require(lot.Seller != lot.Buyer, $"lot {lot.LotId}: seller and buyer are both {lot.Seller}");

        Require(_orders.TryGetValue(lot.SellOrderId, out var sell) && sell.Side == Side.Sell, $"lot {lot.LotId}: sell order {lot.SellOrderId} is not a known sell");
        Require(_orders.TryGetValue(lot.BuyOrderId, out var buy) && buy.Side == Side.Buy, $"lot {lot.LotId}: buy order {lot.BuyOrderId} is not a known buy");
        Require(!_done.Contains(sell.OrderId) && !_done.Contains(buy.OrderId), $"lot {lot.LotId} for an order already done");
        Require(sell.Participant == lot.Seller && buy.Participant == lot.Buyer, $"lot {lot.LotId}: parties are not the orders' owners");
        Require(sell.Slot == lot.Slot && buy.Slot == lot.Slot, $"lot {lot.LotId}: slot differs from its orders'");
        Require(buy.LimitPriceTicks >= lot.PriceTicks && lot.PriceTicks >= sell.LimitPriceTicks,
            $"lot {lot.LotId}: price {lot.PriceTicks} outside [sell {sell.LimitPriceTicks}, buy {buy.LimitPriceTicks}]");
        Require(lot.Source == sell.Source, $"lot {lot.LotId}: source {lot.Source} ≠ sell's {sell.Source}");
        Require(lot.WheelingFeeTicks == Market.Wheeling.Fee(sell.Zone, buy.Zone), $"lot {lot.LotId}: wheeling fee is not the table's");
        // Green energy only from renewable sells; a green buy only ever gets green lots.
        Require(lot.Product != Product.Green || lot.Source == EnergySource.Renewable, $"lot {lot.LotId}: green lot from a mixed source");
        Require((buy.Product == Product.Green) == (lot.Product == Product.Green), $"lot {lot.LotId}: product {lot.Product} for a {buy.Product} buy");

        _lotWh[sell.OrderId] += lot.EnergyWh;
        _lotWh[buy.OrderId] += lot.EnergyWh;
        // Per order, lots never exceed its Wh; for a renewable sell this is "no renewable Wh sold twice"
        // across the green and the standard product.
        Require(_lotWh[sell.OrderId] + _reducedWh[sell.OrderId] <= sell.EnergyWh, $"sell order {sell.OrderId} sold {_lotWh[sell.OrderId]} of {sell.EnergyWh} Wh");
        Require(_lotWh[buy.OrderId] + _reducedWh[buy.OrderId] <= buy.EnergyWh, $"buy order {buy.OrderId} bought {_lotWh[buy.OrderId]} of {buy.EnergyWh} Wh");

        if (MechanismOf(lot.Slot) == Mechanism.Continuous)
        {
            // Trades at the resting order's price; the resting order is the older one.
            var resting = sell.OrderId < buy.OrderId ? sell : buy;
            Require(lot.PriceTicks == resting.LimitPriceTicks, $"lot {lot.LotId}: CDA price {lot.PriceTicks} is not the resting order's {resting.LimitPriceTicks}");
        }
        else
        {
            var key = (lot.Slot, lot.Product);
            Require(_clearings.TryGetValue(key, out var c) && c.Cleared, $"lot {lot.LotId}: call-auction lot before its product cleared");
            Require(lot.PriceTicks == c.ClearingPriceTicks, $"lot {lot.LotId}: price {lot.PriceTicks} ≠ clearing price {c.ClearingPriceTicks}");
            _clearedLotWh[key] += lot.EnergyWh;
            Require(_clearedLotWh[key] <= c.MatchedWh, $"{key}: lots exceed the matched volume");
        }
    }

    private void CheckState()
    {
        foreach (var slot in Market.Slots.ToList())
        {
            var live = Market.LiveOrders(slot.Slot);
            Require(slot.LiveOrders == live.Count, $"slot {slot.Slot}: {slot.LiveOrders} live orders counted, {live.Count} listed");
            foreach (var s in live)
            {
                var id = s.Order.OrderId;
                Require(_orders.TryGetValue(id, out var o) && o == s.Order, $"live order {id} differs from the accepted order");
                Require(!_done.Contains(id), $"order {id} is done but still live");
                Require(s.FilledWh == _lotWh[id], $"order {id}: filled {s.FilledWh}, lots {_lotWh[id]}");
                Require(s.RemainingWh == o.EnergyWh - _lotWh[id] - _reducedWh[id] && s.RemainingWh > 0, $"order {id}: remaining {s.RemainingWh} is off");
            }
            if (slot.Phase == SlotPhase.Closed)
            {
                Require(live.Count == 0, $"slot {slot.Slot} is closed with live orders");
                foreach (var product in new[] { Product.Green, Product.Standard })
                {
                    Require(slot.Mechanism == Mechanism.Continuous || _clearings.ContainsKey((slot.Slot, product)), $"call-auction slot {slot.Slot} closed without clearing {product}");
                }
                continue;
            }
            if (slot.Mechanism == Mechanism.CallAuction)
            {
                Require(Market.GetDepth(slot.Slot, Product.Standard, 0, out _) == ResultCode.BookNotVisible, $"call-auction slot {slot.Slot} shows its book");
                continue;
            }
            CheckNotCrossed(slot.Slot, live);
            CheckDepth(slot.Slot, live);
        }
    }

    /// <summary>After matching, a CDA slot holds no pair that could trade: per product that can trade, best bid &lt; best ask.</summary>
    private static void CheckNotCrossed(long slot, IReadOnlyList<OrderState> live)
    {
        static long MaxBid(IEnumerable<OrderState> xs) => xs.Select(x => x.Order.LimitPriceTicks).DefaultIfEmpty(long.MinValue).Max();
        static long MinAsk(IEnumerable<OrderState> xs) => xs.Select(x => x.Order.LimitPriceTicks).DefaultIfEmpty(long.MaxValue).Min();
        var standardBid = MaxBid(live.Where(x => x.Order.Side == Side.Buy && x.Order.Product == Product.Standard));
        var greenBid = MaxBid(live.Where(x => x.Order.Side == Side.Buy && x.Order.Product == Product.Green));
        var anyAsk = MinAsk(live.Where(x => x.Order.Side == Side.Sell));
        var renewableAsk = MinAsk(live.Where(x => x.Order.Side == Side.Sell && x.Order.Source == EnergySource.Renewable));
        Require(standardBid < anyAsk, $"CDA slot {slot} crossed: standard bid {standardBid} ≥ ask {anyAsk} (renewable + mixed)");
        Require(greenBid < renewableAsk, $"CDA slot {slot} crossed: green bid {greenBid} ≥ renewable ask {renewableAsk}");
    }

    private void CheckDepth(long slot, IReadOnlyList<OrderState> live)
    {
        foreach (var product in new[] { Product.Standard, Product.Green })
        {
            Require(Market.GetDepth(slot, product, 0, out var depth) == ResultCode.Ok && depth is not null, $"CDA slot {slot} hides its depth");
            var bids = live.Where(x => x.Order.Side == Side.Buy && x.Order.Product == product);
            var asks = live.Where(x => x.Order.Side == Side.Sell && (product == Product.Standard || x.Order.Source == EnergySource.Renewable));
            Require(depth!.Bids.SequenceEqual(Levels(bids).OrderByDescending(l => l.PriceTicks)), $"CDA slot {slot} {product}: bid depth differs from the live orders");
            Require(depth.Asks.SequenceEqual(Levels(asks).OrderBy(l => l.PriceTicks)), $"CDA slot {slot} {product}: ask depth differs from the live orders");
        }

        static IEnumerable<DepthLevel> Levels(IEnumerable<OrderState> xs) =>
            xs.GroupBy(x => x.Order.LimitPriceTicks).Select(g => new DepthLevel(g.Key, g.Sum(x => x.RemainingWh), g.Count()));
    }
}

public sealed class InvariantException(string message) : Exception(message);

/// <summary>Formats a failure message only when the checked condition is false.</summary>
[InterpolatedStringHandler]
public ref struct FailureMessage
{
    private DefaultInterpolatedStringHandler _inner;
    private readonly bool _enabled;

    public FailureMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
    {
        _enabled = !condition;
        shouldAppend = _enabled;
        _inner = _enabled ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
    }

    public void AppendLiteral(string value) => _inner.AppendLiteral(value);

    public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

    public string ToStringAndClear() => _enabled ? _inner.ToStringAndClear() : "";
}
