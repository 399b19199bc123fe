namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// The grid's prices, the participants' outside options (DESIGN.md: agents never buy above retail nor
/// sell below buy-back; unmatched energy is settled with the grid at these prices). Ticks = 0.01 JPY/kWh.
/// </summary>
public sealed record GridTariff(long RetailTicks, long BuyBackTicks, IReadOnlyDictionary<int, long> TimeOfUseRetail, int UtcOffsetMinutes)
{
    public const int HalfHoursPerDay = 48;

    /// <summary>The half hour of the local day (0 … 47) in which <paramref name="unixSeconds"/> falls.</summary>
    public int HalfHourOfDay(long unixSeconds)
    {
        var local = unixSeconds + UtcOffsetMinutes * 60L;
        return (int)(((local / 1800) % HalfHoursPerDay + HalfHoursPerDay) % HalfHoursPerDay);
    }

    /// <summary>Retail price for energy delivered at <paramref name="unixSeconds"/>.</summary>
    public long RetailTicksAt(long unixSeconds) =>
        TimeOfUseRetail.TryGetValue(HalfHourOfDay(unixSeconds), out var tou) ? tou : RetailTicks;
}
