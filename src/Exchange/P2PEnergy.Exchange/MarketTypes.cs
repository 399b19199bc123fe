namespace P2PEnergy.Exchange;

public enum Side : byte
{
    Buy = 1,
    Sell = 2,
}

/// <summary>What a sell order offers. DESIGN.md: renewable = PV, or a battery charged from PV.</summary>
public enum EnergySource : byte
{
    Mixed = 1,
    Renewable = 2,
}

/// <summary>What a buy order asks for: green takes renewable energy only, standard takes any.</summary>
public enum Product : byte
{
    Standard = 1,
    Green = 2,
}

public enum Mechanism : byte
{
    /// <summary>JEPX day-ahead style: blind, one uniform price per product at gate closure.</summary>
    CallAuction = 1,

    /// <summary>Intraday style: price-time priority, trades at the resting order's price.</summary>
    Continuous = 2,
}

/// <summary>Seed 004: households, prosumers (PV, some with batteries), an office, PHEVs.</summary>
public enum ParticipantKind : byte
{
    Household = 1,
    Prosumer = 2,
    Office = 3,
    Phev = 4,
    Battery = 5,
    GridOperator = 6,
}

public enum OrderDoneReason : byte
{
    /// <summary>All its Wh traded.</summary>
    Filled = 1,

    /// <summary>Cancelled by its owner.</summary>
    Cancelled = 2,

    /// <summary>The gate closed with Wh left untraded.</summary>
    Expired = 3,

    /// <summary>The newer of two orders of one participant that would have traded with each other.</summary>
    SelfTradePrevented = 4,
}

/// <summary>
/// Outcome of a command. Numbered in groups (validation, participants, market state, operator),
/// mapped to transport status only at the edge.
/// </summary>
public enum ResultCode : short
{
    Ok = 0,

    // 1xx: the command's own fields
    QuantityNotPositive = 101,
    QuantityNotLotMultiple = 102,
    QuantityTooLarge = 103,
    PriceOutOfRange = 104,
    InvalidSide = 105,
    InvalidProduct = 106,
    InvalidSource = 107,
    ReduceNotBelowRemaining = 108,
    InvalidParticipant = 109,

    // 2xx: who may do it
    UnknownParticipant = 201,
    NotOrderOwner = 202,

    // 3xx: market state
    UnknownSlot = 301,
    SlotClosed = 302,
    DuplicateClientOrderId = 303,
    OrderNotFound = 304,
    BookNotVisible = 305,

    // 4xx: operator commands and configuration
    SlotAlreadyOpen = 401,
    ParticipantAlreadyRegistered = 402,
    InvalidZone = 403,
    InvalidMechanism = 404,
    InvalidWheelingFee = 405,
    InvalidSlot = 406,
    InvalidKind = 407,
}

public static class ResultCodes
{
    /// <summary>A short sentence for people; the edge adds the field and value.</summary>
    public static string Describe(this ResultCode code) => code switch
    {
        ResultCode.Ok => "ok",
        ResultCode.QuantityNotPositive => "energy must be a positive number of Wh",
        ResultCode.QuantityNotLotMultiple => "energy must be a whole number of lot steps",
        ResultCode.QuantityTooLarge => "energy is above the market's largest order",
        ResultCode.PriceOutOfRange => "limit price is outside the market's price band",
        ResultCode.InvalidSide => "side must be buy or sell",
        ResultCode.InvalidProduct => "a buy order must name a product (standard or green)",
        ResultCode.InvalidSource => "a sell order must name its source (renewable or mixed)",
        ResultCode.ReduceNotBelowRemaining => "a reduction must be positive, a whole number of lot steps, and below the order's remaining Wh (cancel the order to remove it all)",
        ResultCode.InvalidParticipant => "participant address is missing or malformed",
        ResultCode.UnknownParticipant => "participant is not registered in this market",
        ResultCode.NotOrderOwner => "the order belongs to another participant",
        ResultCode.UnknownSlot => "slot is not open in this market",
        ResultCode.SlotClosed => "the slot's gate is closed",
        ResultCode.DuplicateClientOrderId => "this participant already used this client order id",
        ResultCode.OrderNotFound => "no live order with this id",
        ResultCode.BookNotVisible => "a call-auction book is blind until the gate closes",
        ResultCode.SlotAlreadyOpen => "slot is already open",
        ResultCode.ParticipantAlreadyRegistered => "participant is already registered",
        ResultCode.InvalidZone => "zone is outside the market's zones",
        ResultCode.InvalidMechanism => "mechanism must be call auction or continuous",
        ResultCode.InvalidWheelingFee => "a wheeling fee must be zero or more ticks and within the price band",
        ResultCode.InvalidSlot => "slot index must be positive",
        ResultCode.InvalidKind => "participant kind is not known",
        _ => code.ToString(),
    };
}
