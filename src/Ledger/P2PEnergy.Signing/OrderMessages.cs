namespace P2PEnergy.Signing;

/// <summary>
/// The numbers a signed order uses for side, product and source: the p2penergy.v1 proto enum numbers
/// (common.proto), so that a client signs exactly the values it sends.
/// </summary>
public static class OrderCodes
{
    /// <summary>Side: SIDE_BUY = 1, SIDE_SELL = 2.</summary>
    public const byte Buy = 1;
    public const byte Sell = 2;

    /// <summary>Product of a buy: PRODUCT_STANDARD = 1, PRODUCT_GREEN = 2; 0 (unspecified) on a sell.</summary>
    public const byte Standard = 1;
    public const byte Green = 2;

    /// <summary>Source of a sell: ENERGY_SOURCE_MIXED = 1, ENERGY_SOURCE_RENEWABLE = 2; 0 (unspecified) on a buy.</summary>
    public const byte Mixed = 1;
    public const byte Renewable = 2;
}

/// <summary>
/// The fields of a new order as its participant signs them: EIP-712
/// <c>Order(address participant,uint64 clientOrderId,uint8 side,uint64 slot,uint64 energyWh,uint64 limitPriceTicks,uint8 product,uint8 source)</c>.
/// Plain values only, so that it serializes to JSON as is and both agents and the exchange can use it
/// without the protos.
/// </summary>
/// <remarks>
/// The fields are signed exactly as sent, including a product on a sell or a source on a buy, which the
/// exchange ignores. The wire carries slot, energy and price as int64: they are signed as the uint64 with
/// the same bits (a negative value, which the exchange refuses anyway, signs as a huge one).
/// </remarks>
/// <param name="Participant">"0x" + 40 hex digits (any case; hashed as the 20 bytes).</param>
/// <param name="Side"><see cref="OrderCodes.Buy"/> or <see cref="OrderCodes.Sell"/>.</param>
/// <param name="Product">Buys: <see cref="OrderCodes.Standard"/> or <see cref="OrderCodes.Green"/>.</param>
/// <param name="Source">Sells: <see cref="OrderCodes.Mixed"/> or <see cref="OrderCodes.Renewable"/>.</param>
public sealed record OrderMessage(
    string Participant,
    ulong ClientOrderId,
    byte Side,
    ulong Slot,
    ulong EnergyWh,
    ulong LimitPriceTicks,
    byte Product,
    byte Source);

/// <summary>EIP-712 <c>CancelOrder(address participant,uint64 orderId)</c>: the owner cancels the rest of a live order.</summary>
public sealed record CancelOrderMessage(string Participant, ulong OrderId);

/// <summary>EIP-712 <c>ReduceOrder(address participant,uint64 orderId,uint64 reduceByWh)</c>: the owner takes Wh off a live order.</summary>
public sealed record ReduceOrderMessage(string Participant, ulong OrderId, ulong ReduceByWh);
