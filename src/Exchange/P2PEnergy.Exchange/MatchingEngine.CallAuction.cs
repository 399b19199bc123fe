using System.Runtime.CompilerServices;

namespace P2PEnergy.Exchange;

public sealed partial class MatchingEngine
{
    // Gate closure of a call auction runs once per slot over every order of the slot. Two things keep it fast:
    // the methods are marked AggressiveOptimization (tiered compilation would leave these long loops
    // unoptimised, as each runs only a few times), and every buffer is kept in AuctionScratch and reused
    // from one slot to the next (fresh memory is the largest cost on a small machine).
    private readonly AuctionScratch _scratch = new();

    /// <summary>
    /// One side of one product: Wh per price tick over the whole price band, filled while the orders are
    /// walked for self-trade prevention, with the totals and the lowest and highest price seen.
    /// </summary>
    private sealed class SideTally
    {
        public long[] Band = [];
        public long Total;
        public long Min = long.MaxValue;
        public long Max = long.MinValue;

        public void Add(long price, long wh, long band0)
        {
            Band[price - band0] += wh;
            Total += wh;
            if (price < Min) Min = price;
            if (price > Max) Max = price;
        }

        /// <summary>Back to empty, clearing only the part of the band that was used.</summary>
        public void Reset(long band0)
        {
            if (Min <= Max) Array.Clear(Band, (int)(Min - band0), (int)(Max - Min + 1));
            Total = 0;
            Min = long.MaxValue;
            Max = long.MinValue;
        }
    }

    /// <summary>Buffers reused from one gate closure to the next.</summary>
    private sealed class AuctionScratch
    {
        public readonly List<int> Renewable = [];
        public readonly List<int> Green = [];
        public readonly List<int> Standard = [];
        public readonly List<int> StandardSells = [];
        public readonly List<int> Mixed = [];
        public readonly SideTally GreenSells = new();
        public readonly SideTally GreenBuys = new();
        public readonly SideTally StandardSellTally = new();
        public readonly SideTally StandardBuys = new();
        public readonly List<int> AtMarginal = [];
        public readonly List<Lot> Lots = [];
        public long[] SellAlloc = [];
        public long[] BuyAlloc = [];
        public FilledOrder[] SellFilled = [];
        public FilledOrder[] BuyFilled = [];
        public long[] MaxStandardBuy = [];
        public long[] MaxGreenBuy = [];
        public long[] MinRenewableSell = [];
        public long[] MinMixedSell = [];
        public int[] Counts = [];
        public int[] ByPrice = [];
        public int[] SellOrder = [];
        public int[] BuyOrder = [];
        public int[] ZoneStart = [];
        public int[] ZoneHead = [];
        public int[] ZonesPresent = [];
        public Int128[] Fractions = [];
        public int[] RationOrder = [];

        public static T[] Ensure<T>(ref T[] array, int length)
        {
            if (array.Length < length)
            {
                array = new T[Math.Max(length, array.Length * 2)];
            }
            return array;
        }
    }

    /// <summary>
    /// Gate closure of a call-auction slot (JEPX day-ahead style): self-trade prevention, then the green
    /// product, then the standard product with the renewable remainder, then every order is done.
    /// O(orders + price range): prices are bucketed, never sorted.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunCallAuction(SlotState s, IMarketEvents events)
    {
        var x = _scratch;
        var band0 = Config.MinPriceTicks;
        var bandSize = checked((int)(Config.MaxPriceTicks - band0 + 1));
        foreach (var t in (SideTally[])[x.GreenSells, x.GreenBuys, x.StandardSellTally, x.StandardBuys])
        {
            AuctionScratch.Ensure(ref t.Band, bandSize);
        }
        try
        {
            PreventSelfTrades(s, events);

            // Green first: renewable sells against green buys (DESIGN.md).
            ClearProduct(s.Slot, Product.Green, x.Renewable, x.Green, x.GreenSells, x.GreenBuys, events);

            // Standard: mixed sells plus what renewable sells have left, in order-id order.
            var standardSells = StandardSells(x);
            ClearProduct(s.Slot, Product.Standard, standardSells, x.Standard, x.StandardSellTally, x.StandardBuys, events);
        }
        finally
        {
            x.GreenSells.Reset(band0);
            x.GreenBuys.Reset(band0);
            x.StandardSellTally.Reset(band0);
            x.StandardBuys.Reset(band0);
        }

        // Every order of the slot is done; the handles are in order-id order. Orders cancelled earlier or
        // removed by self-trade prevention are no longer live: their nodes are only freed.
        var nodes = _pool.Items;
        foreach (var h in s.AuctionHandles)
        {
            ref var node = ref nodes[h];
            if (node.Live)
            {
                var reason = node.RemainingWh == 0 ? OrderDoneReason.Filled : OrderDoneReason.Expired;
                events.OrderDone(node.OrderId, _participants[node.Participant].Address, reason, node.FilledWh, node.RemainingWh);
                _liveOrders.Remove(node.OrderId);
                s.LiveOrders--;
            }
            _pool.Free(h);
        }
        s.AuctionHandles.Clear();
        s.AuctionHandles.TrimExcess();
    }

    /// <summary>
    /// The sells of the standard product: every mixed sell and each renewable sell with Wh left after the
    /// green product, merged in order-id order (both lists already are). Adds the renewable remainder to
    /// the standard tally.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private List<int> StandardSells(AuctionScratch x)
    {
        var nodes = _pool.Items;
        var band0 = Config.MinPriceTicks;
        var result = x.StandardSells;
        result.Clear();
        var renewableLeft = false;
        foreach (var h in x.Renewable)
        {
            if (nodes[h].RemainingWh > 0)
            {
                renewableLeft = true;
                break;
            }
        }
        if (!renewableLeft) return x.Mixed;
        int i = 0, j = 0;
        var mixed = x.Mixed;
        var renewable = x.Renewable;
        while (i < mixed.Count || j < renewable.Count)
        {
            if (j == renewable.Count || (i < mixed.Count && nodes[mixed[i]].OrderId < nodes[renewable[j]].OrderId))
            {
                result.Add(mixed[i++]);
                continue;
            }
            var h = renewable[j++];
            ref var node = ref nodes[h];
            if (node.RemainingWh == 0) continue;
            result.Add(h);
            x.StandardSellTally.Add(node.Price, node.RemainingWh, band0);
        }
        return result;
    }

    /// <summary>
    /// The newer order gives way: walking the slot's live orders in order-id order, an order that could
    /// trade with an earlier kept opposite order of the same participant is cancelled. Kept orders only
    /// widen the bounds, so one pass decides every order. The same pass sorts the kept orders by class.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PreventSelfTrades(SlotState s, IMarketEvents events)
    {
        var x = _scratch;
        var n = _participants.Count;
        var maxStandardBuy = AuctionScratch.Ensure(ref x.MaxStandardBuy, n);
        var maxGreenBuy = AuctionScratch.Ensure(ref x.MaxGreenBuy, n);
        var minRenewableSell = AuctionScratch.Ensure(ref x.MinRenewableSell, n);
        var minMixedSell = AuctionScratch.Ensure(ref x.MinMixedSell, n);
        Array.Fill(maxStandardBuy, long.MinValue, 0, n);
        Array.Fill(maxGreenBuy, long.MinValue, 0, n);
        Array.Fill(minRenewableSell, long.MaxValue, 0, n);
        Array.Fill(minMixedSell, long.MaxValue, 0, n);

        var band0 = Config.MinPriceTicks;
        x.Mixed.Clear();
        x.Renewable.Clear();
        x.Green.Clear();
        x.Standard.Clear();
        var nodes = _pool.Items;
        foreach (var h in s.AuctionHandles)
        {
            ref var node = ref nodes[h];
            if (!node.Live) continue;
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
            switch (node.Class)
            {
                case BookClass.RenewableSell:
                    minRenewableSell[p] = Math.Min(minRenewableSell[p], price);
                    x.Renewable.Add(h);
                    x.GreenSells.Add(price, node.RemainingWh, band0);
                    break;
                case BookClass.MixedSell:
                    minMixedSell[p] = Math.Min(minMixedSell[p], price);
                    x.Mixed.Add(h);
                    x.StandardSellTally.Add(price, node.RemainingWh, band0);
                    break;
                case BookClass.GreenBuy:
                    maxGreenBuy[p] = Math.Max(maxGreenBuy[p], price);
                    x.Green.Add(h);
                    x.GreenBuys.Add(price, node.RemainingWh, band0);
                    break;
                default:
                    maxStandardBuy[p] = Math.Max(maxStandardBuy[p], price);
                    x.Standard.Add(h);
                    x.StandardBuys.Add(price, node.RemainingWh, band0);
                    break;
            }
        }
    }

    /// <summary>
    /// Clears one product at one uniform price, rations the marginal level pro-rata, pairs lots, applies
    /// the fills to the orders and emits SlotCleared then the lots. Sells and buys come in order-id order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ClearProduct(long slot, Product product, List<int> sells, List<int> buys, SideTally sellTally, SideTally buyTally, IMarketEvents events)
    {
        if (sells.Count == 0 || buys.Count == 0)
        {
            events.SlotCleared(new ClearingResult(slot, product, false, 0, 0, sellTally.Total, buyTally.Total, 0));
            return;
        }
        var band0 = Config.MinPriceTicks;
        var minP = Math.Min(sellTally.Min, buyTally.Min);
        var maxP = Math.Max(sellTally.Max, buyTally.Max);
        var range = (int)(maxP - minP + 1);
        ClearProduct(slot, product, sells, buys, events,
            sellTally.Band.AsSpan((int)(minP - band0), range), buyTally.Band.AsSpan((int)(minP - band0), range),
            minP, sellTally.Total, buyTally.Total);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ClearProduct(long slot, Product product, List<int> sells, List<int> buys, IMarketEvents events,
        Span<long> sellAt, Span<long> buyAt, long minP, long supply, long demand)
    {
        var x = _scratch;
        var nodes = _pool.Items;
        var range = sellAt.Length;

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

        // Allocation: in-the-money orders in price priority; the marginal level of each side rationed pro-rata.
        var sellAlloc = AuctionScratch.Ensure(ref x.SellAlloc, sells.Count);
        var buyAlloc = AuctionScratch.Ensure(ref x.BuyAlloc, buys.Count);
        Allocate(sells, sellAt, minP, range, priceIndex, volume, isBuy: false, sellAlloc);
        Allocate(buys, buyAt, minP, range, priceIndex, volume, isBuy: true, buyAlloc);

        // Pair also applies the fills to the orders (in the same pass that copies them out).
        var lots = Pair(slot, product, price, sells, sellAlloc, buys, buyAlloc, minP, range);

        events.SlotCleared(new ClearingResult(slot, product, true, price, volume, supply, demand, lots.Count));
        foreach (var lot in lots)
        {
            events.LotCreated(lot);
        }
        lots.Clear();
    }

    /// <summary>
    /// Wh each order trades at clearing price index <paramref name="priceIndex"/>: in price priority, the
    /// level where the cumulative Wh first exceeds <paramref name="volume"/> is rationed pro-rata in lot steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Allocate(List<int> handles, ReadOnlySpan<long> whAt, long minP, int range, int priceIndex, long volume, bool isBuy, long[] alloc)
    {
        var nodes = _pool.Items;
        Array.Clear(alloc, 0, handles.Count);
        // Walk levels in priority order: sells from cheapest up, buys from dearest down, only in the money.
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

        var atMarginal = _scratch.AtMarginal;
        atMarginal.Clear();
        long marginalTotal = 0;
        for (var j = 0; j < handles.Count; j++)
        {
            ref var node = ref nodes[handles[j]];
            var i = (int)(node.Price - minP);
            var inTheMoney = isBuy ? i >= priceIndex : i <= priceIndex;
            if (!inTheMoney) continue;
            if (marginal < 0 || (isBuy ? i > marginal : i < marginal))
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
    }

    /// <summary>
    /// Pro-rata in lot steps: a_i = ⌊q_i·R / (Q·step)⌋·step; the remaining steps go one each to the largest
    /// fractional parts (q_i·R mod Q·step), ties to the lower order id.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Ration(List<int> handles, List<int> atMarginal, long total, long rationed, long[] alloc)
    {
        var nodes = _pool.Items;
        var step = Config.LotStepWh;
        var denominator = (Int128)total * step;
        var count = atMarginal.Count;
        var fractions = AuctionScratch.Ensure(ref _scratch.Fractions, count);
        long given = 0;
        for (var k = 0; k < count; k++)
        {
            var j = atMarginal[k];
            var numerator = (Int128)nodes[handles[j]].RemainingWh * rationed;
            alloc[j] = (long)(numerator / denominator) * step;
            fractions[k] = numerator % denominator;
            given += alloc[j];
        }
        var extraSteps = (rationed - given) / step;
        if (extraSteps == 0) return;
        var order = AuctionScratch.Ensure(ref _scratch.RationOrder, count);
        for (var k = 0; k < count; k++) order[k] = k;
        // atMarginal is in order-id order, so the lower index is the lower order id.
        Array.Sort(order, 0, count, Comparer<int>.Create((a, b) =>
        {
            var c = fractions[b].CompareTo(fractions[a]);
            return c != 0 ? c : a.CompareTo(b);
        }));
        for (var k = 0; k < extraSteps; k++)
        {
            alloc[atMarginal[order[k]]] += step;
        }
    }

    /// <summary>A filled order's pairing data, copied out of the node pool into a small dense array.</summary>
    private struct FilledOrder
    {
        public long Price;
        public long OrderId;
        public long Wh;
        public int Participant;
        public int Zone;
        public EnergySource Source;
    }

    /// <summary>
    /// Pairs filled buys with filled sells into lots at the clearing price: buys in price priority; each takes
    /// the seller with the lowest wheeling fee to its zone, then the best seller priority (lowest limit, oldest).
    /// The filled orders are first copied, in order-id order, into dense arrays: pairing jumps between
    /// orders, and jumping inside a few MB is far cheaper than inside the whole node pool.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private List<Lot> Pair(long slot, Product product, long price, List<int> sells, long[] sellAlloc,
        List<int> buys, long[] buyAlloc, long minP, int range)
    {
        var x = _scratch;
        var zonesMax = Config.MaxZones;
        var sellers = Gather(sells, sellAlloc, ref x.SellFilled);
        var buyers = Gather(buys, buyAlloc, ref x.BuyFilled);

        // Sellers by zone, then price ascending, then order id: a stable counting sort by price, then by zone.
        var sellersByPrice = StableByPrice(sellers, minP, range, descending: false, ref x.SellOrder);
        var zoneStart = AuctionScratch.Ensure(ref x.ZoneStart, zonesMax + 1);
        Array.Clear(zoneStart, 0, zonesMax + 1);
        foreach (var c in sellersByPrice) zoneStart[sellers[c].Zone + 1]++;
        for (var z = 1; z <= zonesMax; z++) zoneStart[z] += zoneStart[z - 1];
        var zoneHead = AuctionScratch.Ensure(ref x.ZoneHead, zonesMax);
        Array.Copy(zoneStart, zoneHead, zonesMax);
        var byZone = AuctionScratch.Ensure(ref x.ByPrice, sellersByPrice.Length);
        foreach (var c in sellersByPrice) byZone[zoneHead[sellers[c].Zone]++] = c;
        Array.Copy(zoneStart, zoneHead, zonesMax);
        var present = AuctionScratch.Ensure(ref x.ZonesPresent, zonesMax);
        var zoneCount = 0;
        for (var z = 0; z < zonesMax; z++)
        {
            if (zoneStart[z + 1] > zoneStart[z]) present[zoneCount++] = z;
        }

        var lots = x.Lots;
        lots.Clear();
        foreach (var b in StableByPrice(buyers, minP, range, descending: true, ref x.BuyOrder))
        {
            ref var buy = ref buyers[b];
            var need = buy.Wh;
            while (need > 0)
            {
                var best = -1;
                long bestFee = 0, bestPrice = 0, bestId = 0;
                for (var k = 0; k < zoneCount; k++)
                {
                    var z = present[k];
                    if (zoneHead[z] == zoneStart[z + 1]) continue;
                    ref var seller = ref sellers[byZone[zoneHead[z]]];
                    var fee = Wheeling.Fee(z, buy.Zone);
                    if (best >= 0 && (fee > bestFee || (fee == bestFee && (seller.Price > bestPrice || (seller.Price == bestPrice && seller.OrderId > bestId)))))
                    {
                        continue;
                    }
                    best = z;
                    bestFee = fee;
                    bestPrice = seller.Price;
                    bestId = seller.OrderId;
                }
                ref var sell = ref sellers[byZone[zoneHead[best]]];
                var wh = Math.Min(need, sell.Wh);
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
                sell.Wh -= wh;
                if (sell.Wh == 0) zoneHead[best]++;
            }
        }
        return lots;
    }

    /// <summary>
    /// Applies each order's fill to it and copies the orders with a fill, in order-id order, into a dense
    /// buffer (one pass over the orders).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Span<FilledOrder> Gather(List<int> handles, long[] alloc, ref FilledOrder[] buffer)
    {
        var nodes = _pool.Items;
        var result = AuctionScratch.Ensure(ref buffer, handles.Count);
        var n = 0;
        for (var j = 0; j < handles.Count; j++)
        {
            if (alloc[j] == 0) continue;
            ref var node = ref nodes[handles[j]];
            node.RemainingWh -= alloc[j];
            node.FilledWh += alloc[j];
            result[n++] = new FilledOrder
            {
                Price = node.Price,
                OrderId = node.OrderId,
                Wh = alloc[j],
                Participant = node.Participant,
                Zone = node.Zone,
                Source = node.Source,
            };
        }
        return result.AsSpan(0, n);
    }

    /// <summary>Indexes into <paramref name="orders"/> by price (ascending or descending), keeping their order within a price.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<int> StableByPrice(Span<FilledOrder> orders, long minP, int range, bool descending, ref int[] buffer)
    {
        var counts = AuctionScratch.Ensure(ref _scratch.Counts, range + 1);
        Array.Clear(counts, 0, range + 1);
        foreach (ref var o in orders)
        {
            var i = (int)(o.Price - minP);
            counts[(descending ? range - 1 - i : i) + 1]++;
        }
        for (var i = 1; i <= range; i++) counts[i] += counts[i - 1];
        var result = AuctionScratch.Ensure(ref buffer, orders.Length);
        for (var c = 0; c < orders.Length; c++)
        {
            var i = (int)(orders[c].Price - minP);
            result[counts[descending ? range - 1 - i : i]++] = c;
        }
        return result.AsSpan(0, orders.Length);
    }
}
