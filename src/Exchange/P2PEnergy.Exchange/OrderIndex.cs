namespace P2PEnergy.Exchange;

/// <summary>
/// Live order id → node handle. Order ids are handed out 1, 2, 3, …, so a paged array indexed by the id
/// does the work of a hash map at a fraction of the cost: pages of 65,536 ids, allocated on first use and
/// released when their last live order is gone (the page being filled is kept; a few released pages are
/// kept aside and reused).
/// </summary>
internal sealed class OrderIndex
{
    private const int PageBits = 16;
    private const int PageSize = 1 << PageBits;
    private const int PageMask = PageSize - 1;

    private int[]?[] _pages = new int[]?[16]; // entries hold handle + 1; 0 = no live order
    private int[] _live = new int[16];
    private long _highestPage = -1;
    private readonly Stack<int[]> _spare = new(); // released pages, all zero, kept for reuse

    private readonly int _spareLimit;

    /// <summary>Makes room for <paramref name="capacity"/> live orders up front (pages kept aside for use).</summary>
    public OrderIndex(int capacity)
    {
        var pages = (capacity + PageSize - 1) / PageSize;
        _spareLimit = Math.Max(4, pages);
        for (var i = 0; i < pages; i++) _spare.Push(new int[PageSize]);
    }

    public int Count { get; private set; }

    public void Add(long orderId, int handle)
    {
        var p = orderId >> PageBits;
        if (p >= _pages.Length)
        {
            var size = Math.Max(_pages.Length * 2, (int)p + 1);
            Array.Resize(ref _pages, size);
            Array.Resize(ref _live, size);
        }
        var page = _pages[p] ??= _spare.Count > 0 ? _spare.Pop() : new int[PageSize];
        ref var entry = ref page[orderId & PageMask];
        if (entry != 0) throw new InvalidOperationException($"order {orderId} is already live");
        entry = handle + 1;
        _live[p]++;
        _highestPage = Math.Max(_highestPage, p);
        Count++;
    }

    public bool TryGet(long orderId, out int handle)
    {
        var p = orderId >> PageBits;
        if (orderId > 0 && p < _pages.Length && _pages[p] is { } page)
        {
            handle = page[orderId & PageMask] - 1;
            return handle >= 0;
        }
        handle = -1;
        return false;
    }

    public void Remove(long orderId)
    {
        var p = orderId >> PageBits;
        var page = _pages[p]!;
        ref var entry = ref page[orderId & PageMask];
        if (entry == 0) throw new InvalidOperationException($"order {orderId} is not live");
        entry = 0;
        Count--;
        if (--_live[p] == 0 && p != _highestPage)
        {
            // Every entry of the page is 0 again: keep a few for reuse, so steady trading allocates nothing.
            if (_spare.Count < _spareLimit) _spare.Push(page);
            _pages[p] = null;
        }
    }

    /// <summary>Every live (order id, handle), in order-id order.</summary>
    public IEnumerable<(long OrderId, int Handle)> Items()
    {
        for (var p = 0; p < _pages.Length; p++)
        {
            var page = _pages[p];
            if (page is null) continue;
            for (var i = 0; i < PageSize; i++)
            {
                if (page[i] != 0) yield return (((long)p << PageBits) | (long)i, page[i] - 1);
            }
        }
    }
}
