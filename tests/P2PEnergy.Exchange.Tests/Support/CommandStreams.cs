using P2PEnergy.Exchange.Tests.Reference;

namespace P2PEnergy.Exchange.Tests.Support;

/// <summary>
/// Where the random streams of <see cref="Differential"/> and of the snapshot tests differ; the rest of
/// the generator is theirs alike.
/// </summary>
/// <param name="RepeatedClientIdChance">How often a submit reuses one of its participant's earlier client order ids.</param>
/// <param name="ValidationNoise">
/// Also negative quantities, zero and negative reductions, and prices on the band's edges: the differential
/// stream checks validation against the reference; the snapshot stream checks restores and leaves them out.
/// </param>
/// <param name="SparseTables">Wheeling tables with only some pairs set and a random default fee across zones.</param>
internal sealed record StreamNoise(double RepeatedClientIdChance, bool ValidationNoise, bool SparseTables)
{
    public static readonly StreamNoise Differential = new(0.03, ValidationNoise: true, SparseTables: false);

    /// <summary>More repeated client ids: ids taken before the cut must still be refused after it.</summary>
    public static readonly StreamNoise Snapshot = new(0.08, ValidationNoise: false, SparseTables: true);
}

/// <summary>
/// The seeded random command stream: one <see cref="Random"/>, drawn from in a fixed order, so that a seed
/// names a whole stream. The caller keeps the market, its participants, slots and accepted orders, and
/// hands them in; the stream keeps only the client order ids it has issued.
/// </summary>
internal sealed class CommandStream(int seed, MarketConfig config, StreamNoise noise)
{
    private readonly Dictionary<Address, ulong> _clientIds = [];

    public Random Random { get; } = new(seed);

    public bool Chance(double p) => Random.NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> xs) => xs[Random.Next(xs.Count)];

    /// <summary>Small fees, so that equal fees (and so order-id priority) are common; rarely a non-zero fee within a zone.</summary>
    public WheelingTable RandomTable()
    {
        var randomDiagonal = Chance(0.1);
        var entries = new List<WheelingEntry>();
        for (var s = 0; s < config.MaxZones; s++)
        {
            for (var b = 0; b < config.MaxZones; b++)
            {
                if ((s != b || randomDiagonal) && (!noise.SparseTables || Chance(0.7))) entries.Add(new WheelingEntry(s, b, Random.Next(0, 4)));
            }
        }
        return WheelingTable.Build(config.MaxZones, noise.SparseTables ? Random.Next(0, 4) : 1, entries);
    }

    public static string Describe(WheelingTable table) =>
        $"[{string.Join(" ", table.Entries().Select(e => $"{e.SellerZone}>{e.BuyerZone}:{e.FeeTicks}"))}]";

    /// <summary>Mostly a registered participant; rarely the zero address or one never registered.</summary>
    public Address SomeParticipant(IReadOnlyList<Address> participants)
    {
        if (Chance(0.01)) return Address.Zero;
        if (Chance(0.02)) return TestMarket.P(200);
        return Pick(participants);
    }

    public SubmitOrder Submit(IMarket market, IReadOnlyList<Address> participants, IReadOnlyList<long> slots, long now)
    {
        var participant = SomeParticipant(participants);
        _clientIds.TryGetValue(participant, out var lastClientId);
        var clientId = Chance(noise.RepeatedClientIdChance) && lastClientId > 0 ? (ulong)Random.NextInt64(1, (long)lastClientId + 1) : lastClientId + 1;
        if (clientId > lastClientId) _clientIds[participant] = clientId;

        var side = Chance(0.01) ? (Side)Random.Next(0, 4) : Chance(0.5) ? Side.Buy : Side.Sell;
        // The field that does not apply to the side is noise, including invalid values: it must be ignored.
        var product = Chance(0.01) ? (Product)9 : Chance(0.4) ? Product.Green : Product.Standard;
        var source = Chance(0.01) ? (EnergySource)0 : Chance(0.5) ? EnergySource.Renewable : EnergySource.Mixed;
        if (side == Side.Sell && Chance(0.5)) product = (Product)Random.Next(0, 10);
        if (side == Side.Buy && Chance(0.5)) source = (EnergySource)Random.Next(0, 10);

        var wh = Random.Next(1, 21) * config.LotStepWh;
        var badWh = Random.NextDouble();
        if (noise.ValidationNoise)
        {
            if (badWh < 0.01) wh = 0;
            else if (badWh < 0.02) wh = -config.LotStepWh;
            else if (badWh < 0.03) wh += config.LotStepWh / 2;
            else if (badWh < 0.04) wh = config.MaxOrderWh + config.LotStepWh;
        }
        else
        {
            if (badWh < 0.01) wh = 0;
            else if (badWh < 0.02) wh += config.LotStepWh / 2;
            else if (badWh < 0.03) wh = config.MaxOrderWh + config.LotStepWh;
        }

        long price = Chance(0.1) ? Random.Next(80, 121) : Random.Next(95, 106);
        var badPrice = Random.NextDouble();
        if (badPrice < 0.01) price = config.MinPriceTicks - 1;
        else if (badPrice < 0.02) price = config.MaxPriceTicks + 1;
        else if (noise.ValidationNoise && badPrice < 0.03) price = config.MaxPriceTicks; // edges of the band are valid
        else if (noise.ValidationNoise && badPrice < 0.04) price = config.MinPriceTicks;

        // Mostly slots still open, so that most orders are accepted; sometimes one past its gate.
        var open = slots.Where(x => market.TryGetSlot(x, out var info) && info.Phase == SlotPhase.Open && now < info.GateClosureUnixMs).ToList();
        var slot = Chance(0.03) ? 7_777 : open.Count > 0 && Chance(0.9) ? Pick(open) : Pick(slots);
        return new SubmitOrder(participant, clientId, side, slot, wh, price, product, source, now);
    }

    /// <param name="accepted">Every order the market has accepted so far; not empty.</param>
    public CancelOrder Cancel(IMarket market, IReadOnlyList<Address> participants, IReadOnlyList<long> slots, IReadOnlyList<Order> accepted, long now)
    {
        // Mostly live orders; sometimes any earlier order, finished or not.
        var live = slots.SelectMany(s => market.LiveOrders(s)).Select(s => s.Order).ToList();
        var target = live.Count > 0 && Chance(0.75) ? Pick(live) : Pick(accepted);
        var id = Chance(0.05) ? market.NextOrderId + 3 : target.OrderId;
        var who = Chance(0.85) ? target.Participant : SomeParticipant(participants);
        return new CancelOrder(who, id, now);
    }

    /// <param name="accepted">Every order the market has accepted so far; not empty.</param>
    public ReduceOrder Reduce(IMarket market, IReadOnlyList<Address> participants, IReadOnlyList<long> slots, IReadOnlyList<Order> accepted, long now)
    {
        // Mostly live orders, so that most reductions are accepted.
        var live = slots.SelectMany(s => market.LiveOrders(s)).ToList();
        Order target;
        long remaining;
        if (live.Count > 0 && Chance(0.85))
        {
            var s = Pick(live);
            (target, remaining) = (s.Order, s.RemainingWh);
        }
        else
        {
            target = Pick(accepted);
            remaining = target.EnergyWh;
        }
        var steps = remaining / config.LotStepWh;
        long SomeSteps() => Random.NextInt64(1, Math.Max(2, steps)) * config.LotStepWh;
        var roll = Random.NextDouble();
        var by = noise.ValidationNoise
            ? roll switch
            {
                < 0.75 => SomeSteps(),
                < 0.85 => remaining,
                < 0.9 => 0,
                < 0.95 => config.LotStepWh / 2,
                _ => -config.LotStepWh,
            }
            : roll switch
            {
                < 0.8 => SomeSteps(),
                < 0.9 => remaining,
                _ => config.LotStepWh / 2,
            };
        var who = Chance(0.9) ? target.Participant : SomeParticipant(participants);
        return new ReduceOrder(who, target.OrderId, by, now);
    }
}
