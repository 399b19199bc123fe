namespace P2PEnergy.Ethereum;

public sealed record JsonRpcClientOptions
{
    public required Uri Endpoint { get; init; }

    /// <summary>Limit for one attempt (request sent to full body received). A timed-out attempt is not retried.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Extra attempts after a connection failure or an HTTP 5xx. 0 disables retrying.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>Wait before the first retry; doubled for each further retry up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
