namespace P2PEnergy.Agents.Tests;

/// <summary>Slots of the pilot's calendar in Japan Standard Time; conversions only, no clock is read.</summary>
internal static class Jst
{
    public static readonly SlotClock Clock = SlotClock.Jst;

    /// <summary>The 30-minute slot starting at this local time.</summary>
    public static long Slot(int year, int month, int day, int hour, int minute = 0) =>
        Clock.SlotAt(new DateTimeOffset(year, month, day, hour, minute, 0, TimeSpan.FromHours(9)).ToUnixTimeSeconds());

    public static long Day(int year, int month, int day) => Clock.LocalDay(Slot(year, month, day, 0));

    // 2019-06-17, the pilot's first day (seed 004: 6月17日に始める), was a Monday.
    public static long Monday(int hour, int minute = 0) => Slot(2019, 6, 17, hour, minute);
    public static long Saturday(int hour, int minute = 0) => Slot(2019, 6, 22, hour, minute);
}
