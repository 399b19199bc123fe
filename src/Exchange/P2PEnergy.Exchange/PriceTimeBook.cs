namespace P2PEnergy.Exchange;

/// <summary>
/// One side of one class of orders in one zone of a CDA slot, in price-time priority.
/// Price levels live in an array sorted so that the best level is last (removing it is O(1));
/// each level is a FIFO linked list of order nodes.
/// </summary>
internal sealed class PriceTimeBook
{
    private struct Level
    {
        public long Price;
        public long EnergyWh;
        public int Head;
        public int Tail;
        public int Orders;
    }

    private readonly OrderNodePool _pool;
    private Level[] _levels = new Level[16];
    private int _count;

    public PriceTimeBook(OrderNodePool pool, BookClass bookClass, int zone)
    {
        _pool = pool;
        Class = bookClass;
        Zone = zone;
        IsBuy = bookClass is BookClass.GreenBuy or BookClass.StandardBuy;
    }

    public BookClass Class { get; }

    public int Zone { get; }

    public bool IsBuy { get; }

    public bool IsEmpty => _count == 0;

    public int LevelCount => _count;

    public long BestPrice => _levels[_count - 1].Price;

    public int BestHead => _levels[_count - 1].Head;

    /// <summary>Sort key: ascending in the array, best last. Buys: higher is better; sells: lower is better.</summary>
    private long Key(long price) => IsBuy ? price : -price;

    /// <summary>Index of the level with this price, or ~insertionPoint.</summary>
    private int Find(long price)
    {
        var key = Key(price);
        int lo = 0, hi = _count - 1;
        // The best levels are at the end and most activity is near the best: check the end first.
        if (_count > 0 && _levels[hi].Price == price) return hi;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var k = Key(_levels[mid].Price);
            if (k == key) return mid;
            if (k < key) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }

    public void Add(int handle)
    {
        var nodes = _pool.Items;
        ref var node = ref nodes[handle];
        var i = Find(node.Price);
        if (i < 0)
        {
            i = ~i;
            if (_count == _levels.Length)
            {
                Array.Resize(ref _levels, _levels.Length * 2);
            }
            if (i < _count)
            {
                Array.Copy(_levels, i, _levels, i + 1, _count - i);
            }
            _levels[i] = new Level { Price = node.Price, Head = OrderNodePool.None, Tail = OrderNodePool.None };
            _count++;
        }
        ref var level = ref _levels[i];
        node.Prev = level.Tail;
        node.Next = OrderNodePool.None;
        if (level.Tail != OrderNodePool.None)
        {
            nodes[level.Tail].Next = handle;
        }
        else
        {
            level.Head = handle;
        }
        level.Tail = handle;
        level.EnergyWh += node.RemainingWh;
        level.Orders++;
    }

    /// <summary>Takes <paramref name="wh"/> off the best level's total (after a partial fill of its head).</summary>
    public void ReduceBest(long wh) => _levels[_count - 1].EnergyWh -= wh;

    /// <summary>Takes <paramref name="wh"/> off the total of the level holding this price.</summary>
    public void Reduce(long price, long wh)
    {
        var i = Find(price);
        _levels[i].EnergyWh -= wh;
    }

    /// <summary>Unlinks an order; its RemainingWh must still be what the level counted for it.</summary>
    public void Remove(int handle)
    {
        var nodes = _pool.Items;
        ref var node = ref nodes[handle];
        var i = Find(node.Price);
        ref var level = ref _levels[i];
        if (node.Prev != OrderNodePool.None) nodes[node.Prev].Next = node.Next;
        else level.Head = node.Next;
        if (node.Next != OrderNodePool.None) nodes[node.Next].Prev = node.Prev;
        else level.Tail = node.Prev;
        level.EnergyWh -= node.RemainingWh;
        level.Orders--;
        if (level.Orders == 0)
        {
            RemoveLevelAt(i);
        }
    }

    /// <summary>Unlinks the best level's head, which has been filled (RemainingWh already 0 and taken off the level).</summary>
    public void PopBestHead()
    {
        var nodes = _pool.Items;
        ref var level = ref _levels[_count - 1];
        var head = level.Head;
        var next = nodes[head].Next;
        level.Head = next;
        if (next != OrderNodePool.None) nodes[next].Prev = OrderNodePool.None;
        else level.Tail = OrderNodePool.None;
        level.Orders--;
        if (level.Orders == 0)
        {
            _count--;
        }
    }

    private void RemoveLevelAt(int i)
    {
        _count--;
        if (i < _count)
        {
            Array.Copy(_levels, i + 1, _levels, i, _count - i);
        }
    }

    /// <summary>Levels best first: (price, Wh, orders).</summary>
    public IEnumerable<DepthLevel> Levels()
    {
        for (var i = _count - 1; i >= 0; i--)
        {
            yield return new DepthLevel(_levels[i].Price, _levels[i].EnergyWh, _levels[i].Orders);
        }
    }

    /// <summary>Every order handle, best level first, time order within a level.</summary>
    public IEnumerable<int> Handles()
    {
        for (var i = _count - 1; i >= 0; i--)
        {
            for (var h = _levels[i].Head; h != OrderNodePool.None; h = _pool.Items[h].Next)
            {
                yield return h;
            }
        }
    }
}
