using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>
/// docker-compose.yml as compose reads it, for the parts these tests check. Variables are interpolated with their
/// defaults only (<c>${NAME:-default}</c>), never from the test's environment: the file's own values are checked.
/// </summary>
public sealed partial class ComposeFile
{
    public const string FileName = "docker-compose.yml";

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    public IReadOnlySet<string> Volumes { get; }

    /// <summary>Variables used without a default (compose would take them from the environment, or leave them empty).</summary>
    public IReadOnlyList<string> VariablesWithoutDefault { get; }

    private ComposeFile(IReadOnlyDictionary<string, ComposeService> services, IReadOnlySet<string> volumes, IReadOnlyList<string> withoutDefault)
    {
        Services = services;
        Volumes = volumes;
        VariablesWithoutDefault = withoutDefault;
    }

    public static ComposeFile Load() => Parse(Repo.Read(FileName));

    public static ComposeFile Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var withoutDefault = new List<string>();
        string Text(YamlNode node) => Interpolate(((YamlScalarNode)node).Value ?? "", withoutDefault);

        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        foreach (var (key, value) in Mapping(root, "services") ?? throw new FormatException("no services"))
        {
            var name = ((YamlScalarNode)key).Value!;
            var service = (YamlMappingNode)value;
            services[name] = new ComposeService
            {
                Name = name,
                Build = Mapping(service, "build") is { } build
                    ? new ComposeBuild(Scalar(build, "context") is { } c ? Text(c) : ".", Scalar(build, "dockerfile") is { } d ? Text(d) : "Dockerfile")
                    : null,
                Image = Scalar(service, "image") is { } image ? Text(image) : null,
                Command = Words(Child(service, "command"), Text),
                Entrypoint = Words(Child(service, "entrypoint"), Text),
                Environment = Environment(Child(service, "environment"), Text),
                Ports = Sequence(service, "ports").Select(Text).ToList(),
                Volumes = Sequence(service, "volumes").Select(v => ComposeMount.Parse(Text(v))).ToList(),
                DependsOn = DependsOn(Child(service, "depends_on")),
                Healthcheck = Mapping(service, "healthcheck") is { } health ? Healthcheck(health, Text) : null,
                Restart = Scalar(service, "restart") is { } restart ? Text(restart) : null,
                Profiles = Sequence(service, "profiles").Select(Text).ToList(),
            };
        }
        var volumes = Mapping(root, "volumes") is { } declared
            ? declared.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToHashSet(StringComparer.Ordinal)
            : [];
        return new ComposeFile(services, volumes, withoutDefault);
    }

    public ComposeService this[string service] => Services.TryGetValue(service, out var s) ? s : throw new KeyNotFoundException($"{FileName} has no service '{service}'");

    /// <summary>${NAME:-default}, ${NAME-default} and ${NAME} (then empty); $$ is a literal $.</summary>
    internal static string Interpolate(string value, List<string> withoutDefault) =>
        Variable().Replace(value, m =>
        {
            if (m.Value == "$$") return "$";
            if (m.Groups["default"].Success) return m.Groups["default"].Value;
            withoutDefault.Add(m.Groups["name"].Value);
            return "";
        });

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?<default>[^}]*))?\}")]
    private static partial Regex Variable();

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static YamlMappingNode? Mapping(YamlMappingNode node, string key) => Child(node, key) as YamlMappingNode;

    private static YamlScalarNode? Scalar(YamlMappingNode node, string key) => Child(node, key) as YamlScalarNode;

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        Child(node, key) is YamlSequenceNode sequence ? sequence.Children : [];

    /// <summary>A command or entrypoint: a list as it is, a string split on spaces (compose splits it like a shell).</summary>
    private static IReadOnlyList<string>? Words(YamlNode? node, Func<YamlNode, string> text) => node switch
    {
        null => null,
        YamlSequenceNode list => list.Children.Select(text).ToList(),
        YamlScalarNode scalar => text(scalar).Split(' ', StringSplitOptions.RemoveEmptyEntries),
        _ => throw new FormatException($"a command is a list or a string, not {node.NodeType}"),
    };

    private static IReadOnlyDictionary<string, string> Environment(YamlNode? node, Func<YamlNode, string> text)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (node)
        {
            case null:
                break;
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping) environment.Add(((YamlScalarNode)key).Value!, text(value));
                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children.Select(text))
                {
                    var equals = item.IndexOf('=');
                    environment.Add(equals < 0 ? item : item[..equals], equals < 0 ? "" : item[(equals + 1)..]);
                }
                break;
        }
        return environment;
    }

    private static IReadOnlyDictionary<string, string> DependsOn(YamlNode? node) => node switch
    {
        null => new Dictionary<string, string>(),
        YamlSequenceNode list => list.Children.ToDictionary(n => ((YamlScalarNode)n).Value!, _ => "service_started"),
        YamlMappingNode mapping => mapping.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value!,
            kv => kv.Value is YamlMappingNode m && Scalar(m, "condition") is { } c ? c.Value! : "service_started"),
        _ => throw new FormatException("depends_on is a list or a mapping"),
    };

    private static ComposeHealthcheck Healthcheck(YamlMappingNode node, Func<YamlNode, string> text) => new(
        Words(Child(node, "test"), text) ?? [],
        Scalar(node, "disable") is { Value: "true" });
}

public sealed record ComposeBuild(string Context, string Dockerfile)
{
    /// <summary>The Dockerfile's path from the repository root (the compose file lies at the root).</summary>
    public string DockerfilePath => Path.GetRelativePath(Repo.Root, Path.Combine(Repo.PathOf(Context), Dockerfile)).Replace('\\', '/');
}

/// <summary>A healthcheck's test: ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"].</summary>
public sealed record ComposeHealthcheck(IReadOnlyList<string> Test, bool Disabled);

/// <summary>A short-syntax volume: SOURCE:TARGET[:MODE]; a named volume when the source is no path.</summary>
public sealed record ComposeMount(string Source, string Target, string? Mode)
{
    public bool IsNamedVolume => Source.Length > 0 && !Source.StartsWith('.') && !Source.StartsWith('/') && !Source.StartsWith('~');

    public bool ReadOnly => Mode?.Split(',').Contains("ro") == true;

    public static ComposeMount Parse(string text)
    {
        var parts = text.Split(':');
        return parts.Length switch
        {
            1 => new("", parts[0], null),
            2 => new(parts[0], parts[1], null),
            3 => new(parts[0], parts[1], parts[2]),
            _ => throw new FormatException($"volume '{text}' is not SOURCE:TARGET[:MODE]"),
        };
    }
}

public sealed class ComposeService
{
    public required string Name { get; init; }

    public ComposeBuild? Build { get; init; }

    public string? Image { get; init; }

    public IReadOnlyList<string>? Command { get; init; }

    public IReadOnlyList<string>? Entrypoint { get; init; }

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required IReadOnlyList<string> Ports { get; init; }

    public required IReadOnlyList<ComposeMount> Volumes { get; init; }

    public required IReadOnlyDictionary<string, string> DependsOn { get; init; }

    public ComposeHealthcheck? Healthcheck { get; init; }

    public string? Restart { get; init; }

    public required IReadOnlyList<string> Profiles { get; init; }

    /// <summary>Runs once and exits (restart "no"): a job, not a service that must stay healthy.</summary>
    public bool IsOneShot => Restart == "no";

    public Dockerfile? Dockerfile => Build is null ? null : Infrastructure.Dockerfile.Load(Build.DockerfilePath);

    /// <summary>The value of an option in the command (--name VALUE), or null.</summary>
    public string? Option(string name)
    {
        var words = Command ?? [];
        for (var i = 0; i + 1 < words.Count; i++)
        {
            if (words[i] == name) return words[i + 1];
        }
        return null;
    }

    /// <summary>The container port of each published port (HOST_IP:HOST:CONTAINER, HOST:CONTAINER or CONTAINER).</summary>
    public IEnumerable<int> PublishedContainerPorts => Ports.Select(p => int.Parse(p.Split(':')[^1].Split('/')[0], System.Globalization.CultureInfo.InvariantCulture));

    public override string ToString() => Name;
}
