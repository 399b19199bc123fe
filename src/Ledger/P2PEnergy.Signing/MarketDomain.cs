using P2PEnergy.Ethereum;

namespace P2PEnergy.Signing;

/// <summary>
/// The EIP-712 domain of the market's signed messages: name "P2PEnergy", version "1", the chain id and
/// the ledger contract (verifyingContract). A signature is valid for one market on one chain only, so an
/// order signed for a test market cannot be replayed on the real one. Until a ledger is deployed the
/// exchange uses the zero address.
/// </summary>
public sealed class MarketDomain : IEquatable<MarketDomain>
{
    public const string Name = "P2PEnergy";
    public const string Version = "1";

    /// <summary>Hardhat's chain id, the exchange's default.</summary>
    public const ulong DevChainId = 31337;

    private readonly byte[] _separator;

    public MarketDomain(ulong chainId, Address ledger)
    {
        if (chainId == 0) throw new ArgumentOutOfRangeException(nameof(chainId), chainId, "a chain id is positive");
        ChainId = chainId;
        Ledger = ledger;
        _separator = Eip712.HashDomain(ToEip712());
    }

    public ulong ChainId { get; }

    /// <summary>The ledger contract's address (EIP-712 verifyingContract).</summary>
    public Address Ledger { get; }

    /// <summary>hashStruct(EIP712Domain): the domain separator.</summary>
    public byte[] Separator => (byte[])_separator.Clone();

    internal ReadOnlySpan<byte> SeparatorSpan => _separator;

    public Eip712Domain ToEip712() => new()
    {
        Name = Name,
        Version = Version,
        ChainId = ChainId,
        VerifyingContract = Ledger,
    };

    public bool Equals(MarketDomain? other) => other is not null && ChainId == other.ChainId && Ledger == other.Ledger;

    public override bool Equals(object? obj) => Equals(obj as MarketDomain);

    public override int GetHashCode() => HashCode.Combine(ChainId, Ledger);

    public override string ToString() => $"{Name} v{Version}, chain {ChainId}, ledger {Ledger}";
}
