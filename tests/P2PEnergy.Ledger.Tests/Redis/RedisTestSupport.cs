using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using P2PEnergy.Ledger.Redis;
using P2PEnergy.Ledger.Tests.Infrastructure;
using P2PEnergy.Testing;
using StackExchange.Redis;

namespace P2PEnergy.Ledger.Tests.Redis;

/// <summary>
/// One redis-server for the tests of the "redis" collection (each test uses its own market, so its own keys),
/// and one connection to it. No redis-server: every test of the collection fails, saying how to install it.
/// </summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Redis = await RedisLotOutbox.ConnectAsync(Server.ConnectionString, "p2pe-tests");
    }

    public async Task DisposeAsync()
    {
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }

    private static int _markets;

    /// <summary>A market name of its own for each test: its own stream and group.</summary>
    public static string NewMarket(string name) => $"{name}-{Interlocked.Increment(ref _markets)}";
}

[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    public const string Name = "redis";
}

public static class RedisTesting
{
    /// <summary>
    /// Short timeouts for tests that kill the server: a command while it is down fails after about a second,
    /// not after StackExchange.Redis's default 5 s.
    /// </summary>
    public static Task<ConnectionMultiplexer> ConnectWithShortTimeoutsAsync(RedisServer server) =>
        RedisLotOutbox.ConnectAsync(server.ConnectionString + ",connectTimeout=1000,asyncTimeout=1000,syncTimeout=1000", "p2pe-tests");

    public static async Task<long> PendingInGroupAsync(IConnectionMultiplexer redis, RedisLotOutbox outbox)
    {
        var info = await redis.GetDatabase().StreamPendingAsync(outbox.StreamKey, RedisKeys.RecorderGroup);
        return info.PendingMessageCount;
    }

    /// <summary>Retries <paramref name="action"/> while the outbox is unavailable (Redis restarting), up to <paramref name="timeout"/>.</summary>
    public static async Task<T> WhenAvailableAsync<T>(Func<Task<T>> action, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await action();
            }
            catch (LotOutboxUnavailableException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }
}

/// <summary>Keeps every log line (level and formatted message) for the test to look at.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => _lines.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, formatter(state, exception)));
}

/// <summary>
/// p2penergy-ledger (the built CLI of this configuration) as a child process: stdout and stderr kept, stopped with
/// SIGTERM (clean) or SIGKILL (kill -9).
/// </summary>
public sealed class LedgerCliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private LedgerCliProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', _output);

    /// <summary>src/Ledger/P2PEnergy.Ledger.Cli/bin/{this test assembly's configuration}/{its framework}/p2penergy-ledger.dll.</summary>
    public static string CliPath(string repoRoot)
    {
        // The test assembly runs from tests/P2PEnergy.Ledger.Tests/bin/{Configuration}/{TargetFramework}/.
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testBin.Name;
        var configuration = testBin.Parent?.Name ?? "Release";
        var path = Path.Combine(repoRoot, "src", "Ledger", "P2PEnergy.Ledger.Cli", "bin", configuration, framework, "p2penergy-ledger.dll");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The ledger CLI is not built at {path}: the test project builds it (a ProjectReference without its assembly); " +
                $"run `dotnet build tests/P2PEnergy.Ledger.Tests -c {configuration}`.");
        }
        return path;
    }

    public static LedgerCliProcess Start(string repoRoot, IEnumerable<string> args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = repoRoot,
        };
        psi.ArgumentList.Add(CliPath(repoRoot));
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = psi };
        var cli = new LedgerCliProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null) cli._output.Enqueue(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) cli._output.Enqueue("stderr: " + e.Data);
        };
        if (!process.Start())
        {
            throw new InvalidOperationException("Could not start the ledger CLI.");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited) process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>kill -9: no handler runs, nothing is acknowledged or flushed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL
        }
        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>kill -TERM: the CLI stops cleanly; returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited && SendSignal(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed (errno {Marshal.GetLastPInvokeError()}).");
        }
        await WaitForExitAsync(timeout);
        return _process.ExitCode;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The ledger CLI (pid {_process.Id}) did not exit within {timeout.TotalSeconds:0} s. Its output:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

internal static class OutboxAssert
{
    /// <summary>Every lot on chain once, with every field, and nothing else.</summary>
    public static async Task EveryLotOnChainOnceAsync(EnergyLedgerContract contract, LedgerDeployment deployment, IReadOnlyList<Lot> lots)
    {
        var recorded = await contract.GetRecordedLotsAsync(deployment.DeployBlock);
        Assert.Equal(lots.Count, recorded.Select(r => r.LotId).Distinct().Count());
        Assert.Equal(lots.OrderBy(l => l.LotId).ToArray(), recorded.Select(r => r.Lot).OrderBy(l => l.LotId).ToArray());
        Assert.Equal((ulong)lots.Count, await contract.LotCountAsync());
    }
}
