namespace P2PEnergy.Exchange.Chain.Tests;

using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger.Audit;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Simulator.Day;
using ParticipantAddress = P2PEnergy.Exchange.Address;

/// <summary>
/// The demo's path on the small scenario (issue 6): the community-day simulator drives the real exchange host with
/// its recorder, root committer and chain settler on a real Hardhat node; every slot is settled on chain and the
/// auditor, from the chain alone and the exchange's lots, finds nothing wrong and the exchange's money.
/// </summary>
[Collection(ChainTestCollection.Name)]
public sealed class CommunityDayOnChainTests(HardhatNodeFixture chain)
{
    [Fact]
    public async Task The_small_day_is_recorded_settled_on_chain_and_audits_clean()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var ledger = await FreshLedger.DeployAsync(chain);
        await ledger.EnableSettlementAsync();
        var settings = ledger.Settings();
        settings["Ledger:SettlerKey"] = P2PEnergy.Ethereum.Hex.Encode(FreshLedger.SettlerKey.PrivateKeyBytes);
        settings["Ledger:DepositJpy"] = "10000";
        using var host = new ChainExchangeHost(settings);

        var result = await CommunityDay.RunAsync(
            host.Channel, ScenarioLoader.Load("small"), new DayOptions { Seed = 1, LedgerTimeout = TimeSpan.FromSeconds(45) }, null, cts.Token);

        Assert.Equal(0, result.Checks.Violations);
        Assert.True(result.Checks.LedgerCaughtUp);
        Assert.Empty(result.Warnings);
        Assert.NotEmpty(result.Lots);
        Assert.Equal("", result.Chain.LastError);
        Assert.Equal(result.Lots.Count, result.Chain.LotsRecorded);
        // Every slot had readings (each meter reports), so every slot went on chain.
        Assert.Equal(result.Run.SlotCount, result.Chain.SlotsSettledOnChain);

        var exchangeLots = (await host.Exchange.GetLotsAsync(new GetLotsRequest { PageSize = 1000 }, cancellationToken: cts.Token)).Lots
            .Select(l => l.ToCore())
            .ToArray();
        var audit = await new LedgerAuditor(chain.Client, ledger.Deployment.Ledger, ledger.Deployment.DeployBlock).AuditAsync(exchangeLots, cts.Token);
        Assert.True(audit.Passed, string.Join("\n", audit.Discrepancies.Select(d => d.Message)));
        Assert.Equal(result.Run.SlotCount, audit.Totals.SettledSlots);
        Assert.Equal(result.Lots.Count, audit.Totals.Lots);

        // Each participant's money over the day, as the simulator read it from the exchange's bills, is what the
        // auditor re-settled from the chain alone.
        foreach (var p in result.Participants)
        {
            long exchangeNet = result.ParticipantSlots.Where(r => r.Participant == p.Id).Sum(r => r.Net);
            var statement = audit.StatementOf(ParticipantAddress.Parse(p.Address));
            Assert.NotNull(statement);
            Assert.Equal(exchangeNet, statement.Lines.Sum(l => l.Bill.Net));
        }
    }
}
