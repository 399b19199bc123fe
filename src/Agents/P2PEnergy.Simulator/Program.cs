using P2PEnergy.Simulator;

// The P2P Energy demo client. Until the community simulator exists, `scripted` runs a short trading
// session against a running exchange over gRPC and prints the lots.
//   P2PEnergy.Simulator scripted --exchange http://127.0.0.1:5080 [--admin-token TOKEN]
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("""
        usage: P2PEnergy.Simulator scripted --exchange URL [--admin-token TOKEN]

          scripted   register a small community, trade one continuous slot and one call-auction
                     slot through the exchange's gRPC API, close the gates and print the lots.
                     The exchange must run on its simulated clock (Exchange:Clock=simulated).

        options:
          --exchange URL       the exchange's gRPC address (h2c), e.g. http://127.0.0.1:5080
          --admin-token TOKEN  the operator token, when the exchange requires one
        """);
    return args.Length == 0 ? 2 : 0;
}

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

switch (args[0])
{
    case "scripted":
        var url = Option("--exchange");
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            Console.Error.WriteLine("scripted: --exchange URL is required (e.g. http://127.0.0.1:5080)");
            return 2;
        }
        using (var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            return await ScriptedSession.RunAsync(uri, Option("--admin-token"), Console.Out, cts.Token);
        }
    default:
        Console.Error.WriteLine($"unknown command '{args[0]}': try --help");
        return 2;
}
