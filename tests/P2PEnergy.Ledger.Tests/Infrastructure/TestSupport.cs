using System.Diagnostics;
using System.Text;

namespace P2PEnergy.Ledger.Tests.Infrastructure;

public static class TestLots
{
    /// <summary>The same deterministic lot as contracts/test/lots.js makeLot: every byte depends on the id.</summary>
    public static Lot Make(long id, long slot = 989046)
    {
        var flags = (byte)(id % 3);
        return new Lot(
            LotId: id,
            Slot: slot,
            Seller: AddressOf(0x1000 + id % 97),
            Buyer: AddressOf(0x2000 + id % 89),
            EnergyWh: 100 * (1 + id % 50),
            PriceTicks: 1000 + id % 1600,
            WheelingFeeTicks: id % 2 == 0 ? 0 : 1000,
            Product: LotPacking.ProductOf(flags),
            Source: LotPacking.SourceOf(flags),
            SellOrderId: 2 * id + 1,
            BuyOrderId: 2 * id + 2);
    }

    public static Lot[] Range(long firstId, int count, long slot = 989046) =>
        Enumerable.Range(0, count).Select(i => Make(firstId + i, slot)).ToArray();

    public static ParticipantAddress AddressOf(long value)
    {
        var bytes = new byte[20];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(12), value);
        return ParticipantAddress.FromBytes(bytes);
    }
}

public static class Poll
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? details = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting until {what}. {details?.Invoke()}");
            }
            await Task.Delay(20);
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, Func<string>? details = null) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, what, details);
}

/// <summary>
/// Sits between a client and the node. Closed: every request fails as if the node were down (connection
/// refused). <see cref="LoseResponseOf"/>: the request reaches the node, but its answer is lost on the way back.
/// </summary>
public sealed class FaultyHandler : DelegatingHandler
{
    private volatile bool _closed;
    private int _responsesToLose;
    private string? _method;

    public FaultyHandler()
        : base(new SocketsHttpHandler())
    {
    }

    public int LostResponses { get; private set; }

    public int RefusedRequests { get; private set; }

    public void Close() => _closed = true;

    public void Open() => _closed = false;

    /// <summary>The next <paramref name="count"/> requests of JSON-RPC method <paramref name="method"/> are processed by the node but their answers are lost.</summary>
    public void LoseResponseOf(string method, int count = 1)
    {
        _method = method;
        Volatile.Write(ref _responsesToLose, count);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            RefusedRequests++;
            throw new HttpRequestException("connection refused (test gate closed)");
        }
        bool lose = false;
        if (_method is { } method && Volatile.Read(ref _responsesToLose) > 0 && request.Content is not null)
        {
            var body = await request.Content.ReadAsStringAsync(cancellationToken);
            if (body.Contains($"\"method\":\"{method}\"", StringComparison.Ordinal) && Interlocked.Decrement(ref _responsesToLose) >= 0)
            {
                lose = true;
            }
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        var response = await base.SendAsync(request, cancellationToken);
        if (lose)
        {
            response.Dispose();
            LostResponses++;
            throw new HttpRequestException("connection reset after the request was sent (test fault)");
        }
        return response;
    }
}
