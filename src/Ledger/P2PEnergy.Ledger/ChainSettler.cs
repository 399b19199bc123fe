using System.Numerics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace P2PEnergy.Ledger;

/// <summary>What the chain settler has done.</summary>
public sealed record ChainSettlerStats
{
    public long SlotsQueued { get; init; }

    public long SlotsSettled { get; init; }

    /// <summary>Of <see cref="SlotsSettled"/>, those too big for one transaction, settled in pages.</summary>
    public long SlotsPaged { get; init; }

    /// <summary>Settlement transactions sent (one a slot settled at once; begin and every page of a paged one).</summary>
    public long SettlementTransactions { get; init; }

    /// <summary>Slots found settled on chain already (an earlier attempt landed).</summary>
    public long SlotsFoundOnChain { get; init; }

    /// <summary>Deposits made to bring an account up to its minimum balance.</summary>
    public long Deposits { get; init; }

    public long GasUsed { get; init; }

    public long Retries { get; init; }

    /// <summary>Times a settlement waited because some of its lots were not on chain yet (the recorder is behind).</summary>
    public long WaitsForLots { get; init; }

    /// <summary>Times a work item that kept failing was put at the back of the queue so that later work could go first.</summary>
    public long WorkDeferred { get; init; }

    public string? LastError { get; init; }
}

/// <summary>
/// Puts each settled slot on chain (EnergyLedger.settleSlot) and tops up deposits, one transaction at a time from
/// its own operator key (its nonces never race the recorder's or the root committer's).
/// </summary>
/// <remarks>
/// A slot is settled on chain only when every one of its lots is recorded: the lots are read back from the chain
/// (LotRecorded of the slot, in recording order, which is what the contract's running hash covers) and must equal
/// the exchange's lots field by field. Lots missing on chain: wait for the recorder (retried with backoff). A lot
/// on chain that the exchange does not have, or with other fields: an exchange/chain difference, logged as an
/// error and never settled over. Idempotent: a slot found settled on chain is done (the auditor compares what is
/// there). Deposits top an account up to a minimum (read the balance, deposit the difference), so a retry after
/// an unknown outcome never credits twice. Nothing queued is dropped while the process runs. A work item that
/// keeps failing (a slot over the node's gas cap, a chain/exchange difference) goes to the back of the queue after
/// <see cref="MaxAttemptsBeforeDeferring"/> failures in a row, still pending, so that it never holds up later work.
/// A slot whose settlement would not fit <see cref="GasBudget"/> (thousands of parties) is settled in pages
/// (<see cref="SettlementPlan"/>); a paged settlement resumes where the chain says it stands (settlementProgress),
/// so a retry, a crash or a page that landed unseen never settles anything twice.
/// </remarks>
public sealed class ChainSettler
{
    private abstract record Work;

    private sealed record SettleWork(SlotSettlementOrder Order, IReadOnlyList<Lot> Lots) : Work;

    private sealed record DepositWork(Address Account, BigInteger Minimum) : Work;

    private readonly EnergyLedgerContract _contract;
    private readonly EthKey _key;
    private readonly ulong _fromBlock;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>();
    private readonly Lock _statsLock = new();
    private ChainSettlerStats _stats = new();
    private long _pending;

    /// <param name="fromBlock">The ledger's deployment block: where reading its events starts.</param>
    public ChainSettler(EnergyLedgerContract contract, EthKey key, ulong fromBlock, ILogger<ChainSettler>? logger = null, TimeProvider? time = null)
    {
        _contract = contract ?? throw new ArgumentNullException(nameof(contract));
        _key = key ?? throw new ArgumentNullException(nameof(key));
        _fromBlock = fromBlock;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public Address Settler => _key.Address;

    /// <summary>The ledger this settler writes to.</summary>
    public EnergyLedgerContract Contract => _contract;

    public ChainSettlerStats Stats
    {
        get { lock (_statsLock) return _stats; }
    }

    /// <summary>Work queued and not done yet.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Failures in a row after which a work item goes to the back of the queue when other work waits (alone, it keeps
    /// retrying with its backoff); each time it comes round again it gets as many attempts.
    /// </summary>
    public int MaxAttemptsBeforeDeferring
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least one attempt before deferring.");
    } = 5;

    /// <summary>Gas a settlement transaction may be planned to use; a slot over it is settled in pages each under it.</summary>
    public long GasBudget
    {
        get;
        init => field = value >= SettlementPlan.MinGasBudget ? value : throw new ArgumentOutOfRangeException(nameof(value), value, $"A settlement transaction is planned with at least {SettlementPlan.MinGasBudget:N0} gas.");
    } = SettlementPlan.DefaultGasBudget;

    /// <summary>Queues a settled slot with the exchange's lots of that slot (never blocks).</summary>
    public void EnqueueSettlement(SlotSettlementOrder order, IReadOnlyList<Lot> lots)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(lots);
        if (lots.Any(l => l.Slot != order.Slot)) throw new ArgumentException($"Every lot must be of slot {order.Slot}.", nameof(lots));
        if (order.Flows.Select(f => f.LotId).Order().SequenceEqual(lots.Select(l => l.LotId).Order()) is false)
            throw new ArgumentException("The order's flows must name exactly the given lots.", nameof(order));
        Interlocked.Increment(ref _pending);
        Update(s => s with { SlotsQueued = s.SlotsQueued + 1 });
        _queue.Writer.TryWrite(new SettleWork(order, lots.ToArray()));
    }

    /// <summary>Queues a top-up: the account's balance is brought up to <paramref name="minimum"/> units (never blocks).</summary>
    public void EnqueueDeposit(Address account, BigInteger minimum)
    {
        if (account == Address.Zero) throw new ArgumentException("Deposits go to an account, not the zero address.", nameof(account));
        if (minimum <= 0) throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "A minimum balance is positive.");
        Interlocked.Increment(ref _pending);
        _queue.Writer.TryWrite(new DepositWork(account, minimum));
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Chain settler started: ledger {Ledger}, settler {Settler}.", _contract.Address, _key.Address);
        try
        {
            await foreach (var work in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await WithRetriesAsync(work, cancellationToken).ConfigureAwait(false)) Interlocked.Decrement(ref _pending);
                else _queue.Writer.TryWrite(work); // deferred: still pending, at the back
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogInformation("Chain settler stopped: {Stats}", Stats);
        }
    }

    /// <returns>true when done; false when deferred (it failed <see cref="MaxAttemptsBeforeDeferring"/> times in a row and other work waits).</returns>
    private async Task<bool> WithRetriesAsync(Work work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            string? problem;
            try
            {
                problem = work switch
                {
                    SettleWork s => await SettleAsync(s, cancellationToken).ConfigureAwait(false),
                    DepositWork d => await DepositAsync(d, cancellationToken).ConfigureAwait(false),
                    _ => throw new InvalidOperationException(work.GetType().Name),
                };
                if (problem is null) return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (LedgerRevertException e) when (e.Error is LedgerError.SlotAlreadySettled)
            {
                // Settled between our check and our transaction (an earlier attempt landed late): done.
                Update(s => s with { SlotsFoundOnChain = s.SlotsFoundOnChain + 1 });
                return true;
            }
            catch (Exception e)
            {
                problem = e.Message;
                Update(s => s with { LastError = e.Message });
                _logger.LogWarning("Chain settlement work {Work} failed (attempt {Attempt}): {Reason}", Describe(work), attempt, e.Message);
            }
            if (attempt >= MaxAttemptsBeforeDeferring && _queue.Reader.Count > 0)
            {
                var message = $"{Describe(work)} deferred after {attempt} failed attempts: {problem}; later work goes first";
                _logger.LogWarning("{Message}", message);
                Update(s => s with { WorkDeferred = s.WorkDeferred + 1, LastError = message });
                return false;
            }
            var delay = Backoff.Delay(InitialBackoff, MaxBackoff, attempt);
            Update(s => s with { Retries = s.Retries + 1 });
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Describe(Work work) => work switch
    {
        SettleWork s => $"settle slot {s.Order.Slot}",
        DepositWork d => $"deposit to {d.Account}",
        _ => work.GetType().Name,
    };

    /// <returns>null when done; else why it must wait (retried).</returns>
    private async Task<string?> SettleAsync(SettleWork work, CancellationToken cancellationToken)
    {
        var slot = work.Order.Slot;
        // One read tells both whether the slot is settled and where a paged settlement of it stands.
        var progress = await _contract.SettlementProgressAsync(slot, null, cancellationToken).ConfigureAwait(false);
        if (progress.Phase == SettlementProgress.Settled)
        {
            Update(s => s with { SlotsFoundOnChain = s.SlotsFoundOnChain + 1 });
            _logger.LogInformation("Slot {Slot} is settled on chain already.", slot);
            return null;
        }
        var onChain = await _contract.GetRecordedLotsAsync(_fromBlock, null, slot, cancellationToken: cancellationToken).ConfigureAwait(false);
        var lots = onChain.Select(r => r.Lot).ToArray();
        var differences = Compare(work.Lots, lots, out int missing);
        if (differences.Count > 0)
        {
            var message = $"slot {slot}: the chain's lots differ from the exchange's, not settled: {string.Join("; ", differences)}";
            _logger.LogError("{Message}", message);
            Update(s => s with { LastError = message });
            return message;
        }
        if (missing > 0)
        {
            Update(s => s with { WaitsForLots = s.WaitsForLots + 1 });
            return $"slot {slot}: {missing} lots not on chain yet";
        }
        if (progress.Phase == SettlementProgress.NotBegun && SettlementPlan.FitsOneTransaction(lots.Length, work.Order.Parties.Count, GasBudget))
        {
            TransactionReceipt receipt;
            try
            {
                receipt = await _contract.SettleSlotAsync(_key, work.Order, lots, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsOverGasCap(e))
            {
                // The model said it fits and the node says it does not: pages never meet the cap.
                _logger.LogWarning("Slot {Slot} does not fit one transaction after all ({Reason}): settling it in pages.", slot, e.Message);
                return await SettlePagedAsync(work.Order, lots, progress, cancellationToken).ConfigureAwait(false);
            }
            Update(s => s with { SlotsSettled = s.SlotsSettled + 1, SettlementTransactions = s.SettlementTransactions + 1, GasUsed = s.GasUsed + (long)receipt.GasUsed });
            _logger.LogInformation(
                "Slot {Slot} settled on chain: {Lots} lots, {Parties} parties, {Gas} gas, block {Block}.",
                slot, work.Lots.Count, work.Order.Parties.Count, receipt.GasUsed, receipt.BlockNumber);
            return null;
        }
        return await SettlePagedAsync(work.Order, lots, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A paged settlement, from where the chain says it stands: begin (unless begun), the lot pages not yet settled,
    /// then the party pages, the last closing the slot. A page refused as out of order (one that landed unseen) ends
    /// this attempt; the retry reads the progress again. A page the node finds over the per-transaction gas cap (the
    /// model erred) is planned again from the chain's progress with half the budget.
    /// </summary>
    private async Task<string?> SettlePagedAsync(SlotSettlementOrder order, IReadOnlyList<Lot> lots, SettlementProgress progress, CancellationToken cancellationToken)
    {
        var slot = order.Slot;
        var sorted = EnergyLedgerContract.SortParties(order.Parties);
        long gas = 0;
        int sent = 0;
        long budget = GasBudget;
        try
        {
            while (true)
            {
                string page = "beginSettlement";
                try
                {
                    if (progress.Phase == SettlementProgress.NotBegun)
                    {
                        gas += await SentAsync(_contract.BeginSettlementAsync(_key, order, cancellationToken)).ConfigureAwait(false);
                        _logger.LogInformation("Slot {Slot} is too big for one transaction ({Lots} lots, {Parties} parties): settling it in pages.", slot, lots.Count, sorted.Count);
                        progress = progress with { Phase = SettlementProgress.Lots };
                    }
                    if (progress.Phase == SettlementProgress.Lots)
                    {
                        foreach (var (first, count) in SettlementPlan.LotPages(lots, checked((int)progress.LotsDone), budget))
                        {
                            page = $"lot page {first}+{count} of {lots.Count}";
                            gas += await SentAsync(_contract.SettleLotsPageAsync(_key, order, lots, first, count, cancellationToken, PageGasLimit(budget))).ConfigureAwait(false);
                        }
                    }
                    var partyPages = SettlementPlan.PartyPages(sorted.Count, checked((int)progress.PartiesDone), budget);
                    for (int i = 0; i < partyPages.Count; i++)
                    {
                        var (first, count) = partyPages[i];
                        page = $"party page {first}+{count} of {sorted.Count}";
                        bool last = i == partyPages.Count - 1;
                        gas += await SentAsync(_contract.SettlePartiesPageAsync(_key, slot, sorted, first, count, last, cancellationToken, PageGasLimit(budget))).ConfigureAwait(false);
                    }
                    break;
                }
                catch (Exception e) when (IsOverGasCap(e) && budget / 2 >= SettlementPlan.MinGasBudget)
                {
                    _logger.LogWarning(
                        "Slot {Slot}: {Page} needs more gas than planned ({Reason}); planning the rest with a budget of {Budget} gas.", slot, page, e.Message, budget / 2);
                    budget /= 2;
                    progress = await _contract.SettlementProgressAsync(slot, null, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not LedgerRevertException)
                {
                    throw new InvalidOperationException($"slot {slot}, {page}: {e.Message}", e);
                }
            }
        }
        catch (LedgerRevertException e) when (e.Error is LedgerError.LotsMismatch)
        {
            // The lot pages on chain are not the slot's recorded lots (they were read back from the chain, so another
            // writer or a reorganisation): abort while no money has moved, and settle anew on the next attempt.
            await SentAsync(_contract.AbortSettlementAsync(_key, slot, cancellationToken)).ConfigureAwait(false);
            _logger.LogWarning("Slot {Slot}: the lot pages on chain differ from the slot's recorded lots; its paged settlement was aborted and starts again.", slot);
            return $"slot {slot}: lot pages differ from the recorded lots; aborted, settling anew";
        }
        catch (LedgerRevertException e) when (e.Error is LedgerError.PageOutOfOrder or LedgerError.SettlementInProgress)
        {
            // A page (or the begin) landed without our seeing its receipt: read where the chain stands and go on from there.
            return $"slot {slot}: {e.Message}; resuming from the chain's progress";
        }
        Update(s => s with { SlotsSettled = s.SlotsSettled + 1, SlotsPaged = s.SlotsPaged + 1 });
        _logger.LogInformation(
            "Slot {Slot} settled on chain in pages: {Lots} lots, {Parties} parties, {Transactions} transactions this attempt, {Gas} gas.",
            slot, lots.Count, sorted.Count, sent, gas);
        return null;

        // Each transaction counts at once, so the ledger's status moves page by page.
        async Task<long> SentAsync(Task<TransactionReceipt> send)
        {
            var receipt = await send.ConfigureAwait(false);
            sent++;
            Update(s => s with { GasUsed = s.GasUsed + (long)receipt.GasUsed, SettlementTransactions = s.SettlementTransactions + 1 });
            return (long)receipt.GasUsed;
        }
    }

    /// <summary>
    /// A page's gas limit: twice its planned budget (the model's margin of error), at most what a transaction may
    /// use. Not eth_estimateGas's: Hardhat estimates a party page, which deletes a storage word per lot party (gas
    /// refunds), at several times its use and over the cap (measured: 27.4M estimated, 9.1M used).
    /// </summary>
    private ulong PageGasLimit(long budget) => (ulong)Math.Min(2 * budget, (long)_contract.Sender.Options.MaxGasPerTransaction);

    /// <summary>
    /// The node's answer when a transaction needs more gas than it was given or than one may use (Hardhat: "… is
    /// greater than the cap", "Transaction ran out of gas"; geth: "gas required exceeds allowance", "out of gas").
    /// </summary>
    internal static bool IsOverGasCap(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x.Message.Contains("greater than the cap", StringComparison.OrdinalIgnoreCase)
                || x.Message.Contains("gas required exceeds", StringComparison.OrdinalIgnoreCase)
                || x.Message.Contains("out of gas", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Lots on chain that the exchange does not have or has with other fields; <paramref name="missing"/>: the exchange's lots not on chain.</summary>
    public static IReadOnlyList<string> Compare(IReadOnlyList<Lot> exchange, IReadOnlyList<Lot> chain, out int missing)
    {
        var ours = exchange.ToDictionary(l => l.LotId);
        var differences = new List<string>();
        var seen = new HashSet<long>();
        foreach (var lot in chain)
        {
            seen.Add(lot.LotId);
            if (!ours.TryGetValue(lot.LotId, out var mine)) differences.Add($"lot {lot.LotId} is on chain but not in the exchange");
            else if (LotComparison.Differences(mine, lot).ToList() is { Count: > 0 } fields) differences.Add($"lot {lot.LotId} differs: {string.Join("; ", fields)}");
        }
        missing = exchange.Count(l => !seen.Contains(l.LotId));
        return differences;
    }

    private async Task<string?> DepositAsync(DepositWork work, CancellationToken cancellationToken)
    {
        var balance = await _contract.BalanceOfAsync(work.Account, null, cancellationToken).ConfigureAwait(false);
        if (balance >= work.Minimum) return null;
        var receipt = await _contract.DepositAsync(_key, work.Account, work.Minimum - balance, cancellationToken).ConfigureAwait(false);
        Update(s => s with { Deposits = s.Deposits + 1, GasUsed = s.GasUsed + (long)receipt.GasUsed });
        _logger.LogInformation("Deposited {Amount} units to {Account}.", work.Minimum - balance, work.Account);
        return null;
    }

    private void Update(Func<ChainSettlerStats, ChainSettlerStats> change)
    {
        lock (_statsLock) _stats = change(_stats);
    }
}
