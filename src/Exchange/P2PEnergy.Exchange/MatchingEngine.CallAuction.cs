namespace P2PEnergy.Exchange;

public sealed partial class MatchingEngine
{
    /// <summary>
    /// Gate closure of a call-auction slot (JEPX day-ahead style): self-trade prevention, then the green
    /// product, then the standard product with the renewable remainder, then every order is done.
    /// O(orders + price range): prices are bucketed, never sorted.
    /// </summary>
    private void RunCallAuction(SlotState s, IMarketEvents events)
    {
        var live = new List<int>(s.LiveOrders);
        foreach (var h in s.AuctionHandles)
        {
            if (_pool.Items[h].Live) live.Add(h);
        }

        var kept = PreventSelfTrades(s, live, events);

        var renewable = new List<int>();
        var green = new List<int>();
        var standard = new List<int>();
        foreach (var h in kept)
        {
            switch (_pool.Items[h].Class)
            {
                case BookClass.RenewableSell: renewable.Add(h); break;
                case BookClass.GreenBuy: green.Add(h); break;
                case BookClass.StandardBuy: standard.Add(h); break;
            }
        }

        // Green first: renewable sells against green buys (DESIGN.md).
        ClearProduct(s.Slot, Product.Green, renewable, green, events);

        // Standard: mixed sells plus what renewable sells have left, in order-id order.
        var standardSells = new List<int>(kept.Count);
        foreach (var h in kept)
        {
            ref var node = ref _pool.Items[h];
            if (node.Class == BookClass.MixedSell || (node.Class == BookClass.RenewableSell && node.RemainingWh > 0))
            {
                standardSells.Add(h);
            }
        }
        ClearProduct(s.Slot, Product.Standard, standardSells, standard, events);

        foreach (var h in kept)
        {
            ref var node = ref _pool.Items[h];
            var reason = node.RemainingWh == 0 ? OrderDoneReason.Filled : OrderDoneReason.Expired;
            events.OrderDone(node.OrderId, _participants[node.Participant].Address, reason, node.FilledWh, node.RemainingWh);
            node.Live = false;
            _liveOrders.Remove(node.OrderId);
            s.LiveOrders--;
        }
        foreach (var h in s.AuctionHandles)
        {
            _pool.Free(h);
        }
        s.AuctionHandles.Clear();
    }

    /// <summary>
    /// The newer order gives way: walking orders in order-id order, an order that could trade with an
    /// earlier kept opposite order of the same participant is cancelled. Kept orders only widen the
    /// bounds, so one pass decides every order.
    /// </summary>
    private List<int> PreventSelfTrades(SlotState s, List<int> live, IMarketEvents events)
    {
        var n = _participants.Count;
        var maxStandardBuy = new long[n];
        var maxGreenBuy = new long[n];
        var minRenewableSell = new long[n];
        var minMixedSell = new long[n];
        Array.Fill(maxStandardBuy, long.MinValue);
        Array.Fill(maxGreenBuy, long.MinValue);
        Array.Fill(minRenewableSell, long.MaxValue);
        Array.Fill(minMixedSell, long.MaxValue);

        var kept = new List<int>(live.Count);
        foreach (var h in live)
        {
            ref var node = ref _pool.Items[h];
            var p = node.Participant;
            var price = node.Price;
            var conflict = node.Class switch
            {
                BookClass.RenewableSell => maxStandardBuy[p] >= price || maxGreenBuy[p] >= price,
                BookClass.MixedSell => maxStandardBuy[p] >= price,
                BookClass.GreenBuy => minRenewableSell[p] <= price,
                _ => minRenewableSell[p] <= price || minMixedSell[p] <= price,
            };
            if (conflict)
            {
                events.OrderDone(node.OrderId, _participants[p].Address, OrderDoneReason.SelfTradePrevented, 0, node.RemainingWh);
                node.Live = false;
                node.RemainingWh = 0;
                _liveOrders.Remove(node.OrderId);
                s.LiveOrders--;
                continue;
            }
            kept.Add(h);
            switch (node.Class)
            {
                case BookClass.RenewableSell: minRenewableSell[p] = Math.Min(minRenewableSell[p], price); break;
                case BookClass.MixedSell: minMixedSell[p] = Math.Min(minMixedSell[p], price); break;
                case BookClass.GreenBuy: maxGreenBuy[p] = Math.Max(maxGreenBuy[p], price); break;
                default: maxStandardBuy[p] = Math.Max(maxStandardBuy[p], price); break;
            }
        }
        return kept;
    }

    /// <summary>
    /// Clears one product at one uniform price, rations the marginal level pro-rata, pairs lots, applies
    /// the fills to the orders and emits SlotCleared then the lots. Sells and buys come in order-id order.
    /// </summary>
    private void ClearProduct(long slot, Product product, List<int> sells, List<int> buys, IMarketEvents events)
    {
        var nodes = _pool.Items;
        long supply = 0, demand = 0;
        long minP = long.MaxValue, maxP = long.MinValue;
        foreach (var h in sells)
        {
            supply += nodes[h].RemainingWh;
            minP = Math.Min(minP, nodes[h].Price);
            maxP = Math.Max(maxP, nodes[h].Price);
        }
        foreach (var h in buys)
        {
            demand += nodes[h].RemainingWh;
            minP = Math.Min(minP, nodes[h].Price);
            maxP = Math.Max(maxP, nodes[h].Price);
        }
        if (sells.Count == 0 || buys.Count == 0)
        {
            events.SlotCleared(new ClearingResult(slot, product, false, 0, 0, supply, demand, 0));
            return;
        }

        var range = checked((int)(maxP - minP + 1));
        var sellAt = new long[range];
        var buyAt = new long[range];
        foreach (var h in sells) sellAt[nodes[h].Price - minP] += nodes[h].RemainingWh;
        foreach (var h in buys) buyAt[nodes[h].Price - minP] += nodes[h].RemainingWh;

        // Price: maximise V(p) = min(S(p), D(p)); then minimise |S(p) − D(p)|; then the middle of that interval.
        long bestV = -1, bestImbalance = 0;
        int lo = 0, hi = 0;
        long s = 0, demandBelow = 0;
        for (var i = 0; i < range; i++)
        {
            s += sellAt[i];
            var d = demand - demandBelow;
            var v = Math.Min(s, d);
            var imbalance = Math.Abs(s - d);
            if (v > bestV || (v == bestV && imbalance < bestImbalance))
            {
                bestV = v;
                bestImbalance = imbalance;
                lo = hi = i;
            }
            else if (v == bestV && imbalance == bestImbalance)
            {
                hi = i;
            }
            demandBelow += buyAt[i];
        }
        if (bestV <= 0)
        {
            events.SlotCleared(new ClearingResult(slot, product, false, 0, 0, supply, demand, 0));
            return;
        }
        var priceIndex = (lo + hi) / 2;
        var price = minP + priceIndex;
        var volume = bestV;

        // Allocation: in the money orders in price priority; the marginal level of each side rationed pro-rata.
        var sellAlloc = Allocate(sells, sellAt, minP, priceIndex, volume, isBuy: false);
        var buyAlloc = Allocate(buys, buyAt, minP, priceIndex, volume, isBuy: true);

        var lots = Pair(slot, product, price, sells, sellAlloc, buys, buyAlloc, minP, range);

        for (var i = 0; i < sells.Count; i++)
        {
            ref var node = ref nodes[sells[i]];
            node.RemainingWh -= sellAlloc[i];
            node.FilledWh += sellAlloc[i];
        }
        for (var i = 0; i < buys.Count; i++)
        {
            ref var node = ref nodes[buys[i]];
            node.RemainingWh -= buyAlloc[i];
            node.FilledWh += buyAlloc[i];
        }

        events.SlotCleared(new ClearingResult(slot, product, true, price, volume, supply, demand, lots.Count));
        foreach (var lot in lots)
        {
            events.LotCreated(lot);
        }
    }

    /// <summary>
    /// Wh each order trades at clearing price index <paramref name="priceIndex"/>: in price priority, the
    /// level where the cumulative Wh first exceeds <paramref name="volume"/> is rationed pro-rata in lot steps.
    /// </summary>
    private long[] Allocate(List<int> handles, long[] whAt, long minP, int priceIndex, long volume, bool isBuy)
    {
        var nodes = _pool.Items;
        var alloc = new long[handles.Count];
        // Walk levels in priority order: sells from cheapest up, buys from dearest down, only in the money.
        var range = whAt.Length;
        long cumulative = 0;
        var marginal = -1;
        long rationed = 0;
        for (var k = 0; k < range; k++)
        {
            var i = isBuy ? range - 1 - k : k;
            if (isBuy ? i < priceIndex : i > priceIndex) break;
            if (cumulative + whAt[i] > volume)
            {
                marginal = i;
                rationed = volume - cumulative;
                break;
            }
            cumulative += whAt[i];
        }

        var atMarginal = new List<int>();
        long marginalTotal = 0;
        for (var j = 0; j < handles.Count; j++)
        {
            ref var node = ref nodes[handles[j]];
            var i = (int)(node.Price - minP);
            var inTheMoney = isBuy ? i >= priceIndex : i <= priceIndex;
            if (!inTheMoney) continue;
            if (marginal < 0)
            {
                alloc[j] = node.RemainingWh;
                continue;
            }
            var better = isBuy ? i > marginal : i < marginal;
            if (better)
            {
                alloc[j] = node.RemainingWh;
            }
            else if (i == marginal)
            {
                atMarginal.Add(j);
                marginalTotal += node.RemainingWh;
            }
        }
        if (atMarginal.Count > 0 && rationed > 0)
        {
            Ration(handles, atMarginal, marginalTotal, rationed, alloc);
        }
        return alloc;
    }

    /// <summary>
    /// Pro-rata in lot steps: a_i = ⌊q_i·R / (Q·step)⌋·step; the remaining steps go one each to the largest
    /// fractional parts (q_i·R mod Q·step), ties to the lower order id.
    /// </summary>
    private void Ration(List<int> handles, List<int> atMarginal, long total, long rationed, long[] alloc)
    {
        var nodes = _pool.Items;
        var step = Config.LotStepWh;
        var denominator = (Int128)total * step;
        var fractions = new Int128[atMarginal.Count];
        long given = 0;
        for (var k = 0; k < atMarginal.Count; k++)
        {
            var j = atMarginal[k];
            var numerator = (Int128)nodes[handles[j]].RemainingWh * rationed;
            var steps = (long)(numerator / denominator);
            alloc[j] = steps * step;
            fractions[k] = numerator % denominator;
            given += alloc[j];
        }
        var extraSteps = (rationed - given) / step;
        if (extraSteps == 0) return;
        var order = new int[atMarginal.Count];
        for (var k = 0; k < order.Length; k++) order[k] = k;
        // atMarginal is in order-id order, so the index breaks ties toward the lower order id.
        Array.Sort(order, (x, y) =>
        {
            var c = fractions[y].CompareTo(fractions[x]);
            return c != 0 ? c : x.CompareTo(y);
        });
        for (var k = 0; k < extraSteps; k++)
        {
            alloc[atMarginal[order[k]]] += step;
        }
    }

    /// <summary>
    /// Pairs filled buys with filled sells into lots at the clearing price: buys in price priority; each takes
    /// the seller with the lowest wheeling fee to its zone, then the best seller priority (lowest limit, oldest).
    /// </summary>
    private List<Lot> Pair(long slot, Product product, long price, List<int> sells, long[] sellAlloc,
        List<int> buys, long[] buyAlloc, long minP, int range)
    {
        var nodes = _pool.Items;
        // Sells filled, in (price asc, order id asc), split by zone; counting sort keeps order-id order within a price.
        var sellOrder = StableByPrice(sells, sellAlloc, minP, range, descending: false);
        var zoneQueues = new Dictionary<int, List<int>>();
        foreach (var j in sellOrder)
        {
            var zone = nodes[sells[j]].Zone;
            if (!zoneQueues.TryGetValue(zone, out var q))
            {
                q = [];
                zoneQueues.Add(zone, q);
            }
            q.Add(j);
        }
        var zones = zoneQueues.Keys.Order().ToArray();
        var queues = zones.Select(z => zoneQueues[z]).ToArray();
        var heads = new int[zones.Length];
        var left = (long[])sellAlloc.Clone();

        var lots = new List<Lot>();
        foreach (var b in StableByPrice(buys, buyAlloc, minP, range, descending: true))
        {
            ref var buy = ref nodes[buys[b]];
            var need = buyAlloc[b];
            while (need > 0)
            {
                var best = -1;
                long bestFee = 0, bestPrice = 0, bestId = 0;
                for (var z = 0; z < zones.Length; z++)
                {
                    if (heads[z] == queues[z].Count) continue;
                    ref var seller = ref nodes[sells[queues[z][heads[z]]]];
                    var fee = Wheeling.Fee(zones[z], buy.Zone);
                    if (best >= 0 && (fee > bestFee || (fee == bestFee && (seller.Price > bestPrice || (seller.Price == bestPrice && seller.OrderId > bestId)))))
                    {
                        continue;
                    }
                    best = z;
                    bestFee = fee;
                    bestPrice = seller.Price;
                    bestId = seller.OrderId;
                }
                var j = queues[best][heads[best]];
                ref var sell = ref nodes[sells[j]];
                var wh = Math.Min(need, left[j]);
                lots.Add(new Lot(
                    _nextLotId++,
                    slot,
                    _participants[sell.Participant].Address,
                    _participants[buy.Participant].Address,
                    wh,
                    price,
                    bestFee,
                    product,
                    sell.Source,
                    sell.OrderId,
                    buy.OrderId));
                need -= wh;
                left[j] -= wh;
                if (left[j] == 0) heads[best]++;
            }
        }
        return lots;
    }

    /// <summary>Indexes of orders with a fill, by price (ascending or descending), keeping order-id order within a price.</summary>
    private int[] StableByPrice(List<int> handles, long[] alloc, long minP, int range, bool descending)
    {
        var nodes = _pool.Items;
        var counts = new int[range + 1];
        var n = 0;
        for (var j = 0; j < handles.Count; j++)
        {
            if (alloc[j] == 0) continue;
            var i = (int)(nodes[handles[j]].Price - minP);
            counts[(descending ? range - 1 - i : i) + 1]++;
            n++;
        }
        for (var i = 1; i <= range; i++) counts[i] += counts[i - 1];
        var result = new int[n];
        for (var j = 0; j < handles.Count; j++)
        {
            if (alloc[j] == 0) continue;
            var i = (int)(nodes[handles[j]].Price - minP);
            result[counts[descending ? range - 1 - i : i]++] = j;
        }
        return result;
    }
}
