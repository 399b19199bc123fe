namespace P2PEnergy.Exchange;

/// <summary>The state of one slot: its mechanism, its gate and its orders.</summary>
internal sealed class SlotState
{
    public SlotState(long slot, Mechanism mechanism, long gateClosureUnixMs)
    {
        Slot = slot;
        Mechanism = mechanism;
        GateClosureUnixMs = gateClosureUnixMs;
    }

    public long Slot { get; }

    public Mechanism Mechanism { get; }

    public long GateClosureUnixMs { get; }

    public SlotPhase Phase { get; set; } = SlotPhase.Open;

    public int LiveOrders { get; set; }

    /// <summary>CDA: books by class, each a list of per-zone books (created when a zone first rests an order).</summary>
    public readonly List<PriceTimeBook>[] BooksByClass = [[], [], [], []];

    /// <summary>CDA: the book of (class, zone), or null.</summary>
    public PriceTimeBook?[]?[] BookIndex = new PriceTimeBook?[]?[4];

    /// <summary>
    /// Call auction: every order handle in order-id order. A cancelled order stays here, marked not live,
    /// and its node is kept until the gate closes, so the list never points at a reused node.
    /// </summary>
    public readonly List<int> AuctionHandles = [];

    public bool IsOpenAt(long unixMs) => Phase == SlotPhase.Open && unixMs < GateClosureUnixMs;

    public PriceTimeBook GetOrCreateBook(OrderNodePool pool, BookClass bookClass, int zone, int maxZones)
    {
        var byZone = BookIndex[(int)bookClass] ??= new PriceTimeBook?[maxZones];
        var book = byZone[zone];
        if (book is null)
        {
            book = new PriceTimeBook(pool, bookClass, zone);
            byZone[zone] = book;
            BooksByClass[(int)bookClass].Add(book);
        }
        return book;
    }

    public PriceTimeBook GetBook(BookClass bookClass, int zone) => BookIndex[(int)bookClass]![zone]!;
}
