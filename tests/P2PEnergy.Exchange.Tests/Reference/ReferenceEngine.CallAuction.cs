using System.Numerics;

namespace P2PEnergy.Exchange.Tests.Reference;

/// <summary>The reference call auction (matching-rules.md, "Call auction"), by brute force.</summary>
public sealed partial class ReferenceEngine
{
    /// <summary>An order's share in one product's clearing: what it offers there and what it is given.</summary>
    private sealed class Bid(RefOrder order, long offeredWh)
    {
        public RefOrder Order { get; } = order;

        public long OfferedWh { get; } = offeredWh;

        public long AllocatedWh { get; set; }

        public long LeftToPairWh { get; set; }
    }

    private static bool CouldTrade(RefOrder a, RefOrder b)
    {
        if (a.IsBuy == b.IsBuy) return false;
        var (sell, buy) = a.IsSell ? (a, b) : (b, a);
        var compatible = buy.IsStandardBuy || sell.IsRenewableSell;
        return compatible && buy.Price >= sell.Price;
    }

    private void RunCallAuction(long slot, IMarketEvents events)
    {
        var live = _orders.Where(o => o.Live && o.Order.Slot == slot).OrderBy(o => o.Id).ToList();

        // 1. Self-trade prevention, naive O(n²): the newer of two crossing orders of one participant gives way.
        var kept = new List<RefOrder>();
        foreach (var o in live)
        {
            if (kept.Any(k => k.Owner == o.Owner && CouldTrade(k, o)))
            {
                o.Live = false;
                events.OrderDone(o.Id, o.Owner, OrderDoneReason.SelfTradePrevented, 0, o.RemainingWh);
                o.RemainingWh = 0;
            }
            else
            {
                kept.Add(o);
            }
        }

        // 2. Green: renewable sells against green buys.
        ClearProduct(
            slot,
            Product.Green,
            kept.Where(o => o.IsRenewableSell).Select(o => new Bid(o, o.RemainingWh)).ToList(),
            kept.Where(o => o.IsGreenBuy).Select(o => new Bid(o, o.RemainingWh)).ToList(),
            events);

        // 3. Standard: mixed sells plus what renewable sells have left, against standard buys.
        ClearProduct(
            slot,
            Product.Standard,
            kept.Where(o => o.IsMixedSell || (o.IsRenewableSell && o.RemainingWh > 0)).Select(o => new Bid(o, o.RemainingWh)).ToList(),
            kept.Where(o => o.IsStandardBuy).Select(o => new Bid(o, o.RemainingWh)).ToList(),
            events);

        foreach (var o in kept)
        {
            o.Live = false;
            var reason = o.RemainingWh == 0 ? OrderDoneReason.Filled : OrderDoneReason.Expired;
            events.OrderDone(o.Id, o.Owner, reason, o.FilledWh, o.RemainingWh);
        }
    }

    private void ClearProduct(long slot, Product product, List<Bid> sells, List<Bid> buys, IMarketEvents events)
    {
        var supply = sells.Sum(b => b.OfferedWh);
        var demand = buys.Sum(b => b.OfferedWh);
        var notCleared = new ClearingResult(slot, product, false, 0, 0, supply, demand, 0);

        // Every tick of the price band when it is small (the property tests use 1 … 300). In a wide band, every
        // tick between the lowest and the highest limit: below it S = 0, above it D = 0, so V = 0 there.
        long S(long p) => sells.Where(b => b.Order.Price <= p).Sum(b => b.OfferedWh);
        long D(long p) => buys.Where(b => b.Order.Price >= p).Sum(b => b.OfferedWh);
        var all = sells.Concat(buys).Select(b => b.Order.Price).ToList();
        var wideBand = Config.MaxPriceTicks - Config.MinPriceTicks > 10_000;
        var (first, last) = wideBand && all.Count > 0 ? (all.Min(), all.Max()) : (Config.MinPriceTicks, Config.MaxPriceTicks);
        var ticks = new List<(long P, long V, long Imbalance)>();
        for (var p = first; p <= last; p++)
        {
            var (s, d) = (S(p), D(p));
            ticks.Add((p, Math.Min(s, d), Math.Abs(s - d)));
        }
        var maxV = ticks.Max(t => t.V);
        if (maxV == 0)
        {
            events.SlotCleared(notCleared);
            return;
        }
        var bestVolume = ticks.Where(t => t.V == maxV).ToList();
        var minImbalance = bestVolume.Min(t => t.Imbalance);
        var chosen = bestVolume.Where(t => t.Imbalance == minImbalance).Select(t => t.P).ToList();
        long lo = chosen.Min(), hi = chosen.Max();
        if (chosen.Count != hi - lo + 1)
        {
            throw new InvalidOperationException($"matching-rules.md says the best ticks form one interval; got {string.Join(",", chosen)}");
        }
        var price = (lo + hi) / 2; // ⌊(lo + hi) / 2⌋, both positive

        Allocate(sells.Where(b => b.Order.Price <= price).ToList(), maxV, sellSide: true);
        Allocate(buys.Where(b => b.Order.Price >= price).ToList(), maxV, sellSide: false);

        // Pairing: buys by highest limit then lowest id; each takes the seller with the lowest wheeling fee,
        // then the best seller priority (lowest limit, lowest id), min(need, left).
        var lots = new List<Lot>();
        foreach (var s in sells) s.LeftToPairWh = s.AllocatedWh;
        foreach (var buy in buys.Where(b => b.AllocatedWh > 0).OrderByDescending(b => b.Order.Price).ThenBy(b => b.Order.Id))
        {
            var need = buy.AllocatedWh;
            while (need > 0)
            {
                var seller = sells.Where(s => s.LeftToPairWh > 0)
                    .OrderBy(s => Fee(s.Order, buy.Order))
                    .ThenBy(s => s.Order.Price)
                    .ThenBy(s => s.Order.Id)
                    .First();
                var wh = Math.Min(need, seller.LeftToPairWh);
                lots.Add(MakeLot(slot, seller.Order, buy.Order, wh, price, product));
                need -= wh;
                seller.LeftToPairWh -= wh;
            }
        }
        if (sells.Any(s => s.LeftToPairWh != 0))
        {
            throw new InvalidOperationException("sells and buys were allocated different volumes");
        }

        foreach (var b in sells.Concat(buys))
        {
            b.Order.RemainingWh -= b.AllocatedWh;
            b.Order.FilledWh += b.AllocatedWh;
        }

        events.SlotCleared(new ClearingResult(slot, product, true, price, maxV, supply, demand, lots.Count));
        foreach (var lot in lots)
        {
            events.LotCreated(lot);
        }
    }

    /// <summary>
    /// Gives <paramref name="volume"/> Wh to the in-the-money orders of one side: levels in price priority are
    /// filled whole until the level where the cumulative Wh first exceeds the volume, which is rationed.
    /// </summary>
    private void Allocate(List<Bid> inTheMoney, long volume, bool sellSide)
    {
        long cumulative = 0;
        var levels = inTheMoney.GroupBy(b => b.Order.Price).OrderBy(g => sellSide ? g.Key : -g.Key);
        foreach (var level in levels)
        {
            var q = level.Sum(b => b.OfferedWh);
            if (cumulative + q <= volume)
            {
                foreach (var b in level) b.AllocatedWh = b.OfferedWh;
                cumulative += q;
                continue;
            }
            Ration(level.OrderBy(b => b.Order.Id).ToList(), volume - cumulative);
            cumulative = volume;
        }
        if (cumulative != volume)
        {
            throw new InvalidOperationException($"side allocated {cumulative} Wh, not the volume {volume}");
        }
    }

    /// <summary>
    /// Pro-rata with BigInteger: a_i = ⌊q_i·R / (Q·step)⌋·step, then one step each to the largest
    /// fractional parts q_i·R mod Q·step, ties to the lower order id.
    /// </summary>
    private void Ration(List<Bid> level, long rationedWh)
    {
        if (rationedWh == 0)
        {
            return; // a level beyond the marginal one, or a marginal level that gets nothing
        }
        var step = new BigInteger(Config.LotStepWh);
        var total = new BigInteger(level.Sum(b => b.OfferedWh));
        var r = new BigInteger(rationedWh);
        var fractions = new Dictionary<Bid, BigInteger>();
        foreach (var b in level)
        {
            var numerator = b.OfferedWh * r;
            b.AllocatedWh = (long)(BigInteger.Divide(numerator, total * step) * step);
            fractions[b] = BigInteger.Remainder(numerator, total * step);
        }
        var extraSteps = (rationedWh - level.Sum(b => b.AllocatedWh)) / Config.LotStepWh;
        if (extraSteps >= level.Count)
        {
            throw new InvalidOperationException("the remainder must be less than one step per order");
        }
        foreach (var b in level.OrderByDescending(b => fractions[b]).ThenBy(b => b.Order.Id).Take((int)extraSteps))
        {
            b.AllocatedWh += Config.LotStepWh;
        }
    }
}
