using System.Text.RegularExpressions;
using P2PEnergy.Deployment.Tests.Infrastructure;

namespace P2PEnergy.Deployment.Tests;

/// <summary>The commands compose and the deploy script run, against the programs' own usage texts.</summary>
public sealed partial class CommandLineTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load();
    private const string DeployScript = "deploy/ledger-deploy.sh";

    /// <summary>Services whose image runs p2penergy-ledger with the service's command as its arguments.</summary>
    private static IReadOnlyList<string> LedgerServiceNames() =>
        Compose.Services.Values.Where(s => s.Build?.DockerfilePath == "deploy/ledger.Dockerfile" && s.Entrypoint is null).Select(s => s.Name).Order(StringComparer.Ordinal).ToList();

    public static TheoryData<string> LedgerServices() => new(LedgerServiceNames());

    [Fact]
    public void The_recorder_and_the_auditor_run_on_the_ledger_image()
    {
        Assert.Equal(["audit", "recorder"], LedgerServiceNames());
        var entrypoint = Dockerfile.Load("deploy/ledger.Dockerfile").Final.Entrypoint!;
        Assert.Equal("dotnet", entrypoint[0]);
        var file = DockerfileTests.AssertRunsPublishedAssembly(Dockerfile.Load("deploy/ledger.Dockerfile"), entrypoint[1]);
        Assert.Equal(Programs.LedgerCliProject, file.PublishedProject);
    }

    [Theory]
    [MemberData(nameof(LedgerServices))]
    public void Ledger_commands_in_compose_match_a_usage_of_the_ledger_cli(string service)
    {
        AssertLedgerUsage($"{service} (compose)", Compose[service].Command ?? throw new Xunit.Sdk.XunitException($"{service}: no command"));
    }

    [Fact]
    public void Ledger_commands_in_the_deploy_script_match_a_usage_of_the_ledger_cli()
    {
        var calls = ScriptLedgerCalls().ToList();
        Assert.Equal(["lots", "deploy", "operator", "operator"], calls.Select(c => c[0]));
        foreach (var call in calls) AssertLedgerUsage(DeployScript, call);
    }

    [Fact]
    public void The_deploy_job_sets_every_variable_its_script_requires()
    {
        var deploy = Compose["deploy"];
        Assert.Equal(["/app/ledger-deploy.sh"], deploy.Entrypoint);
        var required = RequiredVariable().Matches(Repo.Read(DeployScript)).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(required);
        foreach (var name in required)
        {
            Assert.True(deploy.Environment.TryGetValue(name, out var value) && value.Length > 0, $"deploy: {DeployScript} requires {name}, which compose does not set");
        }
        Assert.Empty(deploy.Environment.Keys.Where(k => k.StartsWith("P2PE_", StringComparison.Ordinal)).Except(ScriptVariables()));
    }

    [Fact]
    public void The_recorder_health_check_reads_the_heartbeat_file_its_command_writes()
    {
        // A healthcheck on another path never sees a heartbeat: the recorder would never become healthy (and the agents never start).
        var recorder = Compose["recorder"];
        var file = recorder.Option("--heartbeat-file") ?? throw new Xunit.Sdk.XunitException("recorder: no --heartbeat-file (its health check would not see a stuck loop)");
        Assert.StartsWith("/", file);
        var test = recorder.Healthcheck?.Test ?? throw new Xunit.Sdk.XunitException("recorder: no healthcheck");
        Assert.True(test is ["CMD", "/app/heartbeat-check.sh", var checkedFile, var maxAge] && checkedFile == file && int.Parse(maxAge, System.Globalization.CultureInfo.InvariantCulture) >= 15,
            $"recorder: the healthcheck [{string.Join(", ", test)}] does not run heartbeat-check.sh on {file} with a limit of at least 15 s (the CLI rewrites the file at most every 5 s)");
        // /tmp is writable by the image's non-root user; a read-only volume there would leave the file unwritten.
        Assert.DoesNotContain(recorder.Volumes, m => m.ReadOnly && (file + "/").StartsWith(m.Target.TrimEnd('/') + "/", StringComparison.Ordinal));
    }

    [Fact]
    public void The_agents_command_matches_the_simulator_day_usage()
    {
        var agents = Compose["agents"];
        var command = agents.Command ?? throw new Xunit.Sdk.XunitException("agents: no command");
        Assert.Equal("day", command[0]);
        var options = Programs.DayOptions();
        Assert.NotEmpty(options);
        var used = command.Where(w => w.StartsWith("--", StringComparison.Ordinal)).ToList();
        foreach (var option in used)
        {
            Assert.True(options.ContainsKey(option), $"agents: `day {option}` is not in `P2PEnergy.Simulator day --help` ({string.Join(" ", options.Keys)})");
        }
        foreach (var (option, required) in options.Where(o => o.Value))
        {
            Assert.True(used.Contains(option), $"agents: `day` requires {option}");
        }
        // The image runs the simulator.
        var image = agents.Dockerfile!;
        var file = DockerfileTests.AssertRunsPublishedAssembly(image, image.Final.Entrypoint![1]);
        Assert.Equal(Programs.SimulatorProject, file.PublishedProject);
    }

    [Fact]
    public void The_agents_write_their_report_to_a_volume()
    {
        var agents = Compose["agents"];
        var output = agents.Option("--out") ?? throw new Xunit.Sdk.XunitException("agents: no --out (the default out/day is in the container's own layer)");
        Assert.Contains(agents.Volumes, m => m.IsNamedVolume && !m.ReadOnly && (output + "/").StartsWith(m.Target.TrimEnd('/') + "/", StringComparison.Ordinal));
    }

    [Fact]
    public void Usage_parser_reads_required_and_optional_options()
    {
        var usage = Usage.Parse("--rpc URL (--ledger ADDRESS [--from-block N] | --deployment FILE) [--exchange URL] [--json]");
        Assert.Equal(["--rpc"], usage.Required);
        Assert.Equal(["--deployment", "--exchange", "--from-block", "--json", "--ledger", "--rpc"], usage.Options.Order(StringComparer.Ordinal));
        Assert.NotEmpty(Programs.LedgerUsages("deploy"));
        Assert.Contains(Programs.LedgerUsages("deploy"), u => u.Options.Contains("--grid-operator")); // from its continuation line
        Assert.Empty(Programs.LedgerUsages("no-such-command"));
    }

    private static void AssertLedgerUsage(string where, IReadOnlyList<string> words)
    {
        var command = words[0];
        var usages = Programs.LedgerUsages(command);
        Assert.True(usages.Count > 0, $"{where}: `p2penergy-ledger {command}` is no command of `p2penergy-ledger --help`");
        var used = words.Skip(1).Where(w => w.StartsWith("--", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        Assert.True(usages.Any(u => used.IsSubsetOf(u.Options) && u.Required.IsSubsetOf(used)),
            $"{where}: `p2penergy-ledger {command} {string.Join(' ', used)}` matches no usage of --help:\n  {string.Join("\n  ", usages.Select(u => u.Text))}");
    }

    /// <summary>The script's `ledger COMMAND ...` calls (ledger() runs the CLI), continued lines joined, up to a redirection or operator.</summary>
    private static IEnumerable<IReadOnlyList<string>> ScriptLedgerCalls()
    {
        var text = Repo.Read(DeployScript).Replace("\\\n", " ", StringComparison.Ordinal);
        Assert.Matches(@"(?m)^ledger\(\) \{ dotnet ""\$cli"" ""\$@""; \}$", text);
        foreach (var line in text.Split('\n'))
        {
            var call = LedgerCall().Match(line);
            if (!call.Success) continue;
            var words = new List<string>();
            foreach (var word in call.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (word.StartsWith('>') || word.StartsWith("2>", StringComparison.Ordinal) || word is "&&" or "||" or ";" or "|" or ";" || word.EndsWith(';')) break;
                words.Add(word);
            }
            yield return words;
        }
    }

    private static IEnumerable<string> ScriptVariables() =>
        ScriptVariable().Matches(Repo.Read(DeployScript)).Select(m => m.Groups[1].Value).Distinct();

    [GeneratedRegex(@"^\s*(?:if\s+!?\s*)?ledger\s+(?<args>[a-z].*)$")]
    private static partial Regex LedgerCall();

    [GeneratedRegex(@"\$\{(P2PE_[A-Z_]+):\?")]
    private static partial Regex RequiredVariable();

    [GeneratedRegex(@"\$\{(P2PE_[A-Z_]+)")]
    private static partial Regex ScriptVariable();
}
