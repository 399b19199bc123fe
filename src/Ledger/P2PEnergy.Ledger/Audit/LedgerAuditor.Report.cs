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
            foreach (var slot in _lotsBySlot.Keys.Union(_settled.Keys).Order())
            {
                var lots = _lotsBySlot.TryGetValue(slot, out var l) ? l : [];
                string? orderRoot = _orderRoots.TryGetValue(slot, out var root) ? root.Root : null;
                if (_settled.TryGetValue(slot, out var settled))
                {
                    var s = settled.Settlement.Event;
                    slots.Add(new SlotSummary(
                        slot, SlotStatus.Settled, lots.Count, lots.Sum(x => x.Lot.EnergyWh), orderRoot,
                        settled.Settlement.Position.Block, settled.Settlement.Position.TransactionHash, settled.Parties.Count,
                        s.RetailTicks, s.BuyBackTicks, s.Policy, Hex.Encode(s.ReadingsRoot), s.GridNet, settled.Recomputed));
                }
                else
                {
                    slots.Add(new SlotSummary(
                        slot, SlotStatus.Unsettled, lots.Count, lots.Sum(x => x.Lot.EnergyWh), orderRoot,
                        null, null, 0, null, null, null, null, null, null));
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
            var totals = new AuditTotals(
                Lots: _lots.Count,
                ContractedWh: _lots.Values.Sum(r => r.Lot.EnergyWh),
                SettledSlots: _settled.Count,
                UnsettledSlots: _lotsBySlot.Keys.Count(s => !_settled.ContainsKey(s)),
                SettledLots: _events.LotsSettled.Count,
                SettledWh: _events.LotsSettled.Sum(e => e.Event.SettledWh),
                Participants: statements.Count,
                EnergyMoney: recomputed.Sum(r => r.Totals.EnergyMoney),
                WheelingMoney: recomputed.Sum(r => r.Grid.WheelingReceived),
                GridNet: _settled.Values.Sum(x => x.Settlement.Event.GridNet),
                Deposited: _deposited,
                Withdrawn: _withdrawn,
                TotalSupply: totalSupply);

            return new AuditReport(
                _ledger, _fromBlock, _head, currentGridOperator.IsZero ? null : currentGridOperator,
                _found, slots, statements, accounts,
                UnsettledSlots: _lotsBySlot.Keys.Where(s => !_settled.ContainsKey(s)).ToList(),
                SlotsWithoutOrderRoot: _lotsBySlot.Keys.Where(s => !_orderRoots.ContainsKey(s)).ToList(),
                ComparedWithExchange: _exchangeLots is not null,
                ExchangeLots: _exchangeLots?.Count ?? 0,
                totals);
        }

        private string RoleOf(Address address, Account account) =>
            address == _ledger ? "ledger (clearing)"
            : account.IsGridOperator && account.IsParticipant ? "grid operator, participant"
            : account.IsGridOperator ? "grid operator"
            : account.IsParticipant ? "participant"
            : "holder";

        private sealed record SettledSlot(Logged<SettledSlotEvent> Settlement, List<SettledPartyEvent> Parties, SlotSettlement? Recomputed);

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
