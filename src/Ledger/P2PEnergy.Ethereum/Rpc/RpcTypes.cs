using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>A block reference in JSON-RPC: a tag ("latest", "pending", ...) or a number. The default is "latest".</summary>
public readonly struct BlockParameter : IEquatable<BlockParameter>
{
    private readonly string? _tag;
    private readonly ulong _number;
    private readonly bool _isNumber;

    private BlockParameter(string? tag, ulong number, bool isNumber)
    {
        _tag = tag;
        _number = number;
        _isNumber = isNumber;
    }

    public static BlockParameter Latest => new("latest", 0, false);

    public static BlockParameter Pending => new("pending", 0, false);

    public static BlockParameter Earliest => new("earliest", 0, false);

    public static BlockParameter Safe => new("safe", 0, false);

    public static BlockParameter Finalized => new("finalized", 0, false);

    public static BlockParameter At(ulong blockNumber) => new(null, blockNumber, true);

    public ulong? Number => _isNumber ? _number : null;

    public string ToRpc() => _isNumber ? Hex.EncodeQuantity(_number) : _tag ?? "latest";

    public override string ToString() => ToRpc();

    public bool Equals(BlockParameter other) => ToRpc() == other.ToRpc();

    public override bool Equals(object? obj) => obj is BlockParameter other && Equals(other);

    public override int GetHashCode() => ToRpc().GetHashCode(StringComparison.Ordinal);

    public static bool operator ==(BlockParameter left, BlockParameter right) => left.Equals(right);

    public static bool operator !=(BlockParameter left, BlockParameter right) => !left.Equals(right);
}

/// <summary>The transaction-call object of eth_call and eth_estimateGas. Unset members are omitted.</summary>
public sealed record CallRequest
{
    public Address? From { get; init; }

    public Address? To { get; init; }

    public ulong? Gas { get; init; }

    public BigInteger? GasPrice { get; init; }

    public BigInteger? MaxFeePerGas { get; init; }

    public BigInteger? MaxPriorityFeePerGas { get; init; }

    public BigInteger? Value { get; init; }

    public byte[]? Data { get; init; }
}

/// <summary>An eth_getLogs filter. Each topic position is null (any) or a list of alternatives (any of).</summary>
public sealed record LogFilter
{
    public IReadOnlyList<Address> Addresses { get; init; } = [];

    public IReadOnlyList<IReadOnlyList<byte[]>?> Topics { get; init; } = [];

    public BlockParameter? FromBlock { get; init; }

    public BlockParameter? ToBlock { get; init; }

    /// <summary>Restricts to one block; cannot be combined with FromBlock/ToBlock.</summary>
    public byte[]? BlockHash { get; init; }
}

public sealed record LogEntry
{
    public required Address Address { get; init; }

    public required IReadOnlyList<byte[]> Topics { get; init; }

    public required byte[] Data { get; init; }

    public ulong? BlockNumber { get; init; }

    public byte[]? BlockHash { get; init; }

    public byte[]? TransactionHash { get; init; }

    public ulong? TransactionIndex { get; init; }

    public ulong? LogIndex { get; init; }

    public bool Removed { get; init; }
}

public sealed record TransactionReceipt
{
    public required byte[] TransactionHash { get; init; }

    public required ulong TransactionIndex { get; init; }

    public required byte[] BlockHash { get; init; }

    public required ulong BlockNumber { get; init; }

    public required Address From { get; init; }

    public Address? To { get; init; }

    public Address? ContractAddress { get; init; }

    public required ulong CumulativeGasUsed { get; init; }

    public required ulong GasUsed { get; init; }

    public BigInteger? EffectiveGasPrice { get; init; }

    /// <summary>1 for success, 0 for failure (revert); null on pre-Byzantium chains.</summary>
    public byte? Status { get; init; }

    public byte? Type { get; init; }

    public required IReadOnlyList<LogEntry> Logs { get; init; }

    public bool Succeeded => Status == 1;
}

public sealed record FeeHistory
{
    public required ulong OldestBlock { get; init; }

    /// <summary>One more entry than blocks requested: the last is the next block's base fee.</summary>
    public required IReadOnlyList<BigInteger> BaseFeePerGas { get; init; }

    public required IReadOnlyList<double> GasUsedRatio { get; init; }

    /// <summary>Per block, the priority fee at each requested percentile; empty when none were requested.</summary>
    public required IReadOnlyList<IReadOnlyList<BigInteger>> Reward { get; init; }
}
