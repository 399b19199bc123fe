using P2PEnergy.Deployment.Tests.Infrastructure;

namespace P2PEnergy.Deployment.Tests;

/// <summary>deploy/*.Dockerfile against the repository: sources, projects, assemblies, users, scripts.</summary>
public sealed class DockerfileTests
{
    private static IReadOnlyList<string> DockerfilePaths() =>
        Directory.GetFiles(Repo.PathOf("deploy"), "*.Dockerfile").Select(f => Path.GetRelativePath(Repo.Root, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();

    public static TheoryData<string> Dockerfiles() => new(DockerfilePaths());

    [Fact]
    public void Compose_builds_every_Dockerfile_of_deploy()
    {
        var built = ComposeFile.Load().Services.Values.Where(s => s.Build is not null).Select(s => s.Build!.DockerfilePath).ToHashSet();
        var files = DockerfilePaths();
        Assert.Equal(["deploy/agents.Dockerfile", "deploy/chain.Dockerfile", "deploy/exchange.Dockerfile", "deploy/ledger.Dockerfile"], files);
        Assert.Empty(files.Except(built));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_COPY_source_exists_in_the_build_context_and_is_not_dockerignored(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        var ignore = DockerIgnore.Load();
        foreach (var stage in dockerfile.Stages)
        {
            foreach (var copy in stage.Copies.Where(c => c.From is null))
            {
                foreach (var source in copy.Sources)
                {
                    Assert.False(source.Contains('*') || source.StartsWith("..", StringComparison.Ordinal), $"{path}: COPY {source}: no globs or paths outside the context here");
                    Assert.True(Repo.Exists(source), $"{path} ({stage}): COPY {source}: no such file or folder in the repository");
                    Assert.False(ignore.Excludes(source), $"{path} ({stage}): COPY {source}: {DockerIgnore.FileName} leaves it out of the build context");
                }
            }
            foreach (var copy in stage.Copies.Where(c => c.From is not null))
            {
                // --from names an earlier stage of this file (an image name would be pulled instead).
                var from = dockerfile.Stage(copy.From!);
                Assert.True(from.Index < stage.Index, $"{path}: COPY --from={copy.From} in {stage} names a later stage");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Builds_are_multi_stage_and_the_final_stage_runs_as_a_numeric_non_root_user(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        Assert.True(dockerfile.Stages.Count >= 2, $"{path}: one stage; the build tools would ship in the image");
        var user = dockerfile.Final.User;
        Assert.False(user is null, $"{path}: the final stage sets no USER: the program runs as root");
        var uid = user!.Split(':')[0];
        // Numeric: Kubernetes' runAsNonRoot can only verify a number; and never 0.
        Assert.True(uint.TryParse(uid, out var id) && id != 0, $"{path}: USER {user} is not a numeric non-root uid");
        if (dockerfile.Final.BaseImage.StartsWith("mcr.microsoft.com/dotnet/", StringComparison.Ordinal))
        {
            Assert.Contains(dockerfile.Final.BaseImage, new[] { "mcr.microsoft.com/dotnet/aspnet:10.0", "mcr.microsoft.com/dotnet/runtime:10.0" });
            Assert.Equal("1654", uid); // the .NET images' own app user: it exists in /etc/passwd there
            Assert.Contains(dockerfile.Stages, s => s.BaseImage == "mcr.microsoft.com/dotnet/sdk:10.0");
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_published_project_exists_with_its_whole_project_closure_in_the_build_stage(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        foreach (var stage in dockerfile.Stages)
        {
            var copied = stage.Copies.Where(c => c.From is null).SelectMany(c => c.Sources).Select(s => s.TrimEnd('/')).ToList();
            foreach (var (project, output) in stage.Publishes)
            {
                Assert.True(Repo.Exists(project), $"{path}: dotnet publish {project}: no such project");
                Assert.False(output is null, $"{path}: dotnet publish {project} without -o: the final stage cannot know where it went");
                foreach (var needed in Programs.ProjectClosure(project).Append("Directory.Build.props").Append("Directory.Packages.props").Append("global.json"))
                {
                    Assert.True(copied.Any(c => needed == c || needed.StartsWith(c + "/", StringComparison.Ordinal)), $"{path} ({stage}): publishing {project} needs {needed}, which no COPY brings");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Every_dll_the_image_runs_is_the_assembly_of_the_project_published_there(string path)
    {
        var dockerfile = Dockerfile.Load(path);
        var final = dockerfile.Final;
        var commands = new[] { final.Entrypoint, final.Cmd, final.Healthcheck }.Where(c => c is not null).Select(c => c!).ToList();
        foreach (var dll in commands.SelectMany(c => c).Where(w => w.EndsWith(".dll", StringComparison.Ordinal)))
        {
            AssertRunsPublishedAssembly(dockerfile, dll);
        }
    }

    [Fact]
    public void The_dll_the_deploy_script_runs_is_the_ledger_cli()
    {
        var script = Repo.Read("deploy/ledger-deploy.sh");
        var dll = System.Text.RegularExpressions.Regex.Match(script, @"\$\{P2PE_LEDGER_DLL:-(?<dll>[^}]+)\}").Groups["dll"].Value;
        Assert.False(string.IsNullOrEmpty(dll), "deploy/ledger-deploy.sh: no default P2PE_LEDGER_DLL");
        var file = AssertRunsPublishedAssembly(Dockerfile.Load("deploy/ledger.Dockerfile"), dll);
        Assert.Equal(Programs.LedgerCliProject, file.PublishedProject);
    }

    [Fact]
    public void The_artifact_the_deploy_script_passes_is_the_one_the_ledger_image_compiles()
    {
        var dockerfile = Dockerfile.Load("deploy/ledger.Dockerfile");
        var script = Repo.Read("deploy/ledger-deploy.sh");
        var artifact = System.Text.RegularExpressions.Regex.Match(script, @"\$\{P2PE_ARTIFACT:-(?<path>[^}]+)\}").Groups["path"].Value;
        var cli = System.Text.RegularExpressions.Regex.Match(script, @"\$\{P2PE_LEDGER_DLL:-(?<dll>[^}]+)\}").Groups["dll"].Value;
        // Beside the program as the CLI looks for it by itself (upwards from its folder), not only where the script says.
        Assert.Equal(Path.GetDirectoryName(cli) + "/" + P2PEnergy.Ledger.EnergyLedgerArtifact.RelativePath, artifact);
        var file = ImageFile.Find(dockerfile, artifact);
        Assert.True(file is { FromStage: not null }, $"deploy/ledger.Dockerfile copies nothing from a stage to {artifact}");
        var stage = file!.FromStage!;
        Assert.Contains(stage.All("RUN"), r => r.Arguments.Contains("hardhat compile", StringComparison.Ordinal));
        // Hardhat writes artifacts/<source path>/<contract>.json below the project (the stage's WORKDIR).
        Assert.Equal(stage.Absolute(P2PEnergy.Ledger.EnergyLedgerArtifact.RelativePath["contracts/".Length..]), file.SourcePath);
        Assert.Contains(stage.Copies, c => c.Sources.Contains("contracts/hardhat.config.js"));
        Assert.Contains(stage.Copies, c => c.Sources.Contains("contracts/contracts/") && stage.Absolute(c.Destination).TrimEnd('/') == stage.Absolute("contracts"));
    }

    [Theory]
    [InlineData("deploy/ledger-deploy.sh")]
    [InlineData("deploy/heartbeat-check.sh")]
    public void Scripts_are_bash_and_executable(string path)
    {
        Assert.StartsWith("#!/usr/bin/env bash\n", Repo.Read(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.True((File.GetUnixFileMode(Repo.PathOf(path)) & UnixFileMode.UserExecute) != 0, $"{path} is not executable");
        }
    }

    [Fact]
    public void Files_compose_runs_in_an_image_are_copied_there_executable()
    {
        foreach (var service in ComposeFile.Load().Services.Values.Where(s => s.Dockerfile is not null))
        {
            var dockerfile = service.Dockerfile!;
            var programs = new[] { service.Entrypoint?.FirstOrDefault(), service.Healthcheck?.Test is ["CMD", var first, ..] ? first : null };
            foreach (var program in programs.Where(p => p is not null && p.StartsWith('/')))
            {
                var file = ImageFile.Find(dockerfile, program!);
                Assert.True(file is not null, $"{service} runs {program}, which {dockerfile.Path} does not copy into the image");
                if (file!.FromStage is null)
                {
                    Assert.True(Repo.Exists(file.SourcePath), $"{service} runs {program}: {file.SourcePath} is not in the repository");
                    Assert.True(file.Copy.Chmod is "0755" or "755" || OperatingSystem.IsWindows() || (File.GetUnixFileMode(Repo.PathOf(file.SourcePath)) & UnixFileMode.OtherExecute) != 0,
                        $"{service} runs {program}, copied without execute permission");
                }
            }
        }
    }

    [Fact]
    public void Dockerignore_keeps_host_build_outputs_out_of_the_context()
    {
        var ignore = DockerIgnore.Load();
        // A host's obj/project.assets.json names the host's package folder: a restore in the image would trust it.
        Assert.True(ignore.Excludes("src/Exchange/P2PEnergy.Exchange.Server/obj/project.assets.json"));
        Assert.True(ignore.Excludes("src/Ledger/P2PEnergy.Ledger.Cli/bin/Release/net10.0/p2penergy-ledger.dll"));
        Assert.True(ignore.Excludes("deploy/healthprobe/obj/project.assets.json"));
        Assert.True(ignore.Excludes("contracts/node_modules/hardhat/package.json"));
        Assert.True(ignore.Excludes("contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json"));
        Assert.True(ignore.Excludes(".git/HEAD"));
        Assert.False(ignore.Excludes("src/Exchange/P2PEnergy.Exchange.Server/appsettings.json"));
        Assert.False(ignore.Excludes("contracts/package-lock.json"));
    }

    [Fact]
    public void Dockerignore_matches_as_the_builder_does()
    {
        var ignore = DockerIgnore.Parse("**/bin/\nout/\n*.md\n!README.md\n");
        Assert.True(ignore.Excludes("bin/x"));
        Assert.True(ignore.Excludes("a/b/bin/c.dll"));
        Assert.False(ignore.Excludes("a/binary/c"));
        Assert.True(ignore.Excludes("out/demo/day/report.md"));
        Assert.True(ignore.Excludes("NOTES.md"));
        Assert.False(ignore.Excludes("README.md"));
        Assert.False(ignore.Excludes("docs/rules.md")); // "*.md" is one name at the root
    }

    [Fact]
    public void Parser_joins_continued_lines_and_skips_comments_inside_them()
    {
        var dockerfile = Dockerfile.Parse("test", """
            # syntax=docker/dockerfile:1
            FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
            RUN --mount=type=cache,target=/root/.nuget/packages \
                dotnet publish src/A/A.csproj -c Release -o /out/a \
            # a comment inside the instruction
             && dotnet publish deploy/b/B.csproj -c Release --output /out/b
            FROM mcr.microsoft.com/dotnet/runtime:10.0
            WORKDIR /app
            COPY --from=build /out/a/ ./
            ENV A=1 \
                B= C="x y"
            USER 1654:1654
            HEALTHCHECK --interval=5s CMD ["dotnet", "/app/a.dll", "--check"]
            ENTRYPOINT ["dotnet", "a.dll"]
            """);
        Assert.Equal([("src/A/A.csproj", "/out/a"), ("deploy/b/B.csproj", "/out/b")], dockerfile.Stage("build").Publishes.Select(p => (p.Project, p.Output!)));
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "", ["C"] = "x y" }, dockerfile.Final.Environment);
        Assert.Equal(["dotnet", "/app/a.dll", "--check"], dockerfile.Final.Healthcheck);
        var file = ImageFile.Find(dockerfile, "a.dll");
        Assert.Equal(("/app/a.dll", "/out/a/a.dll", "src/A/A.csproj"), (file!.PathInImage, file.SourcePath, file.PublishedProject));
    }

    internal static ImageFile AssertRunsPublishedAssembly(Dockerfile dockerfile, string dll)
    {
        var file = ImageFile.Find(dockerfile, dll);
        Assert.True(file is not null, $"{dockerfile.Path} runs {dll}, which no COPY puts into the final stage");
        Assert.True(file!.PublishedProject is not null, $"{dockerfile.Path} runs {dll}, copied from {file.SourcePath}, where no `dotnet publish ... -o` of stage {file.FromStage} writes");
        var assembly = Programs.AssemblyName(file.PublishedProject!);
        Assert.True(Path.GetFileNameWithoutExtension(dll) == assembly,
            $"{dockerfile.Path} runs {Path.GetFileName(dll)}, but {file.PublishedProject} builds {assembly}.dll");
        return file;
    }
}
