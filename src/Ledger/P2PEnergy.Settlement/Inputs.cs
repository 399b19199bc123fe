using P2PEnergy.Exchange;

namespace P2PEnergy.Settlement;

/// <summary>
/// What a participant's meter measured in one slot (DESIGN.md, Settlement: per participant and slot,
/// import and export Wh). Signature checks and the (meter, slot) idempotency happen before settlement.
/// </summary>
public readonly record struct MeterReading(Address Participant, long Slot, long ImportWh, long ExportWh);

/// <summary>
/// The grid's outside options for one slot, in ticks (0.01 JPY/kWh): the retail price a participant pays
/// for energy from the grid and the buy-back price it receives for energy sent to it (DESIGN.md, Grid fallback;
/// time-of-use capable because it is given per slot).
/// </summary>
public readonly record struct GridPrices(long RetailTicks, long BuyBackTicks);

/// <summary>What a seller owes the buyer per Wh of shortfall (consumed but not delivered); see docs/settlement-rules.md.</summary>
public enum ShortfallCompensation : byte
{
    /// <summary>max(0, retail − lot price): the difference to the lot price (DESIGN.md, Settlement). The default.</summary>
    RetailMinusPrice = 1,

    /// <summary>
    /// max(0, retail − lot price − wheeling fee): the buyer is made exactly whole, since it pays no wheeling
    /// on Wh it did not get from the seller.
    /// </summary>
    RetailMinusPriceAndWheeling = 2,
}

/// <summary>
/// The configurable part of settlement (DESIGN.md, Settlement: "documented and configurable").
/// The defaults are the rule of DESIGN.md and issue 5.
/// </summary>
public sealed record SettlementPolicy
{
    public static SettlementPolicy Default { get; } = new();

    /// <summary>Whether the seller compensates the buyer for shortfall Wh. Default true (DESIGN.md, Settlement).</summary>
    public bool SellerCompensatesShortfall { get; init; } = true;

    /// <summary>The per-Wh shortfall compensation rule. Default <see cref="ShortfallCompensation.RetailMinusPrice"/>.</summary>
    public ShortfallCompensation ShortfallCompensation { get; init; } = ShortfallCompensation.RetailMinusPrice;

    /// <summary>
    /// Whether the buyer compensates the seller for over-delivered Wh (delivered but not consumed) at
    /// max(0, lot price − buy-back). Default false: DESIGN.md makes only the seller answer for the lot.
    /// </summary>
    public bool BuyerCompensatesUnderconsumption { get; init; }

    /// <summary>Ticks per shortfall Wh the seller pays the buyer, 0 when the policy is off.</summary>
    public long ShortfallRateTicks(long priceTicks, long wheelingFeeTicks, GridPrices prices)
    {
        if (!SellerCompensatesShortfall) return 0;
        return ShortfallCompensation switch
        {
            ShortfallCompensation.RetailMinusPrice => Math.Max(0, prices.RetailTicks - priceTicks),
            ShortfallCompensation.RetailMinusPriceAndWheeling => Math.Max(0, prices.RetailTicks - priceTicks - wheelingFeeTicks),
            _ => throw new SettlementInputException(SettlementError.InvalidPolicy, $"unknown shortfall compensation rule {ShortfallCompensation}"),
        };
    }

    /// <summary>Ticks per over-delivered Wh the buyer pays the seller, 0 when the policy is off.</summary>
    public long UnderconsumptionRateTicks(long priceTicks, GridPrices prices) =>
        BuyerCompensatesUnderconsumption ? Math.Max(0, priceTicks - prices.BuyBackTicks) : 0;
}

/// <summary>
/// Why a slot's inputs were refused. Numbered in groups like <c>ResultCode</c>:
/// 1xx the slot, prices and policy, 2xx the lots, 3xx the meter readings.
/// </summary>
public enum SettlementError : short
{
    InvalidSlot = 101,
    NegativeGridPrice = 102,
    InvalidPolicy = 103,

    LotOfAnotherSlot = 201,
    DuplicateLotId = 202,
    LotEnergyNotPositive = 203,
    LotPriceNegative = 204,
    LotWheelingFeeNegative = 205,
    LotPartyMissing = 206,
    LotSellerIsBuyer = 207,

    ReadingOfAnotherSlot = 301,
    DuplicateReading = 302,
    NegativeReading = 303,
    ReadingParticipantMissing = 304,
    MissingReading = 305,
}

/// <summary>The inputs of a slot's settlement were inconsistent; nothing was settled.</summary>
public sealed class SettlementInputException(SettlementError error, string message)
    : ArgumentException(message)
{
    public SettlementError Error { get; } = error;
}

/// <summary>
/// What to do about lot parties without a meter reading is the caller's decision: the engine refuses them
/// (<see cref="SettlementError.MissingReading"/>). This helper is the one documented alternative.
/// </summary>
public static class MissingReadings
{
    /// <summary>
    /// The given readings plus an import 0 / export 0 reading for every seller or buyer of
    /// <paramref name="lots"/> that has none: the party is settled as if its meter saw no flow (a seller then
    /// delivered nothing, a buyer consumed nothing). Readings and lots are not otherwise checked here.
    /// </summary>
    public static IReadOnlyList<MeterReading> TreatAsZero(long slot, IEnumerable<Lot> lots, IEnumerable<MeterReading> readings)
    {
        ArgumentNullException.ThrowIfNull(lots);
        ArgumentNullException.ThrowIfNull(readings);
        var result = readings.ToList();
        var seen = result.Select(r => r.Participant).ToHashSet();
        var missing = new SortedSet<Address>();
        foreach (var lot in lots)
        {
            if (!seen.Contains(lot.Seller)) missing.Add(lot.Seller);
            if (!seen.Contains(lot.Buyer)) missing.Add(lot.Buyer);
        }
        result.AddRange(missing.Select(p => new MeterReading(p, slot, 0, 0)));
        return result;
    }
}
