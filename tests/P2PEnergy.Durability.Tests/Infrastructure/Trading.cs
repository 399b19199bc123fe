using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;

namespace P2PEnergy.Durability.Tests.Infrastructure;

/// <summary>A seeded order flow with signed orders over gRPC, and what the exchange holds afterwards.</summary>
public static class Trading
{
    public const int Participants = 8;
    public const long FirstSlot = RedisExchangeHost.StartUnixSeconds / 1800 + 4; // gates far enough ahead
    public const int Slots = 3;

    /// <summary>The exchange's default signing domain (Exchange:ChainId 31337, no ledger).</summary>
    public static readonly MarketDomain Domain = new(31337, Address.Zero);

    public static EthKey KeyOf(int participant) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-durability-test:" + participant));

    public static string AddressOf(int participant) => KeyOf(participant).Address.ToLowerHex();

    /// <summary>Registers the participants and opens the slots (continuous double auction, so orders trade at once).</summary>
    public static async Task SetUpAsync(MarketAdmin.MarketAdminClient admin)
    {
        for (var p = 0; p < Participants; p++)
        {
            await admin.RegisterParticipantAsync(new RegisterParticipantRequest
            {
                Address = AddressOf(p), Zone = p % 3, Kind = p % 2 == 0 ? ParticipantKind.Prosumer : ParticipantKind.Household,
            });
        }
        await admin.OpenSlotsAsync(new OpenSlotsRequest { FirstSlot = FirstSlot, Count = Slots, Mechanism = Mechanism.Continuous });
    }

    /// <summary>Order <paramref name="i"/> of the flow of <paramref name="seed"/>: the same every time, signed by its participant.</summary>
    public static NewOrder Order(int seed, int i) => Order(seed, i, Domain);

    /// <summary>Order <paramref name="i"/> of the flow, signed in <paramref name="domain"/> (an exchange with a ledger signs for that ledger).</summary>
    public static NewOrder Order(int seed, int i, MarketDomain domain)
    {
        var random = new Random(HashCode.Combine(seed, i));
        var p = i % Participants;
        var sell = random.Next(2) == 0;
        var order = new NewOrder
        {
            Participant = AddressOf(p),
            ClientOrderId = (ulong)(i + 1),
            Side = sell ? Side.Sell : Side.Buy,
            Slot = FirstSlot + random.Next(Slots),
            EnergyWh = 100L * random.Next(1, 11),
            LimitPriceTicks = 2000 + 10 * random.Next(0, 61),
            Product = !sell && random.Next(4) == 0 ? Product.Green : Product.Standard,
            Source = sell ? (random.Next(2) == 0 ? EnergySource.Renewable : EnergySource.Mixed) : EnergySource.Unspecified,
        };
        var message = new OrderMessage(order.Participant, order.ClientOrderId, (byte)order.Side, unchecked((ulong)order.Slot),
            unchecked((ulong)order.EnergyWh), unchecked((ulong)order.LimitPriceTicks), (byte)order.Product, (byte)order.Source);
        order.Signature = ByteString.CopyFrom(KeyOf(p).Sign(domain, message));
        return order;
    }

    /// <summary>Every lot, in lot-id order.</summary>
    public static async Task<List<Lot>> AllLotsAsync(ExchangeService.ExchangeServiceClient exchange)
    {
        var lots = new List<Lot>();
        var token = "";
        do
        {
            var page = await exchange.GetLotsAsync(new GetLotsRequest { PageSize = 1000, PageToken = token });
            lots.AddRange(page.Lots);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        return lots;
    }

    /// <summary>Every order the exchange knows (ids 1 … next-1), as GetOrder serves it.</summary>
    public static async Task<List<string>> AllOrdersAsync(ExchangeService.ExchangeServiceClient exchange, long nextOrderId)
    {
        var orders = new List<string>();
        for (var id = 1L; id < nextOrderId; id++)
        {
            try
            {
                orders.Add((await exchange.GetOrderAsync(new GetOrderRequest { OrderId = id })).Order.ToString());
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
            {
                orders.Add($"{id}: not found");
            }
        }
        return orders;
    }
}

/// <summary>What an order stream acknowledged for one request.</summary>
public sealed record StreamAck(int Status, long OrderId);

/// <summary>Bursts of orders on one StreamOrders call, in batches.</summary>
public static class OrderBurst
{
    /// <summary>
    /// Sends the orders <paramref name="orderOf"/> gives for <paramref name="indexes"/> (request id = index) in batches of
    /// <paramref name="batchSize"/>; stops quietly when the stream breaks (the server died). <paramref name="onAck"/> sees every ack.
    /// </summary>
    public static async Task SendAsync(ExchangeService.ExchangeServiceClient client, IEnumerable<int> indexes, Func<int, NewOrder> orderOf,
        Action<int, StreamAck> onAck, int batchSize = 50)
    {
        using var call = client.StreamOrders();
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    foreach (var r in response.Batch.Count > 0 ? response.Batch : [response])
                    {
                        if (r.Ack is { } ack) onAck((int)ack.RequestId, new StreamAck(ack.StatusCode, ack.OrderId));
                    }
                }
            }
            catch (RpcException)
            {
                // The server went away mid-stream.
            }
        });
        try
        {
            foreach (var chunk in indexes.Chunk(batchSize))
            {
                var request = new StreamOrdersRequest();
                foreach (var i in chunk)
                {
                    request.Batch.Add(new StreamOrdersRequest { RequestId = (ulong)i, Submit = new SubmitOrderRequest { Order = orderOf(i) } });
                }
                await call.RequestStream.WriteAsync(request);
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // Writing failed: the server is gone.
        }
        await reader;
    }
}
