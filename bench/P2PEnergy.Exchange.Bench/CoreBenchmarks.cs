using System.Diagnostics;
using P2PEnergy.Exchange;

namespace P2PEnergy.Exchange.Bench;

/// <summary>
/// The matching core on one thread, with the stream. Every figure is printed beside a baseline
/// measured in the same run (Array.Sort of the same orders' prices), so it can be compared across machines.
/// </summary>
internal static class CoreBenchmarks
{
    public static void Run(int orders, int repeats, int seed)
    {
        var participants = OrderStream.Participants(1_000);
        Console.WriteLine($"stream: {orders:N0} commands, seed {seed}, {participants.Length} participants in 4 zones, prices {OrderStream.BasePrice}–{OrderStream.BasePrice + OrderStream.PriceBand - 1} ticks, 1–100 lots of 100 Wh, ~10 % cancels");

        var cda = OrderStream.Generate(orders, participants, seed, Mechanism.Continuous);
        var prices = cda.Where(c => !c.IsCancel).Select(c => c.Submit.LimitPriceTicks).ToArray();
        Console.WriteLine($"  submits {prices.Length:N0}, cancels {cda.Length - prices.Length:N0}");

        // Baseline: Array.Sort of the submitted orders' prices, with their indexes as items.
        var sortMs = Median(repeats, () =>
        {
            var keys = (long[])prices.Clone();
            var items = new int[keys.Length];
            for (var i = 0; i < items.Length; i++) items[i] = i;
            var sw = Stopwatch.StartNew();
            Array.Sort(keys, items);
            return sw.Elapsed.TotalMilliseconds;
        });
        Console.WriteLine($"baseline Array.Sort of {prices.Length:N0} prices (with indexes): {sortMs:F1} ms");

        // 1. Continuous double auction: throughput and allocation.
        CountingEvents? lastEvents = null;
        long allocatedSecondHalf = 0;
        var cdaMs = Median(repeats, () =>
        {
            var engine = OrderStream.NewEngine(participants, Mechanism.Continuous, orders);
            var events = new CountingEvents();
            var half = cda.Length / 2;
            var sw = Stopwatch.StartNew();
            RunCommands(engine, cda, 0, half, events);
            var before = GC.GetAllocatedBytesForCurrentThread();
            RunCommands(engine, cda, half, cda.Length, events);
            var after = GC.GetAllocatedBytesForCurrentThread();
            var elapsed = sw.Elapsed.TotalMilliseconds;
            allocatedSecondHalf = after - before;
            lastEvents = events;
            return elapsed;
        });
        var perSecond = cda.Length / (cdaMs / 1000.0);
        Console.WriteLine($"CDA: {cda.Length:N0} commands in {cdaMs:F1} ms = {perSecond:N0} commands/s (target ≥ 2,000,000); {cdaMs / sortMs:F2}× the Array.Sort baseline");
        Console.WriteLine($"     lots {lastEvents!.Lots:N0} ({lastEvents.LotWh:N0} Wh), rejected {lastEvents.Rejected:N0}");
        Console.WriteLine($"     allocated in steady state (second half of the stream): {allocatedSecondHalf:N0} bytes = {(double)allocatedSecondHalf / (cda.Length - cda.Length / 2):F2} bytes/command (target ~0)");

        // 2. Call auction: clearing one slot holding the same orders. "Warm" is the market's steady state: an
        // engine that has cleared a slot before, so its clearing buffers exist; "cold" is a fresh engine.
        var auction = OrderStream.Generate(orders, participants, seed, Mechanism.CallAuction);
        ClearingCapture? capture = null;
        var coldMs = Median(repeats, () =>
        {
            var engine = OrderStream.NewEngine(participants, Mechanism.CallAuction, orders);
            return ClearOnce(engine, auction, 0, out capture);
        });
        var warmEngine = OrderStream.NewEngine(participants, Mechanism.CallAuction, orders);
        var round = 0;
        var warmMs = Median(repeats, () => ClearOnce(warmEngine, auction, ++round, out capture));
        var live = auction.Count(c => !c.IsCancel) - auction.Count(c => c.IsCancel);
        Console.WriteLine($"call auction: clearing {live:N0} live orders, {capture!.Lots:N0} lots");
        Console.WriteLine($"     warm: {warmMs:F1} ms = {warmMs / sortMs:F2}× Array.Sort (target ≤ 2×); cold (fresh engine): {coldMs:F1} ms = {coldMs / sortMs:F2}×");
        foreach (var r in capture.Results)
        {
            Console.WriteLine($"     {r.Product}: cleared={r.Cleared} price {r.ClearingPriceTicks} ticks, matched {r.MatchedWh:N0} of supply {r.SupplyWh:N0} / demand {r.DemandWh:N0} Wh");
        }

        // 3. Memory: 1,000,000 resting orders (buys below sells, so nothing trades).
        Memory(orders, participants);
    }

    private static void Memory(int orders, Address[] participants)
    {
        var random = new Random(7);
        var nextClientId = new ulong[participants.Length];
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var engine = OrderStream.NewEngine(participants, Mechanism.Continuous, 1024);
        for (var i = 0; i < orders; i++)
        {
            var p = random.Next(participants.Length);
            var buy = (i & 1) == 0;
            var price = buy ? OrderStream.BasePrice + random.Next(50) : OrderStream.BasePrice + 50 + random.Next(50);
            OrderStream.Check(engine.Submit(new SubmitOrder(participants[p], ++nextClientId[p], buy ? Side.Buy : Side.Sell,
                OrderStream.Slot, (random.Next(100) + 1) * 100L, price, Product.Standard, EnergySource.Mixed, OrderStream.Now), NoMarketEvents.Instance));
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var live = engine.TryGetSlot(OrderStream.Slot, out var info) ? info.LiveOrders : -1;
        GC.KeepAlive(engine);
        var mb = (after - before) / 1_000_000.0;
        Console.WriteLine($"memory: {live:N0} resting orders hold {mb:F1} MB = {(double)(after - before) / live:F0} bytes/order (target ≤ 250 MB)");
    }

    /// <summary>
    /// Submits the stream into slot Slot + round (client ids and cancelled order ids shifted to stay unique),
    /// then times the gate closure alone.
    /// </summary>
    private static double ClearOnce(MatchingEngine engine, StreamCommand[] stream, int round, out ClearingCapture capture)
    {
        var slot = OrderStream.Slot + round;
        if (round > 0) OrderStream.Check(engine.OpenSlot(slot, Mechanism.CallAuction, OrderStream.Now));
        var idBase = engine.NextOrderId - 1;
        var clientBase = (ulong)round * 100_000_000UL;
        foreach (var c in stream)
        {
            if (c.IsCancel) engine.Cancel(c.Cancel with { OrderId = c.Cancel.OrderId + idBase }, NoMarketEvents.Instance);
            else engine.Submit(c.Submit with { Slot = slot, ClientOrderId = c.Submit.ClientOrderId + clientBase }, NoMarketEvents.Instance);
        }
        capture = new ClearingCapture();
        var sw = Stopwatch.StartNew();
        OrderStream.Check(engine.CloseGate(slot, capture));
        return sw.Elapsed.TotalMilliseconds;
    }

    private static void RunCommands(MatchingEngine engine, StreamCommand[] commands, int from, int to, IMarketEvents events)
    {
        for (var i = from; i < to; i++)
        {
            ref readonly var c = ref commands[i];
            if (c.IsCancel) engine.Cancel(c.Cancel, events);
            else engine.Submit(c.Submit, events);
        }
    }

    /// <summary>Runs once to warm up, then <paramref name="repeats"/> times; the median.</summary>
    public static double Median(int repeats, Func<double> run)
    {
        run();
        var times = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            times[i] = run();
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    private sealed class ClearingCapture : IMarketEvents
    {
        public readonly List<ClearingResult> Results = [];
        public long Lots;

        public void OrderAccepted(in Order order) { }
        public void OrderRejected(Address participant, ulong clientOrderId, long orderId, ResultCode code) { }
        public void LotCreated(in Lot lot) => Lots++;
        public void OrderDone(long orderId, Address participant, OrderDoneReason reason, long filledWh, long releasedWh) { }
        public void OrderReduced(long orderId, Address participant, long remainingWh) { }
        public void SlotCleared(in ClearingResult result) => Results.Add(result);
        public void GateClosed(long slot, Mechanism mechanism) { }
    }
}
