using System.Text.RegularExpressions;

namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>
/// .dockerignore as the builder applies it: patterns in order (the last match decides, '!' re-includes), each
/// pattern cleaned (no trailing slash), '**' any number of folders, '*' and '?' within one name; a path is left
/// out when it or a folder above it matches.
/// </summary>
public sealed class DockerIgnore
{
    public const string FileName = ".dockerignore";

    private readonly List<(Regex Pattern, bool Exclude, string Text)> _rules = [];

    public IReadOnlyList<string> Patterns => _rules.Select(r => (r.Exclude ? "" : "!") + r.Text).ToList();

    public static DockerIgnore Load() => Parse(Repo.Exists(FileName) ? Repo.Read(FileName) : "");

    public static DockerIgnore Parse(string text)
    {
        var ignore = new DockerIgnore();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var exclude = !line.StartsWith('!');
            var pattern = (exclude ? line : line[1..]).Trim().TrimStart('/').TrimEnd('/');
            if (pattern.StartsWith("./", StringComparison.Ordinal)) pattern = pattern[2..];
            ignore._rules.Add((new Regex("^" + ToRegex(pattern) + "$", RegexOptions.CultureInvariant), exclude, pattern));
        }
        return ignore;
    }

    /// <summary>Whether the build context leaves out <paramref name="relativePath"/> (from the context's root).</summary>
    public bool Excludes(string relativePath)
    {
        var path = relativePath.Replace('\\', '/').Trim('/');
        if (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        var excluded = false;
        foreach (var (pattern, exclude, _) in _rules)
        {
            if (SelfOrParents(path).Any(p => pattern.IsMatch(p))) excluded = exclude;
        }
        return excluded;
    }

    private static IEnumerable<string> SelfOrParents(string path)
    {
        for (var p = path; p.Length > 0; p = p.Contains('/') ? p[..p.LastIndexOf('/')] : "") yield return p;
    }

    private static string ToRegex(string pattern)
    {
        var regex = new System.Text.StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" : any number of folders (also none); a trailing "**": anything.
                if (i + 2 < pattern.Length && pattern[i + 2] == '/')
                {
                    regex.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    regex.Append(".*");
                    i++;
                }
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return regex.ToString();
    }
}
