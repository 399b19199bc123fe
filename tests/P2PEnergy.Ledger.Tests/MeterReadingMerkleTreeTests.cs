namespace P2PEnergy.Ledger.Tests;

/// <summary>
/// The readings tree as EnergyLedger builds it: leaves by participant, and (what the paged settlement relies on)
/// a root that a frontier of full subtrees, folded from the right, reproduces for every leaf count.
/// </summary>
public sealed class MeterReadingMerkleTreeTests
{
    private const ulong Slot = 989_200;

    private static Address RandomAddress(Random random)
    {
        var bytes = new byte[20];
        random.NextBytes(bytes);
        return new Address(bytes);
    }

    private sealed record Reading(Address Meter, Address Participant, ulong ImportWh, ulong ExportWh)
    {
        public byte[] Leaf => MeterReadingMerkleTree.Leaf(Meter, Participant, Slot, ImportWh, ExportWh);

        public (Address Meter, Address Participant, byte[] Leaf) Input => (Meter, Participant, Leaf);
    }

    private static Reading[] Readings(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(_ => new Reading(RandomAddress(random), RandomAddress(random), (ulong)random.Next(0, 5000), (ulong)random.Next(0, 5000)))
            .ToArray();
    }

    private static int CompareBytes(Address a, Address b) => a.ToBytes().AsSpan().SequenceCompareTo(b.ToBytes());

    private static byte[] SortedPair(byte[] a, byte[] b) =>
        a.AsSpan().SequenceCompareTo(b) <= 0 ? Keccak.Hash256Concat(a, b) : Keccak.Hash256Concat(b, a);

    /// <summary>
    /// The contract's frontier (EnergyLedger._pushLeaf, _finishPaged), written independently: n leaves split into
    /// the full subtrees of n's binary decomposition (largest first), each hashed pairwise, then combined from
    /// the right (the smallest subtree first).
    /// </summary>
    private static byte[] FrontierRoot(IReadOnlyList<byte[]> leaves)
    {
        var subtrees = new List<byte[]>();
        int start = 0;
        for (int h = 30; h >= 0; h--)
        {
            int size = 1 << h;
            if ((leaves.Count & size) == 0) continue;
            var level = leaves.Skip(start).Take(size).ToList();
            while (level.Count > 1)
            {
                level = Enumerable.Range(0, level.Count / 2).Select(i => SortedPair(level[2 * i], level[2 * i + 1])).ToList();
            }
            subtrees.Add(level[0]);
            start += size;
        }
        var root = subtrees[^1];
        for (int i = subtrees.Count - 2; i >= 0; i--) root = SortedPair(subtrees[i], root);
        return root;
    }

    [Fact]
    public void A_leaf_is_keccak_of_abi_encode_meter_participant_slot_import_export()
    {
        var r = Readings(1, 1)[0];
        var encoded = Abi.Encode(
            AbiType.ParseList("address", "address", "uint64", "uint64", "uint64"), [r.Meter, r.Participant, Slot, r.ImportWh, r.ExportWh]);
        Assert.Equal(Keccak.Hash256(encoded), r.Leaf);
    }

    [Fact]
    public void Leaves_go_by_participant_whatever_the_input_order_and_meters_follow_them()
    {
        var readings = Readings(9, 2);
        var byParticipant = readings.OrderBy(r => r.Participant, Comparer<Address>.Create(CompareBytes)).ToArray();
        // Meters are random too, so ordering by meter would give another order: the test could tell.
        Assert.NotEqual(byParticipant.Select(r => r.Meter), readings.OrderBy(r => r.Meter, Comparer<Address>.Create(CompareBytes)).Select(r => r.Meter));

        var tree = MeterReadingMerkleTree.Build(readings.Select(r => r.Input));
        var reversed = MeterReadingMerkleTree.Build(readings.Reverse().Select(r => r.Input));
        var shuffled = MeterReadingMerkleTree.Build(readings.OrderBy(r => r.ImportWh).Select(r => r.Input));

        Assert.Equal(byParticipant.Select(r => r.Participant), tree.Participants);
        Assert.Equal(byParticipant.Select(r => r.Meter), tree.Meters);
        Assert.Equal(9, tree.Count);
        Assert.Equal(tree.Root, reversed.Root);
        Assert.Equal(tree.Root, shuffled.Root);
        Assert.Equal(tree.Participants, shuffled.Participants);
        Assert.Equal(FrontierRoot(byParticipant.Select(r => r.Leaf).ToArray()), tree.Root);
        // The order matters: the same leaves by meter give another root.
        Assert.NotEqual(FrontierRoot(readings.OrderBy(r => r.Meter, Comparer<Address>.Create(CompareBytes)).Select(r => r.Leaf).ToArray()), tree.Root);
    }

    [Fact]
    public void Participants_compare_bytewise_from_the_first_byte()
    {
        // 0x01 00..00 is above 0x00 ff..ff: big-endian byte order, as the contract compares addresses (uint160).
        var low = new byte[20];
        Array.Fill(low, (byte)0xff);
        low[0] = 0;
        var high = new byte[20];
        high[0] = 1;
        var readings = new[]
        {
            new Reading(new Address(Enumerable.Repeat((byte)0x0a, 20).ToArray()), new Address(high), 1, 0),
            new Reading(new Address(Enumerable.Repeat((byte)0x0b, 20).ToArray()), new Address(low), 2, 0),
        };
        var tree = MeterReadingMerkleTree.Build(readings.Select(r => r.Input));
        Assert.Equal([new Address(low), new Address(high)], tree.Participants);
    }

    [Fact]
    public void A_participant_twice_or_a_meter_twice_is_refused()
    {
        var readings = Readings(5, 3);
        var participantTwice = readings.Append(readings[2] with { Meter = RandomAddress(new Random(99)) });
        var meterTwice = readings.Append(readings[3] with { Participant = RandomAddress(new Random(98)) });

        var p = Assert.Throws<ArgumentException>(() => MeterReadingMerkleTree.Build(participantTwice.Select(r => r.Input)));
        Assert.Contains(readings[2].Participant.ToString(), p.Message, StringComparison.Ordinal);
        var m = Assert.Throws<ArgumentException>(() => MeterReadingMerkleTree.Build(meterTwice.Select(r => r.Input)));
        Assert.Contains(readings[3].Meter.ToString(), m.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => MeterReadingMerkleTree.Build([]));
        Assert.Throws<ArgumentException>(() => MeterReadingMerkleTree.Build([(readings[0].Meter, readings[0].Participant, new byte[31])]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(12)]
    [InlineData(33)]
    [InlineData(100)]
    public void Every_meters_proof_verifies_and_a_wrong_reading_does_not(int count)
    {
        var readings = Readings(count, 100 + count);
        var tree = MeterReadingMerkleTree.Build(readings.Select(r => r.Input));
        int depth = count == 1 ? 0 : (int)Math.Ceiling(Math.Log2(count));
        foreach (var r in readings)
        {
            Assert.True(tree.Contains(r.Meter));
            var proof = tree.GetProof(r.Meter);
            Assert.InRange(proof.Count, count == 1 ? 0 : 1, depth);
            Assert.True(MeterReadingMerkleTree.Verify(tree.Root, r.Leaf, proof), $"proof of meter {r.Meter} of {count}");
            Assert.False(MeterReadingMerkleTree.Verify(tree.Root, (r with { ExportWh = r.ExportWh + 1 }).Leaf, proof));
        }
        var stranger = RandomAddress(new Random(7));
        Assert.False(tree.Contains(stranger));
        Assert.Throws<KeyNotFoundException>(() => tree.GetProof(stranger));
    }

    [Fact]
    public void For_1_to_64_leaves_the_root_is_the_frontier_fold_of_full_subtrees()
    {
        var all = Readings(64, 4);
        for (int n = 1; n <= 64; n++)
        {
            var readings = all.Take(n).ToArray();
            var leaves = readings.OrderBy(r => r.Participant, Comparer<Address>.Create(CompareBytes)).Select(r => r.Leaf).ToArray();
            var tree = MeterReadingMerkleTree.Build(readings.Select(r => r.Input));
            Assert.True(FrontierRoot(leaves).AsSpan().SequenceEqual(tree.Root), $"{n} leaves");
        }
    }

    [Fact]
    public void The_reference_fold_combines_the_smallest_subtrees_first()
    {
        // Guards the reference fold itself against a left-to-right fold, which differs from 7 leaves on (4 + 2 + 1).
        var leaves = Readings(7, 5).Select(r => r.Leaf).ToArray();
        var (a, b, c, d, e, f, g) = (leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], leaves[5], leaves[6]);
        var abcd = SortedPair(SortedPair(a, b), SortedPair(c, d));
        Assert.Equal(SortedPair(abcd, e), FrontierRoot(leaves[..5]));
        Assert.Equal(SortedPair(abcd, SortedPair(e, f)), FrontierRoot(leaves[..6]));
        Assert.Equal(SortedPair(abcd, SortedPair(SortedPair(e, f), g)), FrontierRoot(leaves));
        Assert.NotEqual(SortedPair(SortedPair(abcd, SortedPair(e, f)), g), FrontierRoot(leaves));
    }
}
