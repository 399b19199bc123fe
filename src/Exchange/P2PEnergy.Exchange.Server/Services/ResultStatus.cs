using System.Globalization;
using Grpc.Core;
using P2PEnergy.Exchange;

namespace P2PEnergy.Exchange.Server.Services;

/// <summary>A refused request: the status a unary call ends with, the core's result code, and a message naming the field.</summary>
public readonly record struct Refusal(StatusCode Status, int ResultCode, string Message)
{
    public RpcException ToException()
    {
        var trailers = new Metadata();
        if (ResultCode != 0) trailers.Add(ResultStatus.ResultCodeTrailer, ResultCode.ToString(CultureInfo.InvariantCulture));
        return new RpcException(new Status(Status, Message), trailers, Message);
    }
}

/// <summary>
/// The one place where result codes become gRPC status (docs/matching-rules.md, "Result codes").
/// Messages read "field: what is wrong (got value, …)", e.g.
/// "order.energy_wh: energy must be a whole number of lot steps (got 150, step 100)", and the numeric
/// code goes in the trailer <see cref="ResultCodeTrailer"/>.
/// </summary>
/// <remarks>
/// <see cref="Exchange.ResultCode.UnknownParticipant"/> maps to PERMISSION_DENIED, not NOT_FOUND: it answers
/// "who may do it" (the caller is not a member of this market), and it keeps NOT_FOUND for things a member
/// asked about (slots, orders). A valid signature by a non-member is the same case: the signature proves
/// who asks (<see cref="BadSignature"/> otherwise), membership decides whether they may.
/// </remarks>
public static class ResultStatus
{
    public const string ResultCodeTrailer = "p2p-result-code";

    /// <summary>A field the exchange checks itself at the edge (not the matching core): INVALID_ARGUMENT.</summary>
    public const int EdgeValidation = 100;

    /// <summary>
    /// The command's signature is missing (when the exchange requires signatures) or was not made by the
    /// participant's key: UNAUTHENTICATED. Checked at the edge, before the core, so nothing changes.
    /// </summary>
    public const int BadSignature = 110;

    /// <summary>An order's proof was asked for while its slot's gate is open (no order root yet): FAILED_PRECONDITION.</summary>
    public const int OrderRootPending = 111;

    // Meter readings (docs/metering-rules.md): edge codes 120–129, mapped by MeteringStatusCode below.

    /// <summary>The meter is not bound to a participant, or the participant has no meter: NOT_FOUND.</summary>
    public const int UnknownMeter = 120;

    /// <summary>The reading names another participant than the meter's: PERMISSION_DENIED.</summary>
    public const int NotMetersParticipant = 121;

    /// <summary>The slot's delivery has not ended yet at the market clock: FAILED_PRECONDITION.</summary>
    public const int FutureSlot = 122;

    /// <summary>The slot's readings are sealed (by the operator or the deadline): FAILED_PRECONDITION; the reading is kept for audit.</summary>
    public const int LateReading = 123;

    /// <summary>The meter already has a different reading for the slot: ALREADY_EXISTS; the new one is kept for audit.</summary>
    public const int ConflictingReading = 124;

    /// <summary>The meter, or the participant, is already bound to another: ALREADY_EXISTS.</summary>
    public const int MeterAlreadyBound = 125;

    /// <summary>A reading's proof asked for before its slot's readings are sealed: FAILED_PRECONDITION.</summary>
    public const int ReadingRootPending = 126;

    /// <summary>No accepted reading for the meter and slot: NOT_FOUND.</summary>
    public const int ReadingNotFound = 127;

    /// <summary>
    /// A slot's settlement (or a bill) asked for before the slot is settled: its readings are not sealed yet
    /// (or its gate is still open; docs/settlement-rules.md, "In the exchange"): FAILED_PRECONDITION.
    /// </summary>
    public const int NotSettled = 130;

    /// <summary>
    /// The journal (Redis mode) cannot take or confirm the command: UNAVAILABLE, with the reason (issue 7). A command
    /// refused before it was applied changed nothing; one applied but not yet durable takes effect once written,
    /// or not at all if the exchange stops first: retry with the same client order id to find out (ALREADY_EXISTS).
    /// </summary>
    public const int JournalUnavailable = 140;

    public static Refusal Unavailable(string reason) => new(StatusCode.Unavailable, JournalUnavailable, reason);

    /// <summary>A settlement asked for too early (<see cref="NotSettled"/>).</summary>
    public static Refusal NotSettledYet(string field, string problem, string? detail = null) =>
        new(StatusCode.FailedPrecondition, NotSettled, Format(field, problem, detail));

    public static StatusCode MeteringStatusCode(int code) => code switch
    {
        UnknownMeter => StatusCode.NotFound,
        NotMetersParticipant => StatusCode.PermissionDenied,
        FutureSlot => StatusCode.FailedPrecondition,
        LateReading => StatusCode.FailedPrecondition,
        ConflictingReading => StatusCode.AlreadyExists,
        MeterAlreadyBound => StatusCode.AlreadyExists,
        ReadingRootPending => StatusCode.FailedPrecondition,
        ReadingNotFound => StatusCode.NotFound,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not a metering result code (120–129)"),
    };

    /// <summary>A metering refusal (codes 120–129).</summary>
    public static Refusal Metering(int code, string field, string problem, string? detail = null) =>
        new(MeteringStatusCode(code), code, Format(field, problem, detail));

    public static StatusCode ToStatusCode(ResultCode code) => code switch
    {
        ResultCode.Ok => StatusCode.OK,
        ResultCode.UnknownParticipant => StatusCode.PermissionDenied,
        ResultCode.NotOrderOwner => StatusCode.PermissionDenied,
        ResultCode.UnknownSlot => StatusCode.NotFound,
        ResultCode.SlotClosed => StatusCode.FailedPrecondition,
        ResultCode.DuplicateClientOrderId => StatusCode.AlreadyExists,
        ResultCode.OrderNotFound => StatusCode.NotFound,
        ResultCode.BookNotVisible => StatusCode.FailedPrecondition,
        ResultCode.SlotAlreadyOpen => StatusCode.AlreadyExists,
        ResultCode.ParticipantAlreadyRegistered => StatusCode.AlreadyExists,
        >= (ResultCode)100 and < (ResultCode)200 => StatusCode.InvalidArgument,
        >= (ResultCode)400 and < (ResultCode)500 => StatusCode.InvalidArgument,
        _ => StatusCode.Unknown,
    };

    /// <summary>A refusal by the core: "field: description (detail)".</summary>
    public static Refusal Refuse(ResultCode code, string field, string? detail) =>
        new(ToStatusCode(code), (int)code, Format(field, code.Describe(), detail));

    /// <summary>A field the edge refuses before the core sees it.</summary>
    public static Refusal Invalid(string field, string problem, string? detail = null) =>
        new(StatusCode.InvalidArgument, EdgeValidation, Format(field, problem, detail));

    /// <summary>A signature the edge refuses (<see cref="BadSignature"/>).</summary>
    public static Refusal Unauthenticated(string field, string problem, string? detail = null) =>
        new(StatusCode.Unauthenticated, BadSignature, Format(field, problem, detail));

    /// <summary>An order proof asked for too early (<see cref="OrderRootPending"/>).</summary>
    public static Refusal RootPending(string field, string problem, string? detail = null) =>
        new(StatusCode.FailedPrecondition, OrderRootPending, Format(field, problem, detail));

    /// <summary>A core result code with the edge's own wording (when the core's sentence does not fit the request).</summary>
    public static Refusal Refuse(ResultCode code, string field, string problem, string? detail) =>
        new(ToStatusCode(code), (int)code, Format(field, problem, detail));

    private static string Format(string field, string problem, string? detail) =>
        string.IsNullOrEmpty(detail) ? $"{field}: {problem}" : $"{field}: {problem} ({detail})";

    internal static string Quote(string? text) =>
        text is null ? "null" : text.Length > 64 ? $"\"{text[..64]}…\"" : $"\"{text}\"";

    /// <summary>The field and value behind a refused submit (<paramref name="prefix"/> is the path to the order message).</summary>
    public static Refusal ForSubmit(ResultCode code, Protos.V1.NewOrder order, MarketConfig config, string prefix = "order.") => code switch
    {
        ResultCode.QuantityNotPositive => Refuse(code, prefix + "energy_wh", $"got {order.EnergyWh}"),
        ResultCode.QuantityNotLotMultiple => Refuse(code, prefix + "energy_wh", $"got {order.EnergyWh}, step {config.LotStepWh}"),
        ResultCode.QuantityTooLarge => Refuse(code, prefix + "energy_wh", $"got {order.EnergyWh}, largest {config.MaxOrderWh}"),
        ResultCode.PriceOutOfRange => Refuse(code, prefix + "limit_price_ticks", $"got {order.LimitPriceTicks}, band {config.MinPriceTicks} … {config.MaxPriceTicks}"),
        ResultCode.InvalidSide => Refuse(code, prefix + "side", $"got {order.Side}"),
        ResultCode.InvalidProduct => Refuse(code, prefix + "product", $"got {order.Product}"),
        ResultCode.InvalidSource => Refuse(code, prefix + "source", $"got {order.Source}"),
        ResultCode.InvalidParticipant or ResultCode.UnknownParticipant => Refuse(code, prefix + "participant", $"got {order.Participant}"),
        ResultCode.UnknownSlot or ResultCode.SlotClosed => Refuse(code, prefix + "slot", $"got {order.Slot}"),
        ResultCode.DuplicateClientOrderId => Refuse(code, prefix + "client_order_id", $"got {order.ClientOrderId}"),
        _ => Refuse(code, prefix.TrimEnd('.'), null),
    };

    /// <summary>The field and value behind a refused cancel or reduce.</summary>
    public static Refusal ForOrderCommand(ResultCode code, string participant, long orderId, long reduceByWh, MarketConfig config) => code switch
    {
        ResultCode.InvalidParticipant or ResultCode.UnknownParticipant => Refuse(code, "participant", $"got {participant}"),
        ResultCode.NotOrderOwner or ResultCode.OrderNotFound => Refuse(code, "order_id", $"got {orderId}"),
        ResultCode.SlotClosed => Refuse(code, "order_id", $"order {orderId}"),
        ResultCode.ReduceNotBelowRemaining => Refuse(code, "reduce_by_wh", $"got {reduceByWh}, step {config.LotStepWh}"),
        _ => Refuse(code, "order_id", $"got {orderId}"),
    };
}
