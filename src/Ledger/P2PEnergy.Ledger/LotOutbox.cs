namespace P2PEnergy.Ledger;

/// <summary>
/// Matched lots on their way to the chain. The exchange adds lots; one recorder reads and acknowledges
/// them. An entry stays until it is acknowledged (its receipt confirmed, or found already on chain),
/// so a recorder that restarts gets every unacknowledged lot again: at-least-once delivery, and the
/// contract's refusal of seen lot ids makes the recording exactly-once. (In memory now; a Redis stream
/// with a consumer group fits the same shape: reading = XREADGROUP, a new reader first re-reads its
/// pending entries, acknowledging = XACK.)
/// </summary>
public interface ILotOutbox
{
    /// <summary>
    /// Adds a lot. Throws <see cref="ArgumentException"/> for a lot the chain cannot hold (see
    /// <see cref="LotPacking.Problem"/>): refused here, where the exchange sees it, not later in the recorder.
    /// Adding the same lot again while it is pending is a no-op; another lot under a pending lot id is refused.
    /// </summary>
    ValueTask AddAsync(Lot lot, CancellationToken cancellationToken = default);

    /// <summary>Lots added and not yet acknowledged.</summary>
    ValueTask<long> CountPendingAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts reading. A new reader gets every unacknowledged lot, including those handed to an earlier
    /// reader (which is taken to be gone), then new ones as they arrive.
    /// </summary>
    ILotOutboxReader OpenReader();
}

public interface ILotOutboxReader : IDisposable
{
    /// <summary>
    /// Up to <paramref name="maxCount"/> lots not yet handed to this reader, lowest lot id first. Waits up to
    /// <paramref name="wait"/> for at least one (<see cref="Timeout.InfiniteTimeSpan"/>: until one comes);
    /// empty when none came.
    /// </summary>
    ValueTask<IReadOnlyList<Lot>> ReadAsync(int maxCount, TimeSpan wait, CancellationToken cancellationToken = default);

    /// <summary>Removes lots for good: call only once they are on chain.</summary>
    ValueTask AckAsync(IReadOnlyCollection<long> lotIds, CancellationToken cancellationToken = default);
}

/// <summary>The in-memory outbox of the embedded (one-process) setup. Thread-safe.</summary>
public sealed class InMemoryLotOutbox : ILotOutbox
{
    private readonly object _gate = new();
    private readonly SortedDictionary<long, Lot> _pending = new();
    private readonly HashSet<long> _handedOut = new();
    private readonly TimeProvider _time;
    private TaskCompletionSource _added = NewSignal();
    private int _readerGeneration;

    public InMemoryLotOutbox(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    public ValueTask AddAsync(Lot lot, CancellationToken cancellationToken = default)
    {
        LotPacking.Validate(lot);
        TaskCompletionSource signal;
        lock (_gate)
        {
            if (_pending.TryGetValue(lot.LotId, out var existing))
            {
                if (existing != lot)
                {
                    throw new ArgumentException($"Another lot with id {lot.LotId} is pending.", nameof(lot));
                }
                return ValueTask.CompletedTask;
            }
            _pending.Add(lot.LotId, lot);
            signal = _added;
            _added = NewSignal();
        }
        signal.TrySetResult();
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> CountPendingAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult((long)_pending.Count);
        }
    }

    /// <summary>Lots added and not acknowledged, lowest id first (for reports and tests).</summary>
    public IReadOnlyList<Lot> PendingLots()
    {
        lock (_gate)
        {
            return _pending.Values.ToArray();
        }
    }

    public ILotOutboxReader OpenReader()
    {
        lock (_gate)
        {
            _readerGeneration++;
            _handedOut.Clear();
            return new Reader(this, _readerGeneration);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Reader : ILotOutboxReader
    {
        private readonly InMemoryLotOutbox _outbox;
        private readonly int _generation;
        private bool _disposed;

        public Reader(InMemoryLotOutbox outbox, int generation)
        {
            _outbox = outbox;
            _generation = generation;
        }

        public async ValueTask<IReadOnlyList<Lot>> ReadAsync(int maxCount, TimeSpan wait, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
            long start = _outbox._time.GetTimestamp();
            while (true)
            {
                Task signal;
                lock (_outbox._gate)
                {
                    CheckCurrent();
                    var lots = new List<Lot>(Math.Min(maxCount, _outbox._pending.Count));
                    foreach (var (id, lot) in _outbox._pending)
                    {
                        if (_outbox._handedOut.Add(id))
                        {
                            lots.Add(lot);
                            if (lots.Count == maxCount)
                            {
                                break;
                            }
                        }
                    }
                    if (lots.Count > 0)
                    {
                        return lots;
                    }
                    signal = _outbox._added.Task;
                }
                if (wait == Timeout.InfiniteTimeSpan)
                {
                    await signal.WaitAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }
                var left = wait - _outbox._time.GetElapsedTime(start);
                if (left <= TimeSpan.Zero)
                {
                    return [];
                }
                try
                {
                    await signal.WaitAsync(left, _outbox._time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    return [];
                }
            }
        }

        public ValueTask AckAsync(IReadOnlyCollection<long> lotIds, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(lotIds);
            // Acknowledging is right whenever the lots are on chain, even from a reader that a newer one replaced.
            ObjectDisposedException.ThrowIf(_disposed, this);
            lock (_outbox._gate)
            {
                foreach (var id in lotIds)
                {
                    _outbox._pending.Remove(id);
                    _outbox._handedOut.Remove(id);
                }
            }
            return ValueTask.CompletedTask;
        }

        public void Dispose() => _disposed = true;

        private void CheckCurrent()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_outbox._readerGeneration != _generation)
            {
                throw new InvalidOperationException("Another reader of this outbox was opened since; this one is gone.");
            }
        }
    }
}
