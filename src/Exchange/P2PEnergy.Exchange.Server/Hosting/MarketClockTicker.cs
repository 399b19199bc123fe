using P2PEnergy.Exchange.Server.Domain;

namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>
/// Runs <see cref="Tick"/> once per <see cref="ExchangeOptions.GateCheckIntervalMs"/> on the system clock, with
/// the market's TimeProvider timer; on the simulated clock it does nothing (AdvanceClock and the calls after it
/// do the work). A failed tick is reported and the next one runs as usual.
/// </summary>
public abstract class MarketClockTicker(Market market) : BackgroundService
{
    private PeriodicTimer? _timer;

    protected Market Market { get; } = market;

    /// <summary>The periodic work.</summary>
    protected abstract void Tick();

    protected abstract void OnTickFailed(Exception ex);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The timer starts with the service, not whenever ExecuteAsync gets a thread: its first tick is
        // one interval after start-up by the market's clock.
        if (Market.Clock.Simulated is null)
        {
            _timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Market.Options.GateCheckIntervalMs), Market.Clock.Time);
        }
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _timer?.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
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
                    Tick();
                }
                catch (Exception ex)
                {
                    OnTickFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
