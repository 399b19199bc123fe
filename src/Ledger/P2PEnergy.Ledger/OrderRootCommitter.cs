using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace P2PEnergy.Ledger;

/// <summary>What the order-root committer has done.</summary>
public sealed record OrderRootCommitterStats
{
    public long RootsCommitted { get; init; }

    /// <summary>Roots found on chain already (an earlier attempt landed).</summary>
    public long RootsFoundOnChain { get; init; }

    public long RootsQueued { get; init; }

    public long GasUsed { get; init; }

    public long Retries { get; init; }

    public string? LastError { get; init; }
}

/// <summary>
/// Commits each slot's Merkle root of signed orders (EnergyLedger.commitOrderRoot) once the slot's gate has
/// closed. One root at a time, from its own operator key (so that its nonces never race the lot recorder's).
/// Idempotent: before sending it reads the slot's root on chain; the same root there means done, another
/// root there is reported and never overwritten (the contract refuses it anyway). Transport failures and
/// reverts are retried with capped exponential backoff; nothing queued is dropped while the process runs.
/// </summary>
public sealed class OrderRootCommitter
{
    private readonly EnergyLedgerContract _contract;
    private readonly EthKey _key;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<(long Slot, byte[] Root, uint Orders)> _queue = Channel.CreateUnbounded<(long, byte[], uint)>();
    private readonly Lock _statsLock = new();
    private OrderRootCommitterStats _stats = new();
    private long _pending;

    public OrderRootCommitter(EnergyLedgerContract contract, EthKey key, ILogger<OrderRootCommitter>? logger = null, TimeProvider? time = null)
    {
        _contract = contract;
        _key = key;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public Address Committer => _key.Address;

    public OrderRootCommitterStats Stats
    {
        get { lock (_statsLock) return _stats; }
    }

    /// <summary>Roots queued and not yet on chain.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Queues a slot's root (never blocks).</summary>
    public void Enqueue(long slot, byte[] root, uint orders)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.Length != 32) throw new ArgumentException($"a root has 32 bytes, not {root.Length}", nameof(root));
        if (orders == 0) throw new ArgumentOutOfRangeException(nameof(orders), "a slot root covers at least one order");
        Interlocked.Increment(ref _pending);
        Update(s => s with { RootsQueued = s.RootsQueued + 1 });
        _queue.Writer.TryWrite((slot, (byte[])root.Clone(), orders));
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Order-root committer started: ledger {Ledger}, committer {Committer}.", _contract.Address, _key.Address);
        try
        {
            await foreach (var (slot, root, orders) in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await CommitAsync(slot, root, orders, cancellationToken).ConfigureAwait(false);
                Interlocked.Decrement(ref _pending);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("Order-root committer stopped: {Stats}", Stats);
        }
    }

    private async Task CommitAsync(long slot, byte[] root, uint orders, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var onChain = await _contract.OrderRootAsync(slot, cancellationToken).ConfigureAwait(false);
                if (onChain is not null)
                {
                    if (onChain.AsSpan().SequenceEqual(root))
                    {
                        Update(s => s with { RootsFoundOnChain = s.RootsFoundOnChain + 1 });
                    }
                    else
                    {
                        _logger.LogError("Slot {Slot} already has order root {OnChain} on chain; ours is {Ours}: not overwritten.", slot, Hex.Encode(onChain), Hex.Encode(root));
                        Update(s => s with { LastError = $"slot {slot}: another order root is on chain" });
                    }
                    return;
                }
                var receipt = await _contract.CommitOrderRootAsync(_key, slot, root, orders, cancellationToken).ConfigureAwait(false);
                Update(s => s with { RootsCommitted = s.RootsCommitted + 1, GasUsed = s.GasUsed + (long)receipt.GasUsed });
                _logger.LogInformation("Order root of slot {Slot} ({Orders} orders) committed in block {Block}.", slot, orders, receipt.BlockNumber);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                var delay = Backoff.Delay(InitialBackoff, MaxBackoff, attempt);
                Update(s => s with { Retries = s.Retries + 1, LastError = e.Message });
                _logger.LogWarning("Committing the order root of slot {Slot} failed (attempt {Attempt}): {Reason}. Retrying in {Delay} ms.", slot, attempt, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void Update(Func<OrderRootCommitterStats, OrderRootCommitterStats> change)
    {
        lock (_statsLock) _stats = change(_stats);
    }
}
