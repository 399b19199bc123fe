using P2PEnergy.Exchange.Server.Domain;

namespace P2PEnergy.Exchange.Server.Hosting;

/// <summary>
/// On the system clock, closes every gate whose time has come (running its auction) once per
/// <see cref="ExchangeOptions.GateCheckIntervalMs"/>. The core already refuses orders after gate time by their
/// timestamps; this is what runs the auctions. On the simulated clock AdvanceClock closes the gates.
/// </summary>
public sealed partial class GateClosingService(Market market, ILogger<GateClosingService> logger) : MarketClockTicker(market)
{
    protected override void Tick() => Market.CloseDueGates();

    protected override void OnTickFailed(Exception ex) => LogGateClosingFailed(ex);

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "Closing due gates failed")]
    private partial void LogGateClosingFailed(Exception ex);
}
