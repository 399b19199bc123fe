using System.Runtime.CompilerServices;
using System.Threading.Channels;
using P2PEnergy.Exchange.Server.Durability;

namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// The queue between the market (which must never wait for a client) and one streaming call.
/// The market posts under its lock without blocking; the call's writer drains it.
/// Two kinds of post:
/// <list type="bullet">
/// <item><see cref="TryPost"/>: others' events. When <see cref="Capacity"/> messages are already queued the
/// outbox is dropped (the call then ends with RESOURCE_EXHAUSTED): a slow reader never slows trading.</item>
/// <item><see cref="Post"/>: the answers to the call's own commands, always queued; the call keeps itself
/// within bounds by waiting in <see cref="WaitForRoomAsync"/> before it reads its next command.</item>
/// </list>
/// </summary>
/// <remarks>
/// With a journal (Redis mode), each message is stamped with the journal seq of the last command applied when it
/// was queued, and is handed to the reader only once that seq is durable: nobody hears of a command (its ack, its
/// lots, a book change) that a crash could still undo.
/// </remarks>
public sealed class Outbox<T>
{
    private readonly Channel<(T Item, long Seq)> _channel = Channel.CreateUnbounded<(T, long)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IDurabilityGate? _durability;
    private readonly Lock _sync = new();
    private TaskCompletionSource? _room;
    private int _count;
    private string? _dropReason;

    public Outbox(int capacity, IDurabilityGate? durability = null)
    {
        _durability = durability;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>Why the market dropped this outbox, or null.</summary>
    public string? DropReason
    {
        get { lock (_sync) return _dropReason; }
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Queues unless full; when full, drops the outbox. False when the outbox is (now) dropped or closed.</summary>
    public bool TryPost(T item, string whenFull)
    {
        lock (_sync)
        {
            if (_dropReason is not null) return false;
            if (_count >= Capacity)
            {
                DropLocked(whenFull);
                return false;
            }
            return PostLocked(item);
        }
    }

    /// <summary>Queues whatever the count (answers to the call's own commands).</summary>
    public bool Post(T item)
    {
        lock (_sync)
        {
            return _dropReason is null && PostLocked(item);
        }
    }

    private bool PostLocked(T item)
    {
        if (!_channel.Writer.TryWrite((item, _durability?.CurrentSeq ?? 0))) return false;
        _count++;
        return true;
    }

    /// <summary>No more messages: the reader ends after what is queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    public void Drop(string reason)
    {
        lock (_sync) DropLocked(reason);
    }

    private void DropLocked(string reason)
    {
        _dropReason ??= reason;
        _channel.Writer.TryComplete();
        _room?.TrySetResult();
        _room = null;
    }

    /// <summary>Waits until fewer than <see cref="Capacity"/> messages are queued (or the outbox is dropped).</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_sync)
            {
                if (_count < Capacity || _dropReason is not null) return;
                _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _room.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads until completed or dropped. A dropped outbox stops at once, without its backlog.</summary>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var entry))
            {
                var (item, seq) = entry;
                bool dropped;
                lock (_sync)
                {
                    dropped = _dropReason is not null;
                    _count--;
                    if (_count < Capacity && _room is not null)
                    {
                        _room.TrySetResult();
                        _room = null;
                    }
                }
                if (dropped) yield break;
                if (_durability is not null && seq > _durability.DurableSeq)
                {
                    await _durability.WaitDurableAsync(seq, cancellationToken).ConfigureAwait(false);
                }
                yield return item;
            }
        }
    }
}
