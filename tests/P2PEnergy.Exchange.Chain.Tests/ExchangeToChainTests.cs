namespace P2PEnergy.Exchange.Chain.Tests;

using System.Diagnostics;
using P2PEnergy.Exchange.Chain.Tests.Infrastructure;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Chain.Tests.Infrastructure.Participants;
using EthAddress = P2PEnergy.Ethereum.Address;

/// <summary>
/// The exchange host with Ledger:* pointing at a real Hardhat node: lots from both mechanisms and each
/// slot's order root reach a freshly deployed EnergyLedger, and GetLedgerStatus tells it.
/// </summary>
[Collection(ChainTestCollection.Name)]
public sealed class ExchangeToChainTests(HardhatNodeFixture chain) : IAsyncLifetime
{
    private const long Cda = ChainExchangeHost.Slot0 + 2;
    private const long Auction = ChainExchangeHost.Slot0 + 3;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(45));
    private FreshLedger _ledger = null!;
    private ChainExchangeHost _host = null!;

    private CancellationToken Ct => _timeout.Token;

    private MarketDomain Domain => new(_ledger.Deployment.ChainId, _ledger.Deployment.Ledger);

    public async Task InitializeAsync()
    {
        _ledger = await FreshLedger.DeployAsync(chain);
        _host = new ChainExchangeHost(_ledger.Settings());
    }

    public Task DisposeAsync()
    {
        _host.Dispose();
        _ledger.Dispose();
        _timeout.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Continuous trading in <see cref="Cda"/> (green and standard buys against renewable and mixed sells, partial
    /// fills), a call auction in <see cref="Auction"/>, one order that never trades; then both gates close.
    /// </summary>
    private async Task TradeAsync()
    {
        foreach (var (who, zone, kind) in new[] { ("pv1", 0, ParticipantKind.Prosumer), ("pv2", 2, ParticipantKind.Prosumer), ("home1", 1, ParticipantKind.Household), ("home2", 3, ParticipantKind.Household) })
        {
            await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = AddressOf(who), Zone = zone, Kind = kind }, cancellationToken: Ct);
        }
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Cda, Mechanism = Mechanism.Continuous }, cancellationToken: Ct);
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Auction, Mechanism = Mechanism.CallAuction }, cancellationToken: Ct);

        await SubmitAsync(Sell("pv1", 1, Cda, 500, 1500, EnergySource.Renewable), "pv1");
        await SubmitAsync(Sell("pv2", 1, Cda, 400, 1600, EnergySource.Mixed), "pv2");
        await SubmitAsync(Buy("home1", 1, Cda, 300, 2000, Product.Green), "home1");     // pv1 300 @1500
        await SubmitAsync(Buy("home2", 1, Cda, 400, 1700, Product.Standard), "home2");  // pv1 200 @1500, pv2 200 @1600
        await SubmitAsync(Buy("home1", 2, Cda, 100, 900, Product.Standard), "home1");   // rests, never trades

        await SubmitAsync(Sell("pv1", 2, Auction, 600, 1200, EnergySource.Renewable), "pv1");
        await SubmitAsync(Sell("pv2", 2, Auction, 300, 1400, EnergySource.Mixed), "pv2");
        await SubmitAsync(Buy("home1", 3, Auction, 500, 1800, Product.Standard), "home1");
        await SubmitAsync(Buy("home2", 2, Auction, 300, 1500, Product.Green), "home2");

        // Closes the continuous slot's gate, then the auction's (which runs the auction).
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = Auction * 1800 - 300 }, cancellationToken: Ct);
    }

    private async Task<SubmitOrderResponse> SubmitAsync(NewOrder order, string who)
    {
        var response = await _host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = order.Signed(who, Domain) }, cancellationToken: Ct);
        Assert.True(response.Order.OrderId > 0);
        return response;
    }

    private async Task<List<Lot>> ExchangeLotsAsync()
    {
        var lots = new List<Lot>();
        var token = "";
        do
        {
            var page = await _host.Exchange.GetLotsAsync(new GetLotsRequest { PageSize = 1000, PageToken = token }, cancellationToken: Ct);
            lots.AddRange(page.Lots);
            token = page.NextPageToken;
        }
        while (token != "");
        return lots;
    }

    /// <summary>Polls GetLedgerStatus until no lot and no root waits for the chain (and every lot made was handed over).</summary>
    private async Task<GetLedgerStatusResponse> SettledStatusAsync(int lotsMade, int roots)
    {
        GetLedgerStatusResponse status = null!;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            status = await _host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: Ct);
            if (status.LotsMade == lotsMade && status.LotsPending == 0 && status.RootsPending == 0 && status.RootsCommitted >= roots)
            {
                return status;
            }
            if (clock.Elapsed > Deadline)
            {
                Assert.Fail($"The chain did not catch up within {Deadline.TotalSeconds} s: {status}\nnode: {chain.Node.RecentOutput()}");
            }
            await Task.Delay(25, Ct);
        }
    }

    [Fact]
    public async Task Lots_of_both_mechanisms_reach_the_chain_exactly_once_with_every_field()
    {
        await TradeAsync();
        var lots = await ExchangeLotsAsync();
        Assert.Equal(3, lots.Count(l => l.Slot == Cda));
        Assert.Contains(lots, l => l.Slot == Auction);
        Assert.Contains(lots, l => l.Product == Product.Green);
        Assert.Contains(lots, l => l.Source == EnergySource.Mixed);
        Assert.Contains(lots, l => l.WheelingFeeTicks > 0);
        Assert.Equal(lots.Select(l => l.LotId).Order(), lots.Select(l => l.LotId));

        var status = await SettledStatusAsync(lots.Count, roots: 2);
        Assert.Equal("", status.LastError);

        var onChain = await _ledger.Contract.GetRecordedLotsAsync(fromBlock: _ledger.Deployment.DeployBlock, cancellationToken: Ct);
        // Exactly once: as many events as lots, no lot id twice, the contract's count agrees, nothing "found" by a retry.
        Assert.Equal(lots.Count, onChain.Count);
        Assert.Equal(onChain.Count, onChain.Select(r => r.LotId).Distinct().Count());
        Assert.Equal((ulong)lots.Count, await _ledger.Contract.LotCountAsync(cancellationToken: Ct));
        Assert.Equal(lots.Count, status.LotsRecorded);
        Assert.Equal(0, status.LotsFoundOnChain);

        var byId = onChain.ToDictionary(r => r.LotId, r => r.Lot);
        foreach (var lot in lots)
        {
            Assert.True(byId.TryGetValue(lot.LotId, out var c), $"lot {lot.LotId} is not on chain");
            Assert.Equal(
                (lot.LotId, lot.Slot, lot.Seller.ToLowerInvariant(), lot.Buyer.ToLowerInvariant(), lot.EnergyWh, lot.PriceTicks, lot.WheelingFeeTicks, (int)lot.Product, (int)lot.Source, lot.SellOrderId, lot.BuyOrderId),
                (c!.LotId, c.Slot, c.Seller.ToString().ToLowerInvariant(), c.Buyer.ToString().ToLowerInvariant(), c.EnergyWh, c.PriceTicks, c.WheelingFeeTicks, (int)c.Product, (int)c.Source, c.SellOrderId, c.BuyOrderId));
            Assert.True(await _ledger.Contract.IsRecordedAsync(lot.LotId, cancellationToken: Ct));
        }
        // The indexed filters find the same lots.
        Assert.Equal(lots.Count(l => l.Slot == Auction), (await _ledger.Contract.GetRecordedLotsAsync(_ledger.Deployment.DeployBlock, slot: Auction, cancellationToken: Ct)).Count);
    }

    [Fact]
    public async Task Each_slots_order_root_is_on_chain_and_proofs_verify_against_it()
    {
        await TradeAsync();
        var lots = await ExchangeLotsAsync();
        await SettledStatusAsync(lots.Count, roots: 2);

        var commitments = await _ledger.Contract.GetOrderRootsAsync(_ledger.Deployment.DeployBlock, cancellationToken: Ct);
        Assert.Equal([Cda, Auction], commitments.Select(c => c.Slot).Order());
        var onChainLots = (await _ledger.Contract.GetRecordedLotsAsync(_ledger.Deployment.DeployBlock, cancellationToken: Ct)).ToDictionary(r => r.LotId, r => r.Lot);

        foreach (var slot in new[] { Cda, Auction })
        {
            var root = await _ledger.Contract.OrderRootAsync(slot, Ct);
            Assert.NotNull(root);
            var commitment = commitments.Single(c => c.Slot == slot);
            Assert.Equal(P2PEnergy.Ethereum.Hex.Encode(root), commitment.Root);
            foreach (var lot in lots.Where(l => l.Slot == slot))
            {
                var chainLot = onChainLots[lot.LotId];
                Assert.Equal((lot.SellOrderId, lot.BuyOrderId), (chainLot.SellOrderId, chainLot.BuyOrderId));
                foreach (var (orderId, party) in new[] { (chainLot.SellOrderId, chainLot.Seller.ToString()), (chainLot.BuyOrderId, chainLot.Buyer.ToString()) })
                {
                    var p = await _host.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = orderId }, cancellationToken: Ct);
                    Assert.Equal(slot, p.Slot);
                    Assert.Equal(root, p.SlotRoot.ToByteArray());
                    Assert.Equal(commitment.Orders, (uint)p.OrderCount);
                    // The domain the exchange names is the deployed ledger's; the digest is recomputed, not taken on trust.
                    Assert.Equal(_ledger.Deployment.Ledger, EthAddress.Parse(p.LedgerAddress));
                    Assert.Equal(_ledger.Deployment.ChainId, p.ChainId);
                    var digest = MarketSigning.Digest(new MarketDomain(p.ChainId, EthAddress.Parse(p.LedgerAddress)), MessageOf(p.Order));
                    Assert.Equal(digest, p.Digest.ToByteArray());
                    Assert.True(MarketSigning.TryRecoverSigner(digest, p.Order.Signature.Span, out var signer));
                    Assert.Equal(party.ToLowerInvariant(), signer.ToLowerHex());
                    var proof = p.Proof.Select(b => b.ToByteArray()).ToList();
                    Assert.True(OrderMerkleTree.Verify(root, orderId, digest, proof), $"order {orderId}'s proof does not verify against slot {slot}'s on-chain root");
                    // ...and not against the other slot's root.
                    var other = await _ledger.Contract.OrderRootAsync(slot == Cda ? Auction : Cda, Ct);
                    Assert.False(OrderMerkleTree.Verify(other, orderId, digest, proof));
                }
            }
        }
        // The order that never traded is in its slot's tree too.
        var resting = lots.Select(l => l.BuyOrderId).Concat(lots.Select(l => l.SellOrderId)).ToHashSet();
        var untraded = Enumerable.Range(1, 9).Select(i => (long)i).Single(id => !resting.Contains(id));
        var u = await _host.Exchange.GetOrderProofAsync(new GetOrderProofRequest { OrderId = untraded }, cancellationToken: Ct);
        Assert.Equal(Cda, u.Slot);
        Assert.True(OrderMerkleTree.Verify((await _ledger.Contract.OrderRootAsync(Cda, Ct))!, untraded, u.Digest.ToByteArray(), u.Proof.Select(b => b.ToByteArray()).ToList()));
    }

    [Fact]
    public async Task Ledger_status_counts_match_the_exchange_and_the_chain()
    {
        var idle = await _host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: Ct);
        Assert.True(idle.Enabled);
        Assert.Equal((0L, 0L, 0L, 0L), (idle.LotsMade, idle.LotsPending, idle.RootsCommitted, idle.RootsPending));

        await TradeAsync();
        var lots = await ExchangeLotsAsync();
        var status = await SettledStatusAsync(lots.Count, roots: 2);

        Assert.True(status.Enabled);
        Assert.Equal(HardhatNode.ChainId, status.ChainId);
        Assert.Equal(_ledger.Deployment.Ledger, EthAddress.Parse(status.LedgerAddress));
        Assert.Equal(chain.OperatorKey.Address, EthAddress.Parse(status.Operator));
        Assert.Equal(lots.Count, status.LotsMade);
        Assert.Equal(0, status.LotsPending);
        Assert.Equal(lots.Count, status.LotsRecorded);
        Assert.Equal(0, status.LotsFoundOnChain);
        // Batches of at most 3 lots (Ledger:BatchSize).
        Assert.InRange(status.TransactionsConfirmed, (lots.Count + 2) / 3, lots.Count);
        Assert.True(status.GasUsed > 0);
        Assert.True(status.LastBlock > _ledger.Deployment.DeployBlock);
        Assert.Equal(2, status.RootsCommitted); // both slots had orders
        Assert.Equal(0, status.RootsPending);
        Assert.Equal("", status.LastError);

        // A slot with no orders has no root: closing its gate commits nothing.
        await _host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = Auction + 1, Mechanism = Mechanism.CallAuction }, cancellationToken: Ct);
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (Auction + 1) * 1800 - 300 }, cancellationToken: Ct);
        var after = await _host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: Ct);
        Assert.Equal((2L, 0L), (after.RootsCommitted, after.RootsPending));
        Assert.Null(await _ledger.Contract.OrderRootAsync(Auction + 1, Ct));
    }
}

/// <summary>Hosts without a chain, or with a broken Ledger section.</summary>
public sealed class LedgerConfigurationTests
{
    [Fact]
    public async Task Without_ledger_config_the_status_says_disabled()
    {
        using var host = new ChainExchangeHost();
        var status = await host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest());
        Assert.False(status.Enabled);
        Assert.Equal(new GetLedgerStatusResponse { Enabled = false }, status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/nonexistent/p2penergy/deployment.json")]
    public void A_missing_deployment_file_stops_the_host_with_a_message_naming_the_setting(string? deploymentFile)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Ledger:RpcUrl"] = "http://127.0.0.1:9/",
            ["Ledger:OperatorKey"] = HardhatNode.Account1Key,
        };
        if (deploymentFile is not null)
        {
            settings["Ledger:DeploymentFile"] = deploymentFile;
        }
        using var host = new ChainExchangeHost(settings);
        var e = Assert.ThrowsAny<Exception>(() => host.Server);
        var messages = string.Join(" | ", Chain(e).Select(x => x.Message));
        Assert.Contains("Ledger:DeploymentFile", messages);
        Assert.Contains("does not exist", messages);
    }

    /// <summary>Ledger settings valid but for <paramref name="key"/>, with a deployment file that exists (never read by the node).</summary>
    private static Dictionary<string, string?> ValidSettings(string dir) 
    {
        var file = Path.Combine(dir, "deployment.json");
        new LedgerDeployment
        {
            ChainId = HardhatNode.ChainId,
            Ledger = EthAddress.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
            Admin = EthAddress.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            Operator = EthAddress.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            DeployBlock = 1,
            TransactionHash = "0x" + new string('1', 64),
            DeployedAt = DateTimeOffset.UnixEpoch,
        }.Save(file);
        return new Dictionary<string, string?>
        {
            ["Ledger:RpcUrl"] = "http://127.0.0.1:9/",
            ["Ledger:DeploymentFile"] = file,
            ["Ledger:OperatorKey"] = HardhatNode.Account1Key,
            ["Ledger:RootCommitterKey"] = HardhatNode.Account2Key,
        };
    }

    [Theory]
    [InlineData("Ledger:OperatorKey", "0x1234")]
    [InlineData("Ledger:OperatorKey", "not a key")]
    [InlineData("Ledger:RootCommitterKey", "0x1234")]
    [InlineData("Ledger:RootCommitterKey", HardhatNode.Account1Key)] // the operator's own key: its nonces would race the recorder's
    public void A_bad_key_stops_the_host_with_a_message_naming_the_setting_but_not_the_key(string setting, string value)
    {
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        try
        {
            var settings = ValidSettings(dir);
            settings[setting] = value;
            using var host = new ChainExchangeHost(settings);
            var e = Assert.ThrowsAny<Exception>(() => host.Server);
            var messages = string.Join(" | ", Chain(e).Select(x => x.Message));
            Assert.Contains(setting, messages);
            Assert.DoesNotContain(HardhatNode.Account1Key[2..], messages, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_lot_the_chain_cannot_hold_stands_in_the_exchange_and_shows_in_the_status()
    {
        // A wheeling fee above the contract's 24 bits (16,777,215 ticks) is possible with a wide price band:
        // the trade must stand, and the refusal must be loud, never an exception into the market's command.
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        try
        {
            var settings = ValidSettings(dir);
            settings.Remove("Ledger:RootCommitterKey");
            settings["Exchange:MaxPriceTicks"] = "20000000";
            settings["Exchange:MaxOrderWh"] = "100000000";
            settings["Exchange:DefaultWheelingFeeTicks"] = "17000000";
            using var host = new ChainExchangeHost(settings);
            var info = await host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest());
            var domain = new MarketDomain(info.Config.ChainId, EthAddress.Parse(info.Config.LedgerAddress));
            const long slot = ChainExchangeHost.Slot0 + 2;
            await host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = AddressOf("far-seller"), Zone = 0, Kind = ParticipantKind.Prosumer });
            await host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = AddressOf("far-buyer"), Zone = 1, Kind = ParticipantKind.Household });
            await host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = slot, Mechanism = Mechanism.Continuous });
            await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Sell("far-seller", 1, slot, 100, 1000).Signed("far-seller", domain) });
            var bought = await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Buy("far-buyer", 1, slot, 100, 1000).Signed("far-buyer", domain) });

            var lot = Assert.Single(bought.Lots);
            Assert.Equal(17_000_000, lot.WheelingFeeTicks);
            var lots = await host.Exchange.GetLotsAsync(new GetLotsRequest { Slot = slot, PageSize = 10 });
            Assert.Equal(lot.LotId, Assert.Single(lots.Lots).LotId);
            var status = await host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest());
            Assert.Equal((1L, 0L), (status.LotsMade, status.LotsPending));
            Assert.Contains($"lot {lot.LotId} cannot be recorded", status.LastError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_unset_ledger_address_is_taken_from_the_deployment_for_signing()
    {
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        try
        {
            var settings = ValidSettings(dir);
            settings.Remove("Ledger:RootCommitterKey");
            settings["Exchange:LedgerAddress"] = "";
            settings["Exchange:ChainId"] = "5"; // replaced with the deployment's, as the address is unset
            using var host = new ChainExchangeHost(settings);
            var info = await host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest());
            Assert.Equal("0x5fbdb2315678afecb367f032d93f642f64180aa3", info.Config.LedgerAddress.ToLowerInvariant());
            Assert.Equal(HardhatNode.ChainId, info.Config.ChainId);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("0x000000000000000000000000000000000000dEaD", null)]
    [InlineData("0x5FbDB2315678afecb367f032d93F642f64180aa3", "1")]
    public void A_ledger_address_or_chain_other_than_the_deployments_stops_the_host(string address, string? chainId)
    {
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        try
        {
            var settings = ValidSettings(dir);
            settings["Exchange:LedgerAddress"] = address;
            if (chainId is not null) settings["Exchange:ChainId"] = chainId;
            using var host = new ChainExchangeHost(settings);
            var e = Assert.ThrowsAny<Exception>(() => host.Server);
            var messages = string.Join(" | ", Chain(e).Select(x => x.Message));
            Assert.Contains("Exchange:LedgerAddress", messages);
            Assert.Contains("is not the ledger of Ledger:DeploymentFile", messages);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Ledger_settings_the_builder_never_saw_stop_the_host_instead_of_being_ignored()
    {
        // WebApplicationFactory.ConfigureAppConfiguration (the way ExchangeHostFactory passes settings) adds its
        // sources only when the app builds its host, after AddExchange read the Ledger section.
        var dir = Directory.CreateTempSubdirectory("p2penergy-chain-tests-").FullName;
        try
        {
            using var host = new ChainExchangeHost(appSettings: ValidSettings(dir));
            var e = Assert.ThrowsAny<Exception>(() => host.Server);
            var messages = string.Join(" | ", Chain(e).Select(x => x.Message));
            Assert.Contains("Ledger:RpcUrl", messages);
            Assert.DoesNotContain(HardhatNode.Account1Key[2..], messages, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Exchange_settings_added_late_still_work_without_a_ledger()
    {
        using var host = new ChainExchangeHost(appSettings: new Dictionary<string, string?> { ["Exchange:ChainId"] = "1337" });
        Assert.False((await host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest())).Enabled);
        Assert.Equal(1337UL, (await host.Admin.GetMarketInfoAsync(new GetMarketInfoRequest())).Config.ChainId);
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }
}

/// <summary>A root committer key the ledger does not accept: the roots wait, the status says why, and the host still stops promptly.</summary>
[Collection(ChainTestCollection.Name)]
public sealed class RootCommitterNotOperatorTests(HardhatNodeFixture chain)
{
    [Fact]
    public async Task Roots_that_cannot_be_committed_show_in_the_status_and_the_host_stops()
    {
        using var ledger = await FreshLedger.DeployAsync(chain, addCommitter: false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var host = new ChainExchangeHost(ledger.Settings());
        try
        {
            var domain = new MarketDomain(ledger.Deployment.ChainId, ledger.Deployment.Ledger);
            const long slot = ChainExchangeHost.Slot0 + 2;
            await host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = AddressOf("pv1"), Zone = 0, Kind = ParticipantKind.Prosumer }, cancellationToken: timeout.Token);
            await host.Admin.OpenSlotAsync(new OpenSlotRequest { Slot = slot, Mechanism = Mechanism.CallAuction }, cancellationToken: timeout.Token);
            await host.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Sell("pv1", 1, slot, 100, 1000).Signed("pv1", domain) }, cancellationToken: timeout.Token);
            await host.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = slot * 1800 - 300 }, cancellationToken: timeout.Token);

            GetLedgerStatusResponse status;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                status = await host.Ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: timeout.Token);
                if (status.LastError != "") break;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"no error reported: {status}");
                await Task.Delay(25, timeout.Token);
            }
            Assert.Equal((0L, 1L), (status.RootsCommitted, status.RootsPending));
            Assert.StartsWith("order roots: ", status.LastError);
            Assert.Null(await ledger.Contract.OrderRootAsync(slot));
        }
        finally
        {
            var stopping = Stopwatch.StartNew();
            host.Dispose();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the host took {stopping.Elapsed} to stop");
        }
    }
}
