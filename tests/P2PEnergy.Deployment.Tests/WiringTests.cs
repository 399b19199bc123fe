using System.Text.RegularExpressions;
using P2PEnergy.Deployment.Tests.Infrastructure;
using P2PEnergy.Ethereum;

namespace P2PEnergy.Deployment.Tests;

/// <summary>What the services hand each other: the deployment file on its volume, the keys and their addresses.</summary>
public sealed partial class WiringTests
{
    private static readonly ComposeFile Compose = ComposeFile.Load();

    /// <summary>Each service that reads or writes the deployment file, and the path it uses.</summary>
    private static IEnumerable<(ComposeService Service, string Path)> DeploymentFileUsers()
    {
        yield return (Compose["deploy"], Compose["deploy"].Environment["P2PE_DEPLOYMENT_FILE"]);
        yield return (Compose["exchange"], Compose["exchange"].Environment["Ledger__DeploymentFile"]);
        foreach (var service in Compose.Services.Values.Where(s => s.Option("--deployment") is not null))
        {
            yield return (service, service.Option("--deployment")!);
        }
    }

    [Fact]
    public void Every_service_reads_the_deployment_file_the_deploy_job_writes_on_one_volume()
    {
        var users = DeploymentFileUsers().ToList();
        Assert.Contains(users, u => u.Service.Name == "recorder");
        var path = users[0].Path;
        string? volume = null;
        foreach (var (service, used) in users)
        {
            Assert.True(used == path, $"{service} uses {used}, the deploy job writes {path}");
            var mount = service.Volumes.SingleOrDefault(m => path.StartsWith(m.Target.TrimEnd('/') + "/", StringComparison.Ordinal));
            Assert.True(mount is { IsNamedVolume: true }, $"{service} mounts no named volume at {Path.GetDirectoryName(path)}: it would see its own empty folder");
            volume ??= mount!.Source;
            Assert.Equal(volume, mount!.Source);
            // Only the deploy job writes it.
            Assert.True(mount.ReadOnly == (service.Name != "deploy"), $"{service}: {mount.Source} should be {(service.Name == "deploy" ? "writable" : "read-only")}");
        }
        // Those who read it start after it is written.
        foreach (var (service, _) in users.Where(u => u.Service.Name != "deploy" && u.Service.DependsOn.Count > 0))
        {
            Assert.True(DependsTransitively(service.Name, "deploy", "service_completed_successfully"), $"{service} reads the deployment file but does not wait for the deploy job to complete");
        }
    }

    [Fact]
    public void Non_root_services_can_write_their_writable_volumes()
    {
        // A new named volume takes the owner of the image's folder at its mount point; a folder the image lacks
        // (or owns as root) leaves the non-root program unable to write there.
        foreach (var service in Compose.Services.Values.Where(s => s.Dockerfile is not null))
        {
            var final = service.Dockerfile!.Final;
            var uid = final.User?.Split(':')[0];
            foreach (var mount in service.Volumes.Where(m => m.IsNamedVolume && !m.ReadOnly))
            {
                var created = final.All("RUN").Any(r => Regex.IsMatch(r.Arguments, $@"(install -d -o {uid}\b.*|chown -R? ?{uid}\S*) {Regex.Escape(mount.Target)}(\s|$)"));
                Assert.True(created, $"{service} writes {mount.Target} as uid {uid}, which {service.Dockerfile.Path} does not create with that owner");
            }
        }
    }

    [Fact]
    public void Compose_holds_only_the_Hardhat_devnet_keys_of_the_demo()
    {
        var demoKeys = DemoKey().Matches(Repo.Read("scripts/demo.sh")).Select(m => m.Groups[1].Value.ToLowerInvariant()).ToHashSet();
        Assert.Equal(4, demoKeys.Count);
        var keys = Compose.Services.Values.SelectMany(s => (s.Command ?? []).Concat(s.Environment.Values))
            .SelectMany(w => PrivateKey().Matches(w).Select(m => m.Value.ToLowerInvariant())).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.Contains(k, demoKeys));
        Assert.Contains("DEVNET ONLY", Repo.Read(ComposeFile.FileName), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_key_is_the_one_of_the_address_the_ledger_lets_record()
    {
        var deploy = Compose["deploy"].Environment;
        var exchange = Compose["exchange"].Environment;
        var recorderKey = Compose["recorder"].Option("--key") ?? throw new Xunit.Sdk.XunitException("recorder: no --key");
        AssertKeyOf(recorderKey, deploy["P2PE_OPERATOR_ADDRESS"], "the recorder's --key", "the ledger's operator (deploy --operator)");
        AssertKeyOf(exchange["Ledger__RootCommitterKey"], deploy["P2PE_ROOT_COMMITTER_ADDRESS"], "Ledger__RootCommitterKey", "the root committer the deploy job enables");
        AssertKeyOf(exchange["Ledger__SettlerKey"], deploy["P2PE_SETTLER_ADDRESS"], "Ledger__SettlerKey", "the settler the deploy job enables");
        var keys = new[] { deploy["P2PE_ADMIN_KEY"], recorderKey, exchange["Ledger__RootCommitterKey"], exchange["Ledger__SettlerKey"] };
        Assert.Equal(keys.Length, keys.Select(k => k.ToLowerInvariant()).Distinct().Count()); // one sender a key: their nonces must not race
        // The grid operator is an account, not a key: the demo's.
        Assert.Equal(DemoValue("grid_operator_address"), deploy["P2PE_GRID_OPERATOR_ADDRESS"], ignoreCase: true);
    }

    [Fact]
    public void The_exchange_records_no_lots_itself_while_the_recorder_service_does()
    {
        // With Ledger:OperatorKey the exchange would run its own lot recorder beside the recorder service:
        // two senders with one key, racing for nonces.
        Assert.True(Compose.Services.ContainsKey("recorder"));
        Assert.False(Compose["exchange"].Environment.ContainsKey("Ledger__OperatorKey"));
    }

    private static void AssertKeyOf(string key, string address, string keyName, string addressName) =>
        Assert.True(string.Equals(EthKey.FromHex(key).Address.ToString(), address, StringComparison.OrdinalIgnoreCase),
            $"{keyName} is the key of {EthKey.FromHex(key).Address}, but {addressName} is {address}");

    private static string DemoValue(string name) =>
        Regex.Match(Repo.Read("scripts/demo.sh"), $@"(?m)^{name}=(\S+)$").Groups[1].Value;

    private static bool DependsTransitively(string service, string target, string condition)
    {
        foreach (var (name, how) in Compose[service].DependsOn)
        {
            if (name == target && how == condition) return true;
            if (DependsTransitively(name, target, condition)) return true;
        }
        return false;
    }

    [GeneratedRegex(@"(?m)^\w+_key=(0x[0-9a-fA-F]{64})$")]
    private static partial Regex DemoKey();

    [GeneratedRegex(@"0x[0-9a-fA-F]{64}")]
    private static partial Regex PrivateKey();
}
