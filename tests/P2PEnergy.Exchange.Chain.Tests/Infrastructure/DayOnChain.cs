namespace P2PEnergy.Exchange.Chain.Tests.Infrastructure;

using System.Globalization;
using Grpc.Net.Client;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Simulator.Day;
using P2PEnergy.Testing;

/// <summary>
/// The demo's path (scripts/demo.sh) in a test: the exchange server as a separate process (<see cref="ExchangeProcess"/>)
/// recording, committing order roots and settling on <paramref name="ledger"/>'s node, and the simulator's `day`
/// command (its own code, in this process) with --rpc and --deployment, so the day ends with the ledger audit.
/// </summary>
public static class DayOnChain
{
    /// <summary>2026-01-01T00:00:00Z: the small scenario's day (2026-01-06) is ahead of it.</summary>
    public const long StartUnixSeconds = ChainExchangeHost.StartUnixSeconds;

    /// <summary>What a run left: the command's exit code and output, its files, and the exchange's lots (read before it stopped).</summary>
    public sealed record Run(
        int ExitCode,
        string Output,
        string Error,
        string Folder,
        DayResult? Result,
        string? ReportMarkdown,
        string? AuditText,
        string? AuditJson,
        IReadOnlyList<Lot> ExchangeLots,
        int ExchangeProcessId,
        string ExchangeOutput)
    {
        public string Describe() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}\n--- exchange (last lines)\n{ExchangeOutput}";
    }

    /// <summary>The exchange's settings for <paramref name="ledger"/>: recorder, root committer, chain settler and demo deposits, as the demo's.</summary>
    public static Dictionary<string, string> ExchangeSettings(FreshLedger ledger)
    {
        var settings = ledger.Settings().ToDictionary(kv => kv.Key, kv => kv.Value ?? "");
        settings["Exchange:Clock"] = "Simulated";
        settings["Exchange:SimulatedStartUnixSeconds"] = StartUnixSeconds.ToString(CultureInfo.InvariantCulture);
        settings["Ledger:SettlerKey"] = P2PEnergy.Ethereum.Hex.Encode(FreshLedger.SettlerKey.PrivateKeyBytes);
        settings["Ledger:DepositJpy"] = "10000";
        return settings;
    }

    /// <summary>
    /// Starts the exchange process on <paramref name="ledger"/>, waits for the grid operator's deposit it makes at its
    /// start (so that the day's chain figures never depend on whether it was mined before the day began), runs
    /// `day --scenario small --exchange URL --rpc URL --deployment FILE --out DIR --no-progress` plus
    /// <paramref name="dayArgs"/>, reads what it wrote and the exchange's lots, and stops the exchange.
    /// <paramref name="exchangeSettings"/> override the exchange's settings.
    /// </summary>
    public static async Task<Run> RunAsync(
        FreshLedger ledger, IEnumerable<string> dayArgs, CancellationToken ct, string? deploymentFile = null, IReadOnlyDictionary<string, string>? exchangeSettings = null)
    {
        var folder = Directory.CreateTempSubdirectory("p2penergy-day-on-chain-").FullName;
        var settings = ExchangeSettings(ledger);
        foreach (var (key, value) in exchangeSettings ?? new Dictionary<string, string>()) settings[key] = value;
        await using var exchange = await ExchangeProcess.StartAsync(settings, ct);
        using var channel = exchange.CreateChannel();
        try
        {
            await WaitForGridDepositAsync(channel, exchange, ct);
            var output = new StringWriter();
            var error = new StringWriter();
            // deploymentFile "": no --deployment (the ledger and its deploy block come from the exchange's LedgerStatus).
            string[] deployment = deploymentFile == "" ? [] : ["--deployment", deploymentFile ?? ledger.DeploymentFile];
            string[] args =
            [
                "--exchange", exchange.Url.ToString(),
                "--rpc", ledger.Chain.Node.Url.ToString(),
                .. deployment,
                "--scenario", "small",
                "--out", folder,
                "--no-progress",
                "--ledger-timeout", "60",
                .. dayArgs,
            ];
            var pid = exchange.ProcessId ?? throw new InvalidOperationException("the exchange process is not running");
            var exit = await DayCommand.RunAsync(args, output, error, ct);
            var lots = (await new ExchangeService.ExchangeServiceClient(channel).GetLotsAsync(new GetLotsRequest { PageSize = 1000 }, cancellationToken: ct)).Lots.ToList();
            string? Read(string name) => File.Exists(Path.Combine(folder, name)) ? File.ReadAllText(Path.Combine(folder, name)) : null;
            var resultJson = Read("result.json");
            return new Run(exit, output.ToString(), error.ToString(), folder, resultJson is null ? null : DayResult.FromJson(resultJson),
                Read("report.md"), Read("audit.txt"), Read("audit.json"), lots, pid, exchange.RecentOutput);
        }
        finally
        {
            await exchange.StopAsync();
        }
    }

    public static void Delete(Run run)
    {
        try
        {
            Directory.Delete(run.Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task WaitForGridDepositAsync(GrpcChannel channel, ExchangeProcess exchange, CancellationToken ct)
    {
        var ledger = new LedgerStatus.LedgerStatusClient(channel);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var s = await ledger.GetLedgerStatusAsync(new GetLedgerStatusRequest(), cancellationToken: ct);
            if (s.SettlementGasUsed > 0 && s.SettlementsPending == 0) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the exchange did not deposit for the grid operator within 30 s: {s}\n{exchange.RecentOutput}");
            await Task.Delay(50, ct);
        }
    }
}
