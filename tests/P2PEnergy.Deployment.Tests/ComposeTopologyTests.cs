using P2PEnergy.Deployment.Tests.Infrastructure;

namespace P2PEnergy.Deployment.Tests;

/// <summary>docker-compose.yml on its own: the services of issue 7, what they wait for, volumes, health checks, exposure.</summary>
public sealed class ComposeTopologyTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load();

    [Theory]
    [InlineData("redis")]
    [InlineData("chain")]
    [InlineData("exchange")]
    [InlineData("recorder")]
    [InlineData("agents")]
    [InlineData("deploy")]
    public void The_service_of_the_issue_is_there_and_starts_by_default(string service)
    {
        Assert.True(Compose.Services.ContainsKey(service), $"{ComposeFile.FileName} has no service '{service}'");
        Assert.Empty(Compose[service].Profiles);
    }

    [Fact]
    public void Every_variable_has_a_default()
    {
        // A ${NAME} without default is empty unless set: a devnet `up` must not depend on the caller's environment.
        Assert.Empty(Compose.VariablesWithoutDefault);
    }

    [Fact]
    public void Every_service_has_a_build_or_an_image()
    {
        foreach (var service in Compose.Services.Values)
        {
            Assert.True(service.Build is not null || service.Image is not null, $"{service}: neither build nor image");
        }
    }

    [Fact]
    public void Every_Dockerfile_compose_builds_exists_and_builds_from_the_repository_root()
    {
        foreach (var service in Compose.Services.Values.Where(s => s.Build is not null))
        {
            // The Dockerfiles COPY paths from the root (src/, contracts/, deploy/): another context breaks them.
            Assert.True(Path.GetFullPath(Repo.PathOf(service.Build!.Context)) == Path.GetFullPath(Repo.Root), $"{service}: build context '{service.Build.Context}' is not the repository root");
            Assert.True(File.Exists(Repo.PathOf(service.Build.DockerfilePath)), $"{service}: {service.Build.DockerfilePath} does not exist");
        }
    }

    [Fact]
    public void Services_that_share_an_image_tag_build_it_the_same_way()
    {
        // Two different builds under one tag: whichever builds last wins, and the other service runs the wrong program.
        foreach (var group in Compose.Services.Values.Where(s => s.Image is not null).GroupBy(s => s.Image))
        {
            var builds = group.Select(s => s.Build).Distinct().ToList();
            Assert.True(builds.Count == 1, $"image {group.Key}: services {string.Join(", ", group)} build it differently ({string.Join(" / ", builds.Select(b => b?.ToString() ?? "no build"))})");
            // Our own images are built here; one with no build would be pulled, and no registry has it.
            Assert.True(builds[0] is not null || !group.Key!.StartsWith("p2penergy/", StringComparison.Ordinal), $"image {group.Key} of {string.Join(", ", group)} is built by none of them: compose would try to pull it");
        }
    }

    [Fact]
    public void Depends_on_names_services_with_conditions_they_can_meet()
    {
        foreach (var service in Compose.Services.Values)
        {
            foreach (var (target, condition) in service.DependsOn)
            {
                Assert.True(Compose.Services.ContainsKey(target), $"{service} depends on '{target}', which is no service");
                var other = Compose[target];
                switch (condition)
                {
                    case "service_started":
                        break;
                    case "service_healthy":
                        Assert.True(HealthcheckOf(other) is not null, $"{service} waits for {target} to be healthy, which has no health check: it never becomes healthy");
                        break;
                    case "service_completed_successfully":
                        Assert.True(other.IsOneShot, $"{service} waits for {target} to complete, which is not a one-shot job (restart: \"no\")");
                        break;
                    default:
                        Assert.Fail($"{service}: unknown depends_on condition '{condition}' for {target}");
                        break;
                }
                Assert.True(other.Profiles.Count == 0 || other.Profiles.SequenceEqual(service.Profiles), $"{service} depends on {target}, which is only in profiles {string.Join(",", other.Profiles)}");
            }
        }
    }

    [Fact]
    public void Every_long_running_service_has_a_health_check_and_restarts()
    {
        foreach (var service in Compose.Services.Values)
        {
            if (service.IsOneShot) continue;
            Assert.True(HealthcheckOf(service) is { Count: > 0 }, $"{service}: no healthcheck in {ComposeFile.FileName} nor HEALTHCHECK in its image, and it is not a one-shot job (restart: \"no\")");
            Assert.True(service.Restart is "unless-stopped" or "always" or "on-failure", $"{service}: restart '{service.Restart ?? "(none)"}': a long-running service should come back after a crash");
        }
    }

    [Fact]
    public void One_shot_jobs_are_not_restarted()
    {
        // restart: always on a job re-runs it forever (a deployment, a simulated day) after it exits 0.
        foreach (var name in new[] { "deploy", "agents" })
        {
            Assert.Equal("no", Compose[name].Restart);
        }
    }

    [Fact]
    public void Named_volumes_are_declared_and_every_declared_volume_is_used()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in Compose.Services.Values)
        {
            foreach (var mount in service.Volumes.Where(m => m.IsNamedVolume))
            {
                Assert.True(Compose.Volumes.Contains(mount.Source), $"{service} mounts volume '{mount.Source}', which is not declared under volumes:");
                Assert.StartsWith("/", mount.Target);
                used.Add(mount.Source);
            }
        }
        Assert.Empty(Compose.Volumes.Except(used));
    }

    [Fact]
    public void Redis_keeps_an_append_only_file_on_a_volume()
    {
        var redis = Compose["redis"];
        var command = redis.Command ?? throw new Xunit.Sdk.XunitException("redis: no command (the image's default has no append-only file)");
        Assert.Equal("yes", redis.Option("--appendonly"));
        Assert.Contains(redis.Option("--appendfsync"), new[] { "always", "everysec" });
        // The official image's data directory is /data: the AOF must be on a volume, not in the container's layer.
        Assert.Contains(redis.Volumes, m => m.IsNamedVolume && m.Target == "/data" && !m.ReadOnly);
        Assert.DoesNotContain("--dir", command);
        var text = Repo.Read(ComposeFile.FileName);
        Assert.Contains("Durability policy", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("chain")]
    public void Redis_and_the_chain_are_published_on_loopback_only(string service)
    {
        // The devnet's keys are public and Redis has no password here: not for the host's network.
        foreach (var port in Compose[service].Ports)
        {
            Assert.True(port.StartsWith("127.0.0.1:", StringComparison.Ordinal), $"{service} publishes '{port}' on every interface");
        }
    }

    /// <summary>The compose healthcheck, else the image's HEALTHCHECK; null when neither (or disabled).</summary>
    internal static IReadOnlyList<string>? HealthcheckOf(ComposeService service)
    {
        if (service.Healthcheck is { } health) return health.Disabled || health.Test is ["NONE"] ? null : health.Test;
        return service.Dockerfile?.Final.Healthcheck;
    }
}
