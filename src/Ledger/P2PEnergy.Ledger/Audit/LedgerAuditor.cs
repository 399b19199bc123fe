using System.Numerics;
using P2PEnergy.Settlement;

namespace P2PEnergy.Ledger.Audit;

/// <summary>
/// Rebuilds a ledger's lots, settlements and balances from its events alone and checks every invariant of
/// issue 5 (DESIGN.md: "Auditors can rebuild and check everything from the chain alone"). Needs only a node
/// and the ledger's address; optionally the exchange's lots, to find differences between the two.
/// </summary>
/// <remarks>
/// Everything is read as of one block (the node's head when the audit starts): the events up to it and every
/// view call at it, so a chain that moves during the audit cannot make it report a difference that is not there.
/// Events before <see cref="FromBlock"/> are not seen: start at the ledger's deploy block or earlier (default 0),
/// or the balances, and the lots of slots settled later, will not add up.
///
/// Each settled slot is settled again with <see cref="SettlementEngine"/> from chain data only: its recorded lots,
/// its PartySettled readings (meter 0: no reading, settled as 0/0, as <see cref="MissingReadings.TreatAsZero"/>),
/// its grid prices and its policy bits. The engine's FIFO allocation (docs/settlement-rules.md) must give the
/// delivered and consumed Wh the contract was given (the contract only checks them against the readings), and
/// its bills the nets the contract moved.
///
/// A slot's settlement is one transaction (settleSlot: SlotSettled, then its LotSettled, PartySettled and Transfers),
/// or paged over several: SettlementBegun, lot pages and party pages (SettlementPage, with the LotSettled, PartySettled
/// and Transfers of their transaction) and SlotSettled in the last party page's transaction. A paged settlement is
/// checked as one settlement made of all its pages' events, and its pages against each other; one begun and not
/// finished at the audited block is a note, not a discrepancy, and the money its pages moved counts as settlement.
/// </remarks>
public sealed partial class LedgerAuditor
{
    private readonly EthJsonRpcClient _client;

    public LedgerAuditor(EthJsonRpcClient client, Address ledger, ulong fromBlock = 0)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        if (ledger.IsZero) throw new ArgumentException("The ledger address must not be zero.", nameof(ledger));
        Ledger = ledger;
        FromBlock = fromBlock;
    }

    public Address Ledger { get; }

    public ulong FromBlock { get; }

    /// <summary>
    /// Audits the ledger as of the node's current block. With <paramref name="exchangeLots"/> (every lot the
    /// exchange has), also requires every one of them on chain with identical fields and no other lot on chain.
    /// </summary>
    public async Task<AuditReport> AuditAsync(IReadOnlyList<Lot>? exchangeLots = null, CancellationToken cancellationToken = default)
    {
        ulong head = await _client.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var events = FromBlock <= head
            ? await LedgerEventLog.ReadAsync(_client, Ledger, FromBlock, head, cancellationToken).ConfigureAwait(false)
            : new LedgerEventLog();
        // Only views are called: the chain id of the transaction sender is never used.
        var contract = new EnergyLedgerContract(_client, Ledger, chainId: 0);
        var at = BlockParameter.At(head);
        var audit = new Audit(Ledger, FromBlock, head, events, exchangeLots);
        var currentGridOperator = await contract.GridOperatorAsync(cancellationToken).ConfigureAwait(false);
        audit.CheckLots();
        audit.CheckOrderRoots();
        audit.CheckGridOperator(currentGridOperator);
        audit.GatherSettlements();
        foreach (var slot in audit.SettledSlots)
        {
            var stored = await contract.ReadingsRootAsync(slot, cancellationToken).ConfigureAwait(false);
            audit.CheckSettledSlot(slot, stored);
        }
        audit.CheckSettlementsInProgress();
        audit.CheckStraySettlementEvents();
        audit.ReplayTransfers();
        var onChain = new Dictionary<Address, BigInteger>();
        foreach (var account in audit.Accounts)
        {
            onChain[account] = await contract.BalanceOfAsync(account, at, cancellationToken).ConfigureAwait(false);
        }
        var totalSupply = await contract.TotalSupplyAsync(at, cancellationToken).ConfigureAwait(false);
        audit.CheckBalances(onChain, totalSupply, await contract.ClearingAsync(at, cancellationToken).ConfigureAwait(false));
        audit.CompareWithExchange();
        return audit.Report(currentGridOperator, onChain, totalSupply);
    }

    /// <summary>One audit's state: what the events say, and the discrepancies found so far, in the order checked.</summary>
    private sealed partial class Audit
    {
        private readonly Address _ledger;
        private readonly ulong _fromBlock;
        private readonly ulong _head;
        private readonly LedgerEventLog _events;
        private readonly IReadOnlyList<Lot>? _exchangeLots;
        private readonly List<Discrepancy> _found = [];

        // First recording of each lot id, and the lots of each slot in recording order.
        private readonly Dictionary<long, RecordedLot> _lots = [];
        private readonly SortedDictionary<long, List<RecordedLot>> _lotsBySlot = [];
        private readonly Dictionary<long, OrderRootCommitment> _orderRoots = [];
        // Finished settlements per slot (more than one is a discrepancy), paged ones still open, and open ones
        // replaced by a second SettlementBegun of their slot.
        private readonly SortedDictionary<long, List<Settlement>> _settlements = [];
        private readonly SortedDictionary<long, Settlement> _inProgress = [];
        private readonly List<Settlement> _abandoned = [];
        private readonly List<AbortedSettlement> _abortedSettlements = [];
        private readonly Dictionary<long, SettledSlot> _settled = [];
        private readonly SortedDictionary<long, SettlementInProgress> _settling = [];
        private readonly HashSet<LogPosition> _settlementTransfers = [];
        private readonly Dictionary<Address, Account> _accounts = [];
        private BigInteger _deposited;
        private BigInteger _withdrawn;
        private BigInteger _inClearing;
        private Address _currentGridOperator;

        // The events indexed once, so that a year of slots is not a scan of every event per slot.
        private readonly ILookup<long, Logged<SettledLotEvent>> _lotEventsBySlot;
        private readonly ILookup<long, Logged<SettledPartyEvent>> _partyEventsBySlot;
        private readonly ILookup<string, Logged<TokenTransferEvent>> _transfersByTransaction;
        private ILookup<string, Marker> _markersByTransaction = Enumerable.Empty<Marker>().ToLookup(m => m.Position.TransactionHash);

        public Audit(Address ledger, ulong fromBlock, ulong head, LedgerEventLog events, IReadOnlyList<Lot>? exchangeLots)
        {
            _ledger = ledger;
            _fromBlock = fromBlock;
            _head = head;
            _events = events;
            _exchangeLots = exchangeLots;
            // Lookups keep the chain order of the lists they are built from.
            _lotEventsBySlot = events.LotsSettled.ToLookup(e => e.Event.Slot);
            _partyEventsBySlot = events.PartiesSettled.ToLookup(e => e.Event.Slot);
            _transfersByTransaction = events.Transfers.ToLookup(e => e.Position.TransactionHash, StringComparer.Ordinal);
        }

        public IEnumerable<long> SettledSlots => _settlements.Keys;

        public IEnumerable<Address> Accounts => _accounts.Keys;

        private void Found(DiscrepancyKind kind, string message, long? slot = null, long? lotId = null, Address? account = null) =>
            _found.Add(new Discrepancy(kind, message, slot, lotId, account));

        private Account AccountOf(Address address)
        {
            if (!_accounts.TryGetValue(address, out var account)) _accounts[address] = account = new Account();
            return account;
        }

        // ------------------------------------------------------------------ lots

        public void CheckLots()
        {
            foreach (var (position, problem) in _events.Undecodable)
            {
                Found(DiscrepancyKind.UndecodableEvent, $"a log of the ledger at {position} cannot be decoded: {problem}");
            }
            foreach (var r in _events.Lots)
            {
                var lot = r.Lot;
                if (_lots.TryGetValue(lot.LotId, out var first))
                {
                    Found(DiscrepancyKind.DuplicateLot,
                        $"lot {lot.LotId} is recorded twice: for slot {first.Lot.Slot} in block {first.BlockNumber} and for slot {lot.Slot} in block {r.BlockNumber}",
                        lot.Slot, lot.LotId);
                    continue;
                }
                _lots[lot.LotId] = r;
                if (!_lotsBySlot.TryGetValue(lot.Slot, out var ofSlot)) _lotsBySlot[lot.Slot] = ofSlot = [];
                ofSlot.Add(r);
                foreach (var problem in LotProblems(lot))
                {
                    Found(DiscrepancyKind.InvalidLot, $"lot {lot.LotId} of slot {lot.Slot}: {problem}", lot.Slot, lot.LotId);
                }
                if (!lot.Seller.IsZero) AccountOf(Eth(lot.Seller)).IsParticipant = true;
                if (!lot.Buyer.IsZero) AccountOf(Eth(lot.Buyer)).IsParticipant = true;
            }
        }

        private static IEnumerable<string> LotProblems(Lot lot)
        {
            if (lot.LotId <= 0) yield return $"lot id {lot.LotId} is not positive";
            if (lot.Slot <= 0) yield return $"slot {lot.Slot} is not positive";
            if (lot.EnergyWh <= 0) yield return $"energy {lot.EnergyWh} Wh is not positive";
            if (lot.Seller == lot.Buyer) yield return $"seller and buyer are both {lot.Seller}";
            if (lot.Seller.IsZero) yield return "the seller is the zero address";
            if (lot.Buyer.IsZero) yield return "the buyer is the zero address";
        }

        public void CheckOrderRoots()
        {
            foreach (var r in _events.OrderRoots)
            {
                var c = r.Event;
                if (!_orderRoots.TryAdd(c.Slot, c))
                {
                    Found(DiscrepancyKind.OrderRootCommittedTwice,
                        $"slot {c.Slot}: order root committed twice, {_orderRoots[c.Slot].Root} ({_orderRoots[c.Slot].Orders} orders) in block {_orderRoots[c.Slot].BlockNumber} and {c.Root} ({c.Orders} orders) in block {c.BlockNumber}",
                        c.Slot);
                }
            }
        }

        public void CheckGridOperator(Address current)
        {
            if (!current.IsZero) AccountOf(current).IsGridOperator = true;
            foreach (var set in _events.GridOperatorsSet) AccountOf(set.Event).IsGridOperator = true;
            if (_events.GridOperatorsSet.Count > 0 && _events.GridOperatorsSet[^1].Event != current)
            {
                Found(DiscrepancyKind.GridOperatorMismatch,
                    $"gridOperator() is {Text(current)}, but the last GridOperatorSet event (block {_events.GridOperatorsSet[^1].Position.Block}) set {Text(_events.GridOperatorsSet[^1].Event)}",
                    account: current);
            }
            _currentGridOperator = current;
        }

        /// <summary>The grid operator when a settlement at <paramref name="position"/> ran: the last one set before it.</summary>
        private Address GridOperatorAt(LogPosition position)
        {
            Address? found = null;
            foreach (var set in _events.GridOperatorsSet)
            {
                if (set.Position < position) found = set.Event;
            }
            // Set before the audited range: the current one is the best knowledge there is.
            return found ?? _currentGridOperator;
        }

        // ------------------------------------------------------------------ settlement

        /// <summary>
        /// Puts the settlement events in chain order and groups them per slot into settlements: a SlotSettled alone
        /// (settleSlot, one transaction), or a SettlementBegun, the pages after it and the SlotSettled that finishes it
        /// (paged, one transaction a step). A paged settlement without its SlotSettled at the audited block is in progress.
        /// </summary>
        public void GatherSettlements()
        {
            var steps = new List<(LogPosition Position, long Slot, Step Step, int Index)>();
            for (int i = 0; i < _events.SettlementsBegun.Count; i++) steps.Add((_events.SettlementsBegun[i].Position, _events.SettlementsBegun[i].Event.Slot, Step.Begun, i));
            for (int i = 0; i < _events.SettlementPages.Count; i++) steps.Add((_events.SettlementPages[i].Position, _events.SettlementPages[i].Event.Slot, Step.Page, i));
            for (int i = 0; i < _events.SlotsSettled.Count; i++) steps.Add((_events.SlotsSettled[i].Position, _events.SlotsSettled[i].Event.Slot, Step.Settled, i));
            for (int i = 0; i < _events.SettlementsAborted.Count; i++) steps.Add((_events.SettlementsAborted[i].Position, _events.SettlementsAborted[i].Event.Slot, Step.Aborted, i));
            steps.Sort((a, b) => a.Position.CompareTo(b.Position));

            var open = new Dictionary<long, Settlement>();
            var markers = new List<Marker>(steps.Count);
            foreach (var (position, slot, step, index) in steps)
            {
                open.TryGetValue(slot, out var current);
                var earlier = _settlements.TryGetValue(slot, out var finished) ? finished[0].Settled : null;
                switch (step)
                {
                    case Step.Begun:
                        if (current is not null)
                        {
                            // The contract refuses beginSettlement while one is open: the first one's transfers still count as settlement transfers.
                            Found(DiscrepancyKind.PagesOutOfOrder,
                                $"slot {slot}: its settlement is begun again at {position}, while the one begun at {current.Start} has not finished", slot);
                            _abandoned.Add(current);
                        }
                        else if (earlier is not null)
                        {
                            Found(DiscrepancyKind.PagesOutOfOrder,
                                $"slot {slot}: a settlement is begun at {position}, after the slot was settled in block {earlier.Position.Block} (tx {earlier.Position.TransactionHash})", slot);
                        }
                        open[slot] = current = new Settlement(slot) { Begun = _events.SettlementsBegun[index] };
                        break;
                    case Step.Page:
                        var page = _events.SettlementPages[index];
                        if (current is null)
                        {
                            string why = earlier is not null
                                ? $"after the slot was settled in block {earlier.Position.Block} (tx {earlier.Position.TransactionHash})"
                                : _fromBlock > 0 ? $"without a SettlementBegun before it (begun before block {_fromBlock}, where the audit starts?)" : "without a SettlementBegun before it";
                            Found(DiscrepancyKind.PagesOutOfOrder, $"slot {slot}: {PageText(page.Event)} at {position} comes {why}", slot);
                            open[slot] = current = new Settlement(slot);
                        }
                        current.Pages.Add(page);
                        current.AddEventTransaction(position.TransactionHash);
                        break;
                    case Step.Aborted:
                        // The contract aborts only an open settlement in its lot pages: nothing had moved, and the slot
                        // is as before it began. Its pages are still checked (as an abandoned settlement's).
                        var abort = _events.SettlementsAborted[index];
                        if (current is null)
                        {
                            Found(DiscrepancyKind.PagesOutOfOrder, $"slot {slot}: a settlement is aborted at {position} without one begun", slot);
                            current = new Settlement(slot);
                        }
                        else
                        {
                            open.Remove(slot);
                            if (current.PagedCount(SettlementProgress.Parties) > 0)
                            {
                                Found(DiscrepancyKind.PagesOutOfOrder, $"slot {slot}: its settlement is aborted at {position} after its party pages began", slot);
                            }
                            if (current.PagedCount(SettlementProgress.Lots) != abort.Event.LotsDone)
                            {
                                Found(DiscrepancyKind.PageCountMismatch,
                                    $"slot {slot}: its settlement is aborted at {position} after {abort.Event.LotsDone} lots, its lot pages count {current.PagedCount(SettlementProgress.Lots)}", slot);
                            }
                        }
                        _abandoned.Add(current);
                        _abortedSettlements.Add(new AbortedSettlement(slot, current.Begun?.Position.Block, position.Block, abort.Event.LotsDone));
                        current.Transactions.Add(position.TransactionHash);
                        markers.Add(new Marker(position, step, current));
                        continue;
                    default:
                        if (current is null) current = new Settlement(slot);
                        else open.Remove(slot);
                        current.Settled = _events.SlotsSettled[index];
                        current.AddEventTransaction(position.TransactionHash);
                        if (finished is null) _settlements[slot] = finished = [];
                        finished.Add(current);
                        break;
                }
                current.Transactions.Add(position.TransactionHash);
                markers.Add(new Marker(position, step, current));
            }
            foreach (var (slot, settlement) in open) _inProgress[slot] = settlement;
            _markersByTransaction = markers.ToLookup(m => m.Position.TransactionHash, StringComparer.Ordinal);
        }

        public void CheckSettledSlot(long slot, byte[]? storedRoot)
        {
            var all = _settlements[slot];
            var settlement = all[0];
            var settled = settlement.Settled!;
            var s = settled.Event;
            var p = settled.Position;
            for (int i = 1; i < all.Count; i++)
            {
                Found(DiscrepancyKind.SlotSettledTwice,
                    $"slot {slot} is settled {all.Count} times: in block {p.Block} (tx {p.TransactionHash}) and again in block {all[i].Settled!.Position.Block} (tx {all[i].Settled!.Position.TransactionHash})",
                    slot);
            }

            // The settlement's own events: those of its transactions (a second settlement of the slot is reported above).
            var lotEvents = EventsOf(settlement, _lotEventsBySlot[slot]);
            var partyEvents = EventsOf(settlement, _partyEventsBySlot[slot]);

            var before = LotsBefore(settlement);
            if (settlement.Paged) CheckPages(settlement, lotEvents, partyEvents);
            var settledByLot = CheckLotEvents(slot, before, lotEvents, complete: true);
            CheckCounts(slot, s, before.Count, lotEvents.Count, partyEvents.Count);
            var parties = CheckParties(slot, before, partyEvents);
            CheckReadingsRoot(slot, s, parties, storedRoot);

            long netsSum = parties.Sum(x => x.Net);
            if (checked(netsSum + s.GridNet) != 0)
            {
                Found(DiscrepancyKind.NetsDoNotSum,
                    $"slot {slot}: the parties' nets sum to {Jpy(netsSum)} and the grid operator's net is {Jpy(s.GridNet)}: together {Jpy(netsSum + s.GridNet)}, not 0",
                    slot);
            }

            var recomputed = Resettle(slot, s, before.Select(r => r.Lot).ToList(), parties, settledByLot);
            // A paged settlement moves the grid operator's net with its last page, in SlotSettled's transaction.
            CheckSettlementTransfers(settlement, parties, s.GridNet, GridOperatorAt(p));
            foreach (var party in parties.Where(x => !x.Participant.IsZero)) AccountOf(Eth(party.Participant)).IsParticipant = true;
            _settled[slot] = new SettledSlot(settlement, lotEvents.Select(x => x.Event).ToList(), parties, recomputed);
        }

        /// <summary>
        /// Paged settlements begun and not finished at the audited block: not a discrepancy (the settler pages on), but
        /// what they did so far must hold: their pages, their lots, and Transfers that move the paged parties' nets
        /// (counted as settlement transfers, so that the balances replay).
        /// </summary>
        public void CheckSettlementsInProgress()
        {
            foreach (var settlement in _inProgress.Values.Concat(_abandoned))
            {
                long slot = settlement.Slot;
                var lotEvents = EventsOf(settlement, _lotEventsBySlot[slot]);
                var partyEvents = EventsOf(settlement, _partyEventsBySlot[slot]);
                CheckPages(settlement, lotEvents, partyEvents);
                bool current = _inProgress.TryGetValue(slot, out var open) && open == settlement;
                // The slot's lots are checked once: by its finished settlement if it has one, else by the open one.
                List<RecordedLot> before = [];
                if (current && !_settlements.ContainsKey(slot))
                {
                    before = LotsBefore(settlement);
                    CheckLotEvents(slot, before, lotEvents, complete: false);
                }
                var parties = partyEvents.Select(x => x.Event).ToList();
                CheckSettlementTransfers(settlement, parties, gridNet: null, gridOperator: default);
                foreach (var party in parties.Where(x => !x.Participant.IsZero)) AccountOf(Eth(party.Participant)).IsParticipant = true;
                if (current)
                {
                    _settling[slot] = new SettlementInProgress(
                        slot, settlement.Begun?.Position.Block, before.Count, settlement.PagedCount(SettlementProgress.Lots),
                        settlement.PagedCount(SettlementProgress.Parties), settlement.Transactions.Count);
                }
            }
        }

        /// <summary>The settlement's events among its slot's: those in the transactions of its pages and its SlotSettled.</summary>
        private static List<Logged<T>> EventsOf<T>(Settlement settlement, IEnumerable<Logged<T>> ofSlot) =>
            ofSlot.Where(e => settlement.HasEventsIn(e.Position.TransactionHash)).ToList();

        /// <summary>
        /// The slot's lots recorded before its settlement took the slot's lots (SettlementBegun, or SlotSettled in one
        /// transaction); every later one is reported: the contract refuses lots from then on.
        /// </summary>
        private List<RecordedLot> LotsBefore(Settlement settlement)
        {
            long slot = settlement.Slot;
            var recorded = _lotsBySlot.TryGetValue(slot, out var ofSlot) ? ofSlot : [];
            var start = settlement.Start;
            foreach (var late in recorded.Where(r => Position(r) > start))
            {
                string after = settlement.Paged ? $"after the slot's settlement began in block {start.Block}" : $"after the slot was settled in block {start.Block}";
                Found(DiscrepancyKind.LotAfterSettlement, $"lot {late.LotId} was recorded for slot {slot} in block {late.BlockNumber}, {after}", slot, late.LotId);
            }
            return recorded.Where(r => Position(r) < start).ToList();
        }

        private static LogPosition Position(RecordedLot r) => new(r.BlockNumber, r.LogIndex, r.TransactionHash);

        private static string PageText(SettledPageEvent e) =>
            e.Phase == SettlementProgress.Lots ? $"a page of {e.Count} lots from index {e.First}"
            : e.Phase == SettlementProgress.Parties ? $"a page of {e.Count} parties from index {e.First}"
            : $"a page of phase {e.Phase} ({e.Count} from index {e.First})";

        /// <summary>
        /// What only a paged settlement can get wrong: pages contiguous from 0, lots before parties; each transaction's
        /// page counts equal to the LotSettled and PartySettled it emitted; once finished, the pages' totals equal to
        /// SlotSettled's counts, SlotSettled in the last party page's transaction, and the terms SettlementBegun announced.
        /// </summary>
        private void CheckPages(Settlement settlement, List<Logged<SettledLotEvent>> lotEvents, List<Logged<SettledPartyEvent>> partyEvents)
        {
            long slot = settlement.Slot;
            long lots = 0, parties = 0;
            bool partyPages = false;
            foreach (var page in settlement.Pages)
            {
                var e = page.Event;
                if (e.Phase == SettlementProgress.Lots)
                {
                    if (partyPages)
                    {
                        Found(DiscrepancyKind.PagesOutOfOrder, $"slot {slot}: {PageText(e)} at {page.Position} comes after its party pages", slot);
                    }
                    if (e.First != lots)
                    {
                        Found(DiscrepancyKind.PagesOutOfOrder,
                            $"slot {slot}: {PageText(e)} at {page.Position} does not follow on: the lot pages before it settled {lots} lots", slot);
                    }
                    lots += e.Count;
                }
                else if (e.Phase == SettlementProgress.Parties)
                {
                    partyPages = true;
                    if (e.First != parties)
                    {
                        Found(DiscrepancyKind.PagesOutOfOrder,
                            $"slot {slot}: {PageText(e)} at {page.Position} does not follow on: the party pages before it settled {parties} parties", slot);
                    }
                    parties += e.Count;
                }
                else
                {
                    Found(DiscrepancyKind.PagesOutOfOrder, $"slot {slot}: {PageText(e)} at {page.Position} is neither a lot page (1) nor a party page (2)", slot);
                }
            }

            var lotsIn = lotEvents.CountBy(x => x.Position.TransactionHash, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
            var partiesIn = partyEvents.CountBy(x => x.Position.TransactionHash, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
            var pagesIn = settlement.Pages.ToLookup(x => x.Position.TransactionHash, StringComparer.Ordinal);
            foreach (var tx in settlement.EventTransactions)
            {
                long lotPage = pagesIn[tx].Where(x => x.Event.Phase == SettlementProgress.Lots).Sum(x => x.Event.Count);
                long partyPage = pagesIn[tx].Where(x => x.Event.Phase == SettlementProgress.Parties).Sum(x => x.Event.Count);
                int lotsSettled = lotsIn.GetValueOrDefault(tx);
                int partiesSettled = partiesIn.GetValueOrDefault(tx);
                if (lotPage != lotsSettled)
                {
                    Found(DiscrepancyKind.PageCountMismatch,
                        $"slot {slot}: the lot pages of tx {tx} count {lotPage} lots, the transaction emitted {lotsSettled} LotSettled", slot);
                }
                if (partyPage != partiesSettled)
                {
                    Found(DiscrepancyKind.PageCountMismatch,
                        $"slot {slot}: the party pages of tx {tx} count {partyPage} parties, the transaction emitted {partiesSettled} PartySettled", slot);
                }
            }

            if (settlement.Settled is not { } settled) return;
            var s = settled.Event;
            if (lots != s.Lots)
            {
                Found(DiscrepancyKind.PageCountMismatch, $"slot {slot}: its lot pages settle {lots} lots, SlotSettled counts {s.Lots}", slot);
            }
            if (parties != s.Parties)
            {
                Found(DiscrepancyKind.PageCountMismatch, $"slot {slot}: its party pages settle {parties} parties, SlotSettled counts {s.Parties}", slot);
            }
            var last = settlement.Pages.Count > 0 ? settlement.Pages[^1] : null;
            if (last is null || last.Event.Phase != SettlementProgress.Parties || last.Position.TransactionHash != settled.Position.TransactionHash)
            {
                Found(DiscrepancyKind.PagesOutOfOrder,
                    $"slot {slot}: SlotSettled at {settled.Position} is not in the transaction of the settlement's last party page", slot);
            }
            if (settlement.Begun is { } begun)
            {
                var b = begun.Event;
                if (b.RetailTicks != s.RetailTicks || b.BuyBackTicks != s.BuyBackTicks || b.Policy != s.Policy)
                {
                    Found(DiscrepancyKind.SettlementTermsDiffer,
                        $"slot {slot}: the settlement was begun (block {begun.Position.Block}) at retail {b.RetailTicks} and buy-back {b.BuyBackTicks} ticks, policy {b.Policy}; " +
                        $"SlotSettled says retail {s.RetailTicks} and buy-back {s.BuyBackTicks} ticks, policy {s.Policy}",
                        slot);
                }
            }
        }

        /// <summary>LotSettled for exactly the slot's lots, each once, each within its contracted Wh and settled = min; with <paramref name="complete"/>, every lot.</summary>
        private Dictionary<long, SettledLotEvent> CheckLotEvents(long slot, List<RecordedLot> lots, List<Logged<SettledLotEvent>> lotEvents, bool complete)
        {
            var byLot = new Dictionary<long, SettledLotEvent>();
            var ofSlot = lots.ToDictionary(r => r.LotId, r => r.Lot);
            foreach (var group in lotEvents.GroupBy(e => e.Event.LotId).OrderBy(g => g.Key))
            {
                var e = group.First().Event;
                if (group.Count() > 1)
                {
                    Found(DiscrepancyKind.LotSettledTwice, $"slot {slot}: lot {e.LotId} is settled {group.Count()} times", slot, e.LotId);
                }
                if (!ofSlot.TryGetValue(e.LotId, out var lot))
                {
                    string where = _lots.TryGetValue(e.LotId, out var other) ? $"it is a lot of slot {other.Lot.Slot}" : "no such lot is recorded";
                    if (other is not null && other.Lot.Slot == slot) where = "it was recorded after the settlement";
                    Found(DiscrepancyKind.UnknownLotSettled,
                        $"slot {slot}: lot {e.LotId} is settled (delivered {e.DeliveredWh} Wh, consumed {e.ConsumedWh} Wh, settled {e.SettledWh} Wh) but {where}",
                        slot, e.LotId);
                    continue;
                }
                byLot[e.LotId] = e;
                if (e.DeliveredWh > lot.EnergyWh)
                {
                    Found(DiscrepancyKind.AboveContracted,
                        $"slot {slot} lot {e.LotId}: delivered {e.DeliveredWh} Wh is above the contracted {lot.EnergyWh} Wh", slot, e.LotId);
                }
                if (e.ConsumedWh > lot.EnergyWh)
                {
                    Found(DiscrepancyKind.AboveContracted,
                        $"slot {slot} lot {e.LotId}: consumed {e.ConsumedWh} Wh is above the contracted {lot.EnergyWh} Wh", slot, e.LotId);
                }
                long min = Math.Min(e.DeliveredWh, e.ConsumedWh);
                if (e.SettledWh != min)
                {
                    Found(DiscrepancyKind.SettledNotMinimum,
                        $"slot {slot} lot {e.LotId}: settled {e.SettledWh} Wh, but min(delivered {e.DeliveredWh} Wh, consumed {e.ConsumedWh} Wh) = {min} Wh",
                        slot, e.LotId);
                }
            }
            foreach (var r in lots.Where(r => complete && !byLot.ContainsKey(r.LotId)))
            {
                Found(DiscrepancyKind.LotNotSettled,
                    $"slot {slot}: lot {r.LotId} ({r.Lot.EnergyWh} Wh, {r.Lot.Seller} to {r.Lot.Buyer}) is recorded but the settlement has no LotSettled for it",
                    slot, r.LotId);
            }
            return byLot;
        }

        private void CheckCounts(long slot, SettledSlotEvent s, int recordedLots, int lotEvents, int partyEvents)
        {
            if (s.Lots != recordedLots)
            {
                Found(DiscrepancyKind.CountMismatch, $"slot {slot}: SlotSettled counts {s.Lots} lots, {recordedLots} are recorded for the slot", slot);
            }
            if (s.Lots != lotEvents)
            {
                Found(DiscrepancyKind.CountMismatch, $"slot {slot}: SlotSettled counts {s.Lots} lots, the settlement emitted {lotEvents} LotSettled", slot);
            }
            if (s.Parties != partyEvents)
            {
                Found(DiscrepancyKind.CountMismatch, $"slot {slot}: SlotSettled counts {s.Parties} parties, the settlement emitted {partyEvents} PartySettled", slot);
            }
        }

        /// <summary>Each party once, each meter once, no energy without a meter, every lot party present. Returns the parties (first of each).</summary>
        private List<SettledPartyEvent> CheckParties(long slot, List<RecordedLot> lots, List<Logged<SettledPartyEvent>> partyEvents)
        {
            var parties = new List<SettledPartyEvent>();
            var seen = new HashSet<ParticipantAddress>();
            var meters = new Dictionary<Address, ParticipantAddress>();
            foreach (var e in partyEvents.Select(x => x.Event))
            {
                if (!seen.Add(e.Participant))
                {
                    Found(DiscrepancyKind.InvalidParty, $"slot {slot}: {e.Participant} is settled more than once", slot, account: Eth(e.Participant));
                    continue;
                }
                parties.Add(e);
                if (e.Participant.IsZero)
                {
                    Found(DiscrepancyKind.InvalidParty, $"slot {slot}: a party is the zero address", slot);
                }
                if (e.Meter.IsZero)
                {
                    if (e.ImportWh != 0 || e.ExportWh != 0)
                    {
                        Found(DiscrepancyKind.InvalidParty,
                            $"slot {slot}: {e.Participant} has no meter but import {e.ImportWh} Wh and export {e.ExportWh} Wh", slot, account: Eth(e.Participant));
                    }
                }
                else if (!meters.TryAdd(e.Meter, e.Participant))
                {
                    Found(DiscrepancyKind.InvalidParty,
                        $"slot {slot}: meter {Text(e.Meter)} reports for both {meters[e.Meter]} and {e.Participant}", slot, account: Eth(e.Participant));
                }
            }
            foreach (var r in lots)
            {
                if (!seen.Contains(r.Lot.Seller))
                {
                    Found(DiscrepancyKind.MissingParty, $"slot {slot} lot {r.LotId}: its seller {r.Lot.Seller} has no PartySettled", slot, r.LotId, Eth(r.Lot.Seller));
                }
                if (!seen.Contains(r.Lot.Buyer))
                {
                    Found(DiscrepancyKind.MissingParty, $"slot {slot} lot {r.LotId}: its buyer {r.Lot.Buyer} has no PartySettled", slot, r.LotId, Eth(r.Lot.Buyer));
                }
            }
            return parties;
        }

        /// <summary>The root of the readings with a meter (MeterReadingMerkleTree), zero without one, against SlotSettled's and the stored root.</summary>
        private void CheckReadingsRoot(long slot, SettledSlotEvent s, List<SettledPartyEvent> parties, byte[]? storedRoot)
        {
            var readings = parties.Where(x => !x.Meter.IsZero)
                .GroupBy(x => x.Meter).Select(g => g.First()) // a meter used twice is reported by CheckParties
                .GroupBy(x => x.Participant).Select(g => g.First()) // so is a participant settled twice
                .Select(x => (x.Meter, Participant: Eth(x.Participant), Leaf: MeterReadingMerkleTree.Leaf(x.Meter, Eth(x.Participant), checked((ulong)slot), checked((ulong)x.ImportWh), checked((ulong)x.ExportWh))))
                .ToList();
            var rebuilt = readings.Count == 0 ? new byte[32] : MeterReadingMerkleTree.Build(readings).Root;
            if (!rebuilt.AsSpan().SequenceEqual(s.ReadingsRoot))
            {
                Found(DiscrepancyKind.ReadingsRootMismatch,
                    $"slot {slot}: the readings root rebuilt from its {readings.Count} PartySettled readings is {Hex.Encode(rebuilt)}, SlotSettled says {Hex.Encode(s.ReadingsRoot)}",
                    slot);
            }
            var stored = storedRoot ?? new byte[32];
            if (!stored.AsSpan().SequenceEqual(s.ReadingsRoot))
            {
                Found(DiscrepancyKind.ReadingsRootMismatch,
                    $"slot {slot}: readingsRoot({slot}) on chain is {Hex.Encode(stored)}, SlotSettled says {Hex.Encode(s.ReadingsRoot)}", slot);
            }
        }

        /// <summary>Settles the slot again with the engine from chain data and compares flows, nets, grid net and conservation.</summary>
        private SlotSettlement? Resettle(long slot, SettledSlotEvent s, List<Lot> lots, List<SettledPartyEvent> parties, Dictionary<long, SettledLotEvent> settledByLot)
        {
            SlotSettlement result;
            try
            {
                // A party without a meter was settled as 0/0 by the contract: the same reading here.
                var readings = parties.Select(x => new MeterReading(x.Participant, slot, x.ImportWh, x.ExportWh)).ToList();
                result = SettlementEngine.Settle(slot, lots, readings, new GridPrices(s.RetailTicks, s.BuyBackTicks), SlotSettlementOrder.PolicyOf(s.Policy));
            }
            catch (SettlementInputException e)
            {
                Found(DiscrepancyKind.EngineRefused, $"slot {slot}: the settlement engine refuses the slot as recorded on chain ({e.Error}): {e.Message}", slot);
                return null;
            }
            catch (OverflowException e)
            {
                Found(DiscrepancyKind.EngineRefused, $"slot {slot}: the settlement engine overflows on the slot as recorded on chain: {e.Message}", slot);
                return null;
            }

            foreach (var l in result.Lots)
            {
                if (!settledByLot.TryGetValue(l.LotId, out var e)) continue; // reported as not settled
                if (e.DeliveredWh != l.DeliveredWh || e.ConsumedWh != l.ConsumedWh || e.SettledWh != l.SettledWh)
                {
                    Found(DiscrepancyKind.NotFifo,
                        $"slot {slot} lot {l.LotId}: on chain delivered {e.DeliveredWh} Wh, consumed {e.ConsumedWh} Wh, settled {e.SettledWh} Wh; " +
                        $"FIFO by lot id from the readings gives delivered {l.DeliveredWh} Wh, consumed {l.ConsumedWh} Wh, settled {l.SettledWh} Wh",
                        slot, l.LotId);
                }
            }
            var chainNet = parties.ToDictionary(x => x.Participant, x => x.Net);
            foreach (var bill in result.Bills)
            {
                if (chainNet.TryGetValue(bill.Participant, out var net) && net != bill.Net)
                {
                    Found(DiscrepancyKind.NetMismatch,
                        $"slot {slot}: {bill.Participant} was settled a net of {Jpy(net)} on chain, the settlement engine gives {Jpy(bill.Net)}",
                        slot, account: Eth(bill.Participant));
                }
            }
            if (result.Grid.Net != s.GridNet)
            {
                Found(DiscrepancyKind.GridNetMismatch,
                    $"slot {slot}: the grid operator was settled a net of {Jpy(s.GridNet)} on chain, the settlement engine gives {Jpy(result.Grid.Net)}", slot);
            }
            foreach (var violation in result.FindConservationViolations())
            {
                Found(DiscrepancyKind.NotConserved, $"slot {slot}: the slot as settled again does not conserve: {violation}", slot);
            }
            return result;
        }

        /// <summary>
        /// The settlement's Transfer events to and from the ledger (the clearing), summed per account, must be each
        /// party's net and the grid operator's net: the contract says it moved these amounts, the Transfers show it did.
        /// Without <paramref name="gridNet"/> (a paged settlement in progress), the parties' nets only.
        /// </summary>
        private void CheckSettlementTransfers(Settlement settlement, List<SettledPartyEvent> parties, long? gridNet, Address gridOperator)
        {
            long slot = settlement.Slot;
            var moved = new Dictionary<Address, BigInteger>();
            foreach (var tx in settlement.EventTransactions)
            {
                foreach (var t in _transfersByTransaction[tx])
                {
                    var e = t.Event;
                    bool paidOut = e.From == _ledger && !e.To.IsZero && e.To != _ledger;
                    bool paidIn = e.To == _ledger && !e.From.IsZero && e.From != _ledger;
                    if (!(paidOut || paidIn) || SettlementOf(t) != settlement) continue;
                    if (paidOut) moved[e.To] = moved.GetValueOrDefault(e.To) + e.Value;
                    else moved[e.From] = moved.GetValueOrDefault(e.From) - e.Value;
                    _settlementTransfers.Add(t.Position);
                }
            }
            var expected = new Dictionary<Address, BigInteger>();
            foreach (var party in parties)
            {
                var a = Eth(party.Participant);
                expected[a] = expected.GetValueOrDefault(a) + party.Net;
            }
            if (gridNet is { } g) expected[gridOperator] = expected.GetValueOrDefault(gridOperator) + g;
            foreach (var account in expected.Keys.Union(moved.Keys).OrderBy(a => a.ToLowerHex(), StringComparer.Ordinal))
            {
                var want = expected.GetValueOrDefault(account);
                var got = moved.GetValueOrDefault(account);
                if (want != got)
                {
                    string who = gridNet is not null && account == gridOperator ? $"the grid operator {Text(account)}" : Text(account);
                    Found(DiscrepancyKind.SettlementTransferMismatch,
                        $"slot {slot}: {who} has a settled net of {Jpy(want)}, the settlement's Transfers move {Jpy(got)} for it",
                        slot, account: account);
                }
            }
        }

        /// <summary>
        /// The settlement a clearing Transfer belongs to, from the settlement events around it in its transaction:
        /// settleSlot moves money after its SlotSettled; a party page before its SettlementPage, the last page the grid
        /// operator's net after it and before SlotSettled. Null: no settlement's (an ordinary transfer to or from the ledger).
        /// </summary>
        private Settlement? SettlementOf(Logged<TokenTransferEvent> transfer)
        {
            Marker? before = null, after = null;
            foreach (var m in _markersByTransaction[transfer.Position.TransactionHash])
            {
                if (m.Position < transfer.Position)
                {
                    before = m;
                }
                else
                {
                    after = m;
                    break;
                }
            }
            if (before is { Step: Step.Settled } b && !b.Owner.Paged) return b.Owner;
            if (after is { Step: Step.Page } || after is { Step: Step.Settled, Owner.Paged: true }) return after.Owner;
            return null;
        }

        /// <summary>LotSettled and PartySettled belong to a SlotSettled or a SettlementPage of their slot in the same transaction.</summary>
        public void CheckStraySettlementEvents()
        {
            var settlements = _events.SlotsSettled.Select(x => (x.Event.Slot, x.Position.TransactionHash))
                .Concat(_events.SettlementPages.Select(x => (x.Event.Slot, x.Position.TransactionHash)))
                .ToHashSet();
            foreach (var e in _events.LotsSettled.Where(x => !settlements.Contains((x.Event.Slot, x.Position.TransactionHash))))
            {
                Found(DiscrepancyKind.SettlementWithoutSlot,
                    $"slot {e.Event.Slot}: lot {e.Event.LotId} is settled at {e.Position} without a SlotSettled or SettlementPage of the slot in that transaction",
                    e.Event.Slot, e.Event.LotId);
            }
            foreach (var e in _events.PartiesSettled.Where(x => !settlements.Contains((x.Event.Slot, x.Position.TransactionHash))))
            {
                Found(DiscrepancyKind.SettlementWithoutSlot,
                    $"slot {e.Event.Slot}: {e.Event.Participant} is settled (net {Jpy(e.Event.Net)}) at {e.Position} without a SlotSettled or SettlementPage of the slot in that transaction",
                    e.Event.Slot, account: Eth(e.Event.Participant));
            }
        }

        // ------------------------------------------------------------------ balances

        /// <summary>
        /// Replays every Transfer in chain order: deposits (from 0), withdrawals (to 0), settlement and ordinary transfers.
        /// A settlement's Transfers to and from the ledger move the participants' balances, not the ledger's own: the
        /// contract's clearing (_payIn, _payOut) never credits or debits its balanceOf. Between the pages of a paged
        /// settlement the money paid in and not yet paid out is in the clearing (negative: creditors paged before debtors).
        /// </summary>
        public void ReplayTransfers()
        {
            foreach (var t in _events.Transfers)
            {
                var e = t.Event;
                bool settlement = _settlementTransfers.Contains(t.Position);
                if (settlement)
                {
                    // A settlement transfer is a clearing transfer: one side is the ledger (CheckSettlementTransfers).
                    AccountOf(_ledger);
                    if (e.To == _ledger)
                    {
                        _inClearing += e.Value;
                        Pay(AccountOf(e.From), e.From, e.Value, t.Position, a => a.SettlementPaid += e.Value);
                    }
                    else
                    {
                        _inClearing -= e.Value;
                        AccountOf(e.To).SettlementReceived += e.Value;
                    }
                    continue;
                }
                if (e.From.IsZero)
                {
                    _deposited += e.Value;
                    AccountOf(e.To).Deposited += e.Value;
                }
                else
                {
                    Pay(AccountOf(e.From), e.From, e.Value, t.Position, a =>
                    {
                        if (e.To.IsZero) a.Withdrawn += e.Value;
                        else a.TransfersOut += e.Value;
                    });
                }
                if (e.To.IsZero)
                {
                    _withdrawn += e.Value;
                }
                else if (!e.From.IsZero)
                {
                    AccountOf(e.To).TransfersIn += e.Value;
                }
            }
        }

        /// <summary>Books a payment out of <paramref name="account"/>; the first one its replayed balance cannot cover is a discrepancy.</summary>
        private void Pay(Account account, Address address, BigInteger value, LogPosition position, Action<Account> book)
        {
            book(account);
            if (account.Replayed < 0 && !account.WentNegative)
            {
                account.WentNegative = true;
                Found(DiscrepancyKind.BalanceMismatch,
                    $"{Text(address)} pays {Jpy(value)} at {position} with a replayed balance of only {Jpy(account.Replayed + value)}",
                    account: address);
            }
        }

        /// <param name="clearing">The ledger's clearing() at the audited block: what open paged settlements paid in and not out.</param>
        public void CheckBalances(Dictionary<Address, BigInteger> onChain, BigInteger totalSupply, BigInteger clearing)
        {
            if (clearing != _inClearing)
            {
                Found(DiscrepancyKind.SupplyMismatch,
                    $"the ledger's clearing() is {Jpy(clearing)}, the Transfers of the settlements in progress since block {_fromBlock} put {Jpy(_inClearing)} in it");
            }
            foreach (var (address, account) in _accounts.OrderBy(a => a.Key.ToLowerHex(), StringComparer.Ordinal))
            {
                var chain = onChain[address];
                if (chain != account.Replayed)
                {
                    Found(DiscrepancyKind.BalanceMismatch,
                        $"{Text(address)}: balanceOf is {Jpy(chain)}, its Transfer events since block {_fromBlock} give {Jpy(account.Replayed)}",
                        account: address);
                }
            }
            var minted = _deposited - _withdrawn;
            if (totalSupply != minted)
            {
                Found(DiscrepancyKind.SupplyMismatch,
                    $"totalSupply is {Jpy(totalSupply)}, deposits {Jpy(_deposited)} − withdrawals {Jpy(_withdrawn)} = {Jpy(minted)}");
            }
            var sum = onChain.Values.Aggregate(BigInteger.Zero, (a, b) => a + b);
            if (sum + _inClearing != totalSupply)
            {
                string inClearing = _inClearing.IsZero ? "" : $" and {Jpy(_inClearing)} is in the clearing of settlements in progress";
                Found(DiscrepancyKind.SupplyMismatch, $"the balances of the {onChain.Count} accounts seen sum to {Jpy(sum)}{inClearing}, totalSupply is {Jpy(totalSupply)}");
            }
        }

        // ------------------------------------------------------------------ the exchange

        public void CompareWithExchange()
        {
            if (_exchangeLots is null) return;
            var exchange = new Dictionary<long, Lot>();
            foreach (var lot in _exchangeLots)
            {
                if (!exchange.TryAdd(lot.LotId, lot))
                {
                    Found(DiscrepancyKind.ExchangeLotListedTwice, $"the exchange lists lot {lot.LotId} (slot {lot.Slot}) more than once", lot.Slot, lot.LotId);
                }
            }
            foreach (var (id, lot) in exchange.OrderBy(x => x.Key))
            {
                if (!_lots.TryGetValue(id, out var onChain))
                {
                    Found(DiscrepancyKind.ExchangeLotMissingOnChain,
                        $"lot {id} of the exchange (slot {lot.Slot}, {lot.EnergyWh} Wh at {lot.PriceTicks} ticks, {lot.Seller} to {lot.Buyer}) is not on chain",
                        lot.Slot, id);
                    continue;
                }
                var differences = LotComparison.Differences(lot, onChain.Lot).ToList();
                if (differences.Count > 0)
                {
                    Found(DiscrepancyKind.LotFieldsDiffer,
                        $"lot {id} differs between the exchange and the chain: {string.Join("; ", differences)}", lot.Slot, id);
                }
            }
            foreach (var (id, r) in _lots.OrderBy(x => x.Key))
            {
                if (!exchange.ContainsKey(id))
                {
                    Found(DiscrepancyKind.ChainLotUnknownToExchange,
                        $"lot {id} on chain (slot {r.Lot.Slot}, {r.Lot.EnergyWh} Wh at {r.Lot.PriceTicks} ticks, {r.Lot.Seller} to {r.Lot.Buyer}, block {r.BlockNumber}) is unknown to the exchange",
                        r.Lot.Slot, id);
                }
            }
        }
    }

    private static Address Eth(ParticipantAddress participant) => new(participant.ToBytes());

    /// <summary>Addresses in messages: lower-case hex, as participants' addresses print and as the exchange returns them.</summary>
    private static string Text(Address address) => address.ToLowerHex();

    /// <summary>Money in messages: exact JPY (5 decimals, no rounding).</summary>
    private static string Jpy(BigInteger units) => $"{JpyText.Exact(units)} JPY";
}
