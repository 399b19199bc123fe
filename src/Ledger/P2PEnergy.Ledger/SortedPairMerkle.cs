namespace P2PEnergy.Ledger;

/// <summary>
/// The tree shape both of our Merkle trees (orders, meter readings) share, as OpenZeppelin's MerkleProof
/// expects it: parent = keccak256 of the two children concatenated smaller first (bytewise), so a proof is
/// only the siblings, bottom up; the last node of an odd level is promoted unchanged; one leaf is its own root.
/// </summary>
internal static class SortedPairMerkle
{
    /// <summary>Sorted-pair hashing: keccak256(min(a, b) ‖ max(a, b)), comparing bytewise.</summary>
    public static byte[] HashPair(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        a.SequenceCompareTo(b) <= 0 ? Keccak.Hash256Concat(a.ToArray(), b.ToArray()) : Keccak.Hash256Concat(b.ToArray(), a.ToArray());

    /// <summary>Every level from the leaves (first) up to the root (last, one node).</summary>
    public static List<byte[][]> Levels(byte[][] leaves)
    {
        if (leaves.Length == 0) throw new ArgumentException("A tree needs at least one leaf.", nameof(leaves));
        var levels = new List<byte[][]> { leaves };
        while (levels[^1].Length > 1)
        {
            var below = levels[^1];
            var above = new byte[(below.Length + 1) / 2][];
            for (int i = 0; i < above.Length; i++)
            {
                above[i] = 2 * i + 1 < below.Length ? HashPair(below[2 * i], below[2 * i + 1]) : below[2 * i];
            }
            levels.Add(above);
        }
        return levels;
    }

    /// <summary>The siblings from leaf <paramref name="index"/> up to the root.</summary>
    public static IReadOnlyList<byte[]> Proof(List<byte[][]> levels, int index)
    {
        var proof = new List<byte[]>();
        for (int level = 0; level < levels.Count - 1; level++)
        {
            var nodes = levels[level];
            int sibling = index ^ 1;
            if (sibling < nodes.Length) proof.Add((byte[])nodes[sibling].Clone());
            index /= 2;
        }
        return proof;
    }

    /// <summary>Whether <paramref name="proof"/> leads from <paramref name="leaf"/> to <paramref name="root"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> root, byte[] leaf, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (root.Length != 32 || leaf.Length != 32) return false;
        var node = leaf;
        foreach (var sibling in proof)
        {
            if (sibling is null || sibling.Length != 32) return false;
            node = HashPair(node, sibling);
        }
        return node.AsSpan().SequenceEqual(root);
    }
}
