namespace P2PEnergy.Exchange.Tests.Reference;

/// <summary>The reference continuous double auction (matching-rules.md, "Continuous double auction").</summary>
public sealed partial class ReferenceEngine
{
    /// <summary>The groups of resting orders an incoming order meets, in order (matching-rules.md, table).</summary>
    private static List<Func<RefOrder, bool>> CounterGroups(RefOrder incoming)
    {
        if (incoming.IsStandardBuy) return [r => r.IsRenewableSell || r.IsMixedSell];
        if (incoming.IsGreenBuy) return [r => r.IsRenewableSell];
        if (incoming.IsRenewableSell) return [r => r.IsGreenBuy, r => r.IsStandardBuy];
        return [r => r.IsStandardBuy];
    }

    private void MatchContinuous(RefOrder incoming, IMarketEvents events)
    {
        var slot = incoming.Order.Slot;
        foreach (var group in CounterGroups(incoming))
        {
            while (incoming.RemainingWh > 0)
            {
                // Re-read and re-sort the whole book at every step: best price, lowest wheeling fee, oldest.
                var next = _orders
                    .Where(r => r.Live && r != incoming && r.Order.Slot == slot && group(r))
                    .Where(r => incoming.IsBuy ? r.Price <= incoming.Price : r.Price >= incoming.Price)
                    .OrderBy(r => incoming.IsBuy ? r.Price : -r.Price)
                    .ThenBy(r => incoming.IsBuy ? Fee(r, incoming) : Fee(incoming, r))
                    .ThenBy(r => r.Id)
                    .FirstOrDefault();
                if (next is null) break;
                if (next.Owner == incoming.Owner)
                {
                    // Self-trade prevention: the newer (incoming) order gives way; the resting one is untouched.
                    incoming.Live = false;
                    events.OrderDone(incoming.Id, incoming.Owner, OrderDoneReason.SelfTradePrevented, incoming.FilledWh, incoming.RemainingWh);
                    return;
                }
                var wh = Math.Min(incoming.RemainingWh, next.RemainingWh);
                var (sell, buy) = incoming.IsBuy ? (next, incoming) : (incoming, next);
                incoming.RemainingWh -= wh;
                incoming.FilledWh += wh;
                next.RemainingWh -= wh;
                next.FilledWh += wh;
                // Trades at the resting order's price; the lot's product is green exactly when the buy is green.
                var lot = MakeLot(slot, sell, buy, wh, next.Price, buy.IsGreenBuy ? Product.Green : Product.Standard);
                events.LotCreated(lot);
                if (next.RemainingWh == 0)
                {
                    next.Live = false;
                    events.OrderDone(next.Id, next.Owner, OrderDoneReason.Filled, next.FilledWh, 0);
                }
            }
        }
        if (incoming.RemainingWh == 0)
        {
            incoming.Live = false;
            events.OrderDone(incoming.Id, incoming.Owner, OrderDoneReason.Filled, incoming.FilledWh, 0);
        }
    }
}
