using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Audit;
using Spectre.Console;

namespace P2PEnergy.Simulator.Day;

/// <summary>The `day` command: options, the run, result.json, a summary.</summary>
public static class DayCommand
{
    public const string Usage = """
        usage: P2PEnergy.Simulator day --exchange URL [options]

          day        run a community's day(s) through the exchange over gRPC: agents trade every slot,
                     meters report signed readings, slots are sealed and settled; waits until the ledger
                     has every lot and settled slot on chain, audits it (with --rpc), writes result.json,
                     the report (report.md, CSV, plots) and the audit (audit.txt, audit.json) and prints a
                     summary. The exchange must run on its simulated clock.

        options:
          --exchange URL        the exchange's gRPC address (h2c), e.g. http://127.0.0.1:5080 (required)
          --scenario FILE|NAME  a scenario file, or a bundled one: higashi-fuji (default), small
          --days N              local days to run, 1 … 366 (default 1)
          --seed N              seed of weather, loads and keys (default 1)
          --mechanism M         call-auction (default) or continuous
          --scale N             multiply the homes (and their batteries and PHEVs) by N (default: the scenario's)
          --start-date D        YYYY-MM-DD or next (default: the scenario's startDate)
          --slots N             run only the first N slots (quick runs)
          --out DIR             output folder (default out/day)
          --admin-token TOKEN   the operator token, when the exchange requires one
          --ledger-timeout S    at the end, how long to wait for the ledger to catch up once it stops moving (default 120)
          --no-progress         no progress bar (also off when the output is redirected)

        the audit at the end (the ledger auditor in this process, as `p2penergy-ledger audit --exchange`):
          --rpc URL             the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545: when given, the day
                                ends with the audit of the exchange's ledger from the chain's events alone against
                                every lot of the exchange; its verdict goes into the report
          --deployment FILE     the ledger's deployment file (p2penergy-ledger deploy --out FILE): its ledger must
                                be the exchange's, and events are read from its deploy block; without it the
                                ledger is the one the exchange reports (LedgerStatus) and events are read from
                                --from-block
          --from-block N        the block the ledger's events start at (default: the deploy block, from the
                                deployment file or else from the exchange's LedgerStatus)

        exit code: 0 the day ran clean (and the audit passed), 1 a check failed, the audit failed or the run
        could not finish, 2 a usage error (a missing or unreadable deployment file, a bad option).
        """;

    /// <summary>Parsed options, or an error message naming the option.</summary>
    public sealed record Parsed(Uri Exchange, string Scenario, int? Scale, string Out, bool Progress, DayOptions Options)
    {
        /// <summary>The audit at the end (--rpc); null: no audit.</summary>
        public AuditTarget? Audit { get; init; }
    }

    public static Parsed Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var progress = true;
        string[] known = ["--exchange", "--scenario", "--days", "--seed", "--mechanism", "--scale", "--start-date", "--slots", "--out", "--admin-token", "--ledger-timeout",
            "--rpc", "--deployment", "--from-block"];
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--no-progress") { progress = false; continue; }
            if (!known.Contains(a)) throw new DayRunException($"unknown option '{a}' (see day --help)");
            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)) throw new DayRunException($"{a} needs a value");
            values[a] = args[++i];
        }
        if (!values.TryGetValue("--exchange", out var url)) throw new DayRunException("--exchange URL is required (e.g. http://127.0.0.1:5080)");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new DayRunException($"--exchange: '{url}' is not an http(s) URL");

        int? Int(string name, int min, int max)
        {
            if (!values.TryGetValue(name, out var v)) return null;
            if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
                throw new DayRunException($"{name}: expected a whole number {min} … {max}, got '{v}'");
            return n;
        }
        ulong seed = 1;
        if (values.TryGetValue("--seed", out var seedText) && !ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out seed))
            throw new DayRunException($"--seed: expected a whole number ≥ 0, got '{seedText}'");
        var mechanism = values.GetValueOrDefault("--mechanism", "call-auction") switch
        {
            "call-auction" => Mechanism.CallAuction,
            "continuous" => Mechanism.Continuous,
            var m => throw new DayRunException($"--mechanism: expected call-auction or continuous, got '{m}'"),
        };
        var start = values.GetValueOrDefault("--start-date");
        if (start is not null && start != "next" && !DateOnly.TryParseExact(start, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            throw new DayRunException($"--start-date: expected YYYY-MM-DD or next, got '{start}'");
        AuditTarget? audit = null;
        ulong? fromBlock = null;
        if (values.TryGetValue("--from-block", out var fromText))
        {
            if (!ulong.TryParse(fromText, NumberStyles.None, CultureInfo.InvariantCulture, out var f))
                throw new DayRunException($"--from-block: expected a block number, got '{fromText}'");
            fromBlock = f;
        }
        if (values.TryGetValue("--rpc", out var rpcText))
        {
            if (!Uri.TryCreate(rpcText, UriKind.Absolute, out var rpc) || (rpc.Scheme != "http" && rpc.Scheme != "https"))
                throw new DayRunException($"--rpc: '{rpcText}' is not an http(s) URL (the chain's JSON-RPC endpoint, e.g. http://127.0.0.1:8545)");
            var file = values.GetValueOrDefault("--deployment");
            audit = new AuditTarget(rpc, file, file is null ? null : AuditTarget.LoadDeployment(file), fromBlock);
        }
        else if (values.ContainsKey("--deployment") || fromBlock is not null)
        {
            throw new DayRunException($"{(values.ContainsKey("--deployment") ? "--deployment" : "--from-block")} is for the audit, which needs --rpc URL (the chain's JSON-RPC endpoint)");
        }
        return new Parsed(uri, values.GetValueOrDefault("--scenario", "higashi-fuji"), Int("--scale", 1, 100_000), values.GetValueOrDefault("--out", Path.Combine("out", "day")),
            progress && !Console.IsOutputRedirected, new DayOptions
            {
                Seed = seed,
                Days = Int("--days", 1, 366) ?? 1,
                Mechanism = mechanism,
                StartDate = start,
                MaxSlots = Int("--slots", 1, 1_000_000),
                AdminToken = values.GetValueOrDefault("--admin-token"),
                LedgerTimeout = TimeSpan.FromSeconds(Int("--ledger-timeout", 1, 86_400) ?? 120),
            }) { Audit = audit };
    }

    public static Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken ct) => RunAsync(args, Console.Out, Console.Error, ct);

    /// <summary>The command with its output and errors written to the given writers (the progress bar and the report's tables go to the terminal).</summary>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken ct) =>
        RunAsync(args, output, error, url => GrpcChannel.ForAddress(url, new GrpcChannelOptions { MaxReceiveMessageSize = null }), ct);

    /// <summary>As above, with the channel to the exchange made by <paramref name="connect"/> (tests: an in-memory exchange).</summary>
    internal static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, Func<Uri, GrpcChannel> connect, CancellationToken ct)
    {
        if (args.Any(a => a is "-h" or "--help"))
        {
            output.WriteLine(Usage);
            return 0;
        }
        Parsed parsed;
        Scenario scenario;
        try
        {
            parsed = Parse(args);
            scenario = ScenarioLoader.Load(parsed.Scenario, parsed.Scale);
        }
        catch (Exception e) when (e is DayRunException or ScenarioException)
        {
            error.WriteLine($"day: {e.Message}");
            return 2;
        }

        var watch = Stopwatch.StartNew();
        DayResult result;
        AuditReport? auditReport = null;
        string? auditError = null;
        using var channel = connect(parsed.Exchange);
        DayAudit? audit = null;
        try
        {
            // The day, then (with --rpc) the audit; a failed audit still leaves the day's result and report.
            async Task<DayResult> Run(IDayProgress? progress)
            {
                if (parsed.Audit is { } target) audit = await DayAudit.PrepareAsync(channel, target, parsed.Options.LedgerTimeout, progress, ct);
                var r = await CommunityDay.RunAsync(channel, scenario, parsed.Options, progress, ct);
                if (audit is null) return r;
                try
                {
                    var (report, summary) = await audit.RunAsync(channel, r, progress, ct);
                    auditReport = report;
                    return r with { Audit = summary, Warnings = [.. r.Warnings, .. audit.Warnings] };
                }
                catch (Exception e) when (e is DayRunException or JsonRpcException or JsonRpcTransportException or LedgerUnavailableException or LedgerRevertException or FormatException)
                {
                    auditError = e.Message;
                    return r with { Warnings = [.. r.Warnings, .. audit.Warnings] };
                }
            }

            if (parsed.Progress)
            {
                DayResult? r = null;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async ctx =>
                    {
                        var progress = new SpectreProgress(ctx, scenario.Name);
                        r = await Run(progress);
                        progress.Finish();
                    });
                result = r!;
            }
            else
            {
                result = await Run(null);
            }
        }
        catch (DayRunException e)
        {
            error.WriteLine($"day: {e.Message}");
            return 1;
        }
        catch (Grpc.Core.RpcException e)
        {
            error.WriteLine($"day: the exchange at {parsed.Exchange} did not answer: {e.StatusCode}: {e.Status.Detail}");
            return 1;
        }
        catch (Exception e) when (e is JsonRpcException or JsonRpcTransportException)
        {
            error.WriteLine($"day: the chain at {parsed.Audit?.Rpc} did not answer: {e.Message}");
            return 1;
        }
        finally
        {
            audit?.Dispose();
        }
        var elapsed = watch.Elapsed;

        Directory.CreateDirectory(parsed.Out);
        var resultPath = Path.Combine(parsed.Out, "result.json");
        await File.WriteAllTextAsync(resultPath, result.ToJson(), ct);
        output.Write(Summary(result));
        var reportAudit = auditError is not null ? P2PEnergy.Report.AuditResult.NotRun($"the audit could not finish: {auditError}") : null;
        var reportOk = WriteReport(result, parsed.Out, parsed.Progress, reportAudit, output, error);
        foreach (var w in result.Warnings.Take(20)) error.WriteLine($"warning: {w}");
        if (result.Warnings.Count > 20) error.WriteLine($"warning: … and {result.Warnings.Count - 20} more (result.json)");
        var exit = reportOk ? 0 : 1;
        if (result.Checks.Violations > 0)
        {
            error.WriteLine($"day: {result.Checks.Violations} check(s) failed: see \"checks\" in {resultPath}");
            exit = 1;
        }
        if (auditError is not null)
        {
            error.WriteLine($"day: the audit could not finish: {auditError}");
            exit = 1;
        }
        else if (auditReport is not null && result.Audit is { } summary)
        {
            var files = DayAudit.Write(auditReport, parsed.Out);
            output.WriteLine(DayAudit.SummaryLine(auditReport, summary));
            output.WriteLine($"audit: {files.Text} ({Path.GetFileName(files.Json)} beside it)");
            if (!summary.Passed)
            {
                foreach (var d in summary.Discrepancies.Take(20)) error.WriteLine($"discrepancy: {d}");
                if (summary.Discrepancies.Count > 20) error.WriteLine($"discrepancy: … and {summary.Discrepancies.Count - 20} more ({files.Text})");
                error.WriteLine($"day: the audit failed: {summary.Discrepancies.Count} discrepanc{(summary.Discrepancies.Count == 1 ? "y" : "ies")}, see {files.Text}");
                exit = 1;
            }
        }
        output.WriteLine($"{result.Run.SlotCount} slot(s) in {elapsed.TotalSeconds:0.0} s; result: {resultPath}");
        return exit;
    }

    /// <summary>
    /// The community report (P2PEnergy.Report): tables printed (Spectre tables on a terminal, plain text when
    /// redirected), report.md, CSV and plots written beside result.json. False when the report refused the input.
    /// </summary>
    public static bool WriteReport(DayResult result, string folder, bool terminal, P2PEnergy.Report.AuditResult? audit = null,
        TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        P2PEnergy.Report.CommunityReport report;
        try
        {
            report = P2PEnergy.Report.CommunityReport.Build(ReportMapping.ToReportInput(result, audit));
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"day: the report refused the result: {e.Message}");
            return false;
        }
        if (terminal) P2PEnergy.Report.SpectreReport.Write(AnsiConsole.Console, report);
        else output.Write(report.RenderText());
        var files = report.WriteTo(folder);
        output.WriteLine($"report: {files.Markdown} ({files.Csv.Count} CSV, {files.Plots.Count} plots in {files.Folder})");
        return true;
    }

    /// <summary>A short plain-text summary: the community's totals against the grid-only baseline, the market, the chain.</summary>
    public static string Summary(DayResult r)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        var run = r.Run;
        w.WriteLine($"{run.Scenario}: {r.Participants.Count} participants, {run.Days} day(s) from {run.StartDate}, {run.SlotCount} slot(s), {run.Mechanism}, seed {run.Seed}");
        var lotWh = r.Lots.Sum(l => l.EnergyWh);
        var renewable = r.Lots.Where(l => l.Source == "renewable").Sum(l => l.EnergyWh);
        w.WriteLine($"market: {r.Lots.Count} lots, {Display.Wh(lotWh)} Wh traded ({(lotWh == 0 ? 0 : renewable * 100 / lotWh)} % renewable)");
        foreach (var group in r.ParticipantSlots.GroupBy(p => p.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ids = group.Select(p => p.Participant).ToHashSet(StringComparer.Ordinal);
            var cost = group.Sum(p => -p.Net + p.PetrolMoney);
            var baseCost = r.Baseline.Where(b => ids.Contains(b.Participant)).Sum(b => b.Cost);
            w.WriteLine($"  {group.Key,-18} {ids.Count,5}: cost {Display.Yen(cost),12} JPY, grid only {Display.Yen(baseCost),12} JPY");
        }
        var total = r.ParticipantSlots.Sum(p => -p.Net + p.PetrolMoney);
        var baseline = r.Baseline.Sum(b => b.Cost);
        w.WriteLine($"  {"community",-18} {r.Participants.Count,5}: cost {Display.Yen(total),12} JPY, grid only {Display.Yen(baseline),12} JPY");
        var c = r.Chain;
        w.WriteLine(c.Enabled
            ? $"chain {c.ChainId}: {c.LotsRecorded + c.LotsFoundOnChain} of {c.LotsMade} lots recorded in {c.Transactions} transaction(s), {c.GasUsed:N0} gas ({c.SettlementGasUsed:N0} for settlement), {c.RootsCommitted} order root(s), {c.SlotsSettledOnChain} slot(s) settled on chain"
            : "chain: the exchange runs without a chain");
        if (r.Audit is { } a)
        {
            var u = a.Usage;
            w.WriteLine($"audit: {(a.Passed ? "passed" : $"FAILED ({a.Discrepancies.Count} discrepancies)")}; ledger {a.Ledger} at block {a.Block}: {a.RunLotsOnChain} of this run's lots and {a.RunSlotsSettledOnChain} of its slots settled on chain; "
                + $"{u.Transactions} transaction(s) in blocks {u.FromBlock} … {u.ToBlock}: {u.RecordingTransactions} recordLots ({u.RecordingGas:N0} gas), {u.OrderRootTransactions} commitOrderRoot ({u.OrderRootGas:N0} gas), {u.SettlementTransactions} settleSlot and deposit ({u.SettlementGas:N0} gas)"
                + (u.OtherTransactions > 0 ? $", {u.OtherTransactions} other ({u.OtherGas:N0} gas)" : "") + (u.Reverted > 0 ? $", {u.Reverted} reverted" : ""));
        }
        var k = r.Checks;
        w.WriteLine($"checks: {k.Violations} failed (bids above retail {k.BidsAboveRetail}, asks below buy-back {k.AsksBelowBuyBack}, lots above retail {k.LotsAboveRetail}, below buy-back {k.LotsBelowBuyBack}, refused orders {k.OrdersRefused}, refused readings {k.ReadingsRefused}, unsettled slots {k.SlotsNotSettled}, not conserved {k.SlotsNotConserved})");
        return w.ToString();
    }

    private sealed class SpectreProgress(ProgressContext ctx, string name) : IDayProgress
    {
        private ProgressTask? _task;
        private readonly ProgressTask _phase = ctx.AddTask($"[grey]{Markup.Escape(name)}: connecting[/]", maxValue: 1);

        public void Start(int slots)
        {
            _phase.Value = 1;
            _phase.StopTask();
            _task = ctx.AddTask($"{Markup.Escape(name)}", maxValue: slots);
        }

        public void SlotTraded(long slot, string localStart)
        {
            if (_task is null) return;
            _task.Description = $"{Markup.Escape(name)} {Markup.Escape(localStart)}";
            _task.Increment(1);
        }

        public void Phase(string what)
        {
            if (_task is null) _phase.Description = $"[grey]{Markup.Escape(name)}: {Markup.Escape(what)}[/]";
            else _task.Description = $"{Markup.Escape(name)}: {Markup.Escape(what)}";
        }

        private ProgressTask? _ledger;

        public void Ledger(long lotsOnChain, long lotsMade, long slotsOnChain, long slotsToSettle)
        {
            _ledger ??= ctx.AddTask("ledger", maxValue: Math.Max(1, lotsMade + slotsToSettle));
            _ledger.MaxValue = Math.Max(1, lotsMade + slotsToSettle);
            _ledger.Value = lotsOnChain + slotsOnChain;
            _ledger.Description = slotsToSettle > 0
                ? $"ledger: {lotsOnChain}/{lotsMade} lots, {slotsOnChain}/{slotsToSettle} slots settled on chain"
                : $"ledger: {lotsOnChain}/{lotsMade} lots on chain";
        }

        public void Finish()
        {
            _task?.StopTask();
            _ledger?.StopTask();
        }
    }
}

/// <summary>
/// `report --result FILE [--audit FILE] [--out DIR]`: writes the report of a finished day again, with the verdict of
/// the ledger auditor (`p2penergy-ledger audit --json`, run on the chain alone after the day), or with the audit the
/// day ran itself (day --rpc) when no --audit is given.
/// </summary>
public static class ReportCommand
{
    public static int Run(IReadOnlyList<string> args)
    {
        string? Option(string name)
        {
            for (int i = 0; i + 1 < args.Count; i++) if (args[i] == name) return args[i + 1];
            return null;
        }
        var resultFile = Option("--result");
        var auditFile = Option("--audit");
        if (resultFile is null)
        {
            Console.Error.WriteLine("report: --result FILE (the day's result.json) is required, and --audit FILE (p2penergy-ledger audit --json) unless the day audited itself (day --rpc)");
            return 2;
        }
        DayResult result;
        P2PEnergy.Report.AuditResult audit;
        try
        {
            result = System.Text.Json.JsonSerializer.Deserialize<DayResult>(File.ReadAllText(resultFile), DayResult.JsonOptions)
                ?? throw new FormatException($"{resultFile} is empty");
            if (auditFile is null)
            {
                if (result.Audit is null)
                {
                    Console.Error.WriteLine($"report: {resultFile} holds no audit (the day ran without --rpc): give --audit FILE (p2penergy-ledger audit --json)");
                    return 2;
                }
                audit = DayAudit.ToReport(result.Audit);
            }
            else
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(auditFile));
                var root = doc.RootElement;
                var discrepancies = root.GetProperty("discrepancies").EnumerateArray().Select(d => d.GetProperty("message").GetString() ?? "").ToList();
                audit = new P2PEnergy.Report.AuditResult(root.GetProperty("passed").GetBoolean(), discrepancies);
            }
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            Console.Error.WriteLine($"report: {e.Message}");
            return 2;
        }
        var folder = Option("--out") ?? Path.GetDirectoryName(Path.GetFullPath(resultFile))!;
        return DayCommand.WriteReport(result, folder, terminal: false, audit) ? (audit.Passed ? 0 : 1) : 1;
    }
}
