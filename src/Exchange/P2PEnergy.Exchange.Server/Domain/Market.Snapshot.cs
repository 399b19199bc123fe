using P2PEnergy.Exchange;
using P2PEnergy.Exchange.Server.Durability;

namespace P2PEnergy.Exchange.Server.Domain;

public sealed partial class Market
{
    /// <summary>
    /// The whole market as of the last journaled command (under the lock, so no command is half in it). Copies only:
    /// serialise it outside the lock.
    /// </summary>
    /// <param name="metering">The meter-reading store's state, captured while the caller holds that store's lock (which
    /// is taken before the market's), so that the journal seq covers both exactly.</param>
    internal MarketState CaptureState(Func<MeteringState>? metering = null)
    {
        lock (_lock)
        {
            var (orders, sealedSlots) = _signedOrders.Export();
            return new MarketState(
                MarketState.CurrentVersion,
                _journal.LastSeq,
                Clock.NowUnixMs,
                _engine.Snapshot(),
                _lots.All.ToArray(),
                orders,
                sealedSlots,
                _tariff,
                metering?.Invoke());
        }
    }

    /// <summary>
    /// Puts a snapshot in place of the empty market (start-up, before replaying the entries after it). The snapshot
    /// must be of this market's configuration: other slot lengths or lot steps would make other lots.
    /// </summary>
    internal void RestoreState(MarketState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        List<(long Slot, P2PEnergy.Ledger.OrderMerkleTree Tree)> trees;
        lock (_lock)
        {
            if (_lots.Count > 0 || _engine.NextOrderId != 1 || _engine.Participants.Count > 0)
                throw new InvalidOperationException("a snapshot is restored only into a new market");
            if (state.Engine.Config != _engine.Config)
                throw new InvalidDataException($"the snapshot was taken with another market configuration ({state.Engine.Config}) than this exchange's ({_engine.Config}): start it with the configuration the journal was written with");
            _engine = MatchingEngine.Restore(state.Engine);
            foreach (var lot in state.Lots) _lots.Add(lot);
            _tariff = state.Tariff;
            if (Clock.Simulated is { } clock && clock.GetUtcNow().ToUnixTimeMilliseconds() < state.ClockUnixMs)
            {
                clock.AdvanceTo(DateTimeOffset.FromUnixTimeMilliseconds(state.ClockUnixMs));
            }
            trees = _signedOrders.Import(state.SignedOrders, state.SealedSlots);
        }
        foreach (var (slot, tree) in trees)
        {
            try
            {
                _orderRoots.OrderRootReady(slot, tree.Root, tree.Count);
            }
            catch (Exception ex)
            {
                LogOrderRootSinkFailed(ex, slot);
            }
        }
    }
}
