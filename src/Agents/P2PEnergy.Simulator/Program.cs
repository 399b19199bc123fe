using P2PEnergy.Simulator;
using P2PEnergy.Simulator.Day;

// The P2P Energy community simulator, a gRPC client of the exchange:
//   P2PEnergy.Simulator day --exchange http://127.0.0.1:5080 [--rpc URL --deployment FILE] [--scenario higashi-fuji] [--seed 1] …
//   P2PEnergy.Simulator scripted --exchange http://127.0.0.1:5080 [--admin-token TOKEN]
if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine("""
        usage: P2PEnergy.Simulator day --exchange URL [--rpc URL --deployment FILE] [options]   (day --help)
               P2PEnergy.Simulator report --result FILE [--audit FILE] [--out DIR]
               P2PEnergy.Simulator scripted --exchange URL [--admin-token TOKEN]

          day        run a community's day(s) through the exchange: agents trade every slot, meters
                     report, slots settle; with --rpc the ledger is then audited from the chain against
                     the exchange's lots; writes result.json, the report and the audit, prints a summary.
          report     writes a finished day's report again (beside result.json unless --out) with the
                     verdict of `p2penergy-ledger audit --json` (or the day's own audit); exit 1 when
                     the audit failed.
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
    case "day":
        using (var cts = new CancellationTokenSource())
        {
            Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
            try
            {
                return await DayCommand.RunAsync(args[1..], cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                Console.Error.WriteLine("day: cancelled");
                return 130;
            }
        }
    case "report":
        return ReportCommand.Run(args[1..]);
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
