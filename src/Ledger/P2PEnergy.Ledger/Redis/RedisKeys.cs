namespace P2PEnergy.Ledger.Redis;

/// <summary>
/// The one key scheme of a market in Redis (docs/redis.md). Every key of a market carries the market's name as
/// a hash tag, <c>p2pe:{market}:...</c>, so that on Redis Cluster a market's keys share one hash slot: one
/// shard per community market, and a journal append and its outbox entries can go to the same node.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>p2pe:{m}:journal</c> — stream of accepted commands; entry id <c>{seq}-0</c> (seq from 1, no gaps),
/// field <c>c</c> = one journal entry (protobuf). An explicit id makes a retried append idempotent: Redis
/// refuses an id at or below the stream's last one.</item>
/// <item><c>p2pe:{m}:snapshot</c> — hash: <c>seq</c> (the last journal seq it covers), <c>data</c> (protobuf).</item>
/// <item><c>p2pe:{m}:lots</c> — stream, the outbox of matched lots to the recorder; entry id <c>{lotId}-0</c>,
/// field <c>lot</c> = the 75-byte packed lot (<see cref="LotPacking"/>). Consumer group <see cref="RecorderGroup"/>.</item>
/// </list>
/// </remarks>
public static class RedisKeys
{
    public const string DefaultMarket = "community";

    /// <summary>The recorders' consumer group on the lots stream.</summary>
    public const string RecorderGroup = "recorders";

    /// <summary>The field of a journal entry.</summary>
    public const string JournalField = "c";

    /// <summary>The field of a lot in the outbox stream.</summary>
    public const string LotField = "lot";

    public static string Journal(string market) => $"p2pe:{{{Checked(market)}}}:journal";

    public static string Snapshot(string market) => $"p2pe:{{{Checked(market)}}}:snapshot";

    public static string Lots(string market) => $"p2pe:{{{Checked(market)}}}:lots";

    /// <summary>Why <paramref name="market"/> cannot name a market in keys, or null.</summary>
    public static string? Problem(string? market)
    {
        if (string.IsNullOrEmpty(market)) return "the market name is empty";
        if (market.Length > 64) return $"the market name '{market}' is longer than 64 characters";
        foreach (var c in market)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                return $"the market name '{market}' may hold only ASCII letters, digits, '-', '_' and '.'";
        }
        return null;
    }

    private static string Checked(string market) =>
        Problem(market) is { } problem ? throw new ArgumentException(problem, nameof(market)) : market;
}
