using P2PEnergy.Exchange;

namespace P2PEnergy.Exchange.Server.Domain;

/// <summary>
/// Every lot the market made, in memory, with lookups by slot and by participant. Not thread-safe:
/// <see cref="Market"/> guards it. Lot ids are 1, 2, 3, … so every index list is sorted by lot id.
/// </summary>
public sealed class LotStore
{
    private readonly List<Lot> _all = [];
    private readonly Dictionary<long, List<Lot>> _bySlot = new();
    private readonly Dictionary<Address, List<Lot>> _byParticipant = new();

    public int Count => _all.Count;

    /// <summary>Lots by position (lot ids are dense from 1, so position = lot id - 1).</summary>
    public Lot[] Range(int start, int count) => _all.GetRange(start, count).ToArray();

    /// <summary>Every lot, in lot-id order (snapshots).</summary>
    public IReadOnlyList<Lot> All => _all;

    public void Add(in Lot lot)
    {
        if (_all.Count > 0 && lot.LotId <= _all[^1].LotId)
            throw new InvalidOperationException($"lot {lot.LotId} arrived after lot {_all[^1].LotId}");
        _all.Add(lot);
        Index(_bySlot, lot.Slot, lot);
        Index(_byParticipant, lot.Seller, lot);
        Index(_byParticipant, lot.Buyer, lot);
    }

    private static void Index<TKey>(Dictionary<TKey, List<Lot>> index, TKey key, in Lot lot) where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        list.Add(lot);
    }

    /// <summary>
    /// Up to <paramref name="pageSize"/> lots with id above <paramref name="afterLotId"/>, filtered by slot
    /// and/or participant; <paramref name="more"/> tells whether a further page has lots now.
    /// </summary>
    public IReadOnlyList<Lot> Page(long? slot, Address? participant, long afterLotId, int pageSize, out bool more)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        List<Lot> source;
        if (participant is { } p)
        {
            if (!_byParticipant.TryGetValue(p, out source!)) source = [];
        }
        else if (slot is { } s)
        {
            if (!_bySlot.TryGetValue(s, out source!)) source = [];
        }
        else
        {
            source = _all;
        }

        var page = new List<Lot>(Math.Min(pageSize, 64));
        more = false;
        for (var i = FirstAfter(source, afterLotId); i < source.Count; i++)
        {
            var lot = source[i];
            if (slot is { } only && lot.Slot != only) continue;
            if (page.Count == pageSize)
            {
                more = true;
                break;
            }
            page.Add(lot);
        }
        return page;
    }

    private static int FirstAfter(List<Lot> sorted, long afterLotId)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid].LotId <= afterLotId) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
