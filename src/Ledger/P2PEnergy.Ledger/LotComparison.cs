namespace P2PEnergy.Ledger;

/// <summary>How a lot of the exchange and the same lot read back from the chain are compared (chain settler and auditor).</summary>
public static class LotComparison
{
    /// <summary>Each field in which the exchange's lot and the chain's differ, named with both values (the lot id is the key, not compared).</summary>
    public static IEnumerable<string> Differences(Lot exchange, Lot chain)
    {
        if (exchange.Slot != chain.Slot) yield return $"slot exchange {exchange.Slot}, chain {chain.Slot}";
        if (exchange.Seller != chain.Seller) yield return $"seller exchange {exchange.Seller}, chain {chain.Seller}";
        if (exchange.Buyer != chain.Buyer) yield return $"buyer exchange {exchange.Buyer}, chain {chain.Buyer}";
        if (exchange.EnergyWh != chain.EnergyWh) yield return $"energy exchange {exchange.EnergyWh} Wh, chain {chain.EnergyWh} Wh";
        if (exchange.PriceTicks != chain.PriceTicks) yield return $"price exchange {exchange.PriceTicks} ticks, chain {chain.PriceTicks} ticks";
        if (exchange.WheelingFeeTicks != chain.WheelingFeeTicks) yield return $"wheeling fee exchange {exchange.WheelingFeeTicks} ticks, chain {chain.WheelingFeeTicks} ticks";
        if (exchange.Product != chain.Product) yield return $"product exchange {exchange.Product}, chain {chain.Product}";
        if (exchange.Source != chain.Source) yield return $"source exchange {exchange.Source}, chain {chain.Source}";
        if (exchange.SellOrderId != chain.SellOrderId) yield return $"sell order exchange {exchange.SellOrderId}, chain {chain.SellOrderId}";
        if (exchange.BuyOrderId != chain.BuyOrderId) yield return $"buy order exchange {exchange.BuyOrderId}, chain {chain.BuyOrderId}";
    }
}
