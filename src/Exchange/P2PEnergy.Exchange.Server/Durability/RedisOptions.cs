using Microsoft.Extensions.Options;
using P2PEnergy.Ledger.Redis;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// Configuration section "Redis" (issue 7, docs/redis.md). Empty <see cref="ConnectionString"/>: the embedded default,
/// everything in memory (a restart starts an empty market). Set: every accepted command is journaled to Redis before it
/// is acknowledged, the market is rebuilt from the journal at start-up, and lots go to the recorder through a Redis stream.
/// </summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>StackExchange.Redis configuration string, e.g. "127.0.0.1:6379" or "redis:6379,password=…". Empty: in memory.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>The market's name in the key scheme, p2pe:{market}:… (RedisKeys).</summary>
    public string Market { get; set; } = RedisKeys.DefaultMarket;

    /// <summary>
    /// A snapshot of the whole market is stored after this many journal entries (counted from the last one's start), so that
    /// a restart replays at most about this many. A snapshot holds the market's whole history and takes seconds once it is
    /// large: fewer snapshots cost less trading time, more make restarts shorter.
    /// </summary>
    public int SnapshotEveryEntries { get; set; } = 100_000;

    /// <summary>How long an acknowledgement waits for its command to become durable before the client gets UNAVAILABLE.</summary>
    public int AckTimeoutMs { get; set; } = 5_000;

    /// <summary>Entries applied but not yet durable beyond which new commands are refused (UNAVAILABLE) until the journal catches up.</summary>
    public int MaxBacklog { get; set; } = 50_000;

    /// <summary>Entries a pipelined write carries at most.</summary>
    public int MaxBatch { get; set; } = 1_000;

    /// <summary>After a snapshot, journal entries before the previous snapshot are trimmed (one snapshot's worth is kept).</summary>
    public bool TrimJournal { get; set; } = true;

    /// <summary>
    /// Whether matched lots go to the Redis lot outbox for a recorder (p2pe:{market}:lots). Unset: when the exchange has a
    /// chain (Ledger:RpcUrl), so that an exchange without one does not fill a stream nobody reads.
    /// </summary>
    public bool? LotOutbox { get; set; }

    /// <summary>How long start-up waits for Redis before it gives up (the exchange does not serve without its journal).</summary>
    public int ConnectTimeoutMs { get; set; } = 10_000;

    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString);

    public void Validate()
    {
        if (!Enabled) return;
        var problems = new List<string>();
        if (RedisKeys.Problem(Market) is { } market) problems.Add($"Redis:Market: {market}");
        if (SnapshotEveryEntries < 1) problems.Add($"Redis:SnapshotEveryEntries {SnapshotEveryEntries} must be at least 1");
        if (AckTimeoutMs < 1) problems.Add($"Redis:AckTimeoutMs {AckTimeoutMs} must be at least 1");
        if (MaxBacklog < 1) problems.Add($"Redis:MaxBacklog {MaxBacklog} must be at least 1");
        if (MaxBatch is < 1 or > 100_000) problems.Add($"Redis:MaxBatch {MaxBatch} is outside 1 … 100,000");
        if (ConnectTimeoutMs < 1) problems.Add($"Redis:ConnectTimeoutMs {ConnectTimeoutMs} must be at least 1");
        try
        {
            StackExchange.Redis.ConfigurationOptions.Parse(ConnectionString);
        }
        catch (ArgumentException e)
        {
            problems.Add($"Redis:ConnectionString is not a Redis configuration string: {e.Message}");
        }
        if (problems.Count > 0) throw new OptionsValidationException(Section, typeof(RedisOptions), problems);
    }
}
