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
        private readonly CommandStream _stream = new(seed, Config, StreamNoise.Differential);
        private readonly StringBuilder _log = new();
        private readonly List<long> _slots = [];
        private readonly List<Address> _participants = [];
        private readonly List<Order> _accepted = [];
        private EngineMarket _engine = null!;
        private ReferenceEngine _reference = null!;
        private InvariantChecker _engineChecker = null!;
        private InvariantChecker _referenceChecker = null!;
        private long _now;
        private readonly Dictionary<ResultCode, int> _codes = [];
        private int _commands, _rejected, _lots, _closures;

        private static long GateMs(long slot) => (slot * Config.SlotSeconds - Config.GateLeadSeconds) * 1000L;

        public Outcome Execute()
        {
            var zones = _stream.Random.Next(2, 5);
            var table = _stream.RandomTable();
            _engine = new EngineMarket(Config, table);
            _reference = new ReferenceEngine(Config, table);
            _engineChecker = new InvariantChecker(_engine);
            _referenceChecker = new InvariantChecker(_reference);
            _log.AppendLine($"seed {seed}, zones {zones}, table {CommandStream.Describe(table)}");

            var participants = _stream.Random.Next(3, 8);
            for (var i = 1; i <= participants; i++)
            {
                var address = TestMarket.P(i);
                var zone = _stream.Random.Next(zones);
                Same($"register {i} zone {zone}", _engine.RegisterParticipant(address, zone, ParticipantKind.Prosumer),
                    _reference.RegisterParticipant(address, zone, ParticipantKind.Prosumer));
                _participants.Add(address);
                _log.AppendLine($"participant {i} = {address} zone {zone}");
            }

            var slotCount = _stream.Random.Next(1, 4);
            _now = GateMs(FirstSlot) - _stream.Random.Next(600, 1800) * 1000L;
            for (var i = 0; i < slotCount; i++)
            {
                var slot = FirstSlot + i;
                var m = mechanism ?? (_stream.Chance(0.5) ? Mechanism.Continuous : Mechanism.CallAuction);
                Same($"open {slot} {m}", _engine.OpenSlot(slot, m, _now), _reference.OpenSlot(slot, m, _now));
                _slots.Add(slot);
                _log.AppendLine($"open slot {slot} {m}, gate {GateMs(slot)}");
            }

            var count = commands ?? _stream.Random.Next(20, 121);
            // The clock runs to a little past the last slot's gate, so that most commands meet an open slot.
            var meanStepMs = (GateMs(_slots[^1]) + 30_000 - _now) / count;
            for (var i = 0; i < count; i++)
            {
                _now += _stream.Random.NextInt64(0, 2 * meanStepMs);
                var dueEngine = _engine.SlotsDueForGateClosure(_now);
                SameList("due gates", dueEngine, _reference.SlotsDueForGateClosure(_now));
                foreach (var slot in dueEngine)
                {
                    // Usually the operator closes a due gate at once; sometimes late, so that commands meet the
                    // timestamp check first.
                    if (_stream.Chance(0.6)) CloseGate(slot);
                }
                if (_stream.Chance(0.4 / count)) CloseGate(_stream.Chance(0.1) ? 9_999 : _stream.Pick(_slots));
                NextCommand();
            }
            foreach (var slot in _slots) CloseGate(slot);
            return new Outcome(_commands, _accepted.Count, _rejected, _lots, _closures, _codes);
        }

        private void NextCommand()
        {
            if (_stream.Chance(0.01))
            {
                // The operator replaces the wheeling table: lots made from now on use the new one.
                var table = _stream.RandomTable();
                Same("set wheeling table", _engine.SetWheelingTable(table), _reference.SetWheelingTable(table));
                _log.AppendLine($"wheeling table {CommandStream.Describe(table)}");
            }

            var roll = _stream.Random.NextDouble();
            if (roll < 0.13 && _accepted.Count > 0) Cancel();
            else if (roll < 0.21 && _accepted.Count > 0) Reduce();
            else Submit();
        }

        private void Submit()
        {
            var cmd = _stream.Submit(_reference, _participants, _slots, _now);
            Compare($"submit {cmd}", e => _engine.Submit(cmd, e), e => _reference.Submit(cmd, e));
        }

        private void Cancel()
        {
            var cmd = _stream.Cancel(_reference, _participants, _slots, _accepted, _now);
            Compare($"cancel {cmd}", e => _engine.Cancel(cmd, e), e => _reference.Cancel(cmd, e));
        }

        private void Reduce()
        {
            var cmd = _stream.Reduce(_reference, _participants, _slots, _accepted, _now);
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
