using System.Text;
using FsCheck.Xunit;
using P2PEnergy.Exchange.Tests.Reference;
using P2PEnergy.Exchange.Tests.Support;
using static P2PEnergy.Exchange.Tests.Support.TestMarket;

namespace P2PEnergy.Exchange.Tests;

/// <summary>
/// Snapshot and restore of the matching core: the exchange restores the last snapshot and replays only the
/// commands journalled after it, so a restored engine must answer every later command exactly as the
/// original would have (events, codes, ids, depth, order states), and snapshot back to the same value.
/// </summary>
public sealed class SnapshotTests
{
    // ---- Properties: random streams, cut at a random command, both engines fed the rest ----

    [Property(MaxTest = 300, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void A_restored_continuous_market_answers_as_the_original(StreamSeed seed) =>
        SnapshotStream.Execute(seed.Value, Mechanism.Continuous);

    [Property(MaxTest = 300, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void A_restored_call_auction_market_answers_as_the_original(StreamSeed seed) =>
        SnapshotStream.Execute(seed.Value, Mechanism.CallAuction);

    [Property(MaxTest = 200, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void A_restored_mixed_market_answers_as_the_original(StreamSeed seed) =>
        SnapshotStream.Execute(seed.Value, mechanism: null);

    /// <summary>
    /// The streams must cut where it matters, or the properties prove little: books with resting orders of
    /// both mechanisms at the cut, and after it lots, clearings and refused duplicates of ids taken before it.
    /// Fixed seeds, so this is deterministic.
    /// </summary>
    [Fact]
    public void Random_streams_cut_through_live_books()
    {
        var outcomes = Enumerable.Range(1, 60).Select(s => SnapshotStream.Execute(s, (s % 3) switch
        {
            0 => Mechanism.Continuous,
            1 => Mechanism.CallAuction,
            _ => null,
        })).ToList();
        Assert.True(outcomes.Count(o => o.ContinuousOrdersAtCut > 0) >= 10, "too few cuts through a CDA book");
        Assert.True(outcomes.Count(o => o.AuctionOrdersAtCut > 0) >= 10, "too few cuts through a collecting call auction");
        Assert.True(outcomes.Count(o => o.LotsAfterCut > 0) >= 20, "too few streams trade after the cut");
        Assert.True(outcomes.Count(o => o.ClearingsAfterCut > 0) >= 10, "too few call auctions clear after the cut");
        Assert.True(outcomes.Sum(o => o.DuplicatesRefusedAfterCut) >= 10, "too few duplicate client order ids after the cut");
        Assert.True(outcomes.Count(o => o.CommandsBeforeCut == 0) >= 1, "no cut of an engine before its first command");
        Assert.True(outcomes.Count(o => o.Restores == 2) >= 10, "too few second restores (of a restored engine)");
        Assert.True(outcomes.Count(o => o.WheelingChanges > 0) >= 3, "too few wheeling table changes");
        Assert.True(outcomes.Count(o => o.SlotsOpenedAfterSetup > 0) >= 10, "too few slots opened mid-stream");
    }

    [Theory]
    [InlineData(21, Mechanism.Continuous)]
    [InlineData(22, Mechanism.CallAuction)]
    [InlineData(23, null)]
    public void Long_streams_restore_exactly(int seed, Mechanism? mechanism)
    {
        var outcome = SnapshotStream.Execute(seed, mechanism, commands: 1_500);
        Assert.True(outcome.LotsAfterCut > 10, $"only {outcome.LotsAfterCut} lots after the cut");
    }

    // ---- Unit tests ----

    [Fact]
    public void An_empty_engine_restores_and_both_go_on_alike()
    {
        var config = new MarketConfig { LotStepWh = 50, MaxZones = 3, SlotSeconds = 900, GateLeadSeconds = 60 };
        var table = WheelingTable.Build(3, 700, [new WheelingEntry(0, 1, 250), new WheelingEntry(2, 2, 10), new WheelingEntry(1, 0, 700)]);
        var m = new Twins(config, table);
        var snapshot = m.Cut();

        Assert.Equal(EngineSnapshot.CurrentVersion, snapshot.Version);
        Assert.Equal(config, snapshot.Config);
        Assert.Empty(snapshot.Participants);
        Assert.Empty(snapshot.Slots);
        Assert.Empty(snapshot.Orders);
        Assert.Empty(snapshot.ClientOrderIds);
        Assert.Equal((1L, 1L), (snapshot.NextOrderId, snapshot.NextLotId));
        // Only the pairs that differ from "default across zones, nothing within one" are kept.
        Assert.Equal(700, snapshot.Wheeling.DefaultFeeTicks);
        Assert.Equal([new WheelingEntry(0, 1, 250), new WheelingEntry(2, 2, 10)], snapshot.Wheeling.Entries);
        Assert.Equal(m.Original.Wheeling.Entries(), m.Restored.Wheeling.Entries());
        Assert.Equal(config, m.Restored.Config);

        m.Register(1, zone: 0);
        m.Register(2, zone: 1);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.Sell(1, 100, 100);
        var trade = m.Buy(2, 100, 100);
        Assert.Equal(250, Assert.Single(trade.Lots).WheelingFeeTicks);
        m.AssertSameSnapshots();
    }

    [Fact]
    public void The_snapshot_of_a_restored_engine_equals_the_original()
    {
        var m = new Twins(new MarketConfig { MaxZones = 4 }, WheelingTable.Build(4, 30, [new WheelingEntry(1, 2, 5)]));
        for (var i = 1; i <= 5; i++) m.Register(i, zone: i % 4);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.OpenSlot(Slot + 1, Mechanism.CallAuction);
        m.OpenSlot(Slot + 2, Mechanism.Continuous);
        m.Sell(1, 500, 100, EnergySource.Renewable);  // id 1, partly filled below
        m.Sell(2, 300, 101);                          // id 2, reduced below
        m.Buy(3, 200, 100);                           // id 3, fills 200 of id 1
        m.Buy(4, 400, 95, Product.Green);             // id 4, rests
        m.Reduce(2, 2, 100);
        m.Sell(1, 300, 90, slot: Slot + 1);           // id 5, call auction
        m.Buy(3, 200, 120, slot: Slot + 1);           // id 6, cancelled below: kept not live until the gate
        m.Buy(4, 600, 110, slot: Slot + 1);           // id 7
        m.Cancel(3, 6);
        m.Sell(5, 100, 90, slot: Slot + 2);           // id 8
        m.CloseGate(Slot + 2);                        // closed: expires id 8

        var snapshot = m.Cut();
        Assert.Equal(
            [
                new SlotSnapshot(Slot, Mechanism.Continuous, m.GateMs(Slot), SlotPhase.Open),
                new SlotSnapshot(Slot + 1, Mechanism.CallAuction, m.GateMs(Slot + 1), SlotPhase.Open),
                new SlotSnapshot(Slot + 2, Mechanism.Continuous, m.GateMs(Slot + 2), SlotPhase.Closed),
            ],
            snapshot.Slots);
        Assert.Equal([1L, 2, 4, 5, 7], snapshot.Orders.Select(o => o.OrderId));
        Assert.Equal(
            new OrderSnapshot(1, P(1), 1, Side.Sell, Slot, 500, 100, default, EnergySource.Renewable, 1, 300, 200),
            snapshot.Orders[0]);
        Assert.Equal(
            new OrderSnapshot(2, P(2), 1, Side.Sell, Slot, 300, 101, default, EnergySource.Mixed, 2, 200, 0),
            snapshot.Orders[1]);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), snapshot.ClientOrderIds.Select(e => e.OrderId));
        Assert.Equal(new ClientOrderIdEntry(P(3), 2, 6), snapshot.ClientOrderIds[5]);
        Assert.Equal([P(1), P(2), P(3), P(4), P(5)], snapshot.Participants.Select(p => p.Address));

        // A restored engine snapshots to the same value, and so does one restored from that.
        var again = MatchingEngine.Restore(m.Restored.Snapshot());
        Assert.Equal(snapshot, again.Snapshot());
        Assert.Equal(snapshot.GetHashCode(), again.Snapshot().GetHashCode());
        Assert.Equal(m.Original.Slots, m.Restored.Slots);
        Assert.Equal(m.Original.LiveOrders(Slot), m.Restored.LiveOrders(Slot));

        // The closed slot stays closed; the others go on alike, the auction included.
        Assert.Equal(ResultCode.SlotAlreadyOpen, m.OpenSlot(Slot + 2, Mechanism.Continuous, expect: null));
        Assert.Equal(ResultCode.SlotClosed, m.CloseGate(Slot + 2).Code);
        m.Buy(5, 300, 102);
        var auction = m.CloseGate(Slot + 1);
        Assert.NotEmpty(auction.Lots);
        m.CloseGate(Slot);
        m.AssertSameSnapshots();
    }

    [Fact]
    public void A_snapshot_holds_no_reference_into_the_engine()
    {
        var m = new Twins();
        m.Register(1, 0);
        m.Register(2, 0);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.Sell(1, 500, 100);
        var snapshot = m.Original.Snapshot();
        var copy = snapshot with
        {
            Wheeling = snapshot.Wheeling with { Entries = snapshot.Wheeling.Entries.ToList() },
            Participants = snapshot.Participants.ToList(),
            Slots = snapshot.Slots.ToList(),
            Orders = snapshot.Orders.ToList(),
            ClientOrderIds = snapshot.ClientOrderIds.ToList(),
        };
        m.Register(3, 1);
        m.Buy(2, 200, 100);
        m.SetWheeling(WheelingTable.Uniform(m.Original.Config.MaxZones, 5));
        m.CloseGate(Slot);
        Assert.Equal(copy, snapshot);
        Assert.NotEqual(snapshot, m.Original.Snapshot());
        Assert.Throws<NotSupportedException>(() => ((IList<OrderSnapshot>)snapshot.Orders).Add(default));
    }

    [Fact]
    public void A_client_order_id_taken_before_the_cut_is_still_refused_after_it()
    {
        var m = new Twins();
        m.Register(1, 0);
        m.Register(2, 0);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.Sell(1, 100, 100, clientOrderId: 7);    // id 1: filled below
        m.Buy(2, 100, 100, clientOrderId: 7);     // id 2: same client id, another participant: fine
        m.Sell(1, 100, 100, clientOrderId: 8);    // id 3: cancelled below
        m.Cancel(1, 3);
        m.Sell(1, 100, 100, clientOrderId: 9);    // id 4: live
        m.Cut();

        foreach (var clientOrderId in new ulong[] { 7, 8, 9 })
        {
            var r = m.Sell(1, 100, 100, clientOrderId: clientOrderId, expect: ResultCode.DuplicateClientOrderId);
            Assert.Equal([new OrderRejectedEvent(P(1), clientOrderId, 0, ResultCode.DuplicateClientOrderId)], r.Events);
        }
        m.Buy(2, 100, 100, clientOrderId: 7, expect: ResultCode.DuplicateClientOrderId);
        // A new pair is still free, and the refusals took no order id.
        Assert.Equal(5, m.Buy(2, 100, 100, clientOrderId: 8).OrderId);
        m.AssertSameSnapshots();
    }

    [Fact]
    public void CDA_time_priority_survives_a_restore()
    {
        var m = new Twins();
        for (var i = 1; i <= 4; i++) m.Register(i, 0);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.Sell(1, 300, 100); // id 1: oldest at 100
        m.Sell(2, 300, 100); // id 2
        m.Sell(3, 300, 100); // id 3
        m.Reduce(1, 1, 100); // a reduce keeps its place: 200 left
        m.Cut();

        // A buy of 400 at 100 takes id 1's 200, then 200 of id 2; id 3 is untouched.
        var r = m.Buy(4, 400, 100);
        Assert.Equal([(1L, 200L), (2L, 200L)], r.Lots.Select(l => (l.SellOrderId, l.EnergyWh)));
        Assert.Equal([new OrderDoneEvent(1, P(1), OrderDoneReason.Filled, 200, 0), new OrderDoneEvent(4, P(4), OrderDoneReason.Filled, 400, 0)], r.Done);
        Assert.Equal([(2L, 100L), (3L, 300L)], m.Restored.LiveOrders(Slot).Select(o => (o.Order.OrderId, o.RemainingWh)));
        Assert.Equal(ResultCode.Ok, m.Restored.GetDepth(Slot, Product.Standard, 0, out var depth));
        Assert.Equal([new DepthLevel(100, 400, 2)], depth!.Asks);
        m.AssertSameSnapshots();
    }

    [Fact]
    public void A_call_auction_collected_before_the_cut_clears_identically_after_it()
    {
        var m = new Twins();
        for (var i = 1; i <= 6; i++) m.Register(i, 0);
        m.OpenSlot(Slot, Mechanism.CallAuction);
        // As in CallAuctionTests: three equal sells share two steps, which go to the lower order ids, so the
        // restored auction must see its orders in order-id order. A cancelled order and a self-trade besides.
        m.Sell(1, 300, 100);  // id 1
        m.Sell(5, 500, 100);  // id 2: cancelled below, kept not live until the gate
        m.Sell(2, 300, 100);  // id 3
        m.Sell(3, 300, 100);  // id 4
        m.Buy(4, 200, 100);   // id 5
        m.Buy(1, 100, 100);   // id 6: crosses participant 1's own sell, removed at the gate
        m.Cancel(5, 2);
        m.Cut();
        Assert.Equal(ResultCode.BookNotVisible, m.Restored.GetDepth(Slot, Product.Standard, 0, out _));

        var r = m.CloseGate(Slot);
        Assert.Equal([(1L, 100L), (3L, 100L)], r.Lots.Select(l => (l.SellOrderId, l.EnergyWh)));
        Assert.Equal([1L, 2], r.Lots.Select(l => l.LotId));
        Assert.Equal(
            [
                new OrderDoneEvent(6, P(1), OrderDoneReason.SelfTradePrevented, 0, 100),
                new OrderDoneEvent(1, P(1), OrderDoneReason.Expired, 100, 200),
                new OrderDoneEvent(3, P(2), OrderDoneReason.Expired, 100, 200),
                new OrderDoneEvent(4, P(3), OrderDoneReason.Expired, 0, 300),
                new OrderDoneEvent(5, P(4), OrderDoneReason.Filled, 200, 0),
            ],
            r.Done);
        m.AssertSameSnapshots();
    }

    [Fact]
    public void Order_and_lot_ids_go_on_without_gaps()
    {
        var m = new Twins();
        for (var i = 1; i <= 3; i++) m.Register(i, 0);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.Sell(1, 300, 100);             // id 1
        m.Buy(2, 100, 100);              // id 2, lot 1
        m.Buy(3, 100, 100);              // id 3, lot 2
        m.Buy(3, 100, 101, expect: ResultCode.DuplicateClientOrderId, clientOrderId: 1);
        var snapshot = m.Cut();
        Assert.Equal((4L, 3L), (snapshot.NextOrderId, snapshot.NextLotId));
        Assert.Equal((4L, 3L), (m.Restored.NextOrderId, m.Restored.NextLotId));

        var r = m.Buy(2, 200, 100);      // id 4: lot 3 for the last 100 of id 1, 100 rests
        Assert.Equal(4, r.OrderId);
        Assert.Equal(3, Assert.Single(r.Lots).LotId);
        r = m.Sell(3, 100, 100);         // id 5: lot 4
        Assert.Equal((5L, 4L), (r.OrderId, Assert.Single(r.Lots).LotId));
        Assert.Equal((6L, 5L), (m.Restored.NextOrderId, m.Restored.NextLotId));
        m.AssertSameSnapshots();
    }

    public static TheoryData<string> CorruptSnapshots => new()
    {
        "version", "config", "wheeling zone", "participant twice", "slot twice", "gate time", "order out of order",
        "order id not issued", "order in a closed slot", "order in an unknown slot", "unknown participant",
        "client order id missing", "client order id of another order", "filled call auction order", "crossed book",
        "remaining above the order", "field of the other side",
    };

    /// <summary>A snapshot comes from storage: one no engine could have been in is refused, not restored half-right.</summary>
    [Theory, MemberData(nameof(CorruptSnapshots))]
    public void A_snapshot_no_engine_could_have_taken_is_refused(string corruption)
    {
        var m = new Twins();
        for (var i = 1; i <= 3; i++) m.Register(i, 0);
        m.OpenSlot(Slot, Mechanism.Continuous);
        m.OpenSlot(Slot + 1, Mechanism.CallAuction);
        m.OpenSlot(Slot + 2, Mechanism.Continuous);
        m.CloseGate(Slot + 2);
        m.Sell(1, 300, 100);                 // id 1
        m.Buy(2, 200, 90);                   // id 2
        m.Sell(3, 300, 100, slot: Slot + 1); // id 3
        var s = m.Original.Snapshot();
        Assert.Equal(s, MatchingEngine.Restore(s).Snapshot());

        OrderSnapshot Order(int i) => s.Orders[i];
        EngineSnapshot WithOrder(int i, OrderSnapshot o) => s with { Orders = s.Orders.Select((x, k) => k == i ? o : x).ToList() };
        var bad = corruption switch
        {
            "version" => s with { Version = EngineSnapshot.CurrentVersion + 1 },
            "config" => s with { Config = s.Config with { LotStepWh = 0 } },
            "wheeling zone" => s with { Wheeling = new WheelingSnapshot(10, [new WheelingEntry(0, s.Config.MaxZones, 5)]) },
            "participant twice" => s with { Participants = [.. s.Participants, s.Participants[0]] },
            "slot twice" => s with { Slots = [.. s.Slots, s.Slots[0]] },
            "gate time" => s with { Slots = [s.Slots[0] with { GateClosureUnixMs = s.Slots[0].GateClosureUnixMs + 1 }, .. s.Slots.Skip(1)] },
            "order out of order" => s with { Orders = s.Orders.Reverse().ToList() },
            "order id not issued" => WithOrder(2, Order(2) with { OrderId = s.NextOrderId }),
            "order in a closed slot" => WithOrder(0, Order(0) with { Slot = Slot + 2 }),
            "order in an unknown slot" => WithOrder(0, Order(0) with { Slot = Slot + 9 }),
            "unknown participant" => WithOrder(0, Order(0) with { Participant = P(99) }),
            "client order id missing" => s with { ClientOrderIds = s.ClientOrderIds.Skip(1).ToList() },
            "client order id of another order" => WithOrder(0, Order(0) with { ClientOrderId = 2 }),
            "filled call auction order" => WithOrder(2, Order(2) with { RemainingWh = 200, FilledWh = 100 }),
            "crossed book" => WithOrder(1, Order(1) with { LimitPriceTicks = 100 }),
            "remaining above the order" => WithOrder(0, Order(0) with { RemainingWh = 400 }),
            "field of the other side" => WithOrder(0, Order(0) with { Product = Product.Green }),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        Assert.ThrowsAny<ArgumentException>(() => MatchingEngine.Restore(bad));
    }

    /// <summary>
    /// An engine, and from <see cref="Cut"/> on also one restored from its snapshot: every command goes to
    /// both, and both must return the same code and emit the same events. The invariant checker runs on the
    /// original, which has seen every event.
    /// </summary>
    private sealed class Twins
    {
        private readonly List<MatchingEngine> _engines;
        private readonly InvariantChecker _checker;
        private readonly Dictionary<int, ulong> _clientIds = [];

        public Twins(MarketConfig? config = null, WheelingTable? wheeling = null)
        {
            _engines = [new MatchingEngine(config ?? new MarketConfig(), wheeling)];
            _checker = new InvariantChecker(new EngineMarket(Original));
            Now = GateMs(Slot) - 3_600_000;
        }

        public MatchingEngine Original => _engines[0];

        public MatchingEngine Restored => _engines[^1];

        public long Now { get; }

        public long GateMs(long slot) => Original.Config.GateClosureUnixMs(slot);

        /// <summary>Restores an engine from the original's snapshot; from now on every command goes to both.</summary>
        public EngineSnapshot Cut()
        {
            Assert.Single(_engines);
            var snapshot = Original.Snapshot();
            _engines.Add(MatchingEngine.Restore(snapshot));
            Assert.Equal(snapshot, Restored.Snapshot());
            return snapshot;
        }

        public void AssertSameSnapshots()
        {
            var a = Original.Snapshot();
            var b = Restored.Snapshot();
            Assert.Equal(a.Orders, b.Orders);
            Assert.Equal(a.ClientOrderIds, b.ClientOrderIds);
            Assert.Equal(a, b);
        }

        private ResultCode Operator(Func<MatchingEngine, ResultCode> command, ResultCode? expect)
        {
            var codes = _engines.Select(command).ToList();
            Assert.All(codes, c => Assert.Equal(codes[0], c));
            if (expect is { } e) Assert.Equal(e, codes[0]);
            return codes[0];
        }

        public void Register(int n, int zone) => Operator(e => e.RegisterParticipant(P(n), zone, ParticipantKind.Prosumer), ResultCode.Ok);

        public ResultCode OpenSlot(long slot, Mechanism mechanism, ResultCode? expect = ResultCode.Ok) =>
            Operator(e => e.OpenSlot(slot, mechanism, Now), expect);

        public void SetWheeling(WheelingTable table) => Operator(e => e.SetWheelingTable(table), ResultCode.Ok);

        private CommandResult Run(Func<MatchingEngine, IMarketEvents, ResultCode> command, ResultCode? expect)
        {
            var results = _engines.Select(engine =>
            {
                var recorder = new MarketEventRecorder();
                var code = command(engine, recorder);
                return new CommandResult(code, recorder.Events.ToList());
            }).ToList();
            foreach (var other in results.Skip(1))
            {
                Assert.Equal(results[0].Code, other.Code);
                Assert.Equal(results[0].Events, other.Events);
            }
            _checker.AfterCommand(results[0].Events);
            if (expect is { } e) Assert.Equal(e, results[0].Code);
            return results[0];
        }

        private CommandResult Submit(int participant, Side side, long wh, long price, Product product, EnergySource source,
            long slot, ulong? clientOrderId, ResultCode? expect)
        {
            ulong id;
            if (clientOrderId is { } given)
            {
                id = given;
            }
            else
            {
                id = _clientIds.GetValueOrDefault(participant) + 1;
            }
            if (id > _clientIds.GetValueOrDefault(participant)) _clientIds[participant] = id;
            var cmd = new SubmitOrder(P(participant), id, side, slot, wh, price,
                side == Side.Buy ? product : default, side == Side.Sell ? source : default, Now);
            return Run((e, events) => e.Submit(cmd, events), expect);
        }

        public CommandResult Sell(int participant, long wh, long price, EnergySource source = EnergySource.Mixed,
            long slot = Slot, ulong? clientOrderId = null, ResultCode? expect = ResultCode.Ok) =>
            Submit(participant, Side.Sell, wh, price, default, source, slot, clientOrderId, expect);

        public CommandResult Buy(int participant, long wh, long price, Product product = Product.Standard,
            long slot = Slot, ulong? clientOrderId = null, ResultCode? expect = ResultCode.Ok) =>
            Submit(participant, Side.Buy, wh, price, product, default, slot, clientOrderId, expect);

        public CommandResult Cancel(int participant, long orderId) =>
            Run((e, events) => e.Cancel(new CancelOrder(P(participant), orderId, Now), events), ResultCode.Ok);

        public CommandResult Reduce(int participant, long orderId, long byWh) =>
            Run((e, events) => e.Reduce(new ReduceOrder(P(participant), orderId, byWh, Now), events), ResultCode.Ok);

        public CommandResult CloseGate(long slot) => Run((e, events) => e.CloseGate(slot, events), expect: null);
    }
}

/// <summary>
/// One seeded <see cref="CommandStream"/>, as <see cref="Differential"/> runs it (same config, the noise of
/// <see cref="StreamNoise.Snapshot"/>), run on engine A; at a random command A's snapshot is restored into engine B, and from then on every
/// command goes to both: codes, events, ids, slots, live orders, depth and due gates must be equal after
/// each, and the final snapshots equal. Half the streams restore a second time, from B's own snapshot.
/// The stream also registers participants, opens slots and replaces the wheeling table as it goes.
/// </summary>
internal static class SnapshotStream
{
    public sealed record Outcome(
        int Commands,
        int CommandsBeforeCut,
        int Restores,
        int ContinuousOrdersAtCut,
        int AuctionOrdersAtCut,
        int LotsAfterCut,
        int ClearingsAfterCut,
        int DuplicatesRefusedAfterCut,
        int WheelingChanges,
        int SlotsOpenedAfterSetup);

    private static MarketConfig Config => Differential.Config;

    /// <param name="commands">How many commands besides gate closures; 20–150 when not given.</param>
    public static Outcome Execute(int seed, Mechanism? mechanism, int? commands = null) => new Run(seed, mechanism, commands).Execute();

    private sealed class Run(int seed, Mechanism? mechanism, int? commands)
    {
        private readonly CommandStream _stream = new(seed, Config, StreamNoise.Snapshot);
        private readonly StringBuilder _log = new();
        private readonly List<long> _slots = [];
        private readonly List<Address> _participants = [];
        private readonly List<Order> _accepted = [];
        private MatchingEngine _a = null!;
        private EngineMarket _aMarket = null!;
        private MatchingEngine? _b;
        private InvariantChecker _checker = null!;
        private long _now;
        private int _commands, _cutAt, _recutAt, _restores, _setupCommands;
        private int _continuousAtCut, _auctionAtCut, _lotsAfter, _clearingsAfter, _duplicatesAfter, _wheelingChanges, _slotsOpenedLater;

        private static long GateMs(long slot) => Config.GateClosureUnixMs(slot);

        public Outcome Execute()
        {
            var count = commands ?? _stream.Random.Next(20, 151);
            var participants = _stream.Random.Next(3, 8);
            var slotCount = _stream.Random.Next(1, 4);
            // Any command may be the cut, the very first included (an engine that has seen nothing).
            _cutAt = _stream.Random.Next(0, participants + slotCount + count + 1);
            _recutAt = _stream.Chance(0.5) ? _stream.Random.Next(_cutAt, participants + slotCount + count + 1) : -1;
            var table = _stream.RandomTable();
            _a = new MatchingEngine(Config, table);
            _aMarket = new EngineMarket(_a);
            _checker = new InvariantChecker(_aMarket);
            _log.AppendLine($"seed {seed}, cut before command #{_cutAt + 1}, again before #{_recutAt + 1}, table {CommandStream.Describe(table)}");

            for (var i = 0; i < participants; i++) Register(noise: false);
            _now = GateMs(Differential.FirstSlot) - _stream.Random.Next(600, 1800) * 1000L;
            for (var i = 0; i < slotCount; i++) OpenSlot();
            _setupCommands = _commands;

            // The clock runs to a little past the last slot's gate, so that most commands meet an open slot.
            var meanStepMs = (GateMs(_slots[^1]) + 30_000 - _now) / count;
            for (var i = 0; i < count; i++)
            {
                _now += _stream.Random.NextInt64(0, 2 * meanStepMs);
                foreach (var slot in _a.SlotsDueForGateClosure(_now))
                {
                    if (_stream.Chance(0.6)) CloseGate(slot);
                }
                if (_stream.Chance(0.4 / count)) CloseGate(_stream.Chance(0.1) ? 9_999 : _stream.Pick(_slots));
                NextCommand();
            }
            foreach (var slot in _slots) CloseGate(slot);
            if (_b is null) Cut();

            var finalA = _a.Snapshot();
            var finalB = _b!.Snapshot();
            if (!finalA.Equals(finalB)) throw Failure($"final snapshots differ\n A: {Describe(finalA)}\n B: {Describe(finalB)}");
            return new Outcome(_commands, _cutAt, _restores, _continuousAtCut, _auctionAtCut, _lotsAfter, _clearingsAfter,
                _duplicatesAfter, _wheelingChanges, _slotsOpenedLater);
        }

        /// <summary>B from A's snapshot at the first cut; at the second, B again from B's own snapshot.</summary>
        private void Cut()
        {
            var source = _b ?? _a;
            var snapshot = source.Snapshot();
            if (_b is not null && !snapshot.Equals(_a.Snapshot()))
                throw Failure($"before the second restore, B's snapshot differs from A's\n A: {Describe(_a.Snapshot())}\n B: {Describe(snapshot)}");
            if (_b is null)
            {
                foreach (var o in snapshot.Orders)
                {
                    _a.TryGetSlot(o.Slot, out var info);
                    if (info.Mechanism == Mechanism.Continuous) _continuousAtCut++;
                    else _auctionAtCut++;
                }
            }
            MatchingEngine restored;
            try
            {
                restored = MatchingEngine.Restore(snapshot);
            }
            catch (Exception ex)
            {
                throw Failure($"restore threw {ex}");
            }
            var again = restored.Snapshot();
            if (!again.Equals(snapshot)) throw Failure($"a restored engine snapshots differently\n taken:    {Describe(snapshot)}\n restored: {Describe(again)}");
            if (!source.Snapshot().Equals(snapshot)) throw Failure("taking a snapshot changed the engine");
            _b = restored;
            _restores++;
            _log.AppendLine($"--- restored ({_restores}): {Describe(snapshot)}");
            CompareState("restore");
        }

        private static string Describe(EngineSnapshot s) =>
            $"v{s.Version} next order {s.NextOrderId} next lot {s.NextLotId}; wheeling {s.Wheeling.DefaultFeeTicks} " +
            $"[{string.Join(" ", s.Wheeling.Entries)}]; participants [{string.Join(" ", s.Participants)}]; slots [{string.Join(" ", s.Slots)}];\n" +
            $"   orders\n     {string.Join("\n     ", s.Orders)}\n   client order ids [{string.Join(" ", s.ClientOrderIds.Select(e => $"{e.OrderId}:{e.ClientOrderId}"))}]";

        private void NextCommand()
        {
            var roll = _stream.Random.NextDouble();
            if (roll < 0.015) SetWheelingTable();
            else if (roll < 0.035) Register(noise: true);
            else if (roll < 0.05) OpenSlot();
            else if (roll < 0.18 && _accepted.Count > 0) Cancel();
            else if (roll < 0.26 && _accepted.Count > 0) Reduce();
            else Submit();
        }

        private void SetWheelingTable()
        {
            // Mostly a valid table; sometimes one of the wrong size or with a fee above the band, refused.
            var table = _stream.Random.NextDouble() switch
            {
                < 0.05 => WheelingTable.Uniform(Config.MaxZones + 1, 1),
                < 0.1 => WheelingTable.Uniform(Config.MaxZones, Config.MaxPriceTicks + 1),
                _ => _stream.RandomTable(),
            };
            if (Operator($"set wheeling table {CommandStream.Describe(table)}", e => e.SetWheelingTable(table)) == ResultCode.Ok) _wheelingChanges++;
        }

        /// <param name="noise">Sometimes one already registered, or a zone outside the market's (both refused).</param>
        private void Register(bool noise)
        {
            var zone = _stream.Random.Next(Config.MaxZones);
            var address = TestMarket.P(_participants.Count + 1);
            if (noise && _stream.Chance(0.1)) address = _stream.Pick(_participants);
            if (noise && _stream.Chance(0.05)) zone = Config.MaxZones;
            if (Operator($"register {address} zone {zone}", e => e.RegisterParticipant(address, zone, ParticipantKind.Household)) == ResultCode.Ok)
            {
                _participants.Add(address);
            }
        }

        private void OpenSlot()
        {
            var slot = _slots.Count > 0 && _stream.Chance(0.1) ? _stream.Pick(_slots) : Differential.FirstSlot + _slots.Count;
            var m = mechanism ?? (_stream.Chance(0.5) ? Mechanism.Continuous : Mechanism.CallAuction);
            if (Operator($"open {slot} {m}, gate {GateMs(slot)}", e => e.OpenSlot(slot, m, _now)) == ResultCode.Ok)
            {
                _slots.Add(slot);
                if (_setupCommands > 0) _slotsOpenedLater++;
            }
        }

        private void Submit()
        {
            var cmd = _stream.Submit(_aMarket, _participants, _slots, _now);
            Compare($"submit {cmd}", (e, events) => e.Submit(cmd, events));
        }

        private void Cancel()
        {
            var cmd = _stream.Cancel(_aMarket, _participants, _slots, _accepted, _now);
            Compare($"cancel {cmd}", (e, events) => e.Cancel(cmd, events));
        }

        private void Reduce()
        {
            var cmd = _stream.Reduce(_aMarket, _participants, _slots, _accepted, _now);
            Compare($"reduce {cmd}", (e, events) => e.Reduce(cmd, events));
        }

        private void CloseGate(long slot) => Compare($"close gate {slot}", (e, events) => e.CloseGate(slot, events));

        private void CutIfDue()
        {
            if (_commands == _cutAt && _b is null) Cut();
            else if (_commands == _recutAt && _b is not null && _restores == 1) Cut();
        }

        /// <summary>An operator command: a code, no events.</summary>
        private ResultCode Operator(string what, Func<MatchingEngine, ResultCode> command) =>
            Compare(what, (e, _) => command(e));

        private ResultCode Compare(string what, Func<MatchingEngine, IMarketEvents, ResultCode> command)
        {
            CutIfDue();
            _commands++;
            _log.AppendLine($"#{_commands} t={_now} {what}");
            var aEvents = new MarketEventRecorder();
            var bEvents = new MarketEventRecorder();
            ResultCode aCode, bCode = default;
            try
            {
                aCode = command(_a, aEvents);
                if (_b is not null) bCode = command(_b, bEvents);
            }
            catch (Exception ex)
            {
                throw Failure($"{what} threw {ex}");
            }
            var a = aEvents.Events;
            foreach (var e in a)
            {
                _log.Append("    ").Append(e).AppendLine();
                if (e is OrderAcceptedEvent acc) _accepted.Add(acc.Order);
            }
            try
            {
                _checker.AfterCommand(a);
            }
            catch (InvariantException ex)
            {
                throw Failure($"{what}: invariant broken on A: {ex.Message}");
            }
            if (_b is null) return aCode;

            if (aCode != bCode) throw Failure($"{what}: A returned {aCode}, B {bCode}");
            var b = bEvents.Events;
            if (!a.SequenceEqual(b))
            {
                var i = Enumerable.Range(0, Math.Max(a.Count, b.Count)).First(k => k >= a.Count || k >= b.Count || !Equals(a[k], b[k]));
                throw Failure($"{what}: event {i} differs\n A: {(i < a.Count ? a[i] : "(none)")}\n B: {(i < b.Count ? b[i] : "(none)")}\n" +
                    $"B's events:\n  {string.Join("\n  ", b)}");
            }
            _lotsAfter += a.Count(e => e is LotCreatedEvent);
            _clearingsAfter += a.Count(e => e is SlotClearedEvent { Result.Cleared: true });
            if (aCode == ResultCode.DuplicateClientOrderId) _duplicatesAfter++;
            CompareState(what);
            return aCode;
        }

        private void CompareState(string what)
        {
            var b = _b!;
            Same($"{what}: next order id", _a.NextOrderId, b.NextOrderId);
            Same($"{what}: next lot id", _a.NextLotId, b.NextLotId);
            SameList($"{what}: participants", _a.Participants, b.Participants);
            SameList($"{what}: slots", _a.Slots.ToList(), b.Slots.ToList());
            SameList($"{what}: due gates", _a.SlotsDueForGateClosure(_now), b.SlotsDueForGateClosure(_now));
            foreach (var slot in _slots)
            {
                SameList($"{what}: live orders of {slot}", _a.LiveOrders(slot), b.LiveOrders(slot));
                foreach (var product in new[] { Product.Standard, Product.Green })
                {
                    var ca = _a.GetDepth(slot, product, 0, out var da);
                    var cb = b.GetDepth(slot, product, 0, out var db);
                    Same($"{what}: depth code {slot} {product}", ca, cb);
                    if (da is null || db is null)
                    {
                        Same($"{what}: depth {slot} {product} shown", da is null, db is null);
                        continue;
                    }
                    SameList($"{what}: bids {slot} {product}", da.Bids, db.Bids);
                    SameList($"{what}: asks {slot} {product}", da.Asks, db.Asks);
                }
            }
        }

        private void SameList<T>(string what, IReadOnlyList<T> a, IReadOnlyList<T> b)
        {
            if (!a.SequenceEqual(b))
            {
                throw Failure($"{what}:\n A: {string.Join("\n    ", a)}\n B: {string.Join("\n    ", b)}");
            }
        }

        private void Same<T>(string what, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b)) throw Failure($"{what}: A {a}, B {b}");
        }

        private DifferentialException Failure(string message) =>
            new($"seed {seed}, command #{_commands} (cut before #{_cutAt + 1}, restores {_restores}): {message}\n--- log ---\n{_log}");
    }
}
