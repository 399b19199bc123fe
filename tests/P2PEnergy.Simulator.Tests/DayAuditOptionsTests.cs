using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Simulator.Day;

namespace P2PEnergy.Simulator.Tests;

/// <summary>
/// `day --rpc URL [--deployment FILE] [--from-block N]`: the audit at the end of a day. Everything that can be wrong
/// with these options is said before anything is traded (the runs on a real chain are in P2PEnergy.Exchange.Chain.Tests).
/// </summary>
public sealed class DayAuditOptionsTests : IDisposable
{
    // Nothing listens here: a usage error must come before any connection.
    private const string NoExchange = "http://127.0.0.1:9";

    private readonly string _dir = Directory.CreateTempSubdirectory("p2penergy-day-audit-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Exit, string Output, string Error)> DayAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await DayCommand.RunAsync(args, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private string DeploymentFile(ulong deployBlock = 7)
    {
        var file = Path.Combine(_dir, "deployment.json");
        new LedgerDeployment
        {
            ChainId = 31337,
            Ledger = Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
            Admin = Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            Operator = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
            DeployBlock = deployBlock,
            TransactionHash = "0x" + new string('a', 64),
            DeployedAt = DateTimeOffset.UnixEpoch,
        }.Save(file);
        return file;
    }

    /// <summary>A channel of its own to the in-memory exchange (the command disposes the one it is given).</summary>
    private static Grpc.Net.Client.GrpcChannel Connect(ExchangeHost host) =>
        Grpc.Net.Client.GrpcChannel.ForAddress(host.Server.BaseAddress, new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = host.Server.CreateHandler(), MaxReceiveMessageSize = null });

    [Fact]
    public async Task A_missing_deployment_file_is_a_usage_error_naming_it()
    {
        var missing = Path.Combine(_dir, "nowhere", "deployment.json");
        var (exit, output, error) = await DayAsync("--exchange", NoExchange, "--rpc", "http://127.0.0.1:8545", "--deployment", missing, "--no-progress");

        Assert.Equal(2, exit);
        Assert.Equal($"day: --deployment: no file '{missing}' (the ledger's deployment file, as `p2penergy-ledger deploy --out FILE` writes it)\n", error.ReplaceLineEndings("\n"));
        Assert.Equal("", output);
    }

    [Fact]
    public async Task A_file_that_is_not_a_deployment_is_a_usage_error()
    {
        var file = Path.Combine(_dir, "not-a-deployment.json");
        await File.WriteAllTextAsync(file, """{ "ledger": "0x5FbDB2315678afecb367f032d93F642f64180aa3" }""");
        var (exit, _, error) = await DayAsync("--exchange", NoExchange, "--rpc", "http://127.0.0.1:8545", "--deployment", file);
        Assert.Equal(2, exit);
        Assert.StartsWith($"day: --deployment: '{file}' is not a ledger deployment file", error);

        await File.WriteAllTextAsync(file, "not json");
        (exit, _, error) = await DayAsync("--exchange", NoExchange, "--rpc", "http://127.0.0.1:8545", "--deployment", file);
        Assert.Equal(2, exit);
        Assert.Contains("is not a ledger deployment file", error);
    }

    [Theory]
    [InlineData("--deployment", "deployment.json", "--deployment is for the audit, which needs --rpc URL")]
    [InlineData("--from-block", "12", "--from-block is for the audit, which needs --rpc URL")]
    public async Task Audit_options_without_rpc_are_refused(string option, string value, string message)
    {
        var (exit, _, error) = await DayAsync("--exchange", NoExchange, option, value == "deployment.json" ? DeploymentFile() : value);
        Assert.Equal(2, exit);
        Assert.Contains(message, error);
    }

    [Theory]
    [InlineData("--rpc", "localhost:8545", "--rpc: 'localhost:8545' is not an http(s) URL")]
    [InlineData("--rpc", "ftp://127.0.0.1/", "is not an http(s) URL")]
    [InlineData("--from-block", "-1", "--from-block: expected a block number, got '-1'")]
    [InlineData("--rpc", "--deployment", "--rpc needs a value")]
    public async Task Bad_values_are_usage_errors(string option, string value, string message)
    {
        var args = new List<string> { "--exchange", NoExchange, option, value };
        if (option == "--from-block") args.AddRange(["--rpc", "http://127.0.0.1:8545"]);
        var (exit, _, error) = await DayAsync([.. args]);
        Assert.Equal(2, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public void The_options_parse_into_the_audit_target()
    {
        var file = DeploymentFile(deployBlock: 42);
        var parsed = DayCommand.Parse(["--exchange", "http://127.0.0.1:5080", "--rpc", "http://127.0.0.1:8545", "--deployment", file]);
        var audit = Assert.IsType<AuditTarget>(parsed.Audit);
        Assert.Equal(new Uri("http://127.0.0.1:8545"), audit.Rpc);
        Assert.Equal(file, audit.DeploymentFile);
        Assert.Equal(42UL, audit.Deployment!.DeployBlock);
        Assert.Equal(Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"), audit.Deployment.Ledger);
        Assert.Null(audit.FromBlock);

        // Without a deployment file: the exchange's ledger, events from --from-block.
        parsed = DayCommand.Parse(["--exchange", "http://127.0.0.1:5080", "--rpc", "http://127.0.0.1:8545", "--from-block", "3"]);
        Assert.Null(parsed.Audit!.Deployment);
        Assert.Equal(3UL, parsed.Audit.FromBlock);

        // Without --rpc: no audit.
        Assert.Null(DayCommand.Parse(["--exchange", "http://127.0.0.1:5080"]).Audit);
    }

    [Fact]
    public async Task The_help_names_the_audit_options()
    {
        var (exit, output, _) = await DayAsync("--help");
        Assert.Equal(0, exit);
        Assert.Contains("--rpc URL", output);
        Assert.Contains("--deployment FILE", output);
        Assert.Contains("--from-block N", output);
    }

    [Fact]
    public async Task An_exchange_without_a_chain_is_refused_before_anything_is_traded()
    {
        using var host = new ExchangeHost();
        var output = new StringWriter();
        var error = new StringWriter();
        var outDir = Path.Combine(_dir, "out");
        var exit = await DayCommand.RunAsync(
            ["--exchange", "http://exchange.test", "--rpc", "http://127.0.0.1:8545", "--scenario", "small", "--out", outDir, "--no-progress"],
            output, error, _ => Connect(host), CancellationToken.None);

        Assert.Equal(1, exit);
        Assert.Contains("day: --rpc: the exchange runs without a chain (no Ledger:RpcUrl)", error.ToString());
        Assert.False(File.Exists(Path.Combine(outDir, "result.json")));
        var lots = await new P2PEnergy.Exchange.Protos.V1.ExchangeService.ExchangeServiceClient(host.Channel)
            .GetLotsAsync(new P2PEnergy.Exchange.Protos.V1.GetLotsRequest { PageSize = 10 });
        Assert.Empty(lots.Lots);
        var market = await new P2PEnergy.Exchange.Protos.V1.MarketAdmin.MarketAdminClient(host.Channel)
            .GetMarketInfoAsync(new P2PEnergy.Exchange.Protos.V1.GetMarketInfoRequest());
        Assert.Equal(ExchangeHost.StartUnixSeconds * 1000, market.NowUnixMs);
    }

    [Fact]
    public async Task Without_rpc_the_day_runs_and_the_report_says_the_audit_did_not_run_here()
    {
        using var host = new ExchangeHost();
        var output = new StringWriter();
        var error = new StringWriter();
        var outDir = Path.Combine(_dir, "out");
        var exit = await DayCommand.RunAsync(
            ["--exchange", "http://exchange.test", "--scenario", "small", "--slots", "2", "--out", outDir, "--no-progress", "--ledger-timeout", "5"],
            output, error, _ => Connect(host), CancellationToken.None);

        Assert.True(exit == 0, error.ToString());
        var result = DayResult.FromJson(await File.ReadAllTextAsync(Path.Combine(outDir, "result.json")));
        Assert.Null(result.Audit);
        Assert.Contains("not run here (the day ran without --rpc", await File.ReadAllTextAsync(Path.Combine(outDir, "report.md")));
        Assert.False(File.Exists(Path.Combine(outDir, "audit.txt")));
        Assert.DoesNotContain(output.ToString().Split('\n'), l => l.StartsWith("audit", StringComparison.Ordinal));
    }
}
