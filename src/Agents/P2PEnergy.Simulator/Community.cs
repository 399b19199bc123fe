using System.Security.Cryptography;
using System.Text;
using P2PEnergy.Exchange.Protos.V1;

namespace P2PEnergy.Simulator;

/// <summary>A member of the scripted community: a name, its address, zone and kind.</summary>
public sealed record Member(string Name, string Address, int Zone, ParticipantKind Kind)
{
    /// <summary>
    /// A stable address for a demo name (SHA-256 of the name, first 20 bytes). Real participants derive
    /// theirs from their secp256k1 key; the agents of the simulator will.
    /// </summary>
    public static Member Of(string name, int zone, ParticipantKind kind)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("p2penergy-demo:" + name));
        return new Member(name, "0x" + Convert.ToHexStringLower(hash.AsSpan(0, 20)), zone, kind);
    }
}

/// <summary>Money and prices for people. Only here is anything rounded, and only for display.</summary>
public static class Display
{
    /// <summary>Ticks (0.01 JPY/kWh) as JPY/kWh: exact, two decimals.</summary>
    public static string Price(long ticks) => $"{ticks / 100}.{Math.Abs(ticks % 100):00}";

    /// <summary>Money (1e-5 JPY) as JPY, rounded half away from zero to 0.01 JPY (display only).</summary>
    public static string Yen(long money)
    {
        var cents = (long)Math.Round(money / 1000m, MidpointRounding.AwayFromZero);
        return $"{(cents < 0 ? "-" : "")}{Math.Abs(cents) / 100:N0}.{Math.Abs(cents) % 100:00}";
    }

    public static string Wh(long wh) => $"{wh:N0}";
}
