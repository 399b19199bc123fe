using System.Buffers.Binary;

namespace P2PEnergy.Ledger;

/// <summary>
/// The Merkle tree of a slot's signed orders, whose root the operator commits with
/// EnergyLedger.commitOrderRoot after the slot's gate closes.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Leaf = keccak256(abi.encode(uint64 orderId, bytes32 orderDigest)) (the contract's OrderRootCommitted
/// documentation); leaves are ordered by order id; an order id appears once.</item>
/// <item>Parent = keccak256 of the two children concatenated smaller first (bytewise), as OpenZeppelin's
/// MerkleProof (<c>_hashPair</c>) does, so a proof is just the list of siblings, bottom up, with no
/// left/right flags, and OpenZeppelin's <c>MerkleProof.verify</c> accepts it on chain.</item>
/// <item>A level with an odd count promotes its last node unchanged to the next level (it is not hashed with
/// itself); such a level adds no sibling to that node's proof.</item>
/// <item>One order: the root is its leaf and its proof is empty.</item>
/// </list>
/// </remarks>
public sealed class OrderMerkleTree
{
    private readonly List<byte[][]> _levels; // _levels[0] = leaves, last = [root]
    private readonly Dictionary<long, int> _indexOf;

    private OrderMerkleTree(List<byte[][]> levels, Dictionary<long, int> indexOf, IReadOnlyList<long> orderIds)
    {
        _levels = levels;
        _indexOf = indexOf;
        OrderIds = orderIds;
    }

    /// <summary>Order ids in leaf order (ascending).</summary>
    public IReadOnlyList<long> OrderIds { get; }

    public int Count => OrderIds.Count;

    public byte[] Root => (byte[])_levels[^1][0].Clone();

    public static OrderMerkleTree Build(IEnumerable<(long OrderId, byte[] OrderDigest)> orders)
    {
        ArgumentNullException.ThrowIfNull(orders);
        var sorted = orders.OrderBy(o => o.OrderId).ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A slot's order tree needs at least one order.", nameof(orders));
        }
        var indexOf = new Dictionary<long, int>(sorted.Length);
        var leaves = new byte[sorted.Length][];
        for (int i = 0; i < sorted.Length; i++)
        {
            if (!indexOf.TryAdd(sorted[i].OrderId, i))
            {
                throw new ArgumentException($"Order id {sorted[i].OrderId} appears twice.", nameof(orders));
            }
            leaves[i] = Leaf(sorted[i].OrderId, sorted[i].OrderDigest);
        }
        return new OrderMerkleTree(SortedPairMerkle.Levels(leaves), indexOf, sorted.Select(o => o.OrderId).ToArray());
    }

    /// <summary>keccak256(abi.encode(uint64 orderId, bytes32 orderDigest)).</summary>
    public static byte[] Leaf(long orderId, ReadOnlySpan<byte> orderDigest)
    {
        if (orderId < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(orderId), orderId, "An order id is not negative.");
        }
        if (orderDigest.Length != 32)
        {
            throw new ArgumentException("An order digest has 32 bytes.", nameof(orderDigest));
        }
        Span<byte> encoded = stackalloc byte[64];
        encoded[..24].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(encoded[24..32], (ulong)orderId);
        orderDigest.CopyTo(encoded[32..]);
        return Keccak.Hash256(encoded);
    }

    /// <summary>Sorted-pair hashing: keccak256(min(a, b) ‖ max(a, b)), comparing bytewise.</summary>
    public static byte[] HashPair(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) => SortedPairMerkle.HashPair(a, b);

    /// <summary>The siblings from the leaf of <paramref name="orderId"/> up to the root.</summary>
    public IReadOnlyList<byte[]> GetProof(long orderId)
    {
        if (!_indexOf.TryGetValue(orderId, out int index))
        {
            throw new KeyNotFoundException($"Order {orderId} is not in this tree.");
        }
        return SortedPairMerkle.Proof(_levels, index);
    }

    /// <summary>Whether <paramref name="proof"/> leads from the order's leaf to <paramref name="root"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> root, long orderId, ReadOnlySpan<byte> orderDigest, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (root.Length != 32 || orderDigest.Length != 32 || orderId < 0)
        {
            return false;
        }
        return SortedPairMerkle.Verify(root, Leaf(orderId, orderDigest), proof);
    }
}
