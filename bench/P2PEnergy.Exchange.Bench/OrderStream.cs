using P2PEnergy.Exchange;

namespace P2PEnergy.Exchange.Bench;

/// <summary>One command of the benchmark stream: a submit, or a cancel of an earlier order.</summary>
internal readonly record struct StreamCommand(bool IsCancel, SubmitOrder Submit, CancelOrder Cancel);

/// <summary>
/// The benchmark stream, seeded: 50/50 buy/sell, prices uniform over a band of 100 ticks,
/// quantities 1–100 lot steps, about 10 % cancels of earlier orders that are still resting.
/// Cancels are chosen by running the stream through an engine while it is generated, so every cancel
/// names an order that really rests at that point (the engine is deterministic, so it does again).
/// </summary>
internal static class OrderStream
{
    public const long Slot = 1_000_000; // far in the future of the timestamps used
    public const long BasePrice = 2_000; // 20.00 JPY/kWh
    public const int PriceBand = 100;
    public const long Now = 1_000;

    public static MarketConfig Config(int capacity) => new() { InitialOrderCapacity = capacity };

    public static Address[] Participants(int count)
    {
        var result = new Address[count];
        Span<byte> bytes = stackalloc byte[Address.Length];
        for (var i = 0; i < count; i++)
        {
            bytes.Clear();
            BitConverter.TryWriteBytes(bytes[12..], (long)i + 1);
            result[i] = Address.FromBytes(bytes);
        }
        return result;
    }

    public static MatchingEngine NewEngine(Address[] participants, Mechanism mechanism, int capacity)
    {
        var engine = new MatchingEngine(Config(capacity));
        for (var i = 0; i < participants.Length; i++)
        {
            Check(engine.RegisterParticipant(participants[i], i % 4, ParticipantKind.Household));
        }
        Check(engine.OpenSlot(Slot, mechanism, Now));
        return engine;
    }

    public static StreamCommand[] Generate(int orders, Address[] participants, int seed, Mechanism mechanism)
    {
        var random = new Random(seed);
        var engine = NewEngine(participants, mechanism, orders);
        var commands = new StreamCommand[orders];
        var resting = new List<(long OrderId, Address Owner)>();
        var nextClientId = new ulong[participants.Length];
        for (var i = 0; i < orders; i++)
        {
            if (resting.Count > 0 && random.Next(10) == 0)
            {
                // Pick a random earlier order; drop those that are no longer live until one is.
                while (resting.Count > 0)
                {
                    var k = random.Next(resting.Count);
                    var (id, owner) = resting[k];
                    resting[k] = resting[^1];
                    resting.RemoveAt(resting.Count - 1);
                    if (engine.TryGetOrder(id, out _))
                    {
                        var cancel = new CancelOrder(owner, id, Now);
                        Check(engine.Cancel(cancel, NoMarketEvents.Instance));
                        commands[i] = new StreamCommand(true, default, cancel);
                        break;
                    }
                }
                if (commands[i].IsCancel) continue;
            }
            var p = random.Next(participants.Length);
            var side = random.Next(2) == 0 ? Side.Buy : Side.Sell;
            var submit = new SubmitOrder(
                participants[p],
                ++nextClientId[p],
                side,
                Slot,
                (random.Next(100) + 1) * 100L,
                BasePrice + random.Next(PriceBand),
                Product.Standard,
                EnergySource.Mixed,
                Now);
            var orderId = engine.NextOrderId;
            Check(engine.Submit(submit, NoMarketEvents.Instance));
            if (engine.TryGetOrder(orderId, out _))
            {
                resting.Add((orderId, participants[p]));
            }
            commands[i] = new StreamCommand(false, submit, default);
        }
        return commands;
    }

    public static void Check(ResultCode code)
    {
        if (code != ResultCode.Ok) throw new InvalidOperationException($"benchmark setup refused: {code}");
    }
}

/// <summary>Counts what comes out, so that nothing can be optimised away, and allocates nothing.</summary>
internal sealed class CountingEvents : IMarketEvents
{
    public long Accepted;
    public long Rejected;
    public long Lots;
    public long LotWh;
    public long Done;

    public void OrderAccepted(in Order order) => Accepted++;
    public void OrderRejected(Address participant, ulong clientOrderId, long orderId, ResultCode code) => Rejected++;
    public void LotCreated(in Lot lot)
    {
        Lots++;
        LotWh += lot.EnergyWh;
    }
    public void OrderDone(long orderId, Address participant, OrderDoneReason reason, long filledWh, long releasedWh) => Done++;
    public void OrderReduced(long orderId, Address participant, long remainingWh) { }
    public void SlotCleared(in ClearingResult result) { }
    public void GateClosed(long slot, Mechanism mechanism) { }
}
