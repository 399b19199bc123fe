namespace P2PEnergy.Exchange;

/// <summary>
/// The matching core of one market: participants, slots, books, both mechanisms.
/// Single-threaded and deterministic: the same commands in the same order give the same events.
/// No clock inside: every trading command carries its timestamp. Rules: docs/matching-rules.md.
/// </summary>
public sealed partial class MatchingEngine
{
    public MatchingEngine(MarketConfig config, WheelingTable? wheeling = null)
    {
        config.Validate();
        Config = config;
        Wheeling = wheeling ?? WheelingTable.Uniform(config.MaxZones);
        if (Wheeling.Zones != config.MaxZones)
            throw new ArgumentException($"wheeling table has {Wheeling.Zones} zones, the market {config.MaxZones}", nameof(wheeling));
        InitStorage();
    }

    public MarketConfig Config { get; }

    public WheelingTable Wheeling { get; private set; }

    /// <summary>The id the next accepted order will get.</summary>
    public long NextOrderId => _nextOrderId;

    /// <summary>The id the next lot will get.</summary>
    public long NextLotId => _nextLotId;
}
