namespace P2PEnergy.Exchange.Chain.Tests;

using System.Diagnostics;
using System.Numerics;
using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Chain.Tests.Infrastructure.Participants;
using EthAddress = P2PEnergy.Ethereum.Address;
using EthKey = P2PEnergy.Ethereum.EthKey;
using Keccak = P2PEnergy.Ethereum.Keccak;
using CoreLot = P2PEnergy.Exchange.Lot;
using ParticipantAddress = P2PEnergy.Exchange.Address;

/// <summary>
/// A full slot end to end on a real Hardhat node (issue 5): signed orders traded, lots recorded, signed meter
/// readings, sealing, settlement by the exchange's engine, and the same slot settled on chain by the contract,
/// which computes every amount itself: the chain's nets, flows and readings root must equal the exchange's.
/// </summary>
[Collection(ChainTestCollection.Name)]
public sealed class SettlementToChainTests(HardhatNodeFixture chain) : IAsyncLifetime
{
    private const long Slot = ChainExchangeHost.Slot0 + 2;
    private const long DepositJpy = 1000;
    private static readonly BigInteger Deposit = DepositJpy * 100_000L;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private FreshLedger _ledger = null!;
    private ChainExchangeHost _host = null!;

    private CancellationToken Ct => _timeout.Token;

    private MarketDomain Domain => new(_ledger.Deployment.ChainId, _ledger.Deployment.Ledger);

    private static EthKey MeterKey(string who) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-chain-test-meter:" + who));

    public async Task InitializeAsync()
    {
        _ledger = await FreshLedger.DeployAsync(chain);
        await _ledger.EnableSettlementAsync();
        var settings = _ledger.Settings();
        settings["Ledger:SettlerKey"] = P2PEnergy.Ethereum.Hex.Encode(FreshLedger.SettlerKey.PrivateKeyBytes);
        settings["Ledger:DepositJpy"] = DepositJpy.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _host = new ChainExchangeHost(settings);
    }

    public Task DisposeAsync()
    {
        _host.Dispose();
        _ledger.Dispose();
        _timeout.Dispose();
        return Task.CompletedTask;
    }

    private MeteringService.MeteringServiceClient Metering => new(_host.Channel);

    private MeteringAdmin.MeteringAdminClient MeteringAdmin => new(_host.Channel);

    private SettlementService.SettlementServiceClient Settlement => new(_host.Channel);

    private async Task TradeAndMeterAsync()
    {
        foreach (var (who, zone, kind) in new[] { ("pv1", 0, ParticipantKind.Prosumer), ("home1", 0, ParticipantKind.Household), ("home2", 2, ParticipantKind.Household), ("office", 1, ParticipantKind.Office) })
        {
            await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = AddressOf(who), Zone = zone, Kind = kind }, cancellationToken: Ct);
            await MeteringAdmin.BindMeterAsync(new BindMeterRequest { Meter = MeterKey(who).Address.ToLowerHex(), Participant = AddressOf(who) }, cancellationToken: Ct);
        }
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Slot, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
        await Submit(Sell("pv1", 1, Slot, 800, 1500, EnergySource.Renewable), "pv1");
        await Submit(Buy("home1", 1, Slot, 300, 2000), "home1"); // lot: pv1 -> home1 300 Wh @1500, same zone
        await Submit(Buy("home2", 1, Slot, 400, 1800), "home2"); // lot: pv1 -> home2 400 Wh @1500, across zones (wheeling)
        // Past the slot's delivery end: readings are accepted from then on.
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (Slot + 1) * 1800 + 60 }, cancellationToken: Ct);

        // pv1 delivered 600 of 700 Wh sold (FIFO: home1's lot in full, home2's 300 of 400); home1 drew 500 (200 from
        // the grid); home2 drew 400 (100 short, bought at retail); the office has no lot: grid only.
        await Read("pv1", importWh: 0, exportWh: 600);
        await Read("home1", importWh: 500, exportWh: 0);
        await Read("home2", importWh: 400, exportWh: 0);
        await Read("office", importWh: 2000, exportWh: 300);
    }

    private async Task Submit(NewOrder order, string who) =>
        await _host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = order.Signed(who, Domain) }, cancellationToken: Ct);

    private async Task Read(string who, long importWh, long exportWh, EthKey? signer = null)
    {
        var meter = MeterKey(who).Address.ToLowerHex();
        var message = new MeterReadingMessage(meter, AddressOf(who), (ulong)Slot, (ulong)importWh, (ulong)exportWh);
        var signature = (signer ?? MeterKey(who)).Sign(Domain, message);
        await Metering.SubmitReadingAsync(new SubmitReadingRequest
        {
            Reading = new MeterReading { Meter = meter, Participant = AddressOf(who), Slot = Slot, ImportWh = importWh, ExportWh = exportWh, Signature = ByteString.CopyFrom(signature) },
        }, cancellationToken: Ct);
    }

    private async Task<GetLedgerStatusResponse> WaitForChainSettlementAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await _host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: Ct);
            if (status.SlotsSettledOnChain >= 1 && status.SettlementsPending == 0) return status;
            if (clock.Elapsed > Deadline) Assert.Fail($"The slot was not settled on chain within {Deadline.TotalSeconds} s: {status}\nnode: {chain.Node.RecentOutput()}");
            await Task.Delay(25, Ct);
        }
    }

    [Fact]
    public async Task A_slot_settled_by_the_exchange_is_settled_on_chain_with_the_same_flows_nets_and_readings_root()
    {
        await TradeAndMeterAsync();
        // A forged reading (signed by another key than the meter's) is refused by the service, and changes nothing.
        var forged = await Assert.ThrowsAsync<RpcException>(() => Read("home2", importWh: 10, exportWh: 0, signer: KeyOf("home2")));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);

        var sealedRoot = (await MeteringAdmin.SealReadingsAsync(new SealReadingsRequest { Slot = Slot }, cancellationToken: Ct)).SlotRoot.ToByteArray();
        var settlement = await Settlement.GetSettlementAsync(new GetSettlementRequest { Slot = Slot }, cancellationToken: Ct);
        Assert.True(settlement.Conserved);
        Assert.Equal(2, settlement.Lots.Count);
        Assert.Contains(settlement.Lots, l => l.ShortfallWh == 100); // home2's lot: the case the contract must price itself

        var status = await WaitForChainSettlementAsync();
        Assert.Equal("", status.LastError);
        Assert.True(status.SettlementGasUsed > 0);
        Assert.Equal(_ledger.Deployment.DeployBlock, status.DeployBlock); // where an auditor starts reading
        Assert.Equal((1L, 0L), (status.SettlementTransactions, status.SlotsSettledInPages)); // one settleSlot, no pages
        var contract = _ledger.Contract;
        Assert.True(await contract.IsSettledAsync(Slot, cancellationToken: Ct));

        // The readings root on chain (built by the contract from the readings it was given) is the exchange's sealed
        // root, and every participant's proof from the exchange verifies against it.
        var onChainRoot = await contract.ReadingsRootAsync(Slot, Ct);
        Assert.Equal(sealedRoot, onChainRoot);
        foreach (var who in new[] { "pv1", "home1", "home2", "office" })
        {
            var proof = await Metering.GetReadingProofAsync(new GetReadingProofRequest { Participant = AddressOf(who), Slot = Slot }, cancellationToken: Ct);
            Assert.True(MeterReadingMerkleTree.Verify(onChainRoot!, proof.Leaf.ToByteArray(), proof.Proof.Select(p => p.ToByteArray()).ToList()), $"{who}'s reading proof");
        }

        var events = await contract.GetSettlementEventsAsync(_ledger.Deployment.DeployBlock, cancellationToken: Ct);
        var slotEvent = Assert.Single(events.Slots);
        Assert.Equal((Slot, 2, 4, settlement.RetailTicks, settlement.BuyBackTicks), (slotEvent.Slot, slotEvent.Lots, slotEvent.Parties, slotEvent.RetailTicks, slotEvent.BuyBackTicks));
        // Flows: the contract's settled Wh equal the engine's, lot by lot.
        foreach (var line in settlement.Lots)
        {
            var onChain = Assert.Single(events.Lots, l => l.LotId == line.LotId);
            Assert.Equal((line.DeliveredWh, line.ConsumedWh, line.SettledWh), (onChain.DeliveredWh, onChain.ConsumedWh, onChain.SettledWh));
        }
        // Money: the contract computed it from the recorded prices; it equals the exchange's bills, and balances moved by it.
        foreach (var bill in settlement.Bills)
        {
            var party = Assert.Single(events.Parties, p => p.Participant == ParticipantAddress.Parse(bill.Participant));
            Assert.Equal(bill.Net, party.Net);
            Assert.Equal(Deposit + bill.Net, await contract.BalanceOfAsync(new EthAddress(party.Participant.ToBytes()), cancellationToken: Ct));
        }
        Assert.Equal(settlement.Grid.Net, slotEvent.GridNet);
        Assert.Equal(Deposit + settlement.Grid.Net, await contract.BalanceOfAsync(FreshLedger.GridOperatorKey.Address, cancellationToken: Ct));
        // Settlement moved money, it created none: deposits only (4 participants and the grid operator).
        Assert.Equal(5 * Deposit, await contract.TotalSupplyAsync(cancellationToken: Ct));

        // The auditor, from the chain alone plus the exchange's lots, finds everything consistent, and its statements
        // (re-settled from chain data by the engine) carry the exchange's nets.
        var exchangeCoreLots = (await _host.Exchange.GetLotsAsync(new GetLotsRequest { PageSize = 1000 }, cancellationToken: Ct)).Lots.Select(l => l.ToCore()).ToArray();
        var audit = await new P2PEnergy.Ledger.Audit.LedgerAuditor(chain.Client, _ledger.Deployment.Ledger, _ledger.Deployment.DeployBlock).AuditAsync(exchangeCoreLots, Ct);
        Assert.True(audit.Passed, string.Join("\n", audit.Discrepancies.Select(d => d.Message)));
        foreach (var bill in settlement.Bills)
        {
            var statement = audit.StatementOf(ParticipantAddress.Parse(bill.Participant));
            Assert.NotNull(statement);
            Assert.Equal(bill.Net, Assert.Single(statement.Lines).Bill.Net);
        }
        // The exchange's lots with one changed: the auditor names that lot.
        var tampered = exchangeCoreLots.Select(l => l.LotId == exchangeCoreLots[0].LotId ? l with { EnergyWh = l.EnergyWh + 100 } : l).ToArray();
        var tamperedAudit = await new P2PEnergy.Ledger.Audit.LedgerAuditor(chain.Client, _ledger.Deployment.Ledger, _ledger.Deployment.DeployBlock).AuditAsync(tampered, Ct);
        Assert.False(tamperedAudit.Passed);
        Assert.Contains(tamperedAudit.Discrepancies, d => d.LotId == exchangeCoreLots[0].LotId);

        // A second settlement of the slot is refused by the contract.
        var exchangeLots = (await contract.GetRecordedLotsAsync(_ledger.Deployment.DeployBlock, slot: Slot, cancellationToken: Ct)).Select(r => r.Lot).ToArray();
        var again = new SlotSettlementOrder(Slot, exchangeLots.Select(l => new LotFlow(l.LotId, 0, 0)).ToArray(),
            events.Parties.Select(p => new SettlementParty(p.Meter, p.Participant, p.ImportWh, p.ExportWh)).ToArray(), 2620, 700, 1);
        var refused = await Assert.ThrowsAsync<LedgerRevertException>(() => contract.SettleSlotAsync(FreshLedger.SettlerKey, again, exchangeLots, Ct));
        Assert.Equal(new LedgerError.SlotAlreadySettled((ulong)Slot), refused.Error);
    }

    [Fact]
    public async Task The_contract_refuses_a_settlement_above_the_contracted_energy_and_lots_that_were_not_recorded()
    {
        const long slot = Slot + 10;
        var seller = ParticipantAddress.Parse(AddressOf("pv1"));
        var buyer = ParticipantAddress.Parse(AddressOf("home1"));
        var lot = new CoreLot(900_001, slot, seller, buyer, 500, 1500, 0, P2PEnergy.Exchange.Product.Standard, P2PEnergy.Exchange.EnergySource.Renewable, 1, 2);
        await _ledger.Contract.RecordLotsAsync(chain.OperatorKey, [lot], Ct);
        var parties = new[]
        {
            new SettlementParty(MeterKey("pv1").Address, seller, 0, 600),
            new SettlementParty(MeterKey("home1").Address, buyer, 600, 0),
        };

        var above = new SlotSettlementOrder(slot, [new LotFlow(lot.LotId, 501, 500)], parties, 2620, 700, 1);
        var error = await Assert.ThrowsAsync<LedgerRevertException>(() => _ledger.Contract.SettleSlotAsync(FreshLedger.SettlerKey, above, [lot], Ct));
        Assert.Equal(new LedgerError.SettledAboveContracted((ulong)lot.LotId, 501, 500), error.Error);

        // A lot at another price than the one recorded: the slot's lots do not match what was recorded.
        var cheaper = lot with { PriceTicks = 1 };
        var fine = new SlotSettlementOrder(slot, [new LotFlow(lot.LotId, 500, 500)], parties, 2620, 700, 1);
        error = await Assert.ThrowsAsync<LedgerRevertException>(() => _ledger.Contract.SettleSlotAsync(FreshLedger.SettlerKey, fine, [cheaper], Ct));
        Assert.Equal(new LedgerError.LotsMismatch((ulong)slot), error.Error);
        Assert.False(await _ledger.Contract.IsSettledAsync(slot, cancellationToken: Ct));
    }
}
