namespace P2PEnergy.HealthProbe;

/// <summary>
/// p2penergy-healthprobe URL [--service NAME] [--timeout-ms N]: exit 0 when the server at URL answers
/// grpc.health.v1.Health/Check with SERVING, 1 otherwise, 2 on bad usage. The exchange image's HEALTHCHECK.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: p2penergy-healthprobe http://HOST:PORT [--service NAME] [--timeout-ms N]";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" || !Uri.TryCreate(args[0], UriKind.Absolute, out var url) || url.Scheme != "http")
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var service = "";
        var timeoutMs = 3000;
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--service" when i + 1 < args.Length:
                    service = args[++i];
                    break;
                case "--timeout-ms" when i + 1 < args.Length && int.TryParse(args[i + 1], out var ms) && ms > 0:
                    timeoutMs = ms;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"p2penergy-healthprobe: unexpected argument '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        using var timeout = new CancellationTokenSource(timeoutMs);
        using var http = new HttpMessageInvoker(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromMilliseconds(timeoutMs) });
        try
        {
            var result = await GrpcHealthProbe.CheckAsync(http, url, service, timeout.Token);
            Console.WriteLine($"{url}: {result.Message}");
            return result.Serving ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or FormatException or IOException)
        {
            Console.WriteLine($"{url}: {(timeout.IsCancellationRequested ? $"no answer within {timeoutMs} ms" : e.Message)}");
            return 1;
        }
    }
}
