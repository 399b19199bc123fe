using System.Numerics;

namespace P2PEnergy.Ledger;

/// <summary>
/// A revert of EnergyLedger, decoded from its revert data: one record per custom error of the contract,
/// <see cref="RevertedWithReason"/> for Error(string)/Panic, <see cref="UnknownRevert"/> for anything else.
/// </summary>
public abstract record LedgerError
{
    /// <summary>Decodes revert data (never throws: undecodable data becomes <see cref="UnknownRevert"/>).</summary>
    public static LedgerError Decode(ReadOnlySpan<byte> revertData)
    {
        var abi = EnergyLedgerContract.Abi;
        try
        {
            if (abi.FindError(revertData) is { } error)
            {
                var args = error.DecodeCall(revertData);
                return error.Name switch
                {
                    "NotAdmin" => new NotAdmin((Address)args[0]!),
                    "NotOperator" => new NotOperator((Address)args[0]!),
                    "ZeroAddress" => new ZeroAddress(),
                    "EmptyBatch" => new EmptyBatch(),
                    "MalformedBatch" => new MalformedBatch((BigInteger)args[0]!),
                    "BatchTooLarge" => new BatchTooLarge((BigInteger)args[0]!, (BigInteger)args[1]!),
                    "LotAlreadyRecorded" => new LotAlreadyRecorded((ulong)(BigInteger)args[0]!),
                    "InvalidLot" => new InvalidLot((ulong)(BigInteger)args[0]!, (string)args[1]!),
                    "OrderRootAlreadyCommitted" => new OrderRootAlreadyCommitted((ulong)(BigInteger)args[0]!),
                    "InvalidOrderRoot" => new InvalidOrderRoot((ulong)(BigInteger)args[0]!),
                    "InsufficientBalance" => new InsufficientBalance((Address)args[0]!, (BigInteger)args[1]!, (BigInteger)args[2]!),
                    "InsufficientAllowance" => new InsufficientAllowance((Address)args[0]!, (BigInteger)args[1]!, (BigInteger)args[2]!),
                    "GridOperatorNotSet" => new GridOperatorNotSet(),
                    "InvalidSlot" => new InvalidSlot((ulong)(BigInteger)args[0]!),
                    "InvalidPolicy" => new InvalidPolicy((byte)(BigInteger)args[0]!),
                    "SlotAlreadySettled" => new SlotAlreadySettled((ulong)(BigInteger)args[0]!),
                    "LotsMismatch" => new LotsMismatch((ulong)(BigInteger)args[0]!),
                    "LotOfAnotherSlot" => new LotOfAnotherSlot((ulong)(BigInteger)args[0]!, (ulong)(BigInteger)args[1]!),
                    "MalformedSettlement" => new MalformedSettlement((string)args[0]!),
                    "SettledAboveContracted" => new SettledAboveContracted((ulong)(BigInteger)args[0]!, (BigInteger)args[1]!, (BigInteger)args[2]!),
                    "InvalidParty" => new InvalidParty((BigInteger)args[0]!, (string)args[1]!),
                    "DuplicateParty" => new DuplicateParty((Address)args[0]!),
                    "MissingParty" => new MissingParty((ulong)(BigInteger)args[0]!, (Address)args[1]!),
                    "AboveMetered" => new AboveMetered((Address)args[0]!, (BigInteger)args[1]!, (BigInteger)args[2]!),
                    "SettlementInProgress" => new SettlementInProgress((ulong)(BigInteger)args[0]!),
                    "SettlementNotBegun" => new SettlementNotBegun((ulong)(BigInteger)args[0]!),
                    "WrongPhase" => new WrongPhase((ulong)(BigInteger)args[0]!, (byte)(BigInteger)args[1]!),
                    "PageOutOfOrder" => new PageOutOfOrder((ulong)(BigInteger)args[0]!, (uint)(BigInteger)args[1]!, (uint)(BigInteger)args[2]!),
                    "PartiesMissing" => new PartiesMissing((ulong)(BigInteger)args[0]!, (uint)(BigInteger)args[1]!),
                    "ClearingShort" => new ClearingShort((BigInteger)args[0]!),
                    _ => new UnknownRevert(revertData.ToArray()),
                };
            }
        }
        catch (AbiDecodingException)
        {
            return new UnknownRevert(revertData.ToArray());
        }
        return RevertReason.TryDecode(revertData, out var reason) ? new RevertedWithReason(reason) : new UnknownRevert(revertData.ToArray());
    }

    /// <summary>The decoded revert of a node error, when the node sent revert data with it.</summary>
    public static bool TryFrom(JsonRpcException exception, out LedgerError error)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.RevertData is { Length: >= 4 } data)
        {
            error = Decode(data);
            return true;
        }
        error = null!;
        return false;
    }

    public sealed record NotAdmin(Address Caller) : LedgerError;

    public sealed record NotOperator(Address Caller) : LedgerError;

    public sealed record ZeroAddress : LedgerError;

    public sealed record EmptyBatch : LedgerError;

    public sealed record MalformedBatch(BigInteger Length) : LedgerError;

    public sealed record BatchTooLarge(BigInteger Lots, BigInteger Max) : LedgerError;

    public sealed record LotAlreadyRecorded(ulong LotId) : LedgerError;

    public sealed record InvalidLot(ulong LotId, string Reason) : LedgerError;

    public sealed record OrderRootAlreadyCommitted(ulong Slot) : LedgerError;

    public sealed record InvalidOrderRoot(ulong Slot) : LedgerError;

    public sealed record InsufficientBalance(Address Account, BigInteger Balance, BigInteger Needed) : LedgerError;

    public sealed record InsufficientAllowance(Address Spender, BigInteger Allowance, BigInteger Needed) : LedgerError;

    public sealed record GridOperatorNotSet : LedgerError;

    public sealed record InvalidSlot(ulong Slot) : LedgerError;

    public sealed record InvalidPolicy(byte Policy) : LedgerError;

    public sealed record SlotAlreadySettled(ulong Slot) : LedgerError;

    /// <summary>The lots given to settleSlot are not exactly the slot's recorded lots (in recording order).</summary>
    public sealed record LotsMismatch(ulong Slot) : LedgerError;

    public sealed record LotOfAnotherSlot(ulong LotId, ulong Slot) : LedgerError;

    public sealed record MalformedSettlement(string Reason) : LedgerError;

    public sealed record SettledAboveContracted(ulong LotId, BigInteger EnergyWh, BigInteger ContractedWh) : LedgerError;

    public sealed record InvalidParty(BigInteger Index, string Reason) : LedgerError;

    public sealed record DuplicateParty(Address Participant) : LedgerError;

    public sealed record MissingParty(ulong LotId, Address Participant) : LedgerError;

    public sealed record AboveMetered(Address Participant, BigInteger AllocatedWh, BigInteger MeteredWh) : LedgerError;

    /// <summary>A paged settlement of the slot has begun: it takes no lots and no one-transaction settlement.</summary>
    public sealed record SettlementInProgress(ulong Slot) : LedgerError;

    /// <summary>A settlement page for a slot whose paged settlement was not begun.</summary>
    public sealed record SettlementNotBegun(ulong Slot) : LedgerError;

    /// <summary>A lot page after the party pages started.</summary>
    public sealed record WrongPhase(ulong Slot, byte Phase) : LedgerError;

    /// <summary>A page that does not start where the settlement stands (a retried page that landed, or a gap).</summary>
    public sealed record PageOutOfOrder(ulong Slot, uint Expected, uint Given) : LedgerError;

    /// <summary>The last party page came while lot parties were still unsettled.</summary>
    public sealed record PartiesMissing(ulong Slot, uint Count) : LedgerError;

    /// <summary>A withdrawal while the settlement clearing is short (a paged settlement paid creditors before its debtors paid in).</summary>
    public sealed record ClearingShort(BigInteger ShortBy) : LedgerError;

    /// <summary>Error(string) or Panic(uint256), as <see cref="RevertReason"/> prints them.</summary>
    public sealed record RevertedWithReason(string Reason) : LedgerError;

    public sealed record UnknownRevert(byte[] Data) : LedgerError
    {
        public override string ToString() => $"UnknownRevert {{ Data = {Hex.Encode(Data)} }}";
    }
}

/// <summary>A call or transaction to EnergyLedger reverted; <see cref="Error"/> says why.</summary>
public sealed class LedgerRevertException : Exception
{
    public LedgerRevertException(string operation, LedgerError error, Exception? inner = null)
        : base($"{operation} reverted: {error}", inner)
    {
        Operation = operation;
        Error = error;
    }

    public string Operation { get; }

    public LedgerError Error { get; }
}

/// <summary>
/// The node answers but the ledger is not usable there: another chain, or no contract code at the
/// deployment's address (for example a development node restarted without its state).
/// </summary>
public sealed class LedgerUnavailableException : Exception
{
    public LedgerUnavailableException(string message)
        : base(message)
    {
    }
}
