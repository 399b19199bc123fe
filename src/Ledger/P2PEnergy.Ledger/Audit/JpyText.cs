using System.Globalization;
using System.Numerics;

namespace P2PEnergy.Ledger.Audit;

/// <summary>
/// Money for people. Amounts are kept in 1e-5 JPY (DESIGN.md, Units); rounding happens only here, when an
/// amount is shown, and each method says its rule.
/// </summary>
public static class JpyText
{
    /// <summary>Units of 1e-5 JPY in one yen (the token's 5 decimals).</summary>
    public const long UnitsPerYen = 100_000;

    /// <summary>The exact amount in JPY with all 5 decimals, no rounding: 2264000 → "22.64000", -5 → "-0.00005".</summary>
    public static string Exact(BigInteger units)
    {
        var abs = BigInteger.Abs(units);
        var yen = BigInteger.DivRem(abs, UnitsPerYen, out var rest);
        return string.Create(CultureInfo.InvariantCulture, $"{(units.Sign < 0 ? "-" : string.Empty)}{yen}.{(long)rest:D5}");
    }

    /// <summary>
    /// The amount rounded to 0.01 JPY, half away from zero (0.005 JPY = 500 units rounds up in magnitude):
    /// 2264499 → "22.64", 2264500 → "22.65", -2264500 → "-22.65".
    /// </summary>
    public static string RoundedToSen(BigInteger units)
    {
        var abs = BigInteger.Abs(units);
        var sen = (abs + 500) / 1000;
        var yen = BigInteger.DivRem(sen, 100, out var rest);
        bool negative = units.Sign < 0 && sen != 0;
        return string.Create(CultureInfo.InvariantCulture, $"{(negative ? "-" : string.Empty)}{yen}.{(long)rest:D2}");
    }
}
