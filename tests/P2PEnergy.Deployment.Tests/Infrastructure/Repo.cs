namespace P2PEnergy.Deployment.Tests.Infrastructure;

/// <summary>The repository these tests were built from (the folder that holds P2PEnergy.sln).</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.GetFullPath(Path.Combine(Root, relative.TrimStart('/')));

    public static bool Exists(string relative) => File.Exists(PathOf(relative)) || Directory.Exists(PathOf(relative));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "P2PEnergy.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no P2PEnergy.sln upwards from {AppContext.BaseDirectory}");
    }
}
