namespace P2PEnergy.Agents;

/// <summary>
/// State of charge in basis points (0.01 %), 0 … 10 000, so the price curve is interpolated in integers.
/// Rounding rule: a fraction is rounded to the nearest basis point, half away from zero, then clamped.
/// </summary>
public readonly record struct Soc : IComparable<Soc>
{
    public const int Scale = 10_000;

    public Soc(int basisPoints)
    {
        if (basisPoints is < 0 or > Scale)
            throw new ArgumentOutOfRangeException(nameof(basisPoints), basisPoints, "a state of charge is 0 … 10000 basis points");
        BasisPoints = basisPoints;
    }

    public int BasisPoints { get; }

    public double Fraction => BasisPoints / (double)Scale;

    public static Soc Empty { get; } = new(0);
    public static Soc Full { get; } = new(Scale);

    public static Soc Percent(int percent) => new(checked(percent * 100));

    public static Soc FromFraction(double fraction)
    {
        if (double.IsNaN(fraction)) throw new ArgumentOutOfRangeException(nameof(fraction), "NaN is not a state of charge");
        return new((int)Math.Round(Math.Clamp(fraction, 0.0, 1.0) * Scale, MidpointRounding.AwayFromZero));
    }

    public static Soc Of(double energyWh, double capacityWh)
    {
        if (capacityWh <= 0) throw new ArgumentOutOfRangeException(nameof(capacityWh), capacityWh, "capacity must be positive");
        return FromFraction(energyWh / capacityWh);
    }

    public int CompareTo(Soc other) => BasisPoints.CompareTo(other.BasisPoints);

    public override string ToString() => $"{BasisPoints / 100}.{BasisPoints % 100:00}%";
}

/// <summary>
/// A price strategy of seed 004, Table 1 (表1 ユーザ別購入価格の例): the price an agent is willing to pay, in
/// JPY/kWh, by the state of charge (充電率) of its storage, given at 20 %, 60 % and 80 %. Linear between the
/// points, clamped outside them (DESIGN.md).
/// </summary>
public sealed class PriceStrategy
{
    // seed 004, Table 1: 充電率 20% / 60% / 80%.
    //   経済重視 (economy)                20 / 15 / 10 円
    //   環境重視 再エネ+5円 (green)        25 / 20 / 15 円
    //   EV・蓄電 価格重視 (price-focused)  20 / 10 / 10 円
    public static PriceStrategy Economy { get; } = new(StrategyKind.Economy, Product.Standard, 20, 15, 10);
    public static PriceStrategy Green { get; } = new(StrategyKind.Green, Product.Green, 25, 20, 15);
    public static PriceStrategy PriceFocused { get; } = new(StrategyKind.PriceFocused, Product.Standard, 20, 10, 10);

    private static readonly int[] PointsBasisPoints = [2000, 6000, 8000];
    private readonly long[] _pointTicks;

    private PriceStrategy(StrategyKind kind, Product buyProduct, int yenAt20, int yenAt60, int yenAt80)
    {
        Kind = kind;
        BuyProduct = buyProduct;
        _pointTicks = [yenAt20 * Units.TicksPerYenPerKWh, yenAt60 * Units.TicksPerYenPerKWh, yenAt80 * Units.TicksPerYenPerKWh];
    }

    public StrategyKind Kind { get; }

    /// <summary>
    /// The product this strategy buys: the green column pays its +5 JPY/kWh for renewable energy only, so it
    /// buys the green product; the others buy standard.
    /// </summary>
    public Product BuyProduct { get; }

    public static PriceStrategy For(StrategyKind kind) => kind switch
    {
        StrategyKind.Economy => Economy,
        StrategyKind.Green => Green,
        StrategyKind.PriceFocused => PriceFocused,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown strategy"),
    };

    /// <summary>
    /// The table's buy price at this state of charge, in ticks. Between two points the line is evaluated in
    /// integers and rounded down (toward the lower price): an agent never bids above its curve.
    /// </summary>
    public long BuyTicks(Soc soc)
    {
        var s = soc.BasisPoints;
        if (s <= PointsBasisPoints[0]) return _pointTicks[0];
        for (var i = 1; i < PointsBasisPoints.Length; i++)
        {
            if (s > PointsBasisPoints[i]) continue;
            long s0 = PointsBasisPoints[i - 1], s1 = PointsBasisPoints[i];
            long p0 = _pointTicks[i - 1], p1 = _pointTicks[i];
            return p0 + Units.FloorDiv(checked((p1 - p0) * (s - s0)), s1 - s0);
        }
        return _pointTicks[^1];
    }

    /// <summary>
    /// Sell rule (derived; the table gives buy prices only), for energy that cannot be stored — PV surplus
    /// with no room left: the price the strategy pays when full, i.e. its 80 % column (economy 10,
    /// green 15, price-focused 10 JPY/kWh). Full storage is what makes energy worth least to its owner; a
    /// green seller values its renewable energy with the same +5 JPY/kWh it would pay for it. The market caps
    /// (<see cref="GridPrices.Ask"/>) raise this to the buy-back price when buy-back is higher.
    /// </summary>
    public long SurplusAskTicks() => BuyTicks(Soc.Full);

    /// <summary>
    /// Sell rule for stored energy (battery, PHEV): what it would cost to put the energy back at the
    /// current state of charge, grossed up by the round-trip losses: ceil(BuyTicks(soc) / η). Rounded up, so
    /// the seller never asks less than its replacement cost; with η &lt; 1 the ask is always above the
    /// agent's own bid, so its buy and sell never cross.
    /// </summary>
    public long StoredAskTicks(Soc soc, double roundTripEfficiency)
    {
        if (roundTripEfficiency is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(roundTripEfficiency), roundTripEfficiency, "efficiency is in (0, 1]");
        // 1e-9 tick tolerance: 1750 / 1.0 must stay 1750, not become 1751 through a last-bit error.
        return (long)Math.Ceiling(BuyTicks(soc) / roundTripEfficiency - 1e-9);
    }
}

/// <summary>
/// The grid's outside options for a slot (DESIGN.md "Grid fallback"): retail (time-of-use capable) and
/// buy-back, in ticks. <paramref name="WheelingAllowanceTicks"/> is the wheeling fee the buyer expects to pay on
/// top of the energy price (0 = none expected): a buyer pays price + wheeling, so the highest bid that can
/// still beat retail is retail − allowance.
/// </summary>
public readonly record struct GridPrices(long RetailTicks, long BuyBackTicks, long WheelingAllowanceTicks = 0)
{
    /// <summary>The most an agent ever bids: retail less the expected wheeling.</summary>
    public long BidCapTicks => RetailTicks - WheelingAllowanceTicks;

    /// <summary>
    /// A bid for <paramref name="desiredTicks"/>, capped at <see cref="BidCapTicks"/> (never above retail), or
    /// null when no seller could do better than the grid with it: a rational seller never sells at or below
    /// buy-back, so a bid at or below buy-back cannot beat the grid and is not placed.
    /// </summary>
    public long? Bid(long desiredTicks)
    {
        Validate();
        var price = Math.Min(desiredTicks, BidCapTicks);
        return price > BuyBackTicks ? price : null;
    }

    /// <summary>
    /// An ask for <paramref name="desiredTicks"/>, raised to buy-back (never below it), or null when no buyer
    /// could do better than the grid with it (at or above the bid cap).
    /// </summary>
    public long? Ask(long desiredTicks)
    {
        Validate();
        var price = Math.Max(desiredTicks, BuyBackTicks);
        return price < BidCapTicks ? price : null;
    }

    private void Validate()
    {
        if (RetailTicks <= 0) throw new InvalidOperationException($"retail must be positive, was {RetailTicks}");
        if (BuyBackTicks < 0) throw new InvalidOperationException($"buy-back must not be negative, was {BuyBackTicks}");
        if (WheelingAllowanceTicks < 0) throw new InvalidOperationException($"the wheeling allowance must not be negative, was {WheelingAllowanceTicks}");
    }
}
