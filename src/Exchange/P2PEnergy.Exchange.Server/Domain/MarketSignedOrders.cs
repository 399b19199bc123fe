using P2PEnergy.Ledger;
using P2PEnergy.Signing;

namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// A new order as its participant signed it: the EIP-712 message (fields exactly as sent), its digest, and
/// the 65-byte signature (empty when the exchange accepted it unsigned in development mode).
/// </summary>
public sealed record SignedOrder(OrderMessage Message, byte[] Digest, byte[] Signature);

/// <summary>An accepted order with the Merkle proof that ties it to its slot's order root.</summary>
public sealed record OrderProof(long OrderId, long Slot, SignedOrder Order, byte[] SlotRoot, IReadOnlyList<byte[]> Proof, int OrderCount);

public enum OrderProofLookup
{
    Found,

    /// <summary>No order with this id was ever accepted.</summary>
    UnknownOrder,

    /// <summary>The order's slot is still open: its tree is built when the gate closes.</summary>
    RootPending,
}

/// <summary>
/// Told of each slot's order root once its gate has closed, e.g. to commit it on chain with
/// EnergyLedger.commitOrderRoot(slot, root, count). Called in gate-closure order, outside the market's
/// lock, on the thread that closed the gate: queue the work, do not block. A slot in which no order was
/// accepted has no root and is not reported.
/// </summary>
public interface IOrderRootSink
{
    void OrderRootReady(long slot, byte[] root, int count);
}

/// <summary>The default sink: nobody commits roots (no ledger configured).</summary>
public sealed class NoOrderRootSink : IOrderRootSink
{
    public static readonly NoOrderRootSink Instance = new();

    public void OrderRootReady(long slot, byte[] root, int count)
    {
    }
}

/// <summary>
/// Every accepted order's signed form, per slot, in memory, and each closed slot's
/// <see cref="OrderMerkleTree"/> (leaf = keccak256(abi.encode(uint64 orderId, bytes32 digest))). An order
/// that was accepted was signed, so it stays in its slot's tree even when it is later cancelled, reduced
/// or expires. Orders are added under the market's lock; a slot is sealed under the market's lock when its
/// gate closes (no order can join it afterwards) and its tree is built outside that lock.
/// </summary>
public sealed class SignedOrderStore
{
    private sealed class SlotOrders
    {
        public readonly List<(long OrderId, SignedOrder Order)> Orders = [];
        public bool Sealed;
        public OrderMerkleTree? Tree;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<long, SlotOrders> _slots = new();
    private readonly Dictionary<long, (SlotOrders Slot, long SlotIndex, int Index)> _byOrderId = new();

    public void Add(long orderId, long slot, SignedOrder order)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(slot, out var orders)) _slots[slot] = orders = new SlotOrders();
            if (orders.Sealed) throw new InvalidOperationException($"order {orderId} joined slot {slot} after its gate closed");
            _byOrderId.Add(orderId, (orders, slot, orders.Orders.Count));
            orders.Orders.Add((orderId, order));
        }
    }

    /// <summary>Marks the slot's order set final (its gate closed). Returns what the tree is to be built from, or null when no order was accepted.</summary>
    public IReadOnlyList<(long OrderId, SignedOrder Order)>? Seal(long slot)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(slot, out var orders))
            {
                _slots[slot] = new SlotOrders { Sealed = true };
                return null;
            }
            orders.Sealed = true;
            return orders.Orders.Count == 0 ? null : orders.Orders;
        }
    }

    /// <summary>Builds a sealed slot's tree (CPU work: call outside the market's lock) and keeps it.</summary>
    public OrderMerkleTree BuildTree(long slot, IReadOnlyList<(long OrderId, SignedOrder Order)> orders)
    {
        var tree = OrderMerkleTree.Build(orders.Select(o => (o.OrderId, o.Order.Digest)));
        lock (_lock)
        {
            _slots[slot].Tree = tree;
        }
        return tree;
    }

    /// <summary>Every accepted order's signed form (in order-id order) and the sealed slots, for a snapshot.</summary>
    public (List<Durability.SignedOrderRecord> Orders, List<long> SealedSlots) Export()
    {
        lock (_lock)
        {
            var orders = new List<Durability.SignedOrderRecord>(_byOrderId.Count);
            foreach (var (orderId, at) in _byOrderId.OrderBy(kv => kv.Key))
            {
                var o = at.Slot.Orders[at.Index].Order;
                orders.Add(new Durability.SignedOrderRecord(orderId, at.SlotIndex, o.Message, o.Digest, o.Signature));
            }
            var sealedSlots = _slots.Where(kv => kv.Value.Sealed).Select(kv => kv.Key).Order().ToList();
            return (orders, sealedSlots);
        }
    }

    /// <summary>
    /// Rebuilds the store from a snapshot (at start-up, before anyone reads it): the orders, the sealed slots and
    /// their trees. Returns the sealed slots' trees in slot order, for the order-root sink.
    /// </summary>
    public List<(long Slot, OrderMerkleTree Tree)> Import(IEnumerable<Durability.SignedOrderRecord> orders, IEnumerable<long> sealedSlots)
    {
        var trees = new List<(long, OrderMerkleTree)>();
        lock (_lock)
        {
            if (_byOrderId.Count > 0 || _slots.Count > 0) throw new InvalidOperationException("a snapshot is restored only into an empty store");
        }
        foreach (var o in orders) Add(o.OrderId, o.Slot, new SignedOrder(o.Message, o.Digest, o.Signature));
        foreach (var slot in sealedSlots.Order())
        {
            var signed = Seal(slot);
            if (signed is not null) trees.Add((slot, BuildTree(slot, signed)));
        }
        return trees;
    }

    public bool TryGetSlotOrderRoot(long slot, out byte[] root, out int count)
    {
        lock (_lock)
        {
            if (_slots.TryGetValue(slot, out var orders) && orders.Tree is { } tree)
            {
                root = tree.Root;
                count = tree.Count;
                return true;
            }
        }
        root = [];
        count = 0;
        return false;
    }

    public OrderProofLookup TryGetProof(long orderId, out OrderProof? proof)
    {
        proof = null;
        lock (_lock)
        {
            if (!_byOrderId.TryGetValue(orderId, out var at)) return OrderProofLookup.UnknownOrder;
            if (at.Slot.Tree is not { } tree) return OrderProofLookup.RootPending;
            var order = at.Slot.Orders[at.Index].Order;
            proof = new OrderProof(orderId, at.SlotIndex, order, tree.Root, tree.GetProof(orderId), tree.Count);
            return OrderProofLookup.Found;
        }
    }
}
