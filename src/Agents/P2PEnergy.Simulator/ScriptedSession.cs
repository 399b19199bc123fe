using Grpc.Core;
using Grpc.Net.Client;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;

namespace P2PEnergy.Simulator;

/// <summary>
/// A short, scripted trading session through the real gRPC API: a small community after seed 004
/// (an office with rooftop PV, homes with PV and one battery, households and two PHEVs), one continuous
/// slot and one call-auction slot. Prices follow seed 004: grid retail about 26 JPY/kWh, buy-back about
/// 7 JPY/kWh, wheeling about 10 JPY/kWh across the public network and none on the office's private line.
/// </summary>
public static class ScriptedSession
{
    // Seed 004: retail 26.2 JPY/kWh (the pilot's grid price), buy-back ~7 JPY/kWh.
    private const long RetailTicks = 2_620;
    private const long BuyBackTicks = 700;

    // Zones: 0 = the office building and its car park (private line), 1 = the residential feeder.
    private const int OfficeZone = 0;
    private const int HomesZone = 1;

    public static async Task<int> RunAsync(Uri exchange, string? adminToken, TextWriter output, CancellationToken ct)
    {
        using var channel = GrpcChannel.ForAddress(exchange);
        var admin = new MarketAdmin.MarketAdminClient(channel);
        var market = new ExchangeService.ExchangeServiceClient(channel);
        var adminHeaders = new Metadata();
        if (!string.IsNullOrEmpty(adminToken)) adminHeaders.Add("x-admin-token", adminToken);

        try
        {
            return await RunCoreAsync(channel, admin, market, adminHeaders, output, ct);
        }
        catch (RpcException e)
        {
            Console.Error.WriteLine($"scripted: the exchange refused a call: {e.StatusCode}: {e.Status.Detail}");
            return 1;
        }
    }

    private static async Task<int> RunCoreAsync(GrpcChannel channel, MarketAdmin.MarketAdminClient admin, ExchangeService.ExchangeServiceClient market,
        Metadata adminHeaders, TextWriter output, CancellationToken ct)
    {
        var info = await admin.GetMarketInfoAsync(new GetMarketInfoRequest(), adminHeaders, cancellationToken: ct);
        if (!info.SimulatedClock)
        {
            Console.Error.WriteLine("scripted: the exchange must run on its simulated clock (Exchange:Clock=simulated)");
            return 2;
        }
        var slotSeconds = info.Config.SlotSeconds;
        var nowSlot = info.NowUnixMs / 1000 / slotSeconds;
        output.WriteLine($"exchange at {DateTimeOffset.FromUnixTimeMilliseconds(info.NowUnixMs):u} (simulated clock), lot step {info.Config.LotStepWh} Wh, slots of {slotSeconds / 60} min");
        // Every order is signed (EIP-712) in the exchange's domain: its chain and ledger contract.
        if (!MarketSigning.TryParseAddress(info.Config.LedgerAddress, out var ledger))
        {
            Console.Error.WriteLine($"scripted: the exchange reports no valid ledger address (got \"{info.Config.LedgerAddress}\")");
            return 2;
        }
        var domain = new MarketDomain(info.Config.ChainId == 0 ? MarketDomain.DevChainId : info.Config.ChainId, ledger);
        output.WriteLine($"orders are signed for chain {domain.ChainId}, ledger {ledger.ToLowerHex()}{(info.Config.RequireSignatures ? "" : " (the exchange does not require signatures)")}");

        // The community.
        var office = Member.Of("office", OfficeZone, ParticipantKind.Office);
        var sato = Member.Of("sato (PV)", HomesZone, ParticipantKind.Prosumer);
        var suzuki = Member.Of("suzuki (PV)", HomesZone, ParticipantKind.Prosumer);
        var takahashi = Member.Of("takahashi (PV+battery)", HomesZone, ParticipantKind.Battery);
        var tanaka = Member.Of("tanaka", HomesZone, ParticipantKind.Household);
        var ito = Member.Of("ito", HomesZone, ParticipantKind.Household);
        var car1 = Member.Of("phev-1 (at office)", OfficeZone, ParticipantKind.Phev);
        var car2 = Member.Of("phev-2 (at home)", HomesZone, ParticipantKind.Phev);
        Member[] members = [office, sato, suzuki, takahashi, tanaka, ito, car1, car2];
        var names = members.ToDictionary(m => m.Address, m => m.Name);

        foreach (var m in members)
        {
            try
            {
                await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = m.Address, Zone = m.Zone, Kind = m.Kind }, adminHeaders, cancellationToken: ct);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
            {
                // Registered by an earlier run against the same exchange: fine.
            }
        }
        // Seed 004: ~10 JPY/kWh wheeling across the public network, none on a private line.
        await admin.SetWheelingTableAsync(new SetWheelingTableRequest { DefaultFeeTicks = 1_000 }, adminHeaders, cancellationToken: ct);
        await admin.SetGridTariffAsync(new SetGridTariffRequest { Tariff = new GridTariff { RetailTicks = RetailTicks, BuyBackTicks = BuyBackTicks } }, adminHeaders, cancellationToken: ct);
        output.WriteLine($"registered {members.Length} participants; wheeling 10.00 JPY/kWh across zones, 0 within; grid retail {Display.Price(RetailTicks)}, buy-back {Display.Price(BuyBackTicks)} JPY/kWh");

        var cdaSlot = nowSlot + 2;
        var auctionSlot = nowSlot + 3;
        await admin.OpenSlotAsync(new OpenSlotRequest { Slot = cdaSlot, Mechanism = Mechanism.Continuous }, adminHeaders, cancellationToken: ct);
        await admin.OpenSlotAsync(new OpenSlotRequest { Slot = auctionSlot, Mechanism = Mechanism.CallAuction }, adminHeaders, cancellationToken: ct);
        output.WriteLine($"opened slot {cdaSlot} (continuous) and slot {auctionSlot} (call auction)");

        // Market data: count what a subscriber sees while we trade.
        using var subscription = market.SubscribeMarketData(new SubscribeMarketDataRequest(), cancellationToken: ct);
        var seen = new MarketDataCounter();
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in subscription.ResponseStream.ReadAllAsync(ct)) seen.Add(e);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled) { }
            catch (OperationCanceledException) { }
        }, ct);

        var clientIds = new Dictionary<string, ulong>();
        NewOrder Order(Member who, Side side, long slot, long wh, long ticks, Product product = Product.Unspecified, EnergySource source = EnergySource.Unspecified)
        {
            clientIds[who.Address] = clientIds.GetValueOrDefault(who.Address) + 1;
            return who.Sign(new NewOrder
            {
                Participant = who.Address,
                ClientOrderId = (ulong)slot * 1000 + clientIds[who.Address],
                Side = side,
                Slot = slot,
                EnergyWh = wh,
                LimitPriceTicks = ticks,
                Product = product,
                Source = source,
            }, domain);
        }

        // --- Continuous slot: PV surplus at midday, unary orders ---
        output.WriteLine();
        output.WriteLine($"slot {cdaSlot}, continuous double auction:");
        NewOrder[] cdaOrders =
        [
            Order(sato, Side.Sell, cdaSlot, 1_200, 1_500, source: EnergySource.Renewable),
            Order(suzuki, Side.Sell, cdaSlot, 800, 1_400, source: EnergySource.Renewable),
            Order(office, Side.Sell, cdaSlot, 3_000, 1_300, source: EnergySource.Renewable),
            Order(takahashi, Side.Sell, cdaSlot, 1_000, 1_700, source: EnergySource.Mixed),
            // Seed 004, Table 1: economy buyer at SoC 60 % pays 15 JPY/kWh; green buyers +5.
            Order(tanaka, Side.Buy, cdaSlot, 700, 1_600, product: Product.Standard),
            Order(ito, Side.Buy, cdaSlot, 900, 2_000, product: Product.Green),
            // PHEV at the office, price-focused at SoC 20 %: 20 JPY/kWh.
            Order(car1, Side.Buy, cdaSlot, 2_500, 2_000, product: Product.Standard),
        ];
        foreach (var o in cdaOrders)
        {
            var r = await market.SubmitOrderAsync(new SubmitOrderRequest { Order = o }, cancellationToken: ct);
            output.WriteLine($"  {names[o.Participant],-24} {Verb(o)} {Display.Wh(o.EnergyWh),6} Wh at {Display.Price(o.LimitPriceTicks),6} -> order {r.Order.OrderId}, {r.Lots.Count} lot(s), {Display.Wh(r.RemainingWh)} Wh resting");
        }

        // PHEV-2 trades at a high rate through the bidirectional stream.
        using (var stream = market.StreamOrders(cancellationToken: ct))
        {
            var streamed = new[]
            {
                Order(car2, Side.Buy, cdaSlot, 300, 1_800, product: Product.Standard),
                Order(car2, Side.Buy, cdaSlot, 300, 1_750, product: Product.Standard),
                Order(car2, Side.Buy, cdaSlot, 400, 1_700, product: Product.Standard),
            };
            for (var i = 0; i < streamed.Length; i++)
            {
                await stream.RequestStream.WriteAsync(new StreamOrdersRequest { RequestId = (ulong)i + 1, Submit = new SubmitOrderRequest { Order = streamed[i] } }, ct);
            }
            await stream.RequestStream.CompleteAsync();
            int acks = 0, lots = 0;
            await foreach (var e in stream.ResponseStream.ReadAllAsync(ct))
            {
                if (e.EventCase == StreamOrdersResponse.EventOneofCase.Ack) acks++;
                if (e.EventCase == StreamOrdersResponse.EventOneofCase.Lot) lots++;
            }
            output.WriteLine($"  {names[car2.Address],-24} streamed {streamed.Length} buy orders: {acks} acknowledgements, {lots} lot event(s)");
        }

        var book = await market.GetOrderBookAsync(new GetOrderBookRequest { Slot = cdaSlot, Product = Product.Standard, MaxLevels = 5 }, cancellationToken: ct);
        foreach (var depth in book.Books)
        {
            output.WriteLine($"  book {depth.Product}: bids [{string.Join(", ", depth.Bids.Select(l => $"{Display.Price(l.PriceTicks)}×{l.EnergyWh}"))}] asks [{string.Join(", ", depth.Asks.Select(l => $"{Display.Price(l.PriceTicks)}×{l.EnergyWh}"))}]");
        }

        // --- Call auction slot: blind orders, one price per product at gate closure ---
        output.WriteLine();
        output.WriteLine($"slot {auctionSlot}, call auction (blind until the gate closes):");
        NewOrder[] auctionOrders =
        [
            Order(sato, Side.Sell, auctionSlot, 1_000, 1_200, source: EnergySource.Renewable),
            Order(office, Side.Sell, auctionSlot, 2_000, 1_000, source: EnergySource.Renewable),
            Order(takahashi, Side.Sell, auctionSlot, 1_500, 1_600, source: EnergySource.Mixed),
            Order(suzuki, Side.Sell, auctionSlot, 600, 1_900, source: EnergySource.Renewable),
            Order(ito, Side.Buy, auctionSlot, 800, 2_000, product: Product.Green),
            Order(tanaka, Side.Buy, auctionSlot, 1_200, 1_800, product: Product.Standard),
            Order(car1, Side.Buy, auctionSlot, 2_000, 1_500, product: Product.Standard),
            Order(car2, Side.Buy, auctionSlot, 1_000, 2_100, product: Product.Green),
        ];
        foreach (var o in auctionOrders)
        {
            var r = await market.SubmitOrderAsync(new SubmitOrderRequest { Order = o }, cancellationToken: ct);
            output.WriteLine($"  {names[o.Participant],-24} {Verb(o)} {Display.Wh(o.EnergyWh),6} Wh at {Display.Price(o.LimitPriceTicks),6} -> order {r.Order.OrderId}");
        }

        // Advance the simulated clock past both gates: the exchange closes them in slot order.
        var gate = (auctionSlot * slotSeconds) - info.Config.GateLeadSeconds;
        var advanced = await admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = gate }, adminHeaders, cancellationToken: ct);
        output.WriteLine();
        output.WriteLine($"clock advanced to {DateTimeOffset.FromUnixTimeMilliseconds(advanced.NowUnixMs):u}; gates closed:");
        foreach (var closure in advanced.Closed)
        {
            output.WriteLine($"  slot {closure.Slot} ({closure.Mechanism}): {closure.LotCount} lot(s), {Display.Wh(closure.MatchedWh)} Wh matched, {closure.ExpiredOrders} order(s) expired");
            foreach (var r in closure.Results)
            {
                output.WriteLine(r.Cleared
                    ? $"    {r.Product}: clearing price {Display.Price(r.ClearingPriceTicks)} JPY/kWh, {Display.Wh(r.MatchedWh)} Wh of {Display.Wh(r.SupplyWh)} offered / {Display.Wh(r.DemandWh)} asked"
                    : $"    {r.Product}: did not clear ({Display.Wh(r.SupplyWh)} Wh offered / {Display.Wh(r.DemandWh)} asked)");
            }
        }

        // --- The lots ---
        var allLots = new List<Lot>();
        foreach (var slot in new[] { cdaSlot, auctionSlot })
        {
            var page = await market.GetLotsAsync(new GetLotsRequest { Slot = slot, PageSize = 1000 }, cancellationToken: ct);
            allLots.AddRange(page.Lots);
        }
        output.WriteLine();
        output.WriteLine($"{"lot",4} {"slot",8} {"seller",-24} {"buyer",-24} {"Wh",7} {"price",7} {"wheel",6} {"product",-9} {"source",-10} {"seller gets",12} {"buyer pays",11}");
        foreach (var lot in allLots)
        {
            output.WriteLine($"{lot.LotId,4} {lot.Slot,8} {names.GetValueOrDefault(lot.Seller, lot.Seller),-24} {names.GetValueOrDefault(lot.Buyer, lot.Buyer),-24} {Display.Wh(lot.EnergyWh),7} {Display.Price(lot.PriceTicks),7} {Display.Price(lot.WheelingFeeTicks),6} {Short(lot.Product),-9} {Short(lot.Source),-10} {Display.Yen(lot.Money),12} {Display.Yen(lot.BuyerPays),11}");
        }
        var totalWh = allLots.Sum(l => l.EnergyWh);
        var totalMoney = allLots.Sum(l => l.Money);
        output.WriteLine($"{allLots.Count} lots, {Display.Wh(totalWh)} Wh, sellers receive {Display.Yen(totalMoney)} JPY, buyers pay {Display.Yen(allLots.Sum(l => l.BuyerPays))} JPY (prices in JPY/kWh, money rounded to 0.01 JPY for display)");
        if (totalWh > 0)
        {
            // Average price: money / Wh in ticks, rounded half away from zero for display.
            var avg = (long)Math.Round((decimal)totalMoney / totalWh, MidpointRounding.AwayFromZero);
            output.WriteLine($"average energy price {Display.Price(avg)} JPY/kWh against grid retail {Display.Price(RetailTicks)} and buy-back {Display.Price(BuyBackTicks)}");
        }

        // Each lot is bound to the two signed orders it came from: fetch both, recompute their digests from the
        // fields and recover who signed them. The proofs tie them to the slots' order roots.
        var signedBoth = 0;
        foreach (var lot in allLots)
        {
            var sell = await market.GetOrderProofAsync(new GetOrderProofRequest { OrderId = lot.SellOrderId }, cancellationToken: ct);
            var buy = await market.GetOrderProofAsync(new GetOrderProofRequest { OrderId = lot.BuyOrderId }, cancellationToken: ct);
            if (SignedBy(sell, domain) == lot.Seller && SignedBy(buy, domain) == lot.Buyer) signedBoth++;
        }
        var roots = new List<string>();
        foreach (var slot in new[] { cdaSlot, auctionSlot })
        {
            var first = allLots.FirstOrDefault(l => l.Slot == slot);
            if (first is null) continue;
            var p = await market.GetOrderProofAsync(new GetOrderProofRequest { OrderId = first.SellOrderId }, cancellationToken: ct);
            roots.Add($"slot {slot}: {p.OrderCount} orders, root 0x{Convert.ToHexStringLower(p.SlotRoot.Span)[..16]}…");
        }
        output.WriteLine($"{signedBoth} of {allLots.Count} lots: seller and buyer each signed their order (signers recovered from GetOrderProof); order roots {string.Join("; ", roots)}");

        subscription.Dispose();
        try { await reader; } catch (OperationCanceledException) { }
        output.WriteLine($"market data seen by a subscriber: {seen}");

        var onChain = await WaitForLedgerAsync(new LedgerStatus.LedgerStatusClient(channel), allLots.Count, output, ct);
        return allLots.Count > 0 && signedBoth == allLots.Count && onChain ? 0 : 1;
    }

    /// <summary>
    /// When the exchange records on a chain: waits (up to 60 s) until every lot and every slot's order root is
    /// there, and prints what it cost. True when there is no chain or everything arrived.
    /// </summary>
    private static async Task<bool> WaitForLedgerAsync(LedgerStatus.LedgerStatusClient ledger, int lots, TextWriter output, CancellationToken ct)
    {
        var status = await ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: ct);
        if (!status.Enabled)
        {
            output.WriteLine("the exchange runs without a chain: lots are not recorded on chain");
            return true;
        }
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while ((status.LotsPending > 0 || status.RootsPending > 0 || status.LotsRecorded + status.LotsFoundOnChain < lots) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
            status = await ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: ct);
        }
        var recorded = status.LotsRecorded + status.LotsFoundOnChain;
        var gasPerLot = status.LotsRecorded == 0 ? 0 : status.GasUsed / status.LotsRecorded;
        output.WriteLine($"on chain {status.ChainId}, ledger {status.LedgerAddress}: {recorded} of {status.LotsMade} lots recorded in {status.TransactionsConfirmed} transaction(s), {status.GasUsed:N0} gas ({gasPerLot:N0} a lot), {status.RootsCommitted} slot order root(s) committed, {status.Retries} retries{(status.LastError.Length > 0 ? $", last error: {status.LastError}" : "")}");
        if (status.LotsPending > 0 || status.RootsPending > 0 || recorded < lots)
        {
            Console.Error.WriteLine($"scripted: after 60 s, {status.LotsPending} lot(s) and {status.RootsPending} root(s) are still not on chain");
            return false;
        }
        return true;
    }

    /// <summary>Who signed a proven order (its digest recomputed from the fields), or null.</summary>
    private static string? SignedBy(GetOrderProofResponse p, MarketDomain domain)
    {
        var o = p.Order;
        var digest = MarketSigning.Digest(domain, new OrderMessage(o.Participant, o.ClientOrderId, (byte)o.Side, (ulong)o.Slot,
            (ulong)o.EnergyWh, (ulong)o.LimitPriceTicks, (byte)o.Product, (byte)o.Source));
        return MarketSigning.TryRecoverSigner(digest, o.Signature.Span, out var signer) ? signer.ToLowerHex() : null;
    }

    private static string Verb(NewOrder o) => o.Side == Side.Sell
        ? $"sells {Short(o.Source),-9}"
        : $"buys  {Short(o.Product),-9}";

    private static string Short(Product p) => p switch { Product.Green => "green", Product.Standard => "standard", _ => "-" };

    private static string Short(EnergySource s) => s switch { EnergySource.Renewable => "renewable", EnergySource.Mixed => "mixed", _ => "-" };

    private sealed class MarketDataCounter
    {
        private int _books, _trades, _clearings, _gates;

        public void Add(MarketDataEvent e)
        {
            switch (e.EventCase)
            {
                case MarketDataEvent.EventOneofCase.Book: Interlocked.Increment(ref _books); break;
                case MarketDataEvent.EventOneofCase.Trade: Interlocked.Increment(ref _trades); break;
                case MarketDataEvent.EventOneofCase.Clearing: Interlocked.Increment(ref _clearings); break;
                case MarketDataEvent.EventOneofCase.GateClosed: Interlocked.Increment(ref _gates); break;
            }
        }

        public override string ToString() => $"{_books} book updates, {_trades} trades, {_clearings} clearing results, {_gates} gate closures";
    }
}
