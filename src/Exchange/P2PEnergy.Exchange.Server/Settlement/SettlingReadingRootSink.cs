using P2PEnergy.Exchange.Server.Metering;

namespace P2PEnergy.Exchange.Server.Settlement;

/// <summary>
/// The metering store's one <see cref="IReadingRootSink"/>: tells the <see cref="SlotSettler"/> that a slot's
/// readings are sealed, then the sink that was registered before (e.g. one that puts the root on chain), so that
/// plugging settlement in keeps any other sink working. Both only queue work (the store calls on its sealing thread).
/// </summary>
public sealed class SettlingReadingRootSink(SlotSettler settler, IReadingRootSink next) : IReadingRootSink
{
    public IReadingRootSink Next { get; } = next;

    public void ReadingRootReady(long slot, byte[] root, int count)
    {
        try
        {
            settler.OnReadingsSealed(slot);
        }
        finally
        {
            // The next sink is told even if the settler threw (the store logs what reaches it).
            Next.ReadingRootReady(slot, root, count);
        }
    }
}
