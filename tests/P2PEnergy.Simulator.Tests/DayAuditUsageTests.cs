using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Simulator.Day;

namespace P2PEnergy.Simulator.Tests;

/// <summary>
/// The day's chain figures split the ledger's transactions by the function they called: a slot settled in pages is
/// beginSettlement and every lot and party page, each a settlement transaction with its gas, as settleSlot is one.
/// </summary>
public sealed class DayAuditUsageTests
{
    private static string Input(byte[] callData) => "0x" + Convert.ToHexStringLower(callData);

    private static readonly SlotSettlementOrder Order = new(
        989100,
        [new LotFlow(1, 1000, 1000)],
        [new SettlementParty(Address.Zero, P2PEnergy.Exchange.Address.Parse("0x0000000000000000000000000000000000005002"), 0, 0)],
        2620, 700, 1);

    [Fact]
    public void Every_transaction_of_a_paged_settlement_is_a_settlement_transaction()
    {
        var lots = new[]
        {
            new P2PEnergy.Exchange.Lot(1, 989100, P2PEnergy.Exchange.Address.Parse("0x0000000000000000000000000000000000005001"),
                P2PEnergy.Exchange.Address.Parse("0x0000000000000000000000000000000000005002"), 1000, 2000, 0,
                P2PEnergy.Exchange.Product.Standard, P2PEnergy.Exchange.EnergySource.Mixed, 2, 3),
        };
        var parties = EnergyLedgerContract.SortParties(Order.Parties);

        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeBeginSettlement(Order))));
        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeSettleLotsPage(Order, lots, 0, 1))));
        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeSettlePartiesPage(Order.Slot, parties, 0, 1, last: true))));
        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeSettleSlot(Order, lots))));
        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeDeposit(Address.Parse("0x0000000000000000000000000000000000005002"), 100))));
    }

    [Fact]
    public void Recording_order_roots_and_anything_else_are_told_apart()
    {
        Assert.Equal(LedgerCall.Recording, DayAudit.CallOf(Input(EnergyLedgerContract.RecordLotsFunction.Selector)));
        Assert.Equal(LedgerCall.OrderRoot, DayAudit.CallOf(Input(EnergyLedgerContract.CommitOrderRootFunction.Selector)));
        // An admin's call is other; so is a transfer, and an input too short to have a selector.
        Assert.Equal(LedgerCall.Other, DayAudit.CallOf(Input(EnergyLedgerContract.EncodeSetGridOperator(Address.Parse("0x0000000000000000000000000000000000009001")))));
        Assert.Equal(LedgerCall.Other, DayAudit.CallOf("0xa9059cbb"));
        Assert.Equal(LedgerCall.Other, DayAudit.CallOf("0x"));
        // Nodes may answer in upper-case hex.
        Assert.Equal(LedgerCall.Settlement, DayAudit.CallOf(Input(EnergyLedgerContract.BeginSettlementFunction.Selector).ToUpperInvariant().Replace("0X", "0x", StringComparison.Ordinal)));
    }
}
