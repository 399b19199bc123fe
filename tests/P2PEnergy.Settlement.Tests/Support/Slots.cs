namespace P2PEnergy.Settlement.Tests.Support;

/// <summary>Named parties and a lot builder for hand-computed tests.</summary>
public static class Parties
{
    public static Address Of(byte n)
    {
        var bytes = new byte[Address.Length];
        bytes[^1] = n;
        bytes[0] = 0xA0;
        return Address.FromBytes(bytes);
    }

    public static readonly Address S = Of(1);
    public static readonly Address S2 = Of(2);
    public static readonly Address S3 = Of(3);
    public static readonly Address B = Of(11);
    public static readonly Address B2 = Of(12);
    public static readonly Address B3 = Of(13);
    public static readonly Address P = Of(21);
}

/// <summary>One random slot: what <see cref="SettlementEngine.Settle"/> takes.</summary>
public sealed record SlotInput(
    long Slot,
    IReadOnlyList<Lot> Lots,
    IReadOnlyList<MeterReading> Readings,
    GridPrices Prices,
    SettlementPolicy Policy)
{
    public SlotSettlement Settle() => SettlementEngine.Settle(Slot, Lots, Readings, Prices, Policy);

    /// <summary>The same slot with lots and readings in another order.</summary>
    public SlotInput Shuffled(int seed)
    {
        var random = new Random(seed);
        var lots = Lots.ToArray();
        var readings = Readings.ToArray();
        random.Shuffle(lots);
        random.Shuffle(readings);
        return this with { Lots = lots, Readings = readings };
    }
}

/// <summary>
/// Random slots from a seed (System.Random, so a failing seed rebuilds the whole slot). Readings are drawn
/// around the contracted Wh so that full delivery, shortfall, over-delivery and unallocated energy all occur.
/// </summary>
public static class RandomSlots
{
    public static SlotInput Generate(int seed)
    {
        var random = new Random(seed);
        var slot = random.NextInt64(1, 2_000_000_000);

        var participants = new List<Address>();
        var count = random.Next(2, 9);
        while (participants.Count < count)
        {
            var bytes = new byte[Address.Length];
            random.NextBytes(bytes);
            var a = Address.FromBytes(bytes);
            if (!a.IsZero && !participants.Contains(a)) participants.Add(a);
        }

        var lotCount = random.Next(0, 31);
        var ids = new HashSet<long>();
        while (ids.Count < lotCount) ids.Add(random.NextInt64(1, 1_000));
        var lots = new List<Lot>();
        foreach (var id in ids)
        {
            var seller = participants[random.Next(participants.Count)];
            Address buyer;
            do buyer = participants[random.Next(participants.Count)]; while (buyer == seller);
            lots.Add(new Lot(
                id, slot, seller, buyer,
                EnergyWh: 100 * random.Next(1, 51),
                PriceTicks: random.Next(0, 5_001),
                WheelingFeeTicks: random.Next(3) == 0 ? 0 : random.Next(0, 1_501),
                Product: random.Next(2) == 0 ? Product.Standard : Product.Green,
                Source: random.Next(2) == 0 ? EnergySource.Mixed : EnergySource.Renewable,
                SellOrderId: random.Next(1, 10_000),
                BuyOrderId: random.Next(1, 10_000)));
        }

        var readings = participants
            .Select(p => new MeterReading(
                p, slot,
                ImportWh: Around(random, lots.Where(l => l.Buyer == p).Sum(l => l.EnergyWh)),
                ExportWh: Around(random, lots.Where(l => l.Seller == p).Sum(l => l.EnergyWh))))
            .ToList();

        var retail = random.Next(0, 4_001);
        var buyBack = random.Next(4) == 0 ? random.Next(0, 4_001) : random.Next(0, retail + 1);
        var policy = new SettlementPolicy
        {
            SellerCompensatesShortfall = random.Next(4) != 0,
            ShortfallCompensation = random.Next(2) == 0 ? ShortfallCompensation.RetailMinusPrice : ShortfallCompensation.RetailMinusPriceAndWheeling,
            BuyerCompensatesUnderconsumption = random.Next(2) == 0,
        };
        return new SlotInput(slot, lots, readings, new GridPrices(retail, buyBack), policy);
    }

    /// <summary>A metered Wh near the contracted Wh: none, exactly it, or anywhere up to 150 % + 1 kWh.</summary>
    private static long Around(Random random, long contractedWh) => random.Next(6) switch
    {
        0 => 0,
        1 => contractedWh,
        _ => random.NextInt64(0, contractedWh * 3 / 2 + 1_001),
    };
}
