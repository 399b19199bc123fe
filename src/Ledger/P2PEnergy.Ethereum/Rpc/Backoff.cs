namespace P2PEnergy.Ethereum;

/// <summary>Capped exponential backoff, the one rule every retry loop of the ledger uses.</summary>
public static class Backoff
{
    /// <summary>
    /// The wait before retry <paramref name="attempt"/> (1-based): <paramref name="initial"/> × 2^(attempt − 1), never more
    /// than <paramref name="max"/> (however large the attempt).
    /// </summary>
    public static TimeSpan Delay(TimeSpan initial, TimeSpan max, int attempt)
    {
        if (attempt < 1) throw new ArgumentOutOfRangeException(nameof(attempt), attempt, "Attempts count from 1.");
        return TimeSpan.FromTicks((long)Math.Min(initial.Ticks * Math.Pow(2, attempt - 1), max.Ticks));
    }
}
