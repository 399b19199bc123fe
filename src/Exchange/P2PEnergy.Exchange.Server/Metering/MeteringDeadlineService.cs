using P2PEnergy.Exchange.Server.Domain;

namespace P2PEnergy.Exchange.Server.Metering;

/// <summary>
/// On the system clock, seals the readings of slots whose deadline has passed once per
/// <c>Exchange:GateCheckIntervalMs</c>, so that their roots reach the sink without waiting for a metering call.
/// On the simulated clock it does nothing: the first metering call after AdvanceClock seals them.
/// </summary>
public sealed partial class MeteringDeadlineService(Market market, MeterReadingStore store, ILogger<MeteringDeadlineService> logger) : BackgroundService
{
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (market.Clock.Simulated is null)
        {
            _timer = new PeriodicTimer(TimeSpan.FromMilliseconds(market.Options.GateCheckIntervalMs), market.Clock.Time);
        }
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_timer is not { } timer) return;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    store.SealDue();
                }
                catch (Exception ex)
                {
                    LogSealingFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 123, Level = LogLevel.Error, Message = "Sealing due meter readings failed")]
    private partial void LogSealingFailed(Exception ex);
}
