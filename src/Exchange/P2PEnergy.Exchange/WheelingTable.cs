namespace P2PEnergy.Exchange;

/// <summary>
/// Wheeling fee in ticks per (seller zone, buyer zone). DESIGN.md, from seed 004: trades across the
/// public network paid about 10 JPY/kWh of wheeling (prices 10–26 JPY with it, 0–16 without), and a
/// private line or the same building pays none. Immutable: replace the whole table to change it.
/// </summary>
public sealed class WheelingTable
{
    /// <summary>Seed 004: 26 − 16 = 10 JPY/kWh across the public network.</summary>
    public const long DefaultAcrossNetworkTicks = 1_000;

    private readonly long[] _fees; // [seller * zones + buyer]

    public int Zones { get; }

    public long DefaultFeeTicks { get; }

    private WheelingTable(int zones, long defaultFee, long[] fees)
    {
        Zones = zones;
        DefaultFeeTicks = defaultFee;
        _fees = fees;
    }

    /// <summary>Same zone 0, any two different zones <paramref name="acrossFeeTicks"/>.</summary>
    public static WheelingTable Uniform(int zones, long acrossFeeTicks = DefaultAcrossNetworkTicks) =>
        Build(zones, acrossFeeTicks, []);

    /// <summary>
    /// A table where every pair not listed costs <paramref name="defaultFeeTicks"/> across zones and 0
    /// within a zone; entries override single (seller, buyer) pairs.
    /// </summary>
    public static WheelingTable Build(int zones, long defaultFeeTicks, IEnumerable<WheelingEntry> entries)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(zones);
        ArgumentOutOfRangeException.ThrowIfNegative(defaultFeeTicks);
        var fees = new long[zones * zones];
        for (var s = 0; s < zones; s++)
        {
            for (var b = 0; b < zones; b++)
            {
                fees[s * zones + b] = s == b ? 0 : defaultFeeTicks;
            }
        }
        foreach (var e in entries)
        {
            if (e.SellerZone < 0 || e.SellerZone >= zones || e.BuyerZone < 0 || e.BuyerZone >= zones)
                throw new ArgumentOutOfRangeException(nameof(entries), $"zone pair ({e.SellerZone}, {e.BuyerZone}) is outside 0 … {zones - 1}");
            if (e.FeeTicks < 0)
                throw new ArgumentOutOfRangeException(nameof(entries), $"wheeling fee {e.FeeTicks} for ({e.SellerZone}, {e.BuyerZone}) is negative");
            fees[e.SellerZone * zones + e.BuyerZone] = e.FeeTicks;
        }
        return new WheelingTable(zones, defaultFeeTicks, fees);
    }

    public long Fee(int sellerZone, int buyerZone) => _fees[sellerZone * Zones + buyerZone];

    public IEnumerable<WheelingEntry> Entries()
    {
        for (var s = 0; s < Zones; s++)
        {
            for (var b = 0; b < Zones; b++)
            {
                yield return new WheelingEntry(s, b, Fee(s, b));
            }
        }
    }
}

public readonly record struct WheelingEntry(int SellerZone, int BuyerZone, long FeeTicks);
