using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using P2PEnergy.Ethereum;

namespace P2PEnergy.Ledger.Tests.Infrastructure;

/// <summary>
/// A Hardhat node (contracts/node_modules/.bin/hardhat node) on 127.0.0.1. The binary is started
/// directly, not through npx, so that the process we hold is the node and killing it stops it
/// (../shared/CHAIN-NOTES.md). Offline: nothing is installed here beyond what <see cref="EnsureContractsBuilt"/> runs.
/// </summary>
public sealed class HardhatNode : IAsyncDisposable
{
    public const ulong ChainId = 31337;

    // The usual Hardhat accounts (mnemonic "test test test test test test test test test test test junk").
    public const string Account0Key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    public const string Account1Key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    public const string Account2Key = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _repoRoot;
    private readonly Queue<string> _output = new();
    private Process? _process;

    private HardhatNode(string repoRoot, int port)
    {
        _repoRoot = repoRoot;
        Port = port;
        Url = new Uri($"http://127.0.0.1:{port}/");
    }

    public int Port { get; }

    public Uri Url { get; }

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static string HardhatBinary(string repoRoot) => Path.Combine(repoRoot, "contracts", "node_modules", ".bin", "hardhat");

    /// <summary>The directory upwards from the test binaries that holds P2PEnergy.sln.</summary>
    public static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "P2PEnergy.sln")) && Directory.Exists(Path.Combine(dir.FullName, "contracts")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No repository root (P2PEnergy.sln beside contracts/) above {AppContext.BaseDirectory}.");
    }

    private static readonly object BuildGate = new();

    /// <summary>
    /// Makes sure the Hardhat binary and the compiled artifact exist: runs scripts/contracts-deps.sh
    /// (npm ci + offline compile) once if either is missing, and fails loudly if that does not help.
    /// </summary>
    public static void EnsureContractsBuilt(string repoRoot)
    {
        lock (BuildGate)
        {
            var artifact = Path.Combine(repoRoot, EnergyLedgerArtifact.RelativePath);
            if (File.Exists(HardhatBinary(repoRoot)) && File.Exists(artifact))
            {
                return;
            }
            var script = Path.Combine(repoRoot, "scripts", "contracts-deps.sh");
            var psi = new ProcessStartInfo("bash", [script])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = repoRoot,
            };
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start bash.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{script} did not finish within 10 minutes.");
            }
            if (process.ExitCode != 0 || !File.Exists(HardhatBinary(repoRoot)) || !File.Exists(artifact))
            {
                throw new InvalidOperationException(
                    $"The chain tests need the contracts' npm packages and compiled artifact, and {script} could not provide them " +
                    $"(exit code {process.ExitCode}). Run it by hand to see why.\n{stdout.Result}\n{stderr.Result}");
            }
        }
    }

    public static async Task<HardhatNode> StartAsync(string repoRoot, CancellationToken cancellationToken = default)
    {
        EnsureContractsBuilt(repoRoot);
        var node = new HardhatNode(repoRoot, FreePort());
        try
        {
            await node.StartProcessAsync(cancellationToken);
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary>Kills the node (its whole process tree) and waits until it is gone. Hardhat keeps no state: the chain is lost.</summary>
    public async Task StopAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Starts a fresh node on the same port (after <see cref="StopAsync"/>).</summary>
    public Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("The node is running; stop it first.");
        }
        return StartProcessAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    public string RecentOutput()
    {
        lock (_output)
        {
            return string.Join('\n', _output);
        }
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(HardhatBinary(_repoRoot), ["node", "--hostname", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            WorkingDirectory = Path.Combine(_repoRoot, "contracts"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = psi };
        // Hardhat logs every request: keep draining the pipes (a full pipe would stall the node) and keep the tail for diagnostics.
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("Could not start the Hardhat node.");
        }
        _process = process;
        // Should the test host end without disposing us (a crash, a killed run), the node must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = Url, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(5) });
        var started = Stopwatch.StartNew();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The Hardhat node exited with code {process.ExitCode} while starting on port {Port}:\n{RecentOutput()}");
            }
            try
            {
                var chainId = await client.GetChainIdAsync(cancellationToken);
                if (chainId != ChainId)
                {
                    throw new InvalidOperationException($"The node on port {Port} reports chain {chainId}, not {ChainId}.");
                }
                return;
            }
            catch (JsonRpcTransportException) when (started.Elapsed < StartTimeout)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (JsonRpcTransportException e)
            {
                throw new TimeoutException($"The Hardhat node did not answer eth_chainId on port {Port} within {StartTimeout}:\n{RecentOutput()}", e);
            }
        }
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > 200)
            {
                _output.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
