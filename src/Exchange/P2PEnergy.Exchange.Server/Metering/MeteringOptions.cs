using P2PEnergy.Exchange.Server.Hosting;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>Metering's settings, bound from the same "Exchange" section as <see cref="ExchangeOptions"/>.</summary>
public sealed class MeteringOptions
{
    public const string Section = ExchangeOptions.Section;

    /// <summary>
    /// Seconds after a slot's delivery end during which its readings are accepted (Exchange:ReadingDeadlineSeconds).
    /// At delivery end + this, the slot's readings are sealed; later readings are late (docs/metering-rules.md).
    /// </summary>
    public long ReadingDeadlineSeconds { get; set; } = 3600;

    public void Validate()
    {
        // Up to a year: a settlement that waits longer has another problem, and unix-ms arithmetic stays far from overflow.
        if (ReadingDeadlineSeconds is < 0 or > 366L * 24 * 3600)
            throw new ArgumentOutOfRangeException(nameof(ReadingDeadlineSeconds), ReadingDeadlineSeconds, "Exchange:ReadingDeadlineSeconds must lie in 0 … one year");
    }
}
