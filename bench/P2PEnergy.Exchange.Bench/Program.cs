using P2PEnergy.Bench;
using P2PEnergy.Exchange.Bench;

// Benchmarks of issue 3. Figures go into the issue note; no test asserts them.
//   dotnet run -c Release --project bench/P2PEnergy.Exchange.Bench -- core [--orders N] [--repeats N] [--seed N]
//   dotnet run -c Release --project bench/P2PEnergy.Exchange.Bench -- grpc [--stream-orders N] [--streams N] [--rate N] [--seconds N]
// Issue 7, load: the exchange as its own process, in memory beside the Redis journal (appendfsync everysec, always).
//   dotnet run -c Release --project bench/P2PEnergy.Exchange.Bench -- load [--seconds N] [--rate N] [--callers N] [--streams N] [--batch N] [--window N] [--stream-pool N]
var mode = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "core";
int Option(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
}

switch (mode)
{
    case "core":
        CoreBenchmarks.Run(Option("--orders", 1_000_000), Option("--repeats", 5), Option("--seed", 42));
        break;
    case "grpc":
        var unsigned = args.Contains("--unsigned");
        await GrpcBenchmarks.RunAsync(Option("--stream-orders", unsigned ? 200_000 : 40_000), Option("--streams", 1), Option("--rate", 5_000), Option("--seconds", 10), signed: !unsigned);
        break;
    case "load":
        return await LoadBenchmark.RunAsync(new LoadSettings(Option("--seconds", 60), Option("--rate", 1_000), Option("--callers", 32),
            Option("--streams", 4), Option("--batch", 100), Option("--window", 2), Option("--stream-pool", 0)));
    default:
        Console.Error.WriteLine($"unknown benchmark '{mode}': use core, grpc or load");
        return 2;
}
return 0;
