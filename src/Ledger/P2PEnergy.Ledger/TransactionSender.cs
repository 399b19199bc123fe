using System.Numerics;

namespace P2PEnergy.Ledger;

/// <summary>Fees of an EIP-1559 transaction, in wei per gas.</summary>
public readonly record struct Fees(BigInteger MaxFeePerGas, BigInteger MaxPriorityFeePerGas);

public sealed record TransactionSenderOptions
{
    /// <summary>Added to eth_estimateGas's answer: the state may change between estimate and inclusion.</summary>
    public int GasMarginPercent { get; init; } = 20;

    /// <summary>EIP-7825 (osaka): no transaction may use more gas (../shared/CHAIN-NOTES.md).</summary>
    public ulong MaxGasPerTransaction { get; init; } = 16_777_216;

    /// <summary>Floor of the priority fee when recent blocks paid none (a quiet devnet).</summary>
    public BigInteger MinPriorityFeePerGas { get; init; } = 1_000_000_000;

    public TimeSpan ReceiptTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait between receipt polls; doubled up to <see cref="MaxReceiptPollInterval"/>.</summary>
    public TimeSpan ReceiptPollInterval { get; init; } = TimeSpan.FromMilliseconds(5);

    public TimeSpan MaxReceiptPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Builds, signs and sends EIP-1559 transactions with our own client: gas from eth_estimateGas plus a
/// margin (a revert found by the estimate surfaces as <see cref="LedgerRevertException"/> and costs no gas),
/// fees from eth_feeHistory (eth_gasPrice where unsupported), receipts by polling.
/// </summary>
public sealed class TransactionSender
{
    private readonly EthJsonRpcClient _client;
    private readonly TimeProvider _time;

    public TransactionSender(EthJsonRpcClient client, ulong chainId, TransactionSenderOptions? options = null, TimeProvider? time = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ChainId = chainId;
        Options = options ?? new TransactionSenderOptions();
        _time = time ?? TimeProvider.System;
    }

    public ulong ChainId { get; }

    public TransactionSenderOptions Options { get; }

    public EthJsonRpcClient Client => _client;

    /// <summary>maxFee = 2 x next base fee + priority (survives six full blocks of base-fee rises); priority = median of the last block, floored.</summary>
    public async Task<Fees> GetFeesAsync(CancellationToken cancellationToken = default)
    {
        BigInteger priority;
        BigInteger baseFee;
        try
        {
            var history = await _client.GetFeeHistoryAsync(1, BlockParameter.Latest, [50.0], cancellationToken).ConfigureAwait(false);
            baseFee = history.BaseFeePerGas.Count > 0 ? history.BaseFeePerGas[^1] : BigInteger.Zero;
            priority = history.Reward.Count > 0 && history.Reward[0].Count > 0 ? history.Reward[0][0] : BigInteger.Zero;
        }
        catch (JsonRpcException)
        {
            // A node without eth_feeHistory: its gas price stands for both.
            var gasPrice = await _client.GetGasPriceAsync(cancellationToken).ConfigureAwait(false);
            baseFee = gasPrice;
            priority = gasPrice;
        }
        if (priority < Options.MinPriorityFeePerGas)
        {
            priority = Options.MinPriorityFeePerGas;
        }
        return new Fees(2 * baseFee + priority, priority);
    }

    /// <summary>eth_estimateGas plus the margin, capped at the per-transaction limit.</summary>
    public async Task<ulong> EstimateGasAsync(Address from, Address? to, byte[] data, string operation, CancellationToken cancellationToken = default)
    {
        ulong estimate;
        try
        {
            estimate = await _client.EstimateGasAsync(new CallRequest { From = from, To = to, Data = data }, null, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonRpcException e) when (LedgerError.TryFrom(e, out var error))
        {
            throw new LedgerRevertException(operation, error, e);
        }
        var withMargin = (ulong)Math.Min((double)estimate * (100 + Options.GasMarginPercent) / 100, ulong.MaxValue);
        return Math.Min(withMargin, Options.MaxGasPerTransaction);
    }

    public SignedTransaction Sign(EthKey key, ulong nonce, Address? to, byte[] data, ulong gasLimit, Fees fees)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new Eip1559Transaction
        {
            ChainId = ChainId,
            Nonce = nonce,
            MaxPriorityFeePerGas = fees.MaxPriorityFeePerGas,
            MaxFeePerGas = fees.MaxFeePerGas,
            GasLimit = gasLimit,
            To = to,
            Data = data,
        }.Sign(key);
    }

    /// <summary>Polls for a receipt; null when none came within <paramref name="timeout"/>. Transport failures propagate.</summary>
    public async Task<TransactionReceipt?> WaitForReceiptAsync(byte[] transactionHash, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long start = _time.GetTimestamp();
        var interval = Options.ReceiptPollInterval;
        while (true)
        {
            var receipt = await _client.GetTransactionReceiptAsync(transactionHash, cancellationToken).ConfigureAwait(false);
            if (receipt is not null)
            {
                return receipt;
            }
            if (_time.GetElapsedTime(start) >= timeout)
            {
                return null;
            }
            await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, Options.MaxReceiptPollInterval.Ticks));
        }
    }

    /// <summary>
    /// A one-off transaction from <paramref name="key"/> (pending nonce, estimate, fees, send, receipt):
    /// for deployment and administration. Throws <see cref="LedgerRevertException"/> on a revert and
    /// <see cref="TimeoutException"/> when no receipt comes.
    /// </summary>
    public async Task<TransactionReceipt> SendAsync(EthKey key, Address? to, byte[] data, string operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var nonce = await _client.GetTransactionCountAsync(key.Address, BlockParameter.Pending, cancellationToken).ConfigureAwait(false);
        var gas = await EstimateGasAsync(key.Address, to, data, operation, cancellationToken).ConfigureAwait(false);
        return await SignAndSendAsync(key, nonce, to, data, gas, operation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A one-off transaction with the given gas limit instead of eth_estimateGas's. For transactions whose gas the
    /// caller has planned: Hardhat's estimate of a transaction that deletes many storage words (gas refunds) can be
    /// several times what it uses, even over the per-transaction cap (measured: 27.4M estimated, 9.1M used). The
    /// transaction is first run with eth_call at that limit, so a revert (or running out of gas) costs nothing.
    /// </summary>
    public async Task<TransactionReceipt> SendWithGasLimitAsync(EthKey key, Address to, byte[] data, ulong gasLimit, string operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (gasLimit == 0 || gasLimit > Options.MaxGasPerTransaction)
            throw new ArgumentOutOfRangeException(nameof(gasLimit), gasLimit, $"A transaction may use 1 … {Options.MaxGasPerTransaction} gas.");
        try
        {
            await _client.CallAsync(new CallRequest { From = key.Address, To = to, Data = data, Gas = gasLimit }, BlockParameter.Latest, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonRpcException e) when (LedgerError.TryFrom(e, out var error))
        {
            throw new LedgerRevertException(operation, error, e);
        }
        var nonce = await _client.GetTransactionCountAsync(key.Address, BlockParameter.Pending, cancellationToken).ConfigureAwait(false);
        return await SignAndSendAsync(key, nonce, to, data, gasLimit, operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TransactionReceipt> SignAndSendAsync(EthKey key, ulong nonce, Address? to, byte[] data, ulong gas, string operation, CancellationToken cancellationToken)
    {
        var fees = await GetFeesAsync(cancellationToken).ConfigureAwait(false);
        var tx = Sign(key, nonce, to, data, gas, fees);
        try
        {
            await _client.SendRawTransactionAsync(tx, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonRpcException e) when (LedgerError.TryFrom(e, out var error))
        {
            // Hardhat (automine) mines a reverting transaction and reports the revert as the send's error.
            throw new LedgerRevertException(operation, error, e);
        }
        var receipt = await WaitForReceiptAsync(tx.Hash, Options.ReceiptTimeout, cancellationToken).ConfigureAwait(false)
            ?? throw new TimeoutException($"{operation}: no receipt for {Hex.Encode(tx.Hash)} within {Options.ReceiptTimeout}.");
        if (!receipt.Succeeded)
        {
            throw new LedgerRevertException(operation, new LedgerError.UnknownRevert([]));
        }
        return receipt;
    }
}
