using P2PEnergy.Exchange.Server.Domain;

namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>
/// On the system clock, closes every gate whose time has come (running its auction) once per
/// <see cref="ExchangeOptions.GateCheckIntervalMs"/>, with the market's TimeProvider timer. The core already
/// refuses orders after gate time by their timestamps; this is what runs the auctions. On the simulated
/// clock it does nothing: AdvanceClock closes the gates.
/// </summary>
public sealed partial class GateClosingService(Market market, ILogger<GateClosingService> logger) : BackgroundService
{
    private PeriodicTimer? _timer;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // The timer starts with the service, not whenever ExecuteAsync gets a thread: its first tick is
        // one interval after start-up by the market's clock.
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
                    market.CloseDueGates();
                }
                catch (Exception ex)
                {
                    LogGateClosingFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Closing due gates failed")]
    private partial void LogGateClosingFailed(Exception ex);
}
