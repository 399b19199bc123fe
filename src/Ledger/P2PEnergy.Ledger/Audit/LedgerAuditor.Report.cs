using System.Numerics;
using P2PEnergy.Settlement;

namespace P2PEnergy.Ledger.Audit;

public sealed partial class LedgerAuditor
{
    /// <summary>The report: what was found, per slot, per participant and per account.</summary>
    private sealed partial class Audit
    {
        public AuditReport Report(Address currentGridOperator, Dictionary<Address, BigInteger> onChain, BigInteger totalSupply)
        {
            var accounts = _accounts
                .OrderBy(a => a.Key.ToLowerHex(), StringComparer.Ordinal)
                .Select(a => new AccountBalance(
                    a.Key, RoleOf(a.Key, a.Value), a.Value.Deposited, a.Value.Withdrawn, a.Value.SettlementReceived, a.Value.SettlementPaid,
                    a.Value.TransfersIn, a.Value.TransfersOut, a.Value.Replayed, onChain[a.Key]))
                .ToList();
            var accountOf = accounts.ToDictionary(a => a.Account);

            var slots = new List<SlotSummary>();
            foreach (var slot in _lotsBySlot.Keys.Union(_settled.Keys).Union(_inProgress.Keys).Order())
            {
                var lots = _lotsBySlot.TryGetValue(slot, out var l) ? l : [];
                string? orderRoot = _orderRoots.TryGetValue(slot, out var root) ? root.Root : null;
                if (_settled.TryGetValue(slot, out var settled))
                {
                    var s = settled.SlotSettled.Event;
                    var p = settled.SlotSettled.Position;
                    slots.Add(new SlotSummary(
                        slot, SlotStatus.Settled, lots.Count, lots.Sum(x => x.Lot.EnergyWh), orderRoot,
                        p.Block, p.TransactionHash, settled.Parties.Count,
                        s.RetailTicks, s.BuyBackTicks, s.Policy, Hex.Encode(s.ReadingsRoot), s.GridNet, settled.Recomputed,
                        settled.Settlement.Transactions.Count));
                }
                else if (_inProgress.TryGetValue(slot, out var settling))
                {
                    var b = settling.Begun?.Event;
                    slots.Add(new SlotSummary(
                        slot, SlotStatus.Settling, lots.Count, lots.Sum(x => x.Lot.EnergyWh), orderRoot,
                        null, null, checked((int)settling.PagedCount(SettlementProgress.Parties)),
                        b?.RetailTicks, b?.BuyBackTicks, b?.Policy, null, null, null, settling.Transactions.Count));
                }
                else
                {
                    slots.Add(new SlotSummary(
                        slot, SlotStatus.Unsettled, lots.Count, lots.Sum(x => x.Lot.EnergyWh), orderRoot,
                        null, null, 0, null, null, null, null, null, null, 0));
                }
            }

            var participants = new SortedSet<ParticipantAddress>();
            foreach (var r in _lots.Values)
            {
                participants.Add(r.Lot.Seller);
                participants.Add(r.Lot.Buyer);
            }
            foreach (var settled in _settled.Values)
            {
                foreach (var party in settled.Parties) participants.Add(party.Participant);
            }
            participants.Remove(ParticipantAddress.Zero); // reported as an invalid lot or party; it has no statement
            var statements = new List<ParticipantStatement>();
            foreach (var participant in participants)
            {
                var lines = new List<StatementLine>();
                foreach (var (slot, settled) in _settled.OrderBy(x => x.Key))
                {
                    var party = settled.Parties.FirstOrDefault(x => x.Participant == participant);
                    var bill = settled.Recomputed?.BillOf(participant);
                    if (party is not null && bill is not null)
                    {
                        lines.Add(new StatementLine(slot, party.Meter, bill, party.Net));
                    }
                }
                statements.Add(new ParticipantStatement(
                    participant,
                    _lots.Values.Count(r => r.Lot.Seller == participant),
                    _lots.Values.Count(r => r.Lot.Buyer == participant),
                    lines,
                    StatementTotals.Of(lines),
                    accountOf[Eth(participant)]));
            }

            var recomputed = _settled.Values.Select(x => x.Recomputed).OfType<SlotSettlement>().ToList();
            var unsettled = _lotsBySlot.Keys.Where(s => !_settled.ContainsKey(s) && !_inProgress.ContainsKey(s)).ToList();
            var totals = new AuditTotals(
                Lots: _lots.Count,
                ContractedWh: _lots.Values.Sum(r => r.Lot.EnergyWh),
                SettledSlots: _settled.Count,
                UnsettledSlots: unsettled.Count,
                SlotsSettling: _settling.Keys.Count(s => !_settled.ContainsKey(s)),
                SettledLots: _settled.Values.Sum(x => x.Lots.Count),
                SettledWh: _settled.Values.Sum(x => x.Lots.Sum(e => e.SettledWh)),
                Participants: statements.Count,
                EnergyMoney: recomputed.Sum(r => r.Totals.EnergyMoney),
                WheelingMoney: recomputed.Sum(r => r.Grid.WheelingReceived),
                GridNet: _settled.Values.Sum(x => x.SlotSettled.Event.GridNet),
                Deposited: _deposited,
                Withdrawn: _withdrawn,
                InClearing: _inClearing,
                TotalSupply: totalSupply);

            return new AuditReport(
                _ledger, _fromBlock, _head, currentGridOperator.IsZero ? null : currentGridOperator,
                _found, slots, statements, accounts,
                UnsettledSlots: unsettled,
                SettlementsInProgress: _settling.Values.Where(x => !_settled.ContainsKey(x.Slot)).ToList(),
                SlotsWithoutOrderRoot: _lotsBySlot.Keys.Where(s => !_orderRoots.ContainsKey(s)).ToList(),
                ComparedWithExchange: _exchangeLots is not null,
                ExchangeLots: _exchangeLots?.Count ?? 0,
                totals)
            {
                AbortedSettlements = _abortedSettlements,
            };
        }

        private string RoleOf(Address address, Account account) =>
            address == _ledger ? "ledger (clearing)"
            : account.IsGridOperator && account.IsParticipant ? "grid operator, participant"
            : account.IsGridOperator ? "grid operator"
            : account.IsParticipant ? "participant"
            : "holder";

        private sealed record SettledSlot(Settlement Settlement, List<SettledLotEvent> Lots, List<SettledPartyEvent> Parties, SlotSettlement? Recomputed)
        {
            public Logged<SettledSlotEvent> SlotSettled => Settlement.Settled!;
        }

        private enum Step
        {
            Begun,
            Page,
            Settled,
            Aborted,
        }

        /// <summary>A settlement event (SettlementBegun, SettlementPage, SlotSettled) and the settlement it belongs to.</summary>
        private sealed record Marker(LogPosition Position, Step Step, Settlement Owner);

        /// <summary>
        /// One settlement of a slot: a SlotSettled alone (settleSlot, one transaction), or a SettlementBegun, its pages
        /// in chain order and, once finished, its SlotSettled (paged, a transaction a step).
        /// </summary>
        private sealed class Settlement(long slot)
        {
            private readonly HashSet<string> _eventTransactions = new(StringComparer.Ordinal);
            private readonly List<string> _eventTransactionsInOrder = [];

            public long Slot { get; } = slot;

            /// <summary>Null for settleSlot, and for a paged settlement begun before the audited range.</summary>
            public Logged<BegunSettlementEvent>? Begun { get; init; }

            public List<Logged<SettledPageEvent>> Pages { get; } = [];

            /// <summary>Null while a paged settlement is in progress.</summary>
            public Logged<SettledSlotEvent>? Settled { get; set; }

            public bool Paged => Begun is not null || Pages.Count > 0;

            /// <summary>Where the slot stopped taking lots: SettlementBegun (begun before the audited range: its first page), else SlotSettled.</summary>
            public LogPosition Start => Begun?.Position ?? (Pages.Count > 0 ? Pages[0].Position : Settled!.Position);

            /// <summary>The transactions whose LotSettled, PartySettled and clearing Transfers are this settlement's: its pages' and its SlotSettled's, in chain order.</summary>
            public IReadOnlyList<string> EventTransactions => _eventTransactionsInOrder;

            /// <summary>Every transaction of the settlement (beginSettlement's too).</summary>
            public HashSet<string> Transactions { get; } = new(StringComparer.Ordinal);

            public void AddEventTransaction(string transactionHash)
            {
                if (_eventTransactions.Add(transactionHash)) _eventTransactionsInOrder.Add(transactionHash);
            }

            public bool HasEventsIn(string transactionHash) => _eventTransactions.Contains(transactionHash);

            /// <summary>Lots (phase 1) or parties (phase 2) its pages settled so far.</summary>
            public long PagedCount(byte phase) => Pages.Where(p => p.Event.Phase == phase).Sum(p => p.Event.Count);
        }

        private sealed class Account
        {
            public BigInteger Deposited;
            public BigInteger Withdrawn;
            public BigInteger SettlementReceived;
            public BigInteger SettlementPaid;
            public BigInteger TransfersIn;
            public BigInteger TransfersOut;
            public bool IsParticipant;
            public bool IsGridOperator;
            public bool WentNegative;

            public BigInteger Replayed => Deposited - Withdrawn + SettlementReceived - SettlementPaid + TransfersIn - TransfersOut;
        }
    }
}
