using System.Numerics;

namespace P2PEnergy.Ledger;

/// <summary>
/// Typed bindings of EnergyLedger (contracts/contracts/EnergyLedger.sol), built once from the compiled
/// artifact's ABI (embedded copy: EnergyLedger.abi.json). Callers never touch selectors or hex.
/// </summary>
public sealed partial class EnergyLedgerContract
{
    /// <summary>The contract's ABI, parsed from the embedded copy of the artifact's "abi".</summary>
    public static ContractAbi Abi { get; } = LoadEmbeddedAbi();

    public static AbiFunction RecordLotsFunction { get; } = Abi.Function("recordLots(bytes)");
    public static AbiFunction CommitOrderRootFunction { get; } = Abi.Function("commitOrderRoot(uint64,bytes32,uint32)");
    public static AbiFunction IsRecordedFunction { get; } = Abi.Function("isRecorded(uint64)");
    public static AbiFunction LotCountFunction { get; } = Abi.Function("lotCount()");
    public static AbiFunction AdminFunction { get; } = Abi.Function("admin()");
    public static AbiFunction IsOperatorFunction { get; } = Abi.Function("isOperator(address)");
    public static AbiFunction OrderRootFunction { get; } = Abi.Function("orderRoot(uint64)");
    public static AbiFunction SetOperatorFunction { get; } = Abi.Function("setOperator(address,bool)");
    public static AbiFunction TransferAdminFunction { get; } = Abi.Function("transferAdmin(address)");
    public static AbiEvent LotRecordedEvent { get; } = Abi.Event("LotRecorded(uint64,address,address,bytes32)");
    public static AbiEvent OrderRootCommittedEvent { get; } = Abi.Event("OrderRootCommitted(uint64,bytes32,uint32)");

    private static readonly byte[] LotRecordedTopic = LotRecordedEvent.Topic0;
    private static readonly byte[] OrderRootCommittedTopic = OrderRootCommittedEvent.Topic0;

    private readonly EthJsonRpcClient _client;

    public EnergyLedgerContract(EthJsonRpcClient client, Address address, ulong chainId, TransactionSenderOptions? options = null, TimeProvider? time = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        Address = address;
        Sender = new TransactionSender(client, chainId, options, time);
    }

    public EnergyLedgerContract(EthJsonRpcClient client, LedgerDeployment deployment, TransactionSenderOptions? options = null, TimeProvider? time = null)
        : this(client, (deployment ?? throw new ArgumentNullException(nameof(deployment))).Ledger, deployment.ChainId, options, time)
    {
    }

    public Address Address { get; }

    public TransactionSender Sender { get; }

    // ---- call data ----

    public static byte[] EncodeRecordLots(IReadOnlyList<Lot> lots)
    {
        ArgumentNullException.ThrowIfNull(lots);
        if (lots.Count is 0 or > LotPacking.MaxBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(lots), lots.Count, $"A batch holds 1 to {LotPacking.MaxBatch} lots.");
        }
        return RecordLotsFunction.EncodeCall(LotPacking.PackBatch(lots));
    }

    public static byte[] EncodeCommitOrderRoot(long slot, byte[] root, uint orders) =>
        CommitOrderRootFunction.EncodeCall(checked((ulong)slot), root, orders);

    public static byte[] EncodeSetOperator(Address @operator, bool enabled) => SetOperatorFunction.EncodeCall(@operator, enabled);

    public static byte[] EncodeTransferAdmin(Address newAdmin) => TransferAdminFunction.EncodeCall(newAdmin);

    /// <summary>Creation code: the artifact's bytecode followed by the ABI-encoded constructor arguments.</summary>
    public static byte[] EncodeDeployment(ReadOnlySpan<byte> bytecode, Address admin, Address @operator) =>
        [.. bytecode, .. P2PEnergy.Ethereum.Abi.Encode(Abi.ConstructorInputs, [admin, @operator])];

    // ---- views ----

    public async Task<bool> IsRecordedAsync(long lotId, BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (bool)(await CallAsync(IsRecordedFunction, [checked((ulong)lotId)], block, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<ulong> LotCountAsync(BlockParameter? block = null, CancellationToken cancellationToken = default) =>
        (ulong)(BigInteger)(await CallAsync(LotCountFunction, [], block, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<Address> AdminAsync(CancellationToken cancellationToken = default) =>
        (Address)(await CallAsync(AdminFunction, [], null, cancellationToken).ConfigureAwait(false))[0]!;

    public async Task<bool> IsOperatorAsync(Address account, CancellationToken cancellationToken = default) =>
        (bool)(await CallAsync(IsOperatorFunction, [account], null, cancellationToken).ConfigureAwait(false))[0]!;

    /// <summary>The committed order root of a slot; null while none is committed.</summary>
    public async Task<byte[]?> OrderRootAsync(long slot, CancellationToken cancellationToken = default)
    {
        var root = (byte[])(await CallAsync(OrderRootFunction, [checked((ulong)slot)], null, cancellationToken).ConfigureAwait(false))[0]!;
        return root.All(b => b == 0) ? null : root;
    }

    /// <summary>Whether there is contract code at <see cref="Address"/> (a restarted devnet may have lost it).</summary>
    public async Task<bool> HasCodeAsync(CancellationToken cancellationToken = default)
    {
        var code = await _client.SendAsync("eth_getCode", [Address.ToLowerHex(), "latest"], cancellationToken).ConfigureAwait(false);
        return Hex.Decode(code.GetString() ?? "0x").Length > 0;
    }

    private async Task<object?[]> CallAsync(AbiFunction function, object?[] arguments, BlockParameter? block, CancellationToken cancellationToken)
    {
        byte[] result;
        try
        {
            result = await _client.CallAsync(
                new CallRequest { To = Address, Data = function.EncodeCall(arguments) }, block ?? BlockParameter.Latest, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonRpcException e) when (LedgerError.TryFrom(e, out var error))
        {
            throw new LedgerRevertException(function.Name, error, e);
        }
        if (result.Length == 0 && function.Outputs.Count > 0)
        {
            // A call to an address without code "succeeds" with empty return data.
            throw new LedgerUnavailableException($"{function.Name} returned no data: no EnergyLedger code at {Address}?");
        }
        return function.DecodeOutput(result);
    }

    // ---- transactions (one-off; the recorder manages its own nonces) ----

    /// <summary>Records one batch directly, without the recorder's retries (tests, baselines, tools).</summary>
    public Task<TransactionReceipt> RecordLotsAsync(EthKey operatorKey, IReadOnlyList<Lot> lots, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, EncodeRecordLots(lots), "recordLots", cancellationToken);

    public Task<TransactionReceipt> CommitOrderRootAsync(EthKey operatorKey, long slot, byte[] root, uint orders, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(operatorKey, Address, EncodeCommitOrderRoot(slot, root, orders), "commitOrderRoot", cancellationToken);

    public Task<TransactionReceipt> SetOperatorAsync(EthKey adminKey, Address @operator, bool enabled, CancellationToken cancellationToken = default) =>
        Sender.SendAsync(adminKey, Address, EncodeSetOperator(@operator, enabled), "setOperator", cancellationToken);

    // ---- events ----

    public static bool IsLotRecorded(LogEntry log) =>
        log is not null && log.Topics.Count == 4 && log.Topics[0].AsSpan().SequenceEqual(LotRecordedTopic);

    /// <summary>Decodes a LotRecorded log into the lot it records, with block, transaction and log index.</summary>
    public static RecordedLot DecodeLotRecorded(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var values = LotRecordedEvent.DecodeLog(log.Topics, log.Data);
        var slot = (BigInteger)values[0]!;
        var seller = ParticipantAddress.FromBytes(((Address)values[1]!).ToBytes());
        var buyer = ParticipantAddress.FromBytes(((Address)values[2]!).ToBytes());
        var lot = LotPacking.FromEventWord((byte[])values[3]!, checked((long)slot), seller, buyer);
        return new RecordedLot(
            lot,
            log.BlockNumber ?? 0,
            log.TransactionHash is { } hash ? Hex.Encode(hash) : string.Empty,
            log.LogIndex ?? 0);
    }

    /// <summary>LotRecorded events of this ledger, optionally filtered by the indexed slot, seller and buyer, in chain order.</summary>
    public async Task<IReadOnlyList<RecordedLot>> GetRecordedLotsAsync(
        ulong fromBlock = 0,
        ulong? toBlock = null,
        long? slot = null,
        ParticipantAddress? seller = null,
        ParticipantAddress? buyer = null,
        CancellationToken cancellationToken = default)
    {
        var topics = new List<IReadOnlyList<byte[]>?>
        {
            new[] { LotRecordedTopic },
            slot is { } s ? [AbiEvent.EncodeTopic(AbiType.UInt(64), checked((ulong)s))] : null,
            seller is { } se ? [AbiEvent.EncodeTopic(AbiType.Address, new Address(se.ToBytes()))] : null,
            buyer is { } b ? [AbiEvent.EncodeTopic(AbiType.Address, new Address(b.ToBytes()))] : null,
        };
        var logs = await GetLogsAsync(topics, fromBlock, toBlock, cancellationToken).ConfigureAwait(false);
        return logs.Where(IsLotRecorded).Select(DecodeLotRecorded).ToArray();
    }

    public async Task<IReadOnlyList<OrderRootCommitment>> GetOrderRootsAsync(ulong fromBlock = 0, ulong? toBlock = null, CancellationToken cancellationToken = default)
    {
        var logs = await GetLogsAsync([new[] { OrderRootCommittedTopic }], fromBlock, toBlock, cancellationToken).ConfigureAwait(false);
        return logs.Select(DecodeOrderRootCommitted).ToArray();
    }

    /// <summary>Decodes an OrderRootCommitted log, with its block and transaction.</summary>
    public static OrderRootCommitment DecodeOrderRootCommitted(LogEntry log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var v = OrderRootCommittedEvent.DecodeLog(log.Topics, log.Data);
        return new OrderRootCommitment(
            checked((long)(BigInteger)v[0]!), Hex.Encode((byte[])v[1]!), (uint)(BigInteger)v[2]!,
            log.BlockNumber ?? 0, log.TransactionHash is { } h ? Hex.Encode(h) : string.Empty);
    }

    private async Task<List<LogEntry>> GetLogsAsync(IReadOnlyList<IReadOnlyList<byte[]>?> topics, ulong fromBlock, ulong? toBlock, CancellationToken cancellationToken)
    {
        ulong last = toBlock ?? await _client.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        return await ReadLogsAsync(_client, Address, topics, fromBlock, last, cancellationToken).ConfigureAwait(false);
    }

    // Nodes limit the block range of one eth_getLogs: ask in windows.
    private const ulong LogWindow = 10_000;

    /// <summary>
    /// The logs of <paramref name="contract"/> from <paramref name="fromBlock"/> to <paramref name="toBlock"/> (inclusive)
    /// matching <paramref name="topics"/> (empty: every log), asked in windows of blocks, removed ones left out, in the node's order.
    /// </summary>
    public static async Task<List<LogEntry>> ReadLogsAsync(
        EthJsonRpcClient client, Address contract, IReadOnlyList<IReadOnlyList<byte[]>?> topics, ulong fromBlock, ulong toBlock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var result = new List<LogEntry>();
        for (ulong from = fromBlock; from <= toBlock; from += LogWindow)
        {
            ulong to = Math.Min(toBlock, from + LogWindow - 1);
            var logs = await client.GetLogsAsync(
                new LogFilter { Addresses = [contract], Topics = topics, FromBlock = BlockParameter.At(from), ToBlock = BlockParameter.At(to) },
                cancellationToken).ConfigureAwait(false);
            result.AddRange(logs.Where(l => !l.Removed));
        }
        return result;
    }

    private static ContractAbi LoadEmbeddedAbi()
    {
        const string name = "P2PEnergy.Ledger.EnergyLedger.abi.json";
        using var stream = typeof(EnergyLedgerContract).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource {name} is missing.");
        using var reader = new StreamReader(stream);
        return ContractAbi.Parse(reader.ReadToEnd());
    }
}
