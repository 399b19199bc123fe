using P2PEnergy.Exchange.Server.Durability.Journal;

namespace P2PEnergy.Exchange.Server.Durability;

/// <summary>
/// Where the market writes the commands it accepted, in the order it applied them. The market calls
/// <see cref="EnsureAccepting"/> and <see cref="Append"/> under its lock; whoever answers the client waits in
/// <see cref="WaitDurableAsync"/> first: acknowledged ⇒ durable. Sequence numbers start at 1 with no gaps.
/// </summary>
public interface IMarketJournal
{
    /// <summary>False for the embedded in-memory default: nothing is written, everything is "durable" at once.</summary>
    bool Enabled { get; }

    /// <summary>The seq of the last entry appended (0: none yet).</summary>
    long LastSeq { get; }

    /// <summary>Every entry up to this seq is durable.</summary>
    long DurableSeq { get; }

    /// <summary>
    /// Throws <see cref="JournalUnavailableException"/> when the market must not take new commands (the journal
    /// cannot be written, or has fallen too far behind). Called under the market's lock before the core sees the command.
    /// </summary>
    void EnsureAccepting();

    /// <summary>Queues an accepted command and the lots it made (under the market's lock); returns its seq.</summary>
    long Append(JournalEntry entry, IReadOnlyList<Lot> lots);

    /// <summary>
    /// Completes once entry <paramref name="seq"/> is durable. Throws <see cref="JournalUnavailableException"/> when it
    /// is not durable within the journal's acknowledgement timeout.
    /// </summary>
    ValueTask WaitDurableAsync(long seq, CancellationToken cancellationToken);
}

/// <summary>The embedded default: no journal (state lives and dies with the process).</summary>
public sealed class NoMarketJournal : IMarketJournal
{
    public static readonly NoMarketJournal Instance = new();

    public bool Enabled => false;

    public long LastSeq => 0;

    public long DurableSeq => long.MaxValue;

    public void EnsureAccepting()
    {
    }

    public long Append(JournalEntry entry, IReadOnlyList<Lot> lots) => 0;

    public ValueTask WaitDurableAsync(long seq, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// The journal cannot take or confirm commands (Redis unreachable, or far behind). Mapped to UNAVAILABLE with
/// <see cref="Exception.Message"/> as the reason; the client may retry (the same client order id is refused
/// with ALREADY_EXISTS if the first attempt did take effect).
/// </summary>
public sealed class JournalUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What an outbox needs to hold messages back until the commands behind them are durable.</summary>
public interface IDurabilityGate
{
    /// <summary>The journal seq of the last command applied (read under the market's lock by whoever queues).</summary>
    long CurrentSeq { get; }

    long DurableSeq { get; }

    ValueTask WaitDurableAsync(long seq, CancellationToken cancellationToken);
}
