using P2PEnergy.Ledger.Tests.Audit;
using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests;

/// <summary>
/// Pages sent with a planned gas limit (TransactionSender.SendWithGasLimitAsync), on a real Hardhat node: too small a
/// limit is found by the eth_call before anything is sent, and the chain settler reads it as "needs more gas" (to plan
/// again with a smaller budget), while a real revert is not.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class PageGasLimitTests(HardhatNodeFixture chain)
{
    [Fact]
    public async Task A_page_with_too_small_a_gas_limit_costs_nothing_and_reads_as_over_the_gas_and_a_revert_does_not()
    {
        var slot = await HandComputedSlot.RecordAsync(chain);
        await slot.BeginAsync();
        var nonce = await chain.Client.GetTransactionCountAsync(chain.OperatorKey.Address, BlockParameter.Latest);

        var tooSmall = await Assert.ThrowsAnyAsync<Exception>(() =>
            slot.Contract.SettleLotsPageAsync(chain.OperatorKey, slot.Order(), slot.Lots, 0, 3, gasLimit: 60_000));
        Assert.True(ChainSettler.IsOverGasCap(tooSmall), tooSmall.ToString());
        Assert.Equal(nonce, await chain.Client.GetTransactionCountAsync(chain.OperatorKey.Address, BlockParameter.Latest)); // nothing sent
        Assert.Equal(new SettlementProgress(SettlementProgress.Lots, 0, 0), await slot.Contract.SettlementProgressAsync(HandComputedSlot.Slot));

        // The same page with room goes through; sent again, it is a revert (PageOutOfOrder), not a gas problem.
        var receipt = await slot.Contract.SettleLotsPageAsync(chain.OperatorKey, slot.Order(), slot.Lots, 0, 3, gasLimit: 1_000_000);
        Assert.True(receipt.GasUsed < 1_000_000);
        var again = await Assert.ThrowsAsync<LedgerRevertException>(() =>
            slot.Contract.SettleLotsPageAsync(chain.OperatorKey, slot.Order(), slot.Lots, 0, 3, gasLimit: 1_000_000));
        Assert.Equal(new LedgerError.PageOutOfOrder((ulong)HandComputedSlot.Slot, 3, 0), again.Error);
        Assert.False(ChainSettler.IsOverGasCap(again));
    }
}
