using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace P2PEnergy.Ledger;

/// <summary>
/// The outbox cannot be reached (its store is down, restarting or too slow). The operation did not happen, or
/// may have happened without its answer arriving: an add is to be retried (adds are idempotent), an acknowledgement
/// is to be retried, and a read gave no lot (what it may have handed out stays pending and comes again).
/// The recorder retries these with its backoff; the message names the store's endpoint.
/// </summary>
/// <remarks>Beside the recorder because the recorder is what handles it; it belongs with <see cref="ILotOutbox"/>.</remarks>
public sealed class LotOutboxUnavailableException : Exception
{
    /// <param name="reason">Why, in a line (the client's full diagnostics stay in <paramref name="inner"/>); null: the inner message.</param>
    public LotOutboxUnavailableException(string endpoint, string operation, Exception inner, string? reason = null)
        : base($"The lot outbox at {endpoint} is unavailable ({operation}): {reason ?? inner?.Message}", inner)
    {
        Endpoint = endpoint;
        Operation = operation;
    }

    /// <summary>Where the outbox lives, e.g. "redis 127.0.0.1:6379".</summary>
    public string Endpoint { get; }

    public string Operation { get; }
}

/// <summary>
/// A reader that can hand out a lot again that an earlier reader had (a recorder that died, or was stopped,
/// before acknowledging it). Such a lot may already be on chain: the recorder asks the chain before sending it,
/// so that it is acknowledged without a second transaction.
/// </summary>
public interface IRedeliveringLotOutboxReader : ILotOutboxReader
{
    /// <summary>True when <paramref name="lotId"/>, handed out by this reader and not yet acknowledged, was handed to another reader before.</summary>
    bool MayBeRecorded(long lotId);
}

public sealed record LotRecorderOptions
{
    /// <summary>Lots in one recordLots transaction at most (1 to EnergyLedger.MAX_BATCH = 1,000).</summary>
    public int BatchSize { get; init; } = 200;

    /// <summary>How long a batch waits for more lots after its first one arrived before it is sent anyway.</summary>
    public TimeSpan MaxBatchDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Wait before the second retry in a row (the first is immediate); doubled per further failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Fees are asked again when older than this (and after any failure).</summary>
    public TimeSpan FeeRefreshInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How many isRecorded calls run at once when a retried batch is checked against the chain.</summary>
    public int ReconcileParallelism { get; init; } = 8;

    public TransactionSenderOptions Transactions { get; init; } = new();

    /// <summary>
    /// False (default): every batch is first run through eth_estimateGas, which also refuses a batch holding a
    /// recorded lot before it costs gas. True: the last estimate is scaled to the batch's size and reused
    /// until a failure (Hardhat's estimate runs the batch several times and dominates the time of a large
    /// batch); a duplicate then reverts on chain (gas spent, nothing recorded) and the retry checks the lots.
    /// </summary>
    public bool ReuseGasEstimate { get; init; }

    internal void Validate()
    {
        if (BatchSize < 1 || BatchSize > LotPacking.MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be 1 to {LotPacking.MaxBatch} (EnergyLedger.MAX_BATCH).");
        }
        if (MaxBatchDelay < TimeSpan.Zero || InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchDelay), "Delays must not be negative and MaxBackoff must not be below InitialBackoff.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconcileParallelism, 1);
    }
}

/// <summary>What the recorder has done so far (a snapshot).</summary>
public sealed record LotRecorderStats
{
    /// <summary>Lots recorded by this recorder's confirmed transactions.</summary>
    public long LotsRecorded { get; init; }

    /// <summary>Lots a retry found already on chain (an earlier attempt had landed) and acknowledged without sending.</summary>
    public long LotsFoundOnChain { get; init; }

    public long TransactionsSent { get; init; }

    public long TransactionsConfirmed { get; init; }

    /// <summary>Gas of the confirmed recordLots transactions.</summary>
    public long GasUsed { get; init; }

    /// <summary>Attempts that failed and were retried (any cause).</summary>
    public long Retries { get; init; }

    /// <summary>Failures to reach the node.</summary>
    public long TransportFailures { get; init; }

    /// <summary>Failures to reach the outbox (reading or acknowledging; see <see cref="LotOutboxUnavailableException"/>).</summary>
    public long OutboxFailures { get; init; }

    public ulong LastBlock { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? LastErrorAt { get; init; }

    public double GasPerLot => LotsRecorded == 0 ? 0 : (double)GasUsed / LotsRecorded;
}

/// <summary>
/// Takes lots from an <see cref="ILotOutbox"/>, batches them, records them with EnergyLedger.recordLots
/// from the operator key, and acknowledges them once their receipt (with one LotRecorded event per lot)
/// is in. A lot is never dropped (nothing is acknowledged before it is seen on chain) and never recorded
/// twice (the contract refuses seen lot ids; a retry first asks isRecorded for each lot of the batch and
/// re-sends only the missing ones).
/// </summary>
/// <remarks>
/// A lot that the reader hands out again (<see cref="IRedeliveringLotOutboxReader"/>: an earlier recorder may
/// have recorded it and died before acknowledging) is first looked up on chain, like a retried batch.
/// An unreachable outbox (<see cref="LotOutboxUnavailableException"/>) is retried with the same backoff: a read
/// simply comes again, an acknowledgement is repeated until it is through (the lots stay pending meanwhile).
/// One transaction in flight at a time: Hardhat's automine refuses out-of-order nonces, and one sender in
/// nonce order is simple and safe. The nonce is counted locally and asked again ("pending") after any failure.
/// Failures (node down, node restarted, nonce refused, revert, missing receipt) are retried forever with
/// capped exponential backoff; each is logged and counted in <see cref="Stats"/>.
/// </remarks>
public sealed class LotRecorder : IDisposable
{
    private readonly EthJsonRpcClient _client;
    private readonly bool _ownsClient;
    private readonly LedgerDeployment _deployment;
    private readonly EthKey _operator;
    private readonly ILotOutbox _outbox;
    private readonly LotRecorderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly EnergyLedgerContract _contract;
    private readonly object _statsGate = new();
    private LotRecorderStats _stats = new();
    private ulong? _nonce;
    private Fees? _fees;
    private long _feesAt;
    private (ulong Gas, int Lots)? _lastEstimate;
    private long _lastCycleTicks; // UTC ticks; 0: no cycle yet

    /// <summary>An idle recorder's read returns empty after this long and the loop goes round again (a sign of life).</summary>
    private static readonly TimeSpan IdleReadWait = TimeSpan.FromSeconds(1);

    public LotRecorder(
        EthJsonRpcClient client,
        LedgerDeployment deployment,
        EthKey operatorKey,
        ILotOutbox outbox,
        LotRecorderOptions? options = null,
        ILogger<LotRecorder>? logger = null,
        TimeProvider? time = null)
        : this(client, false, deployment, operatorKey, outbox, options, logger, time)
    {
    }

    private LotRecorder(
        EthJsonRpcClient client, bool ownsClient, LedgerDeployment deployment, EthKey operatorKey, ILotOutbox outbox,
        LotRecorderOptions? options, ILogger<LotRecorder>? logger, TimeProvider? time)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _ownsClient = ownsClient;
        _deployment = deployment ?? throw new ArgumentNullException(nameof(deployment));
        _operator = operatorKey ?? throw new ArgumentNullException(nameof(operatorKey));
        _outbox = outbox ?? throw new ArgumentNullException(nameof(outbox));
        _options = options ?? new LotRecorderOptions();
        _options.Validate();
        _logger = logger ?? NullLogger<LotRecorder>.Instance;
        _time = time ?? TimeProvider.System;
        _contract = new EnergyLedgerContract(client, deployment, _options.Transactions, _time);
    }

    /// <summary>A recorder that owns its client (disposed with it).</summary>
    public static LotRecorder Create(
        Uri rpcUrl, LedgerDeployment deployment, EthKey operatorKey, ILotOutbox outbox,
        LotRecorderOptions? options = null, ILogger<LotRecorder>? logger = null, TimeProvider? time = null)
    {
        var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = rpcUrl, TimeProvider = time ?? TimeProvider.System });
        return new LotRecorder(client, true, deployment, operatorKey, outbox, options, logger, time);
    }

    public LedgerDeployment Deployment => _deployment;

    public Address Operator => _operator.Address;

    public LotRecorderStats Stats
    {
        get
        {
            lock (_statsGate)
            {
                return _stats;
            }
        }
    }

    /// <summary>
    /// When the recording loop last finished a step: an outbox read (lots or none; an idle loop reads again every
    /// second), a recorded batch, or a failed attempt before its backoff. Null before the first. A loop that is
    /// stuck (or a recorder that is not running) stops moving it: a liveness signal for a health check.
    /// </summary>
    /// <remarks>Apart from <see cref="Stats"/>: it moves while nothing happens, and a snapshot that changes every second would hide "no progress".</remarks>
    public DateTimeOffset? LastCycleAt =>
        Volatile.Read(ref _lastCycleTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    /// <summary>Records lots until <paramref name="cancellationToken"/> is cancelled (then returns). For a BackgroundService's ExecuteAsync.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (_deployment.Operator != _operator.Address)
        {
            _logger.LogWarning("The operator key's address {Key} is not the deployment's operator {Operator}; the ledger may refuse it.", _operator.Address, _deployment.Operator);
        }
        _logger.LogInformation(
            "Lot recorder started: ledger {Ledger} on chain {ChainId} at {Rpc}, operator {Operator}, up to {BatchSize} lots or {Delay} ms a batch.",
            _deployment.Ledger, _deployment.ChainId, _client.Endpoint, _operator.Address, _options.BatchSize, _options.MaxBatchDelay.TotalMilliseconds);
        using var reader = _outbox.OpenReader();
        _nonce = null;
        try
        {
            await WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var batch = await CollectBatchAsync(reader, cancellationToken).ConfigureAwait(false);
                await RecordAsync(batch, reader, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("Lot recorder stopped: {Stats}", Stats);
        }
    }

    private async Task<List<Lot>> CollectBatchAsync(ILotOutboxReader reader, CancellationToken cancellationToken)
    {
        var lots = new List<Lot>(_options.BatchSize);
        for (int failures = 0; ; )
        {
            try
            {
                var first = await reader.ReadAsync(_options.BatchSize, IdleReadWait, cancellationToken).ConfigureAwait(false);
                Cycled();
                if (first.Count > 0)
                {
                    lots.AddRange(first);
                    break;
                }
                failures = 0;
            }
            catch (LotOutboxUnavailableException e)
            {
                failures++;
                Cycled();
                OutboxFailed(e, "reading lots", BackoffDelay(failures));
                await BackoffAsync(failures, cancellationToken).ConfigureAwait(false);
            }
        }
        long start = _time.GetTimestamp();
        while (lots.Count < _options.BatchSize)
        {
            var left = _options.MaxBatchDelay - _time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            IReadOnlyList<Lot> more;
            try
            {
                more = await reader.ReadAsync(_options.BatchSize - lots.Count, left, cancellationToken).ConfigureAwait(false);
            }
            catch (LotOutboxUnavailableException e)
            {
                // The lots in hand are handed out to this reader: record them now, the rest comes later.
                OutboxFailed(e, $"reading more lots for a batch of {lots.Count}", retryIn: null);
                break;
            }
            if (more.Count == 0)
            {
                break;
            }
            lots.AddRange(more);
        }
        // Consecutive ids share the contract's bitmap word: sorted batches cost less gas.
        lots.Sort((a, b) => a.LotId.CompareTo(b.LotId));
        return lots;
    }

    /// <summary>Returns once every lot of the batch is on chain and acknowledged.</summary>
    private async Task RecordAsync(List<Lot> batch, ILotOutboxReader reader, CancellationToken cancellationToken)
    {
        var pending = batch;
        // A lot handed out before (to a recorder that died before its ack) may be on chain already: ask first.
        bool reconcile = reader is IRedeliveringLotOutboxReader redelivering && batch.Exists(l => redelivering.MayBeRecorded(l.LotId));
        int failures = 0;
        while (pending.Count > 0)
        {
            if (failures > 0)
            {
                await BackoffAsync(failures, cancellationToken).ConfigureAwait(false);
            }
            Cycled();
            try
            {
                if (reconcile)
                {
                    await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
                    pending = await DropRecordedAsync(pending, reader, cancellationToken).ConfigureAwait(false);
                    reconcile = false;
                    if (pending.Count == 0)
                    {
                        return;
                    }
                }
                var receipt = await SendAsync(pending, cancellationToken).ConfigureAwait(false);
                UpdateStats(s => s with
                {
                    LotsRecorded = s.LotsRecorded + pending.Count,
                    TransactionsConfirmed = s.TransactionsConfirmed + 1,
                    GasUsed = s.GasUsed + (long)receipt.GasUsed,
                    LastBlock = receipt.BlockNumber,
                });
                if (failures > 0)
                {
                    _logger.LogInformation("Recorded {Count} lots after {Failures} failed attempt(s) (block {Block}).", pending.Count, failures, receipt.BlockNumber);
                }
                Cycled();
                // On chain: from here on only the acknowledgement is missing, and it is retried by itself.
                await AckAsync(reader, pending.Select(l => l.LotId).ToArray(), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                failures++;
                reconcile = true;
                _nonce = null;
                _fees = null;
                _lastEstimate = null;
                bool transport = e is JsonRpcTransportException;
                UpdateStats(s => s with
                {
                    Retries = s.Retries + 1,
                    TransportFailures = s.TransportFailures + (transport ? 1 : 0),
                    LastError = e.Message,
                    LastErrorAt = _time.GetUtcNow(),
                });
                var level = e is LedgerRevertException { Error: LedgerError.LotAlreadyRecorded } ? LogLevel.Information
                    : e is JsonRpcTransportException or LedgerUnavailableException or JsonRpcException or TimeoutException or LedgerRevertException or LotOutboxUnavailableException ? LogLevel.Warning
                    : LogLevel.Error;
                _logger.Log(
                    level, e is JsonRpcTransportException or LedgerRevertException or LotOutboxUnavailableException ? null : e,
                    "Recording {Count} lots (ids {First}..{Last}) failed, attempt {Attempt}: {Reason}. Retrying in {Delay} ms after checking which lots are on chain.",
                    pending.Count, pending[0].LotId, pending[^1].LotId, failures, e.Message, BackoffDelay(failures).TotalMilliseconds);
            }
        }
    }

    private async Task<TransactionReceipt> SendAsync(List<Lot> lots, CancellationToken cancellationToken)
    {
        var ledger = _deployment.Ledger;
        var sender = _contract.Sender;
        ulong nonce = _nonce ??= await _client.GetTransactionCountAsync(_operator.Address, BlockParameter.Pending, cancellationToken).ConfigureAwait(false);
        var data = EnergyLedgerContract.EncodeRecordLots(lots);
        ulong gas;
        if (_options.ReuseGasEstimate && _lastEstimate is { } last)
        {
            // Gas grows with the lots (calldata, one event and at most one bitmap word each): scale up, never down.
            gas = Math.Min(sender.Options.MaxGasPerTransaction, (ulong)Math.Ceiling(last.Gas * Math.Max(1.0, (double)lots.Count / last.Lots)));
        }
        else
        {
            gas = await sender.EstimateGasAsync(_operator.Address, ledger, data, "recordLots", cancellationToken).ConfigureAwait(false);
            _lastEstimate = (gas, lots.Count);
        }
        var fees = await GetFeesAsync(cancellationToken).ConfigureAwait(false);
        var tx = sender.Sign(_operator, nonce, ledger, data, gas, fees);
        try
        {
            await _client.SendRawTransactionAsync(tx, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonRpcException e) when (LedgerError.TryFrom(e, out var error))
        {
            // Hardhat's automine mines a reverting transaction (the nonce is used) and reports the revert here.
            UpdateStats(s => s with { TransactionsSent = s.TransactionsSent + 1 });
            throw new LedgerRevertException("recordLots", error, e);
        }
        _nonce = nonce + 1;
        UpdateStats(s => s with { TransactionsSent = s.TransactionsSent + 1 });
        var hash = Hex.Encode(tx.Hash);
        var receipt = await sender.WaitForReceiptAsync(tx.Hash, sender.Options.ReceiptTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw new TimeoutException($"No receipt for {hash} (nonce {nonce}) within {sender.Options.ReceiptTimeout}.");
        if (!receipt.Succeeded)
        {
            throw new LedgerRevertException($"recordLots {hash} (block {receipt.BlockNumber})", new LedgerError.UnknownRevert([]));
        }
        // A success without the events proves nothing: a call to an address without code also succeeds.
        int events = 0;
        var expected = lots.Select(l => l.LotId).ToHashSet();
        foreach (var log in receipt.Logs)
        {
            if (log.Address == ledger && EnergyLedgerContract.IsLotRecorded(log) && expected.Contains(EnergyLedgerContract.DecodeLotRecorded(log).LotId))
            {
                events++;
            }
        }
        if (events != lots.Count)
        {
            throw new LedgerUnavailableException(
                $"Transaction {hash} succeeded but emitted {events} of {lots.Count} LotRecorded events: is EnergyLedger deployed at {ledger}?");
        }
        return receipt;
    }

    /// <summary>Acknowledges the lots already on chain (an earlier attempt landed) and returns the others.</summary>
    private async Task<List<Lot>> DropRecordedAsync(List<Lot> lots, ILotOutboxReader reader, CancellationToken cancellationToken)
    {
        var recorded = new bool[lots.Count];
        await Parallel.ForAsync(0, lots.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.ReconcileParallelism, CancellationToken = cancellationToken },
            async (i, ct) => recorded[i] = await _contract.IsRecordedAsync(lots[i].LotId, BlockParameter.Latest, ct).ConfigureAwait(false)).ConfigureAwait(false);
        var onChain = lots.Where((_, i) => recorded[i]).Select(l => l.LotId).ToArray();
        if (onChain.Length == 0)
        {
            return lots;
        }
        UpdateStats(s => s with { LotsFoundOnChain = s.LotsFoundOnChain + onChain.Length });
        _logger.LogInformation(
            "{OnChain} of {Count} lots of the batch are already on chain (an earlier attempt, or an earlier recorder, landed them): acknowledged, not sent again.",
            onChain.Length, lots.Count);
        await AckAsync(reader, onChain, cancellationToken).ConfigureAwait(false);
        return lots.Where((_, i) => !recorded[i]).ToList();
    }

    /// <summary>Acknowledges lots that are on chain, retrying for as long as the outbox is unreachable.</summary>
    private async Task AckAsync(ILotOutboxReader reader, IReadOnlyCollection<long> lotIds, CancellationToken cancellationToken)
    {
        for (int failures = 0; ; )
        {
            try
            {
                await reader.AckAsync(lotIds, cancellationToken).ConfigureAwait(false);
                if (failures > 0)
                {
                    _logger.LogInformation("Acknowledged {Count} recorded lots after {Failures} failed attempt(s).", lotIds.Count, failures);
                }
                return;
            }
            catch (LotOutboxUnavailableException e)
            {
                failures++;
                Cycled();
                OutboxFailed(e, $"acknowledging {lotIds.Count} lots that are on chain (attempt {failures})", BackoffDelay(failures));
                await BackoffAsync(failures, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void OutboxFailed(LotOutboxUnavailableException e, string what, TimeSpan? retryIn)
    {
        UpdateStats(s => s with
        {
            OutboxFailures = s.OutboxFailures + 1,
            LastError = e.Message,
            LastErrorAt = _time.GetUtcNow(),
        });
        if (retryIn is { } delay)
        {
            _logger.LogWarning(
                "The lot outbox failed while {What}: {Reason}; retrying in {Delay} ms (unacknowledged lots stay in the outbox).",
                what, e.Message, delay.TotalMilliseconds);
        }
        else
        {
            _logger.LogWarning("The lot outbox failed while {What}: {Reason}; recording the lots in hand first.", what, e.Message);
        }
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        for (int failures = 0; ; )
        {
            try
            {
                await EnsureReadyAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (e is JsonRpcTransportException or JsonRpcException or LedgerUnavailableException)
            {
                failures++;
                Cycled();
                UpdateStats(s => s with
                {
                    TransportFailures = s.TransportFailures + (e is JsonRpcTransportException ? 1 : 0),
                    LastError = e.Message,
                    LastErrorAt = _time.GetUtcNow(),
                });
                _logger.LogWarning("Ledger not reachable yet: {Reason}. Retrying in {Delay} ms.", e.Message, BackoffDelay(failures + 1).TotalMilliseconds);
                await BackoffAsync(failures + 1, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The node is the deployment's chain and the ledger's code is there (a restarted devnet may have lost it).</summary>
    private async Task EnsureReadyAsync(CancellationToken cancellationToken)
    {
        var chainId = await _client.GetChainIdAsync(cancellationToken).ConfigureAwait(false);
        if (chainId != _deployment.ChainId)
        {
            throw new LedgerUnavailableException($"The node at {_client.Endpoint} is chain {chainId}, the deployment is on chain {_deployment.ChainId}.");
        }
        if (!await _contract.HasCodeAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new LedgerUnavailableException($"No EnergyLedger code at {_deployment.Ledger} on the node at {_client.Endpoint} (restarted without its state?).");
        }
    }

    private async Task<Fees> GetFeesAsync(CancellationToken cancellationToken)
    {
        if (_fees is { } fees && _time.GetElapsedTime(_feesAt) < _options.FeeRefreshInterval)
        {
            return fees;
        }
        fees = await _contract.Sender.GetFeesAsync(cancellationToken).ConfigureAwait(false);
        _fees = fees;
        _feesAt = _time.GetTimestamp();
        return fees;
    }

    // The first retry is immediate (the client already retried the transport a few times); then doubling.
    private TimeSpan BackoffDelay(int failures) =>
        failures <= 1
            ? TimeSpan.Zero
            : Backoff.Delay(_options.InitialBackoff, _options.MaxBackoff, failures - 1);

    private Task BackoffAsync(int failures, CancellationToken cancellationToken)
    {
        var delay = BackoffDelay(failures);
        return delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, _time, cancellationToken);
    }

    private void Cycled() => Volatile.Write(ref _lastCycleTicks, _time.GetUtcNow().UtcTicks);

    private void UpdateStats(Func<LotRecorderStats, LotRecorderStats> update)
    {
        lock (_statsGate)
        {
            _stats = update(_stats);
        }
    }
}
