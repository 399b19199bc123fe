using Microsoft.Extensions.Options;
using P2PEnergy.Settlement;

namespace P2PEnergy.Exchange.Server.Settlement;

/// <summary>
/// The settlement policy (docs/settlement-rules.md, "Policy"), from Exchange:Settlement:*. The defaults are
/// <see cref="SettlementPolicy.Default"/>.
/// </summary>
public sealed class SettlementOptions
{
    public const string Section = "Exchange:Settlement";

    /// <summary>Exchange:Settlement:SellerCompensatesShortfall (default true).</summary>
    public bool SellerCompensatesShortfall { get; set; } = SettlementPolicy.Default.SellerCompensatesShortfall;

    /// <summary>Exchange:Settlement:ShortfallCompensation: RetailMinusPrice (default) or RetailMinusPriceAndWheeling.</summary>
    public ShortfallCompensation ShortfallCompensation { get; set; } = SettlementPolicy.Default.ShortfallCompensation;

    /// <summary>Exchange:Settlement:BuyerCompensatesUnderconsumption (default false).</summary>
    public bool BuyerCompensatesUnderconsumption { get; set; } = SettlementPolicy.Default.BuyerCompensatesUnderconsumption;

    public void Validate()
    {
        if (!Enum.IsDefined(ShortfallCompensation))
            throw new OptionsValidationException(Section, typeof(SettlementOptions), [$"{Section}:ShortfallCompensation {ShortfallCompensation} is not RetailMinusPrice or RetailMinusPriceAndWheeling"]);
    }

    public SettlementPolicy ToPolicy() => new()
    {
        SellerCompensatesShortfall = SellerCompensatesShortfall,
        ShortfallCompensation = ShortfallCompensation,
        BuyerCompensatesUnderconsumption = BuyerCompensatesUnderconsumption,
    };
}
