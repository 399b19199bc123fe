using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>The repository's projects and programs: assembly names, and usage texts read from the built programs.</summary>
public static partial class Programs
{
    public const string LedgerCliProject = "src/Ledger/P2PEnergy.Ledger.Cli/P2PEnergy.Ledger.Cli.csproj";
    public const string SimulatorProject = "src/Agents/P2PEnergy.Simulator/P2PEnergy.Simulator.csproj";

    private static readonly Lazy<string> LedgerHelpText = new(() => Run(LedgerCliProject, "--help"));
    private static readonly Lazy<string> DayHelpText = new(() => Run(SimulatorProject, "day", "--help"));

    /// <summary>`p2penergy-ledger --help`, from the program this test project was built with.</summary>
    public static string LedgerHelp => LedgerHelpText.Value;

    /// <summary>`P2PEnergy.Simulator day --help`.</summary>
    public static string DayHelp => DayHelpText.Value;

    /// <summary>The assembly a project builds: its AssemblyName, else its file name (MSBuild's default).</summary>
    public static string AssemblyName(string projectPath)
    {
        var project = XDocument.Load(Repo.PathOf(projectPath));
        var name = project.Descendants().FirstOrDefault(e => e.Name.LocalName == "AssemblyName")?.Value.Trim();
        return string.IsNullOrEmpty(name) ? Path.GetFileNameWithoutExtension(projectPath) : name;
    }

    /// <summary>The project's ProjectReferences, from the repository root, transitively, itself included.</summary>
    public static IReadOnlySet<string> ProjectClosure(string projectPath)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Normalize(projectPath)]);
        while (pending.TryPop(out var project))
        {
            if (!seen.Add(project)) continue;
            var folder = Path.GetDirectoryName(Repo.PathOf(project))!;
            foreach (var reference in XDocument.Load(Repo.PathOf(project)).Descendants().Where(e => e.Name.LocalName == "ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(folder, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(Normalize(Path.GetRelativePath(Repo.Root, path)));
            }
        }
        return seen;
    }

    private static string Normalize(string path) => path.Replace('\\', '/').TrimStart('.', '/');

    /// <summary>The program a project built in this test run's configuration (the test project references it).</summary>
    private static string Run(string projectPath, params string[] args)
    {
        var metadata = typeof(Programs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value);
        var dll = Path.Combine(Path.GetDirectoryName(Repo.PathOf(projectPath))!, "bin", metadata["Configuration"]!, metadata["TargetFramework"]!, AssemblyName(projectPath) + ".dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} was not built (the test project references {projectPath}: build it first)");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {dll} {string.Join(' ', args)} did not end within 60 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet {dll} {string.Join(' ', args)} exited {process.ExitCode}: {error.Result}");
        return output.Result;
    }

    /// <summary>
    /// The usages of one command in `p2penergy-ledger --help`: each line "  COMMAND  --opt ..." at the commands'
    /// indentation, with its continuation lines (those starting with "[", "(" or "--") until its description.
    /// </summary>
    public static IReadOnlyList<Usage> LedgerUsages(string command)
    {
        var lines = LedgerHelp.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var usages = new List<Usage>();
        for (var i = 0; i < lines.Count; i++)
        {
            var start = CommandLine().Match(lines[i]);
            if (!start.Success || start.Groups["command"].Value != command) continue;
            var text = start.Groups["usage"].Value;
            for (var j = i + 1; j < lines.Count; j++)
            {
                var next = lines[j].TrimStart();
                if (CommandLine().IsMatch(lines[j]) || !(next.StartsWith('[') || next.StartsWith('(') || next.StartsWith("--", StringComparison.Ordinal))) break;
                text += " " + next;
            }
            usages.Add(Usage.Parse(text));
        }
        return usages;
    }

    /// <summary>The option lines of `day --help` ("  --name VALUE   text"), with whether the line says "(required)".</summary>
    public static IReadOnlyDictionary<string, bool> DayOptions() =>
        DayHelp.Split('\n').Select(l => DayOptionLine().Match(l)).Where(m => m.Success)
            .GroupBy(m => m.Groups["option"].Value)
            .ToDictionary(g => g.Key, g => g.Any(m => m.Value.Contains("(required)", StringComparison.Ordinal)));

    [GeneratedRegex(@"^ {2}(?<command>[a-z][a-z-]*) +(?<usage>--.*)$")]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"^\s+(?<option>--[a-z][a-z-]*)\b.*$")]
    private static partial Regex DayOptionLine();
}

/// <summary>One usage line: every option it names, and those outside brackets and parentheses (required).</summary>
public sealed partial record Usage(string Text, IReadOnlySet<string> Options, IReadOnlySet<string> Required)
{
    public static Usage Parse(string text)
    {
        var options = new HashSet<string>(StringComparer.Ordinal);
        var required = new HashSet<string>(StringComparer.Ordinal);
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '[' or '(':
                    depth++;
                    continue;
                case ']' or ')':
                    depth--;
                    continue;
            }
            var option = Option().Match(text, i);
            if (option.Success && option.Index == i && (i == 0 || !char.IsLetterOrDigit(text[i - 1])))
            {
                options.Add(option.Value);
                if (depth == 0) required.Add(option.Value);
                i += option.Length - 1;
            }
        }
        return new Usage(text, options, required);
    }

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex Option();
}
