using P2PEnergy.Exchange.Server.Domain;
using P2PEnergy.Exchange.Server.Hosting;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>
/// On the system clock, seals the readings of slots whose deadline has passed once per
/// <c>Exchange:GateCheckIntervalMs</c>, so that their roots reach the sink without waiting for a metering call.
/// On the simulated clock the first metering call after AdvanceClock seals them.
/// </summary>
public sealed partial class MeteringDeadlineService(Market market, MeterReadingStore store, ILogger<MeteringDeadlineService> logger) : MarketClockTicker(market)
{
    protected override void Tick() => store.SealDue();

    protected override void OnTickFailed(Exception ex) => LogSealingFailed(ex);

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "Sealing due meter readings failed")]
    private partial void LogSealingFailed(Exception ex);
}
