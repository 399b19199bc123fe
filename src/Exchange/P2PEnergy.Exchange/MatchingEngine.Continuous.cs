namespace P2PEnergy.Exchange;

public sealed partial class MatchingEngine
{
    // Which resting classes an incoming order meets, group by group (docs/matching-rules.md).
    // A renewable sell meets green buys first: DESIGN.md, renewable sellers are offered to the green product first.
    private static readonly BookClass[][][] CounterGroups =
    [
        /* RenewableSell */ [[BookClass.GreenBuy], [BookClass.StandardBuy]],
        /* MixedSell     */ [[BookClass.StandardBuy]],
        /* GreenBuy      */ [[BookClass.RenewableSell]],
        /* StandardBuy   */ [[BookClass.RenewableSell, BookClass.MixedSell]],
    ];

    /// <summary>Trades an accepted CDA order against the resting orders it crosses, then rests its remainder.</summary>
    private void MatchIncoming(SlotState slot, int handle, IMarketEvents events)
    {
        var nodes = _pool.Items;
        var isBuy = nodes[handle].Side == Side.Buy;
        var limit = nodes[handle].Price;
        var zone = nodes[handle].Zone;
        var me = nodes[handle].Participant;
        var selfTrade = false;

        foreach (var group in CounterGroups[(int)nodes[handle].Class])
        {
            while (nodes[handle].RemainingWh > 0)
            {
                var book = BestCounterBook(slot, group, isBuy, limit, zone);
                if (book is null) break;
                var resting = book.BestHead;
                ref var r = ref nodes[resting];
                if (r.Participant == me)
                {
                    selfTrade = true;
                    break;
                }
                ref var inc = ref nodes[handle];
                var fill = Math.Min(inc.RemainingWh, r.RemainingWh);
                inc.RemainingWh -= fill;
                inc.FilledWh += fill;
                r.RemainingWh -= fill;
                r.FilledWh += fill;
                book.ReduceBest(fill);
                if (isBuy) EmitLot(slot.Slot, resting, handle, fill, r.Price, inc.Product == Product.Green ? Product.Green : Product.Standard, events);
                else EmitLot(slot.Slot, handle, resting, fill, r.Price, r.Product == Product.Green ? Product.Green : Product.Standard, events);
                if (r.RemainingWh == 0)
                {
                    events.OrderDone(r.OrderId, _participants[r.Participant].Address, OrderDoneReason.Filled, r.FilledWh, 0);
                    book.PopBestHead();
                    Retire(slot, resting);
                }
            }
            if (selfTrade) break;
        }

        ref var n = ref nodes[handle];
        if (selfTrade)
        {
            events.OrderDone(n.OrderId, _participants[me].Address, OrderDoneReason.SelfTradePrevented, n.FilledWh, n.RemainingWh);
            Retire(slot, handle);
        }
        else if (n.RemainingWh == 0)
        {
            events.OrderDone(n.OrderId, _participants[me].Address, OrderDoneReason.Filled, n.FilledWh, 0);
            Retire(slot, handle);
        }
        else
        {
            slot.GetOrCreateBook(_pool, n.Class, zone, Config.MaxZones).Add(handle);
        }
    }

    /// <summary>
    /// The book whose best order is next for an incoming order: best price, then lowest wheeling fee
    /// (seed 000: nearest source first), then oldest order. Null when nothing crosses.
    /// </summary>
    private PriceTimeBook? BestCounterBook(SlotState slot, BookClass[] group, bool incomingIsBuy, long limit, int zone)
    {
        PriceTimeBook? best = null;
        long bestPrice = 0, bestFee = 0, bestId = 0;
        var nodes = _pool.Items;
        foreach (var c in group)
        {
            var books = slot.BooksByClass[(int)c];
            for (var i = 0; i < books.Count; i++)
            {
                var book = books[i];
                if (book.IsEmpty) continue;
                var price = book.BestPrice;
                if (incomingIsBuy ? price > limit : price < limit) continue;
                if (best is not null)
                {
                    var better = incomingIsBuy ? price < bestPrice : price > bestPrice;
                    if (!better)
                    {
                        if (price != bestPrice) continue;
                        var fee = incomingIsBuy ? Wheeling.Fee(book.Zone, zone) : Wheeling.Fee(zone, book.Zone);
                        if (fee > bestFee) continue;
                        var id = nodes[book.BestHead].OrderId;
                        if (fee == bestFee && id > bestId) continue;
                    }
                }
                best = book;
                bestPrice = price;
                bestFee = incomingIsBuy ? Wheeling.Fee(book.Zone, zone) : Wheeling.Fee(zone, book.Zone);
                bestId = nodes[book.BestHead].OrderId;
            }
        }
        return best;
    }

    private void EmitLot(long slot, int sell, int buy, long wh, long price, Product product, IMarketEvents events)
    {
        ref var s = ref _pool.Items[sell];
        ref var b = ref _pool.Items[buy];
        var lot = new Lot(
            _nextLotId++,
            slot,
            _participants[s.Participant].Address,
            _participants[b.Participant].Address,
            wh,
            price,
            Wheeling.Fee(s.Zone, b.Zone),
            product,
            s.Source,
            s.OrderId,
            b.OrderId);
        events.LotCreated(lot);
    }
}
