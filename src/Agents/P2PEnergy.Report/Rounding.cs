using System.Globalization;

namespace P2PEnergy.Report;

/// <summary>
/// The one division rule of the report: integers stay integers (DESIGN.md, Units) until a ratio or an amount is
/// shown to a person, and then they are divided here, rounded half away from zero. Intermediates are Int128, so a
/// ratio of two longs never overflows.
/// </summary>
public static class Rounding
{
    /// <summary>numerator / denominator rounded half away from zero (2.5 → 3, −2.5 → −3); the denominator must be positive.</summary>
    public static long Divide(Int128 numerator, Int128 denominator)
    {
        if (denominator <= 0) throw new ArgumentOutOfRangeException(nameof(denominator), "the denominator must be positive");
        var quotient = Int128.DivRem(numerator, denominator);
        var rest = Int128.Abs(quotient.Remainder);
        var q = quotient.Quotient;
        if (rest >= denominator - rest) q += numerator < 0 ? -1 : 1;
        return checked((long)q);
    }

    /// <summary>part / whole in basis points (0.01 %), rounded half away from zero; null when the whole is 0.</summary>
    public static long? BasisPoints(long part, long whole) =>
        whole == 0 ? null : Divide((Int128)part * 10_000 * Math.Sign(whole), Int128.Abs(whole));
}

/// <summary>
/// How numbers are shown. Each method states its rule; none is used in a computation.
/// </summary>
public static class Display
{
    /// <summary>Units of 1e-5 JPY in one yen.</summary>
    public const long MoneyUnitsPerYen = 100_000;

    /// <summary>Money in JPY, rounded half away from zero to 0.01 JPY: 2264500 → "22.65", −500 → "-0.01".</summary>
    public static string Yen(long money) => Fixed(Rounding.Divide(money, 1000), 2);

    /// <summary>Ticks as JPY/kWh, exact (a tick is 0.01 JPY/kWh): 2160 → "21.60".</summary>
    public static string YenPerKWh(long ticks) => Fixed(ticks, 2);

    /// <summary>Wh as kWh, exact: 1234 → "1.234".</summary>
    public static string KWh(long wh) => Fixed(wh, 3);

    /// <summary>Basis points as a percentage, exact: 2540 → "25.40 %".</summary>
    public static string Percent(long basisPoints) => Fixed(basisPoints, 2) + " %";

    /// <summary>Percentage points between two basis-point values, signed, exact: 2186 → "+21.86".</summary>
    public static string Points(long basisPoints) => (basisPoints > 0 ? "+" : string.Empty) + Fixed(basisPoints, 2);

    /// <summary>CO2 in mg as kg, rounded half away from zero to the gram: 1305400 → "1.305".</summary>
    public static string KgCo2(long milligrams) => Fixed(Rounding.Divide(milligrams, 1000), 3);

    /// <summary>An absent value: "–" would be ambiguous in a CSV, so tables show "n/a".</summary>
    public const string NotAvailable = "n/a";

    public static string Percent(long? basisPoints) => basisPoints is { } bp ? Percent(bp) : NotAvailable;

    public static string YenPerKWh(long? ticks) => ticks is { } t ? YenPerKWh(t) : NotAvailable;

    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>An integer with <paramref name="decimals"/> implied decimals, written exactly.</summary>
    internal static string Fixed(long scaled, int decimals)
    {
        long scale = 1;
        for (var i = 0; i < decimals; i++) scale *= 10;
        var abs = Int128.Abs(scaled);
        var whole = abs / scale;
        var fraction = (long)(abs % scale);
        var sign = scaled < 0 ? "-" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}.{fraction.ToString(new string('0', decimals), CultureInfo.InvariantCulture)}");
    }
}
