namespace P2PEnergy.Exchange;

/// <summary>Which resting book an order sits in. Sells by source, buys by product.</summary>
internal enum BookClass : byte
{
    RenewableSell = 0,
    MixedSell = 1,
    GreenBuy = 2,
    StandardBuy = 3,
}

/// <summary>One order's mutable state, stored by handle in <see cref="OrderNodePool"/>.</summary>
internal struct OrderNode
{
    public long OrderId;
    public long Slot;
    public ulong ClientOrderId;
    public long Price;
    public long OriginalWh;
    public long RemainingWh;
    public long FilledWh;
    public int Participant;
    public int Zone;
    public int Next;
    public int Prev;
    public Side Side;
    public Product Product;
    public EnergySource Source;
    public BookClass Class;
    public bool Live;
}

/// <summary>
/// A growable array of order nodes with a free list, so that steady-state trading allocates nothing.
/// Handles are indexes; -1 is "none".
/// </summary>
internal sealed class OrderNodePool
{
    public const int None = -1;

    public OrderNode[] Items;
    private int _count;
    private int _free = None;

    public OrderNodePool(int capacity) => Items = new OrderNode[capacity];

    public int Allocate()
    {
        int handle;
        if (_free != None)
        {
            handle = _free;
            _free = Items[handle].Next;
        }
        else
        {
            if (_count == Items.Length)
            {
                Array.Resize(ref Items, Items.Length * 2);
            }
            handle = _count++;
        }
        return handle;
    }

    /// <summary>Returns a node to the free list. Its fields are left as they are: Allocate's caller sets them all.</summary>
    public void Free(int handle)
    {
        ref var node = ref Items[handle];
        node.Live = false;
        node.Next = _free;
        _free = handle;
    }
}
