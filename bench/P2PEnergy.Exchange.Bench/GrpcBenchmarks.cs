using System.Diagnostics;
using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Hosting;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Bench;
using Core = P2PEnergy.Exchange;

// Its own namespace, so that the wire types (Side, Product, ...) are not hidden by the core's.
namespace P2PEnergy.Bench;

/// <summary>
/// The gRPC server over real loopback HTTP/2, client and server on this machine (in one process, sharing
/// its cores). Baselines measured in the same run: the same orders through the core alone (stream), and
/// the gRPC health check at the same rate (unary latency).
/// </summary>
internal static class GrpcBenchmarks
{
    private const int Participants = 200;
    private const long StartUnixSeconds = 1_780_279_200; // 2026-06-01 02:00 UTC

    public static async Task RunAsync(int streamOrders, int streams, int rate, int seconds, bool signed)
    {
        _signed = signed;
        Console.WriteLine(signed
            ? "orders signed (EIP-712, the server's default: every signature is checked); signed before the clock starts"
            : "orders unsigned (Exchange:RequireSignatures=false, development mode: no signature checks)");
        await using var app = await StartServerAsync();
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine($"exchange on {url} (in-process Kestrel, HTTP/2 over loopback)");
        using var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
        var admin = new MarketAdmin.MarketAdminClient(channel);
        var market = new ExchangeService.ExchangeServiceClient(channel);
        var health = new Health.HealthClient(channel);

        Keys = Enumerable.Range(0, Participants).Select(i => EthKey.FromPrivateKey(Keccak.Hash256Utf8($"p2penergy-bench:{i}"))).ToArray();
        var addresses = Keys.Select(k => k.Address.ToLowerHex()).ToArray();
        foreach (var (a, i) in addresses.Select((a, i) => (a, i)))
        {
            await admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = a, Zone = i % 4, Kind = ParticipantKind.Household });
        }
        var info = await admin.GetMarketInfoAsync(new GetMarketInfoRequest());
        var firstSlot = info.NowUnixMs / 1000 / info.Config.SlotSeconds + 2;

        // 1. StreamOrders throughput.
        await admin.OpenSlotAsync(new OpenSlotRequest { Slot = firstSlot, Mechanism = Mechanism.Continuous });
        var perStream = streamOrders / streams;
        var orders = Enumerable.Range(0, streams).Select(s => MakeOrders(perStream, firstSlot, addresses, seed: 100 + s, clientBase: (ulong)s * 10_000_000)).ToArray();
        var coreMs = CoreBaseline(orders, firstSlot, addresses);

        var total = perStream * streams;
        Console.WriteLine($"     baseline, the same orders through the core alone: {coreMs:F0} ms = {total / (coreMs / 1000):N0} orders/s");
        // One order a message, then batches of 100 orders a message (each on a fresh slot).
        foreach (var batchSize in new[] { 1, 100 })
        {
            if (batchSize > 1)
            {
                firstSlot++;
                await admin.OpenSlotAsync(new OpenSlotRequest { Slot = firstSlot, Mechanism = Mechanism.Continuous });
                orders = Enumerable.Range(0, streams).Select(s => MakeOrders(perStream, firstSlot, addresses, seed: 100 + s, clientBase: 50_000_000 + (ulong)s * 10_000_000)).ToArray();
            }
            var sw = Stopwatch.StartNew();
            var results = await Task.WhenAll(orders.Select(batch => StreamAsync(market, batch, batchSize)));
            var streamMs = sw.Elapsed.TotalMilliseconds;
            var acked = results.Sum(r => r.Acks);
            var rejected = results.Sum(r => r.Rejected);
            var lots = results.Sum(r => r.Lots);
            Console.WriteLine($"StreamOrders, {batchSize} order(s) a message: {total:N0} orders on {streams} stream(s) in {streamMs:F0} ms = {total / (streamMs / 1000):N0} orders/s (target ≥ 50,000); {acked:N0} acks ({rejected:N0} refused), {lots:N0} lot events; {streamMs / coreMs:F1}× the core's time");
        }

        // 2. Unary SubmitOrder at a steady rate: latency, beside the health check at the same rate.
        await admin.OpenSlotAsync(new OpenSlotRequest { Slot = firstSlot + 1, Mechanism = Mechanism.Continuous });
        var count = rate * seconds;
        var unaryOrders = MakeOrders(count, firstSlot + 1, addresses, seed: 7, clientBase: 90_000_000);
        var submit = await SteadyAsync(rate, count, i => market.SubmitOrderAsync(new SubmitOrderRequest { Order = unaryOrders[i] }).ResponseAsync);
        var check = await SteadyAsync(rate, count, _ => health.CheckAsync(new HealthCheckRequest()).ResponseAsync);
        Console.WriteLine($"unary SubmitOrder at {rate:N0}/s for {seconds} s ({count:N0} calls, {submit.Failed} failed, achieved {submit.AchievedRate:N0}/s): p50 {submit.P50:F2} ms, p99 {submit.P99:F2} ms, max {submit.Max:F2} ms");
        Console.WriteLine($"     baseline health check at the same rate ({check.Failed} failed): p50 {check.P50:F2} ms, p99 {check.P99:F2} ms; SubmitOrder p50 = {submit.P50 / check.P50:F2}× and p99 = {submit.P99 / check.P99:F2}× the baseline");
        await app.StopAsync();
    }

    private static async Task<WebApplication> StartServerAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration["Exchange:Clock"] = "Simulated";
        builder.Configuration["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString();
        builder.Configuration["Exchange:MaxMessageSizeBytes"] = "1048576";
        builder.Configuration["Exchange:RequireSignatures"] = _signed ? "true" : "false";
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.AddExchange();
        var app = builder.Build();
        app.MapExchange();
        await app.StartAsync();
        return app;
    }

    private static bool _signed;
    private static EthKey[] Keys = [];

    private static NewOrder[] MakeOrders(int count, long slot, string[] addresses, int seed, ulong clientBase) =>
        WireOrders.Make(addresses, count, slot, seed, clientBase, signWith: _signed ? Keys : null);

    /// <summary>The same orders, in the same order, through a bare matching engine.</summary>
    private static double CoreBaseline(NewOrder[][] batches, long slot, string[] addresses)
    {
        return CoreBenchmarks.Median(3, () =>
        {
            var engine = new Core.MatchingEngine(new Core.MarketConfig { InitialOrderCapacity = batches.Sum(b => b.Length) });
            for (var i = 0; i < addresses.Length; i++) engine.RegisterParticipant(Core.Address.Parse(addresses[i]), i % 4, Core.ParticipantKind.Household);
            engine.OpenSlot(slot, Core.Mechanism.Continuous, StartUnixSeconds * 1000);
            var events = new CountingEvents();
            var sw = Stopwatch.StartNew();
            foreach (var batch in batches)
            {
                foreach (var o in batch)
                {
                    engine.Submit(new Core.SubmitOrder(Core.Address.Parse(o.Participant), o.ClientOrderId,
                        o.Side == Side.Buy ? Core.Side.Buy : Core.Side.Sell, o.Slot, o.EnergyWh, o.LimitPriceTicks,
                        o.Side == Side.Buy ? Core.Product.Standard : default, o.Side == Side.Sell ? Core.EnergySource.Mixed : default,
                        StartUnixSeconds * 1000), events);
                }
            }
            return sw.Elapsed.TotalMilliseconds;
        });
    }

    private readonly record struct StreamResult(int Acks, int Rejected, int Lots);

    private static async Task<StreamResult> StreamAsync(ExchangeService.ExchangeServiceClient market, NewOrder[] orders, int batchSize)
    {
        using var call = market.StreamOrders();
        var reader = Task.Run(async () =>
        {
            int acks = 0, rejected = 0, lots = 0;
            void Count(StreamOrdersResponse e)
            {
                if (e.EventCase == StreamOrdersResponse.EventOneofCase.Ack)
                {
                    acks++;
                    if (e.Ack.ResultCode != 0) rejected++;
                }
                else if (e.EventCase == StreamOrdersResponse.EventOneofCase.Lot)
                {
                    lots++;
                }
            }
            await foreach (var e in call.ResponseStream.ReadAllAsync())
            {
                Count(e);
                foreach (var inner in e.Batch) Count(inner);
            }
            return new StreamResult(acks, rejected, lots);
        });
        if (batchSize > 1)
        {
            for (var i = 0; i < orders.Length; i += batchSize)
            {
                var message = new StreamOrdersRequest();
                for (var k = i; k < Math.Min(orders.Length, i + batchSize); k++)
                {
                    message.Batch.Add(new StreamOrdersRequest { RequestId = (ulong)k + 1, Submit = new SubmitOrderRequest { Order = orders[k] } });
                }
                await call.RequestStream.WriteAsync(message);
            }
            await call.RequestStream.CompleteAsync();
            return await reader;
        }
        // An agent trading at a high rate lets the transport batch its orders: BufferHint on all but every
        // 64th order (and the last), which flushes.
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        for (var i = 0; i < orders.Length; i++)
        {
            call.RequestStream.WriteOptions = (i % 64 == 63 || i == orders.Length - 1) ? null : buffered;
            await call.RequestStream.WriteAsync(new StreamOrdersRequest { RequestId = (ulong)i + 1, Submit = new SubmitOrderRequest { Order = orders[i] } });
        }
        await call.RequestStream.CompleteAsync();
        return await reader;
    }

    private readonly record struct LatencyResult(double P50, double P99, double Max, int Failed, double AchievedRate);

    /// <summary>Open loop: call i starts at i / rate seconds whether or not earlier calls have finished.</summary>
    private static async Task<LatencyResult> SteadyAsync(int rate, int count, Func<int, Task> call)
    {
        var latencies = new double[count];
        var failed = 0;
        var tasks = new Task[count];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            while (Stopwatch.GetTimestamp() < due)
            {
                var wait = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                if (wait > 2) await Task.Delay(1);
                else Thread.SpinWait(20);
            }
            var index = i;
            tasks[i] = Task.Run(async () =>
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await call(index);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref failed);
                }
                latencies[index] = (Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency;
            });
        }
        var issued = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        await Task.WhenAll(tasks);
        Array.Sort(latencies);
        return new LatencyResult(latencies[count / 2], latencies[(int)(count * 0.99)], latencies[^1], failed, count / issued);
    }
}
