using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>
/// A Dockerfile read the way BuildKit reads one, for what these tests check: comment lines dropped (also inside a
/// continued instruction), lines ending in a backslash joined, one instruction a line, stages at each FROM.
/// </summary>
public sealed partial class Dockerfile
{
    public string Path { get; }

    public IReadOnlyList<DockerStage> Stages { get; }

    public DockerStage Final => Stages[^1];

    private Dockerfile(string path, IReadOnlyList<DockerStage> stages)
    {
        Path = path;
        Stages = stages;
    }

    public static Dockerfile Load(string relativePath) => Parse(relativePath, Repo.Read(relativePath));

    public static Dockerfile Parse(string path, string text)
    {
        var stages = new List<DockerStage>();
        DockerStage? stage = null;
        foreach (var (keyword, arguments) in Instructions(text))
        {
            if (keyword == "FROM")
            {
                var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToArray();
                var name = words.Length >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null;
                stage = new DockerStage(stages.Count, words[0], name);
                stages.Add(stage);
                continue;
            }
            if (stage is null) throw new FormatException($"{path}: {keyword} before FROM");
            stage.Instructions.Add(new DockerInstruction(keyword, arguments));
        }
        if (stages.Count == 0) throw new FormatException($"{path}: no FROM");
        return new Dockerfile(path, stages);
    }

    public DockerStage Stage(string nameOrIndex) =>
        Stages.FirstOrDefault(s => s.Name == nameOrIndex || s.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) == nameOrIndex)
        ?? throw new KeyNotFoundException($"{Path} has no stage '{nameOrIndex}'");

    private static IEnumerable<(string Keyword, string Arguments)> Instructions(string text)
    {
        var current = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith('#')) continue;
            if (current.Length == 0 && trimmed.Length == 0) continue;
            if (trimmed.EndsWith('\\'))
            {
                current.Append(trimmed[..^1]).Append(' ');
                continue;
            }
            current.Append(trimmed);
            var instruction = current.ToString().Trim();
            current.Clear();
            if (instruction.Length == 0) continue;
            var space = instruction.IndexOfAny([' ', '\t']);
            yield return space < 0
                ? (instruction.ToUpperInvariant(), "")
                : (instruction[..space].ToUpperInvariant(), instruction[(space + 1)..].Trim());
        }
        if (current.Length > 0) throw new FormatException("the last instruction ends with a line continuation");
    }

    /// <summary>Exec form (a JSON array) as it is; shell form as /bin/sh -c TEXT.</summary>
    internal static IReadOnlyList<string> CommandWords(string arguments) =>
        arguments.StartsWith('[')
            ? JsonSerializer.Deserialize<string[]>(arguments) ?? []
            : ["/bin/sh", "-c", arguments];

    /// <summary>Flags (--name=value) at the start of an instruction's arguments, and the rest.</summary>
    internal static (Dictionary<string, string> Flags, string Remainder) Flags(string arguments)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = arguments;
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            var end = rest.IndexOf(' ');
            var flag = end < 0 ? rest : rest[..end];
            rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
            var equals = flag.IndexOf('=');
            flags[equals < 0 ? flag[2..] : flag[2..equals]] = equals < 0 ? "" : flag[(equals + 1)..];
        }
        return (flags, rest);
    }

    /// <summary>Words split on blanks, double quotes kept together (ENV values).</summary>
    internal static IEnumerable<string> ShellWords(string text)
    {
        var word = new StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
                continue;
            }
            if (!quoted && char.IsWhiteSpace(c))
            {
                if (any) yield return word.ToString();
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (any) yield return word.ToString();
    }

    [GeneratedRegex(@"dotnet\s+publish\s+(?<project>\S+\.csproj)(?<options>(?:\s+(?!&&)[^\s;&|]+)*)")]
    internal static partial Regex PublishCommand();
}

public sealed record DockerInstruction(string Keyword, string Arguments);

public sealed class DockerStage(int index, string baseImage, string? name)
{
    public int Index { get; } = index;

    public string BaseImage { get; } = baseImage;

    public string? Name { get; } = name;

    public List<DockerInstruction> Instructions { get; } = [];

    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    /// <summary>The stage's user: the last USER, or null (root).</summary>
    public string? User => All("USER").LastOrDefault()?.Arguments.Trim();

    public string WorkDir => All("WORKDIR").LastOrDefault()?.Arguments.Trim() ?? "/";

    public IReadOnlyList<string>? Entrypoint => All("ENTRYPOINT").LastOrDefault() is { } e ? Dockerfile.CommandWords(e.Arguments) : null;

    public IReadOnlyList<string>? Cmd => All("CMD").LastOrDefault() is { } c ? Dockerfile.CommandWords(c.Arguments) : null;

    /// <summary>The HEALTHCHECK's command, or null when there is none (or NONE).</summary>
    public IReadOnlyList<string>? Healthcheck
    {
        get
        {
            if (All("HEALTHCHECK").LastOrDefault() is not { } health) return null;
            var (_, rest) = Dockerfile.Flags(health.Arguments);
            if (rest.Equals("NONE", StringComparison.OrdinalIgnoreCase)) return null;
            if (!rest.StartsWith("CMD ", StringComparison.OrdinalIgnoreCase)) throw new FormatException($"HEALTHCHECK {health.Arguments}");
            return Dockerfile.CommandWords(rest[4..].Trim());
        }
    }

    public IEnumerable<int> ExposedPorts => All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture));

    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var env in All("ENV"))
            {
                if (!env.Arguments.Contains('='))
                {
                    var space = env.Arguments.IndexOf(' ');
                    environment[env.Arguments[..space]] = env.Arguments[(space + 1)..].Trim();
                    continue;
                }
                foreach (var pair in Dockerfile.ShellWords(env.Arguments))
                {
                    var equals = pair.IndexOf('=');
                    environment[pair[..equals]] = pair[(equals + 1)..];
                }
            }
            return environment;
        }
    }

    public IEnumerable<DockerCopy> Copies => All("COPY").Concat(All("ADD")).Select(DockerCopy.Parse);

    /// <summary>Every `dotnet publish PROJECT ... -o DIR` of the stage's RUN instructions.</summary>
    public IEnumerable<(string Project, string? Output)> Publishes =>
        All("RUN").SelectMany(run => Dockerfile.PublishCommand().Matches(run.Arguments)).Select(m =>
        {
            var options = m.Groups["options"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var o = Array.FindIndex(options, w => w is "-o" or "--output");
            return (m.Groups["project"].Value, o >= 0 && o + 1 < options.Length ? options[o + 1] : (string?)null);
        });

    /// <summary>A path in the stage's file system, made absolute against WORKDIR.</summary>
    public string Absolute(string path)
    {
        var full = path.StartsWith('/') ? path : WorkDir.TrimEnd('/') + "/" + path;
        var parts = new List<string>();
        foreach (var part in full.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        // A trailing slash says "a folder" (COPY's destination): kept.
        return "/" + string.Join('/', parts) + (full.EndsWith('/') && parts.Count > 0 ? "/" : "");
    }

    public override string ToString() => Name ?? $"stage {Index}";
}

/// <summary>COPY/ADD [--from=STAGE] [--chown=..] [--chmod=..] SOURCE... DEST.</summary>
public sealed record DockerCopy(string? From, string? Chmod, IReadOnlyList<string> Sources, string Destination)
{
    public static DockerCopy Parse(DockerInstruction instruction)
    {
        var (flags, rest) = Dockerfile.Flags(instruction.Arguments);
        var words = rest.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(rest)! : rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2) throw new FormatException($"{instruction.Keyword} {instruction.Arguments}: needs a source and a destination");
        return new DockerCopy(flags.GetValueOrDefault("from"), flags.GetValueOrDefault("chmod"), words[..^1], words[^1]);
    }
}
