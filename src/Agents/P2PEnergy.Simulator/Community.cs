using Google.Protobuf;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;

namespace P2PEnergy.Simulator;

/// <summary>A member of the scripted community: a name, its key (its address is its identity), zone and kind.</summary>
public sealed record Member(string Name, EthKey Key, int Zone, ParticipantKind Kind)
{
    /// <summary>"0x" + 40 lower-case hex digits, as the exchange returns addresses.</summary>
    public string Address { get; } = Key.Address.ToLowerHex();

    /// <summary>
    /// A demo member whose secp256k1 key is derived from its name: private key = keccak256("p2penergy-demo:" +
    /// name). Deterministic (the same addresses every run) and public: for demos only.
    /// </summary>
    public static Member Of(string name, int zone, ParticipantKind kind) =>
        new(name, EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-demo:" + name)), zone, kind);

    /// <summary>Signs a new order of this member (EIP-712 Order, fields exactly as sent) and returns it.</summary>
    public NewOrder Sign(NewOrder order, MarketDomain domain)
    {
        var message = new OrderMessage(order.Participant, order.ClientOrderId, (byte)order.Side, (ulong)order.Slot,
            (ulong)order.EnergyWh, (ulong)order.LimitPriceTicks, (byte)order.Product, (byte)order.Source);
        order.Signature = ByteString.CopyFrom(Key.Sign(domain, message));
        return order;
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
