using System.Numerics;
using P2PEnergy.Settlement;

namespace P2PEnergy.Ledger.Audit;

/// <summary>What kind of invariant a <see cref="Discrepancy"/> breaks. Numbered in groups: 1xx lots and events, 2xx settlement, 3xx money, 4xx the exchange.</summary>
public enum DiscrepancyKind : short
{
    /// <summary>A LotRecorded event for a lot id seen before.</summary>
    DuplicateLot = 101,

    /// <summary>A recorded lot with an impossible field (no energy, seller = buyer, id or slot 0, a zero party).</summary>
    InvalidLot = 102,

    /// <summary>A lot recorded for a slot after that slot was settled or its paged settlement began (the contract refuses it).</summary>
    LotAfterSettlement = 103,

    /// <summary>An order root committed twice for a slot (the contract refuses it).</summary>
    OrderRootCommittedTwice = 104,

    /// <summary>A log of the ledger with a known event signature that does not decode (or whose values do not fit 64 bits).</summary>
    UndecodableEvent = 105,

    /// <summary>More than one SlotSettled for a slot.</summary>
    SlotSettledTwice = 201,

    /// <summary>LotSettled or PartySettled in a transaction with neither a SlotSettled nor a SettlementPage of the slot.</summary>
    SettlementWithoutSlot = 202,

    /// <summary>A recorded lot of a settled slot without a LotSettled.</summary>
    LotNotSettled = 203,

    /// <summary>A LotSettled for a lot that is not a recorded lot of that slot.</summary>
    UnknownLotSettled = 204,

    /// <summary>Two LotSettled for one lot.</summary>
    LotSettledTwice = 205,

    /// <summary>Delivered or consumed above the lot's contracted Wh.</summary>
    AboveContracted = 206,

    /// <summary>Settled Wh other than min(delivered, consumed).</summary>
    SettledNotMinimum = 207,

    /// <summary>SlotSettled's lot or party count differs from the events and the recorded lots.</summary>
    CountMismatch = 208,

    /// <summary>A party settled twice in a slot, a meter used twice, or energy without a meter.</summary>
    InvalidParty = 209,

    /// <summary>A lot's seller or buyer has no PartySettled in the slot.</summary>
    MissingParty = 210,

    /// <summary>The readings root rebuilt from PartySettled differs from SlotSettled's or the stored one.</summary>
    ReadingsRootMismatch = 211,

    /// <summary>Delivered, consumed or settled Wh of a lot other than FIFO by lot id gives from the readings.</summary>
    NotFifo = 212,

    /// <summary>The settlement engine refused the slot as rebuilt from the chain.</summary>
    EngineRefused = 213,

    /// <summary>The engine's result for the slot breaks conservation.</summary>
    NotConserved = 214,

    /// <summary>A paged settlement's SettlementBegun names other grid prices or another policy than its SlotSettled.</summary>
    SettlementTermsDiffer = 215,

    /// <summary>
    /// A paged settlement's pages are not contiguous from 0 (lots, then parties), its SlotSettled is not in its last party
    /// page's transaction, or a page or SettlementBegun has no place (no SettlementBegun before it, begun again before
    /// finishing, after the slot was settled).
    /// </summary>
    PagesOutOfOrder = 216,

    /// <summary>A page's count differs from the LotSettled or PartySettled in its transaction, or the pages' totals from SlotSettled's.</summary>
    PageCountMismatch = 217,

    /// <summary>A party's net on chain differs from the engine's bill.</summary>
    NetMismatch = 301,

    /// <summary>The grid operator's net on chain differs from the engine's grid account.</summary>
    GridNetMismatch = 302,

    /// <summary>The nets of a slot's parties and the grid operator do not sum to 0.</summary>
    NetsDoNotSum = 303,

    /// <summary>A settlement's Transfer events to and from the ledger differ from the nets it announced.</summary>
    SettlementTransferMismatch = 304,

    /// <summary>An account's balanceOf differs from its replayed Transfer events, or a replayed balance went negative.</summary>
    BalanceMismatch = 305,

    /// <summary>totalSupply differs from deposits − withdrawals, or from the sum of the balances.</summary>
    SupplyMismatch = 306,

    /// <summary>gridOperator() differs from the last GridOperatorSet event.</summary>
    GridOperatorMismatch = 307,

    /// <summary>A lot of the exchange is not on chain.</summary>
    ExchangeLotMissingOnChain = 401,

    /// <summary>A lot on chain is unknown to the exchange.</summary>
    ChainLotUnknownToExchange = 402,

    /// <summary>A lot is on chain with other fields than the exchange's.</summary>
    LotFieldsDiffer = 403,

    /// <summary>The exchange listed a lot id twice.</summary>
    ExchangeLotListedTwice = 404,
}

/// <summary>
/// One broken invariant: a sentence naming the slot, lot or participant and both values, with the same
/// identifiers as data so that callers need not parse the sentence.
/// </summary>
public sealed record Discrepancy(DiscrepancyKind Kind, string Message, long? Slot = null, long? LotId = null, Address? Account = null)
{
    public override string ToString() => Message;
}

/// <summary>Where a slot stands on chain.</summary>
public enum SlotStatus
{
    /// <summary>Lots recorded, no SlotSettled yet (reported, not a discrepancy: settlement follows the meter deadline).</summary>
    Unsettled,

    /// <summary>SlotSettled seen.</summary>
    Settled,

    /// <summary>SettlementBegun seen, no SlotSettled yet: a paged settlement in progress (reported, not a discrepancy).</summary>
    Settling,
}

/// <summary>
/// One slot: what was recorded and, once settled, what the chain says and what the settlement engine gives
/// when it settles the slot again from chain data alone (<see cref="Recomputed"/>; null when unsettled or refused).
/// A paged settlement's block and transaction are its SlotSettled's; <see cref="SettlementTransactions"/> counts all of
/// its transactions (1 for settleSlot; beginSettlement and every page when paged). While a paged settlement is in
/// progress, prices and policy are its SettlementBegun's and <see cref="Parties"/> the parties paged so far.
/// Energy in Wh, money in 1e-5 JPY.
/// </summary>
public sealed record SlotSummary(
    long Slot,
    SlotStatus Status,
    int Lots,
    long ContractedWh,
    string? OrderRoot,
    ulong? SettledInBlock,
    string? SettlementTransaction,
    int Parties,
    long? RetailTicks,
    long? BuyBackTicks,
    byte? Policy,
    string? ReadingsRoot,
    long? ChainGridNet,
    SlotSettlement? Recomputed,
    int SettlementTransactions);

/// <summary>
/// A paged settlement begun and not finished as of the audited block: <see cref="LotsPaged"/> of the slot's
/// <see cref="Lots"/> recorded lots and <see cref="PartiesPaged"/> parties settled so far, in <see cref="Transactions"/>
/// transactions (beginSettlement and the pages; <see cref="BegunInBlock"/> null: begun before the audited range).
/// The paged parties' nets have moved already; the grid operator's moves with the last page.
/// </summary>
public sealed record SettlementInProgress(long Slot, ulong? BegunInBlock, int Lots, long LotsPaged, long PartiesPaged, int Transactions);

/// <summary>
/// A participant's slot: its bill as the engine recomputes it from chain data (energy bought and sold, wheeling,
/// grid, compensations, net), the net the chain settled and the meter that reported (zero: no reading).
/// </summary>
public sealed record StatementLine(long Slot, Address Meter, Bill Bill, long ChainNet);

/// <summary>Sums of a participant's statement lines, in Wh and 1e-5 JPY.</summary>
public sealed record StatementTotals(
    long MeteredImportWh,
    long MeteredExportWh,
    long EnergyBoughtWh,
    long EnergyBoughtMoney,
    long EnergySoldWh,
    long EnergySoldMoney,
    long WheelingPaid,
    long GridImportWh,
    long GridImportMoney,
    long GridExportWh,
    long GridExportMoney,
    long CompensationPaid,
    long CompensationReceived,
    long Net,
    long ChainNet)
{
    public static StatementTotals Of(IEnumerable<StatementLine> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var l = lines.ToArray();
        return new StatementTotals(
            l.Sum(x => x.Bill.MeteredImportWh), l.Sum(x => x.Bill.MeteredExportWh),
            l.Sum(x => x.Bill.EnergyBoughtWh), l.Sum(x => x.Bill.EnergyBoughtMoney),
            l.Sum(x => x.Bill.EnergySoldWh), l.Sum(x => x.Bill.EnergySoldMoney),
            l.Sum(x => x.Bill.WheelingPaid),
            l.Sum(x => x.Bill.GridImportWh), l.Sum(x => x.Bill.GridImportMoney),
            l.Sum(x => x.Bill.GridExportWh), l.Sum(x => x.Bill.GridExportMoney),
            l.Sum(x => x.Bill.CompensationPaid), l.Sum(x => x.Bill.CompensationReceived),
            l.Sum(x => x.Bill.Net), l.Sum(x => x.ChainNet));
    }
}

/// <summary>
/// How an account's token balance came about, replayed from its Transfer events (1e-5 JPY):
/// deposited − withdrawn + settlement received − settlement paid + transfers in − transfers out = replayed balance.
/// The ledger's own account has no settlement lines: its clearing does not change its balance (<see cref="AuditTotals.InClearing"/>).
/// </summary>
public sealed record AccountBalance(
    Address Account,
    string Role,
    BigInteger Deposited,
    BigInteger Withdrawn,
    BigInteger SettlementReceived,
    BigInteger SettlementPaid,
    BigInteger TransfersIn,
    BigInteger TransfersOut,
    BigInteger Replayed,
    BigInteger OnChain);

/// <summary>A participant's statement: one line per settled slot it was a party of, totals, and its token account.</summary>
public sealed record ParticipantStatement(
    ParticipantAddress Participant,
    int LotsSold,
    int LotsBought,
    IReadOnlyList<StatementLine> Lines,
    StatementTotals Totals,
    AccountBalance Account);

/// <summary>
/// Totals of the audit. Energy in Wh, money in 1e-5 JPY. <see cref="InClearing"/>: paid into the ledger's clearing by
/// settlements in progress and not paid out yet (the clearing is not a balance: the balances sum to totalSupply − it).
/// </summary>
public sealed record AuditTotals(
    int Lots,
    long ContractedWh,
    int SettledSlots,
    int UnsettledSlots,
    int SlotsSettling,
    int SettledLots,
    long SettledWh,
    int Participants,
    long EnergyMoney,
    long WheelingMoney,
    long GridNet,
    BigInteger Deposited,
    BigInteger Withdrawn,
    BigInteger InClearing,
    BigInteger TotalSupply);

/// <summary>A paged settlement aborted during its lot pages: begun in <see cref="BegunInBlock"/> (null: before the audited range), aborted in <see cref="AbortedInBlock"/> after <see cref="LotsPaged"/> lots.</summary>
public sealed record AbortedSettlement(long Slot, ulong? BegunInBlock, ulong AbortedInBlock, long LotsPaged);

/// <summary>
/// The result of <see cref="LedgerAuditor.AuditAsync"/>: every discrepancy found (empty: the audit passed),
/// per-participant statements, per-slot summaries, every account's balance and the totals, as of <see cref="Block"/>.
/// <see cref="UnsettledSlots"/>: slots with lots and no settlement begun; <see cref="SettlementsInProgress"/>: paged
/// settlements begun and not finished. Neither is a discrepancy.
/// </summary>
public sealed record AuditReport(
    Address Ledger,
    ulong FromBlock,
    ulong Block,
    Address? GridOperator,
    IReadOnlyList<Discrepancy> Discrepancies,
    IReadOnlyList<SlotSummary> Slots,
    IReadOnlyList<ParticipantStatement> Statements,
    IReadOnlyList<AccountBalance> Accounts,
    IReadOnlyList<long> UnsettledSlots,
    IReadOnlyList<SettlementInProgress> SettlementsInProgress,
    IReadOnlyList<long> SlotsWithoutOrderRoot,
    bool ComparedWithExchange,
    int ExchangeLots,
    AuditTotals Totals)
{
    public bool Passed => Discrepancies.Count == 0;

    /// <summary>Paged settlements aborted during their lot pages (nothing had moved; the slot was settled anew or waits). Not a discrepancy.</summary>
    public IReadOnlyList<AbortedSettlement> AbortedSettlements { get; init; } = [];

    /// <summary>The statement of <paramref name="participant"/>, or null when it has none.</summary>
    public ParticipantStatement? StatementOf(ParticipantAddress participant) =>
        Statements.FirstOrDefault(s => s.Participant == participant);

    public SlotSummary? SlotOf(long slot) => Slots.FirstOrDefault(s => s.Slot == slot);

    public AccountBalance? AccountOf(Address account) => Accounts.FirstOrDefault(a => a.Account == account);
}
