namespace P2PEnergy.Ledger.Tests;

public sealed class OrderMerkleTreeTests
{
    private static byte[] Digest(long orderId) => Keccak.Hash256Utf8($"signed order {orderId}");

    private static (long, byte[])[] Orders(params long[] ids) => ids.Select(id => (id, Digest(id))).ToArray();

    [Fact]
    public void A_leaf_is_keccak_of_abi_encode_uint64_and_bytes32()
    {
        var digest = Digest(42);
        var encoded = Abi.Encode(AbiType.ParseList("uint64", "bytes32"), [42UL, digest]);
        Assert.Equal(Keccak.Hash256(encoded), OrderMerkleTree.Leaf(42, digest));
    }

    [Fact]
    public void One_order_is_its_own_root_with_an_empty_proof()
    {
        var tree = OrderMerkleTree.Build(Orders(7));
        Assert.Equal(OrderMerkleTree.Leaf(7, Digest(7)), tree.Root);
        Assert.Empty(tree.GetProof(7));
        Assert.True(OrderMerkleTree.Verify(tree.Root, 7, Digest(7), []));
    }

    [Fact]
    public void Three_orders_pair_the_first_two_and_promote_the_third()
    {
        var tree = OrderMerkleTree.Build(Orders(30, 10, 20)); // any input order: leaves go by order id
        var (a, b, c) = (OrderMerkleTree.Leaf(10, Digest(10)), OrderMerkleTree.Leaf(20, Digest(20)), OrderMerkleTree.Leaf(30, Digest(30)));
        static byte[] Sorted(byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y) <= 0 ? Keccak.Hash256Concat(x, y) : Keccak.Hash256Concat(y, x);
        Assert.Equal(Sorted(Sorted(a, b), c), tree.Root);
        Assert.Equal([10L, 20L, 30L], tree.OrderIds);
        Assert.Equal([b, c], tree.GetProof(10));
        Assert.Equal([Sorted(a, b)], tree.GetProof(30)); // promoted at level 0: no sibling there
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(100)]
    public void Every_proof_verifies_and_the_root_ignores_input_order(int count)
    {
        var ids = Enumerable.Range(1, count).Select(i => (long)i * 7919 % 100_003).ToArray();
        var tree = OrderMerkleTree.Build(Orders(ids));
        var shuffled = OrderMerkleTree.Build(Orders(ids.Reverse().ToArray()));
        Assert.Equal(tree.Root, shuffled.Root);
        int depth = (int)Math.Ceiling(Math.Log2(count));
        foreach (var id in ids)
        {
            var proof = tree.GetProof(id);
            Assert.InRange(proof.Count, 1, depth);
            Assert.True(OrderMerkleTree.Verify(tree.Root, id, Digest(id), proof), $"proof of order {id} of {count}");
        }
    }

    [Fact]
    public void A_tampered_proof_a_wrong_digest_or_a_wrong_id_fails()
    {
        var tree = OrderMerkleTree.Build(Orders(1, 2, 3, 4, 5));
        var proof = tree.GetProof(3).Select(p => (byte[])p.Clone()).ToList();
        Assert.True(OrderMerkleTree.Verify(tree.Root, 3, Digest(3), proof));

        var tampered = proof.Select(p => (byte[])p.Clone()).ToList();
        tampered[0][31] ^= 1;
        Assert.False(OrderMerkleTree.Verify(tree.Root, 3, Digest(3), tampered));
        Assert.False(OrderMerkleTree.Verify(tree.Root, 3, Digest(4), proof));
        Assert.False(OrderMerkleTree.Verify(tree.Root, 4, Digest(3), proof));
        Assert.False(OrderMerkleTree.Verify(tree.Root, 3, Digest(3), proof.Take(proof.Count - 1).ToList()));
        Assert.False(OrderMerkleTree.Verify(tree.Root, 3, Digest(3), [.. proof, Digest(9)]));
    }

    [Fact]
    public void Refuses_no_orders_and_a_repeated_order_id()
    {
        Assert.Throws<ArgumentException>(() => OrderMerkleTree.Build([]));
        Assert.Throws<ArgumentException>(() => OrderMerkleTree.Build([(1, Digest(1)), (1, Digest(2))]));
        Assert.Throws<KeyNotFoundException>(() => OrderMerkleTree.Build(Orders(1, 2)).GetProof(3));
    }
}
