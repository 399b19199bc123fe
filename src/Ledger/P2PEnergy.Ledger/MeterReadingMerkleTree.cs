using System.Buffers.Binary;

namespace P2PEnergy.Ledger;

/// <summary>
/// The Merkle tree of a slot's accepted meter readings, sealed when the operator says so or when the slot's
/// reading deadline passes; settlement commits its root on chain.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Leaf = keccak256(abi.encode(address meter, address participant, uint64 slot, uint64 importWh,
/// uint64 exportWh)): the plain values, not the EIP-712 digest, so that a contract can check a reading from
/// its values alone, without knowing the domain. (The preimage is 160 bytes, never 64, so a leaf cannot be
/// taken for an inner node.)</item>
/// <item>Leaves are ordered by participant address (ascending, bytewise), the order of EnergyLedger's settlement
/// parties, so the contract can build the tree page by page as it settles the parties; a participant and a meter
/// each appear once per slot.</item>
/// <item>Inner nodes as <see cref="OrderMerkleTree"/>: sorted-pair keccak (OpenZeppelin MerkleProof), the last
/// node of an odd level promoted unchanged; one reading: the root is its leaf and its proof is empty.</item>
/// </list>
/// </remarks>
public sealed class MeterReadingMerkleTree
{
    private readonly List<byte[][]> _levels; // _levels[0] = leaves, last = [root]
    private readonly Dictionary<Address, int> _indexOf;

    private MeterReadingMerkleTree(List<byte[][]> levels, Dictionary<Address, int> indexOf, IReadOnlyList<Address> meters, IReadOnlyList<Address> participants)
    {
        _levels = levels;
        _indexOf = indexOf;
        Meters = meters;
        Participants = participants;
    }

    /// <summary>Meters in leaf order (their participants' ascending address).</summary>
    public IReadOnlyList<Address> Meters { get; }

    /// <summary>Participants in leaf order (ascending address).</summary>
    public IReadOnlyList<Address> Participants { get; }

    public int Count => Meters.Count;

    public byte[] Root => (byte[])_levels[^1][0].Clone();

    /// <summary>Builds the tree of one slot's readings: each reading's meter, participant and leaf (<see cref="Leaf"/>).</summary>
    public static MeterReadingMerkleTree Build(IEnumerable<(Address Meter, Address Participant, byte[] Leaf)> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var sorted = readings.Select(r => (r.Meter, r.Participant, Key: r.Participant.ToBytes(), r.Leaf)).ToArray();
        Array.Sort(sorted, (x, y) => x.Key.AsSpan().SequenceCompareTo(y.Key));
        if (sorted.Length == 0) throw new ArgumentException("A slot's reading tree needs at least one reading.", nameof(readings));
        var indexOf = new Dictionary<Address, int>(sorted.Length);
        var leaves = new byte[sorted.Length][];
        for (int i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i].Participant == sorted[i - 1].Participant) throw new ArgumentException($"Participant {sorted[i].Participant} appears twice.", nameof(readings));
            if (!indexOf.TryAdd(sorted[i].Meter, i)) throw new ArgumentException($"Meter {sorted[i].Meter} appears twice.", nameof(readings));
            if (sorted[i].Leaf is not { Length: 32 }) throw new ArgumentException("A leaf has 32 bytes.", nameof(readings));
            leaves[i] = (byte[])sorted[i].Leaf.Clone();
        }
        return new MeterReadingMerkleTree(
            SortedPairMerkle.Levels(leaves), indexOf, sorted.Select(r => r.Meter).ToArray(), sorted.Select(r => r.Participant).ToArray());
    }

    /// <summary>keccak256(abi.encode(address meter, address participant, uint64 slot, uint64 importWh, uint64 exportWh)).</summary>
    public static byte[] Leaf(Address meter, Address participant, ulong slot, ulong importWh, ulong exportWh)
    {
        Span<byte> encoded = stackalloc byte[5 * 32];
        encoded.Clear();
        meter.WriteTo(encoded[12..32]);
        participant.WriteTo(encoded[44..64]);
        BinaryPrimitives.WriteUInt64BigEndian(encoded[88..96], slot);
        BinaryPrimitives.WriteUInt64BigEndian(encoded[120..128], importWh);
        BinaryPrimitives.WriteUInt64BigEndian(encoded[152..160], exportWh);
        return Keccak.Hash256(encoded);
    }

    public bool Contains(Address meter) => _indexOf.ContainsKey(meter);

    /// <summary>The siblings from the meter's leaf up to the root.</summary>
    public IReadOnlyList<byte[]> GetProof(Address meter)
    {
        if (!_indexOf.TryGetValue(meter, out int index)) throw new KeyNotFoundException($"Meter {meter} has no reading in this tree.");
        return SortedPairMerkle.Proof(_levels, index);
    }

    /// <summary>Whether <paramref name="proof"/> leads from <paramref name="leaf"/> to <paramref name="root"/> (as OpenZeppelin's MerkleProof.verify).</summary>
    public static bool Verify(ReadOnlySpan<byte> root, ReadOnlySpan<byte> leaf, IReadOnlyList<byte[]> proof)
    {
        return SortedPairMerkle.Verify(root, leaf.ToArray(), proof);
    }
}
