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
        foreach (var slot in audit.SettledSlots)
        {
            var stored = await contract.ReadingsRootAsync(slot, cancellationToken).ConfigureAwait(false);
            audit.CheckSettledSlot(slot, stored);
        }
        audit.CheckStraySettlementEvents();
        audit.ReplayTransfers();
        var onChain = new Dictionary<Address, BigInteger>();
        foreach (var account in audit.Accounts)
        {
            onChain[account] = await contract.BalanceOfAsync(account, at, cancellationToken).ConfigureAwait(false);
        }
        var totalSupply = await contract.TotalSupplyAsync(at, cancellationToken).ConfigureAwait(false);
        audit.CheckBalances(onChain, totalSupply);
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
        private readonly SortedDictionary<long, List<Logged<SettledSlotEvent>>> _settlements = [];
        private readonly Dictionary<long, SettledSlot> _settled = [];
        private readonly HashSet<LogPosition> _settlementTransfers = [];
        private readonly Dictionary<Address, Account> _accounts = [];
        private BigInteger _deposited;
        private BigInteger _withdrawn;
        private Address _currentGridOperator;

        // The events indexed once, so that a year of slots is not a scan of every event per slot.
        private readonly ILookup<long, Logged<SettledLotEvent>> _lotEventsBySlot;
        private readonly ILookup<long, Logged<SettledPartyEvent>> _partyEventsBySlot;
        private readonly ILookup<string, Logged<SettledSlotEvent>> _settlementsByTransaction;
        private readonly ILookup<string, Logged<TokenTransferEvent>> _transfersByTransaction;

        public Audit(Address ledger, ulong fromBlock, ulong head, LedgerEventLog events, IReadOnlyList<Lot>? exchangeLots)
        {
            _ledger = ledger;
            _fromBlock = fromBlock;
            _head = head;
            _events = events;
            _exchangeLots = exchangeLots;
            foreach (var s in events.SlotsSettled)
            {
                if (!_settlements.TryGetValue(s.Event.Slot, out var list)) _settlements[s.Event.Slot] = list = [];
                list.Add(s);
            }
            // Lookups keep the chain order of the lists they are built from.
            _lotEventsBySlot = events.LotsSettled.ToLookup(e => e.Event.Slot);
            _partyEventsBySlot = events.PartiesSettled.ToLookup(e => e.Event.Slot);
            _settlementsByTransaction = events.SlotsSettled.ToLookup(e => e.Position.TransactionHash, StringComparer.Ordinal);
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

        public void CheckSettledSlot(long slot, byte[]? storedRoot)
        {
            var all = _settlements[slot];
            var settlement = all[0];
            var s = settlement.Event;
            var p = settlement.Position;
            for (int i = 1; i < all.Count; i++)
            {
                Found(DiscrepancyKind.SlotSettledTwice,
                    $"slot {slot} is settled {all.Count} times: in block {p.Block} (tx {p.TransactionHash}) and again in block {all[i].Position.Block} (tx {all[i].Position.TransactionHash})",
                    slot);
            }

            // The settlement's own events: same transaction (a second settlement of the slot is reported above).
            var lotEvents = _lotEventsBySlot[slot].Where(e => e.Position.TransactionHash == p.TransactionHash).ToList();
            var partyEvents = _partyEventsBySlot[slot].Where(e => e.Position.TransactionHash == p.TransactionHash).ToList();

            var recorded = _lotsBySlot.TryGetValue(slot, out var ofSlot) ? ofSlot : [];
            var before = recorded.Where(r => Position(r) < p).ToList();
            foreach (var late in recorded.Where(r => Position(r) > p))
            {
                Found(DiscrepancyKind.LotAfterSettlement,
                    $"lot {late.LotId} was recorded for slot {slot} in block {late.BlockNumber}, after the slot was settled in block {p.Block}",
                    slot, late.LotId);
            }

            var settledByLot = CheckLotEvents(slot, before, lotEvents);
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
            var gridOperator = GridOperatorAt(p);
            CheckSettlementTransfers(slot, s, p, parties, gridOperator);
            foreach (var party in parties.Where(x => !x.Participant.IsZero)) AccountOf(Eth(party.Participant)).IsParticipant = true;
            _settled[slot] = new SettledSlot(settlement, parties, recomputed);
        }

        private static LogPosition Position(RecordedLot r) => new(r.BlockNumber, r.LogIndex, r.TransactionHash);

        /// <summary>LotSettled for exactly the slot's lots, each once, each within its contracted Wh and settled = min.</summary>
        private Dictionary<long, SettledLotEvent> CheckLotEvents(long slot, List<RecordedLot> lots, List<Logged<SettledLotEvent>> lotEvents)
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
            foreach (var r in lots.Where(r => !byLot.ContainsKey(r.LotId)))
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
        /// </summary>
        private void CheckSettlementTransfers(long slot, SettledSlotEvent s, LogPosition p, List<SettledPartyEvent> parties, Address gridOperator)
        {
            // Up to the next settlement in the same transaction (a contract could settle two slots in one).
            var next = _settlementsByTransaction[p.TransactionHash].Where(x => x.Position > p).Select(x => (LogPosition?)x.Position).FirstOrDefault();
            var moved = new Dictionary<Address, BigInteger>();
            foreach (var t in _transfersByTransaction[p.TransactionHash])
            {
                if (t.Position <= p || (next is { } n && t.Position > n)) continue;
                var e = t.Event;
                if (e.From == _ledger && !e.To.IsZero && e.To != _ledger)
                {
                    moved[e.To] = moved.GetValueOrDefault(e.To) + e.Value;
                }
                else if (e.To == _ledger && !e.From.IsZero && e.From != _ledger)
                {
                    moved[e.From] = moved.GetValueOrDefault(e.From) - e.Value;
                }
                else
                {
                    continue;
                }
                _settlementTransfers.Add(t.Position);
            }
            var expected = new Dictionary<Address, BigInteger>();
            foreach (var party in parties)
            {
                var a = Eth(party.Participant);
                expected[a] = expected.GetValueOrDefault(a) + party.Net;
            }
            expected[gridOperator] = expected.GetValueOrDefault(gridOperator) + s.GridNet;
            foreach (var account in expected.Keys.Union(moved.Keys).OrderBy(a => a.ToLowerHex(), StringComparer.Ordinal))
            {
                var want = expected.GetValueOrDefault(account);
                var got = moved.GetValueOrDefault(account);
                if (want != got)
                {
                    string who = account == gridOperator ? $"the grid operator {Text(account)}" : Text(account);
                    Found(DiscrepancyKind.SettlementTransferMismatch,
                        $"slot {slot}: {who} has a settled net of {Jpy(want)}, the settlement's Transfers move {Jpy(got)} for it",
                        slot, account: account);
                }
            }
        }

        /// <summary>LotSettled and PartySettled belong to a SlotSettled of their slot in the same transaction.</summary>
        public void CheckStraySettlementEvents()
        {
            var settlements = _events.SlotsSettled.Select(x => (x.Event.Slot, x.Position.TransactionHash)).ToHashSet();
            foreach (var e in _events.LotsSettled.Where(x => !settlements.Contains((x.Event.Slot, x.Position.TransactionHash))))
            {
                Found(DiscrepancyKind.SettlementWithoutSlot,
                    $"slot {e.Event.Slot}: lot {e.Event.LotId} is settled at {e.Position} without a SlotSettled for the slot in that transaction",
                    e.Event.Slot, e.Event.LotId);
            }
            foreach (var e in _events.PartiesSettled.Where(x => !settlements.Contains((x.Event.Slot, x.Position.TransactionHash))))
            {
                Found(DiscrepancyKind.SettlementWithoutSlot,
                    $"slot {e.Event.Slot}: {e.Event.Participant} is settled (net {Jpy(e.Event.Net)}) at {e.Position} without a SlotSettled for the slot in that transaction",
                    e.Event.Slot, account: Eth(e.Event.Participant));
            }
        }

        // ------------------------------------------------------------------ balances

        /// <summary>Replays every Transfer in chain order: deposits (from 0), withdrawals (to 0), settlement and ordinary transfers.</summary>
        public void ReplayTransfers()
        {
            foreach (var t in _events.Transfers)
            {
                var e = t.Event;
                bool settlement = _settlementTransfers.Contains(t.Position);
                if (e.From.IsZero)
                {
                    _deposited += e.Value;
                    AccountOf(e.To).Deposited += e.Value;
                }
                else
                {
                    var from = AccountOf(e.From);
                    if (e.To.IsZero) from.Withdrawn += e.Value;
                    else if (settlement) from.SettlementPaid += e.Value;
                    else from.TransfersOut += e.Value;
                    if (from.Replayed < 0 && !from.WentNegative)
                    {
                        from.WentNegative = true;
                        Found(DiscrepancyKind.BalanceMismatch,
                            $"{Text(e.From)} pays {Jpy(e.Value)} at {t.Position} with a replayed balance of only {Jpy(from.Replayed + e.Value)}",
                            account: e.From);
                    }
                }
                if (e.To.IsZero)
                {
                    _withdrawn += e.Value;
                }
                else if (!e.From.IsZero)
                {
                    var to = AccountOf(e.To);
                    if (settlement) to.SettlementReceived += e.Value;
                    else to.TransfersIn += e.Value;
                }
            }
        }

        public void CheckBalances(Dictionary<Address, BigInteger> onChain, BigInteger totalSupply)
        {
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
            if (sum != totalSupply)
            {
                Found(DiscrepancyKind.SupplyMismatch, $"the balances of the {onChain.Count} accounts seen sum to {Jpy(sum)}, totalSupply is {Jpy(totalSupply)}");
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
