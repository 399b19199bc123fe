namespace P2PEnergy.Exchange.Chain.Tests.Infrastructure;

using Google.Protobuf;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;

/// <summary>Test participants (secp256k1 keys from their names) and signed orders.</summary>
public static class Participants
{
    public static EthKey KeyOf(string name) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-chain-test:" + name));

    public static string AddressOf(string name) => KeyOf(name).Address.ToLowerHex();

    /// <summary>The message a client signs for <paramref name="o"/>: the fields as sent.</summary>
    public static OrderMessage MessageOf(NewOrder o) => new(
        o.Participant, o.ClientOrderId, (byte)o.Side, unchecked((ulong)o.Slot), unchecked((ulong)o.EnergyWh),
        unchecked((ulong)o.LimitPriceTicks), (byte)o.Product, (byte)o.Source);

    public static NewOrder Sell(string who, ulong clientId, long slot, long wh, long price, EnergySource source = EnergySource.Renewable) => new()
    {
        Participant = AddressOf(who), ClientOrderId = clientId, Side = Side.Sell, Slot = slot, EnergyWh = wh, LimitPriceTicks = price, Source = source,
    };

    public static NewOrder Buy(string who, ulong clientId, long slot, long wh, long price, Product product = Product.Standard) => new()
    {
        Participant = AddressOf(who), ClientOrderId = clientId, Side = Side.Buy, Slot = slot, EnergyWh = wh, LimitPriceTicks = price, Product = product,
    };

    /// <summary>A lot as GetLots serves it, as the core's lot (what the chain and the auditor compare).</summary>
    public static P2PEnergy.Exchange.Lot ToCore(this Lot l) => new(
        l.LotId, l.Slot, P2PEnergy.Exchange.Address.Parse(l.Seller), P2PEnergy.Exchange.Address.Parse(l.Buyer), l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks,
        (P2PEnergy.Exchange.Product)(int)l.Product, (P2PEnergy.Exchange.EnergySource)(int)l.Source, l.SellOrderId, l.BuyOrderId);

    public static NewOrder Signed(this NewOrder order, string who, MarketDomain domain)
    {
        order.Signature = ByteString.CopyFrom(KeyOf(who).Sign(domain, MessageOf(order)));
        return order;
    }
}
