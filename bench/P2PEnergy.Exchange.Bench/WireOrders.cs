using Google.Protobuf;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Bench;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;
using EthAddress = P2PEnergy.Ethereum.Address;

// Its own namespace, so that the wire types (Side, Product, ...) are not hidden by the core's.
namespace P2PEnergy.Bench;

/// <summary>The benchmark stream's orders as the gRPC client sends them.</summary>
internal static class WireOrders
{
    /// <summary>
    /// Seeded orders with <see cref="OrderStream"/>'s price band and lot steps, 50/50 buy/sell over the same band, so
    /// about half of them cross and make lots; client order ids clientBase + 1, + 2, ….
    /// </summary>
    /// <param name="participants">Indexes into <paramref name="addresses"/> to trade for; all of them when null.</param>
    /// <param name="signWith">The participants' keys, by index, to sign each order for the server's default domain; unsigned when null.</param>
    public static NewOrder[] Make(string[] addresses, int count, long slot, int seed, ulong clientBase, int[]? participants = null, EthKey[]? signWith = null)
    {
        var random = new Random(seed);
        var result = new NewOrder[count];
        var who = new int[count];
        for (var i = 0; i < count; i++)
        {
            var buy = random.Next(2) == 0;
            who[i] = participants is null ? random.Next(addresses.Length) : participants[random.Next(participants.Length)];
            result[i] = new NewOrder
            {
                Participant = addresses[who[i]],
                ClientOrderId = clientBase + (ulong)i + 1,
                Side = buy ? Side.Buy : Side.Sell,
                Slot = slot,
                EnergyWh = (random.Next(100) + 1) * 100L,
                LimitPriceTicks = OrderStream.BasePrice + random.Next(OrderStream.PriceBand),
                Product = buy ? Product.Standard : Product.Unspecified,
                Source = buy ? EnergySource.Unspecified : EnergySource.Mixed,
            };
        }
        if (signWith is not null)
        {
            // The server's default domain: chain 31337, ledger address zero (no ledger deployed here).
            var domain = new MarketDomain(MarketDomain.DevChainId, EthAddress.Zero);
            Parallel.For(0, count, i =>
            {
                var o = result[i];
                var message = new OrderMessage(o.Participant, o.ClientOrderId, (byte)o.Side, (ulong)o.Slot, (ulong)o.EnergyWh, (ulong)o.LimitPriceTicks, (byte)o.Product, (byte)o.Source);
                o.Signature = ByteString.CopyFrom(signWith[who[i]].Sign(domain, message));
            });
        }
        return result;
    }
}
