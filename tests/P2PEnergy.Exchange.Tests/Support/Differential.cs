using System.Text;
using P2PEnergy.Exchange.Tests.Reference;

namespace P2PEnergy.Exchange.Tests.Support;

/// <summary>
/// Runs one seeded random command stream through the engine and the reference side by side: after every
/// command the result codes, the whole event lists, ids, live orders, depth and due gates must be equal,
/// and the invariants must hold on both.
/// </summary>
public static class Differential
{
    /// <summary>A small price band so that brute force over every tick is cheap and crossing is frequent.</summary>
    public static readonly MarketConfig Config = new()
    {
        LotStepWh = 100,
        MinPriceTicks = 1,
        MaxPriceTicks = 300,
        MaxOrderWh = 2_000,
        MaxZones = 4,
    };

    public const long FirstSlot = 1_000;

    public sealed record Outcome(int Commands, int Accepted, int Rejected, int Lots, int GateClosures, IReadOnlyDictionary<ResultCode, int> Codes);

    private sealed class Run(int seed, Mechanism? mechanism, int? commands)
    {
        private readonly Random _rnd = new(seed);
        private readonly StringBuilder _log = new();
        private readonly List<long> _slots = [];
        private readonly List<Address> _participants = [];
        private readonly Dictionary<Address, ulong> _clientIds = [];
        private readonly List<Order> _accepted = [];
        private EngineMarket _engine = null!;
        private ReferenceEngine _reference = null!;
        private InvariantChecker _engineChecker = null!;
        private InvariantChecker _referenceChecker = null!;
        private long _now;
        private readonly Dictionary<ResultCode, int> _codes = [];
        private int _commands, _rejected, _lots, _closures;

        private bool Chance(double p) => _rnd.NextDouble() < p;

        private T Pick<T>(IReadOnlyList<T> xs) => xs[_rnd.Next(xs.Count)];

        private static long GateMs(long slot) => (slot * Config.SlotSeconds - Config.GateLeadSeconds) * 1000L;

        public Outcome Execute()
        {
            var zones = _rnd.Next(2, 5);
            var table = RandomTable();
            _engine = new EngineMarket(Config, table);
            _reference = new ReferenceEngine(Config, table);
            _engineChecker = new InvariantChecker(_engine);
            _referenceChecker = new InvariantChecker(_reference);
            _log.AppendLine($"seed {seed}, zones {zones}, table [{string.Join(" ", table.Entries().Select(e => $"{e.SellerZone}>{e.BuyerZone}:{e.FeeTicks}"))}]");

            var participants = _rnd.Next(3, 8);
            for (var i = 1; i <= participants; i++)
            {
                var address = TestMarket.P(i);
                var zone = _rnd.Next(zones);
                Same($"register {i} zone {zone}", _engine.RegisterParticipant(address, zone, ParticipantKind.Prosumer),
                    _reference.RegisterParticipant(address, zone, ParticipantKind.Prosumer));
                _participants.Add(address);
                _log.AppendLine($"participant {i} = {address} zone {zone}");
            }

            var slotCount = _rnd.Next(1, 4);
            _now = GateMs(FirstSlot) - _rnd.Next(600, 1800) * 1000L;
            for (var i = 0; i < slotCount; i++)
            {
                var slot = FirstSlot + i;
                var m = mechanism ?? (Chance(0.5) ? Mechanism.Continuous : Mechanism.CallAuction);
                Same($"open {slot} {m}", _engine.OpenSlot(slot, m, _now), _reference.OpenSlot(slot, m, _now));
                _slots.Add(slot);
                _log.AppendLine($"open slot {slot} {m}, gate {GateMs(slot)}");
            }

            var count = commands ?? _rnd.Next(20, 121);
            // The clock runs to a little past the last slot's gate, so that most commands meet an open slot.
            var meanStepMs = (GateMs(_slots[^1]) + 30_000 - _now) / count;
            for (var i = 0; i < count; i++)
            {
                _now += _rnd.NextInt64(0, 2 * meanStepMs);
                var dueEngine = _engine.SlotsDueForGateClosure(_now);
                SameList("due gates", dueEngine, _reference.SlotsDueForGateClosure(_now));
                foreach (var slot in dueEngine)
                {
                    // Usually the operator closes a due gate at once; sometimes late, so that commands meet the
                    // timestamp check first.
                    if (Chance(0.6)) CloseGate(slot);
                }
                if (Chance(0.4 / count)) CloseGate(Chance(0.1) ? 9_999 : Pick(_slots));
                NextCommand();
            }
            foreach (var slot in _slots) CloseGate(slot);
            return new Outcome(_commands, _accepted.Count, _rejected, _lots, _closures, _codes);
        }

        /// <summary>Small fees, so that equal fees (and so order-id priority) are common; rarely a non-zero fee within a zone.</summary>
        private WheelingTable RandomTable()
        {
            var randomDiagonal = Chance(0.1);
            var entries = new List<WheelingEntry>();
            for (var s = 0; s < Config.MaxZones; s++)
            {
                for (var b = 0; b < Config.MaxZones; b++)
                {
                    if (s != b || randomDiagonal) entries.Add(new WheelingEntry(s, b, _rnd.Next(0, 4)));
                }
            }
            return WheelingTable.Build(Config.MaxZones, 1, entries);
        }

        private void NextCommand()
        {
            if (Chance(0.01))
            {
                // The operator replaces the wheeling table: lots made from now on use the new one.
                var table = RandomTable();
                Same("set wheeling table", _engine.SetWheelingTable(table), _reference.SetWheelingTable(table));
                _log.AppendLine($"wheeling table [{string.Join(" ", table.Entries().Select(e => $"{e.SellerZone}>{e.BuyerZone}:{e.FeeTicks}"))}]");
            }

            var roll = _rnd.NextDouble();
            if (roll < 0.13 && _accepted.Count > 0) Cancel();
            else if (roll < 0.21 && _accepted.Count > 0) Reduce();
            else Submit();
        }

        private Address SomeParticipant()
        {
            if (Chance(0.01)) return Address.Zero;
            if (Chance(0.02)) return TestMarket.P(200);
            return Pick(_participants);
        }

        private void Submit()
        {
            var participant = SomeParticipant();
            _clientIds.TryGetValue(participant, out var lastClientId);
            var clientId = Chance(0.03) && lastClientId > 0 ? (ulong)_rnd.NextInt64(1, (long)lastClientId + 1) : lastClientId + 1;
            if (clientId > lastClientId) _clientIds[participant] = clientId;

            var side = Chance(0.01) ? (Side)_rnd.Next(0, 4) : Chance(0.5) ? Side.Buy : Side.Sell;
            // The field that does not apply to the side is noise, including invalid values: it must be ignored.
            var product = Chance(0.01) ? (Product)9 : Chance(0.4) ? Product.Green : Product.Standard;
            var source = Chance(0.01) ? (EnergySource)0 : Chance(0.5) ? EnergySource.Renewable : EnergySource.Mixed;
            if (side == Side.Sell && Chance(0.5)) product = (Product)_rnd.Next(0, 10);
            if (side == Side.Buy && Chance(0.5)) source = (EnergySource)_rnd.Next(0, 10);

            var wh = _rnd.Next(1, 21) * Config.LotStepWh;
            var badWh = _rnd.NextDouble();
            if (badWh < 0.01) wh = 0;
            else if (badWh < 0.02) wh = -Config.LotStepWh;
            else if (badWh < 0.03) wh += Config.LotStepWh / 2;
            else if (badWh < 0.04) wh = Config.MaxOrderWh + Config.LotStepWh;

            long price = Chance(0.1) ? _rnd.Next(80, 121) : _rnd.Next(95, 106);
            var badPrice = _rnd.NextDouble();
            if (badPrice < 0.01) price = Config.MinPriceTicks - 1;
            else if (badPrice < 0.02) price = Config.MaxPriceTicks + 1;
            else if (badPrice < 0.03) price = Config.MaxPriceTicks; // edges of the band are valid
            else if (badPrice < 0.04) price = Config.MinPriceTicks;

            // Mostly slots still open, so that most orders are accepted; sometimes one past its gate.
            var open = _slots.Where(x => _reference.TryGetSlot(x, out var info) && info.Phase == SlotPhase.Open && _now < info.GateClosureUnixMs).ToList();
            var slot = Chance(0.03) ? 7_777 : open.Count > 0 && Chance(0.9) ? Pick(open) : Pick(_slots);
            var cmd = new SubmitOrder(participant, clientId, side, slot, wh, price, product, source, _now);
            Compare($"submit {cmd}", e => _engine.Submit(cmd, e), e => _reference.Submit(cmd, e));
        }

        private void Cancel()
        {
            // Mostly live orders; sometimes any earlier order, finished or not.
            var live = _slots.SelectMany(s => _reference.LiveOrders(s)).Select(s => s.Order).ToList();
            var target = live.Count > 0 && Chance(0.75) ? Pick(live) : Pick(_accepted);
            var id = Chance(0.05) ? _engine.NextOrderId + 3 : target.OrderId;
            var who = Chance(0.85) ? target.Participant : SomeParticipant();
            var cmd = new CancelOrder(who, id, _now);
            Compare($"cancel {cmd}", e => _engine.Cancel(cmd, e), e => _reference.Cancel(cmd, e));
        }

        private void Reduce()
        {
            // Mostly live orders, so that most reductions are accepted.
            var live = _slots.SelectMany(s => _reference.LiveOrders(s)).ToList();
            Order target;
            long remaining;
            if (live.Count > 0 && Chance(0.85))
            {
                var s = Pick(live);
                (target, remaining) = (s.Order, s.RemainingWh);
            }
            else
            {
                target = Pick(_accepted);
                remaining = target.EnergyWh;
            }
            var steps = remaining / Config.LotStepWh;
            var by = _rnd.NextDouble() switch
            {
                < 0.75 => _rnd.NextInt64(1, Math.Max(2, steps)) * Config.LotStepWh,
                < 0.85 => remaining,
                < 0.9 => 0,
                < 0.95 => Config.LotStepWh / 2,
                _ => -Config.LotStepWh,
            };
            var who = Chance(0.9) ? target.Participant : SomeParticipant();
            var cmd = new ReduceOrder(who, target.OrderId, by, _now);
            Compare($"reduce {cmd}", e => _engine.Reduce(cmd, e), e => _reference.Reduce(cmd, e));
        }

        private void CloseGate(long slot)
        {
            var code = Compare($"close gate {slot}", e => _engine.CloseGate(slot, e), e => _reference.CloseGate(slot, e));
            if (code == ResultCode.Ok) _closures++;
        }

        private ResultCode Compare(string what, Func<IMarketEvents, ResultCode> onEngine, Func<IMarketEvents, ResultCode> onReference)
        {
            _commands++;
            _log.AppendLine($"#{_commands} t={_now} {what}");
            var engineEvents = new MarketEventRecorder();
            var referenceEvents = new MarketEventRecorder();
            ResultCode engineCode, referenceCode;
            try
            {
                engineCode = onEngine(engineEvents);
                referenceCode = onReference(referenceEvents);
            }
            catch (Exception ex)
            {
                throw Failure($"{what} threw {ex}");
            }
            Same(what, engineCode, referenceCode);
            var a = engineEvents.Events;
            var b = referenceEvents.Events;
            if (!a.SequenceEqual(b))
            {
                var i = Enumerable.Range(0, Math.Max(a.Count, b.Count)).First(k => k >= a.Count || k >= b.Count || !Equals(a[k], b[k]));
                throw Failure($"{what}: event {i} differs\n engine:    {(i < a.Count ? a[i] : "(none)")}\n reference: {(i < b.Count ? b[i] : "(none)")}\n" +
                    $"engine events:\n  {string.Join("\n  ", a)}\nreference events:\n  {string.Join("\n  ", b)}");
            }
            foreach (var e in a)
            {
                _log.Append("    ").Append(e).AppendLine();
                if (e is OrderAcceptedEvent acc) _accepted.Add(acc.Order);
                if (e is LotCreatedEvent) _lots++;
            }
            if (engineCode != ResultCode.Ok) _rejected++;
            _codes[engineCode] = _codes.GetValueOrDefault(engineCode) + 1;
            try
            {
                _engineChecker.AfterCommand(a);
                _referenceChecker.AfterCommand(b);
            }
            catch (InvariantException ex)
            {
                throw Failure($"{what}: invariant broken: {ex.Message}");
            }
            CompareState(what);
            return engineCode;
        }

        private void CompareState(string what)
        {
            Same($"{what}: next order id", _engine.NextOrderId, _reference.NextOrderId);
            Same($"{what}: next lot id", _engine.NextLotId, _reference.NextLotId);
            SameList($"{what}: slots", _engine.Slots.ToList(), _reference.Slots.ToList());
            foreach (var slot in _slots)
            {
                SameList($"{what}: live orders of {slot}", _engine.LiveOrders(slot), _reference.LiveOrders(slot));
                foreach (var product in new[] { Product.Standard, Product.Green })
                {
                    var ce = _engine.GetDepth(slot, product, 3, out var de);
                    var cr = _reference.GetDepth(slot, product, 3, out var dr);
                    Same($"{what}: depth code {slot} {product}", ce, cr);
                    if (de is null || dr is null)
                    {
                        Same($"{what}: depth {slot} {product} shown", de is null, dr is null);
                        continue;
                    }
                    SameList($"{what}: bids {slot} {product}", de.Bids, dr.Bids);
                    SameList($"{what}: asks {slot} {product}", de.Asks, dr.Asks);
                }
            }
        }

        private void SameList<T>(string what, IReadOnlyList<T> engine, IReadOnlyList<T> reference)
        {
            if (!engine.SequenceEqual(reference))
            {
                throw Failure($"{what}:\n engine:    {string.Join("\n            ", engine)}\n reference: {string.Join("\n            ", reference)}");
            }
        }

        private void Same<T>(string what, T engine, T reference)
        {
            if (!EqualityComparer<T>.Default.Equals(engine, reference))
            {
                throw Failure($"{what}: engine {engine}, reference {reference}");
            }
        }

        private DifferentialException Failure(string message) =>
            new($"seed {seed}, command #{_commands}: {message}\n--- log ---\n{_log}");
    }

    /// <param name="commands">How many commands besides gate closures; 20–120 when not given.</param>
    public static Outcome Execute(int seed, Mechanism? mechanism, int? commands = null) => new Run(seed, mechanism, commands).Execute();
}

public sealed class DifferentialException(string message) : Exception(message);
