// Compiled into test projects with
//   <Compile Include="../Shared/ExchangeProcess.cs" Link="Shared/ExchangeProcess.cs" />
// It needs only Grpc.Net.Client (the health check is called without the generated health client).
namespace P2PEnergy.Testing;

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Net.Client;

/// <summary>
/// The built exchange server (src/Exchange/P2PEnergy.Exchange.Server/bin/&lt;the test's Configuration&gt;/net10.0) as a
/// real child process, `dotnet P2PEnergy.Exchange.Server.dll --Section:Key=value …`, listening on a free port of
/// 127.0.0.1 (h2c). <see cref="StartAsync"/> returns once it serves (the gRPC health check answers SERVING). Its
/// stdout and stderr are drained and the last lines kept (<see cref="RecentOutput"/>, in every failure message).
/// <see cref="KillAsync"/> is a crash (SIGKILL), <see cref="StopAsync"/> a shutdown (SIGTERM, then SIGKILL after
/// 30 s), <see cref="RestartAsync"/> starts it again with the same arguments on the same port. Disposing kills it;
/// so does the test host's exit, should a test forget to.
/// </summary>
public sealed class ExchangeProcess : IAsyncDisposable
{
    /// <summary>How long a start may take until the health check answers SERVING.</summary>
    public static TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    private const int KeptLines = 400;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly string _dll;
    private readonly IReadOnlyList<string> _settings;
    private readonly Queue<string> _output = new();
    private readonly object _gate = new();
    private Process? _process;

    private ExchangeProcess(string dll, int port, IReadOnlyList<string> settings)
    {
        _dll = dll;
        Port = port;
        _settings = settings;
        Url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>The server's address (h2c), e.g. http://127.0.0.1:41234; the same across restarts.</summary>
    public Uri Url { get; }

    public int Port { get; }

    /// <summary>The running server's process id; null when it is not running (killed, stopped or exited).</summary>
    public int? ProcessId
    {
        get
        {
            lock (_gate)
            {
                return _process is { HasExited: false } p ? p.Id : null;
            }
        }
    }

    /// <summary>The exit code of the last process once it has exited; null while it runs or before it started.</summary>
    public int? ExitCode
    {
        get
        {
            lock (_gate)
            {
                return _process is { HasExited: true } p ? p.ExitCode : null;
            }
        }
    }

    /// <summary>Every argument after the dll: content root, endpoint and the caller's settings.</summary>
    public IReadOnlyList<string> Arguments => BuildArguments();

    /// <summary>The last lines the server wrote (stdout and stderr interleaved, across restarts), for failure messages.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>
    /// Starts the built server with <paramref name="config"/> as command-line settings (keys "Section:Key", with or
    /// without a leading "--") on a free 127.0.0.1 port and waits until it serves.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server is not built, exited while starting, or did not serve in time (with its output).</exception>
    public static async Task<ExchangeProcess> StartAsync(IReadOnlyDictionary<string, string> config, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var dll = FindServerDll();
        var settings = config.Select(kv => $"--{kv.Key.TrimStart('-')}={kv.Value}").ToArray();
        // A free port is free only until someone takes it: should the server find it taken, try another.
        for (var attempt = 1; ; attempt++)
        {
            var exchange = new ExchangeProcess(dll, FreePort(), settings);
            try
            {
                await exchange.StartProcessAsync(ct);
                return exchange;
            }
            catch (PortInUseException) when (attempt < 5)
            {
                await exchange.DisposeAsync();
            }
            catch
            {
                await exchange.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>A channel to the server (the caller disposes it); no limit on received message size.</summary>
    public GrpcChannel CreateChannel() => GrpcChannel.ForAddress(Url, new GrpcChannelOptions { MaxReceiveMessageSize = null });

    /// <summary>Kills the server at once (SIGKILL: a crash, no shutdown code runs) and waits until it has exited.</summary>
    public async Task KillAsync()
    {
        var process = Current();
        if (process is null) return;
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        await WaitForExitAsync(process, "after SIGKILL");
    }

    /// <summary>Asks the server to shut down (SIGTERM: the host stops gracefully) and waits; kills it if it is not gone in 30 s.</summary>
    public async Task StopAsync()
    {
        var process = Current();
        if (process is null || process.HasExited) return;
        if (OperatingSystem.IsWindows() || SysKill(process.Id, SigTerm) != 0)
        {
            await KillAsync();
            return;
        }
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Remember($"[ExchangeProcess] no exit within {StopTimeout.TotalSeconds:0} s of SIGTERM: killing it");
            await KillAsync();
        }
    }

    /// <summary>Starts the server again with the same arguments on the same port (stopping it first with SIGTERM if it still runs).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        // The port was ours; after a kill the kernel may hold it a moment: retry while the server says it is in use.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                await StartProcessAsync(ct);
                return;
            }
            catch (PortInUseException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, ct);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        lock (_gate)
        {
            _process?.Dispose();
            _process = null;
        }
    }

    /// <summary>
    /// src/Exchange/P2PEnergy.Exchange.Server/bin/&lt;Configuration&gt;/net10.0/P2PEnergy.Exchange.Server.dll, found upwards
    /// from the test's base directory next to P2PEnergy.sln; the Configuration is the test assembly's own.
    /// </summary>
    public static string FindServerDll()
    {
        var configuration = typeof(ExchangeProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration;
        if (string.IsNullOrEmpty(configuration)) configuration = "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "P2PEnergy.sln"))) continue;
            var project = Path.Combine(dir.FullName, "src", "Exchange", "P2PEnergy.Exchange.Server");
            var dll = Path.Combine(project, "bin", configuration, "net10.0", "P2PEnergy.Exchange.Server.dll");
            if (!File.Exists(dll))
            {
                throw new InvalidOperationException(
                    $"The exchange server is not built for {configuration}: no {dll}. Build it first " +
                    $"(dotnet build {Path.Combine("src", "Exchange", "P2PEnergy.Exchange.Server")} -c {configuration}, or reference its project from the test project).");
            }
            return dll;
        }
        throw new InvalidOperationException($"No repository root (a folder with P2PEnergy.sln) above {AppContext.BaseDirectory}.");
    }

    private IReadOnlyList<string> BuildArguments()
    {
        var bin = Path.GetDirectoryName(_dll)!;
        // The content root is the server's own folder (appsettings.json); the endpoint comes before the caller's
        // settings, so that a test may still override it.
        return
        [
            "--contentRoot", bin,
            $"--Kestrel:Endpoints:Grpc:Url=http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}",
            .. _settings,
        ];
    }

    private Process? Current()
    {
        lock (_gate)
        {
            return _process;
        }
    }

    private async Task StartProcessAsync(CancellationToken ct)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(_dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(_dll);
        foreach (var a in BuildArguments()) psi.ArgumentList.Add(a);
        // The server logs plainly (no colours) and does not pick up a developer's environment.
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment.Remove("ASPNETCORE_URLS");
        psi.Environment.Remove("DOTNET_URLS");

        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        Remember($"[ExchangeProcess] dotnet {_dll} {string.Join(' ', BuildArguments())}");
        if (!process.Start()) throw new InvalidOperationException("Could not start `dotnet` for the exchange server.");
        lock (_gate)
        {
            _process?.Dispose();
            _process = process;
        }
        // Should the test host end without disposing us, the server must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var channel = GrpcChannel.ForAddress(Url);
        var invoker = channel.CreateCallInvoker();
        var started = Stopwatch.StartNew();
        string? lastProblem = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the pipes drain so that the output says why.
                await process.WaitForExitAsync(CancellationToken.None);
                var output = RecentOutput;
                if (output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                    throw new PortInUseException($"The exchange server could not bind 127.0.0.1:{Port}:\n{output}");
                throw new InvalidOperationException($"The exchange server exited with code {process.ExitCode} while starting on {Url}:\n{output}");
            }
            if (started.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"The exchange server did not serve on {Url} within {StartTimeout.TotalSeconds:0} s (last: {lastProblem}):\n{RecentOutput}");
            }
            try
            {
                if (await ServingAsync(invoker, ct)) return;
                lastProblem = "the health check answered, not SERVING";
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                lastProblem = $"{e.StatusCode}: {e.Status.Detail}";
            }
            await Task.Delay(100, ct);
        }
    }

    // grpc.health.v1.Health/Check, with the messages as bytes: the request is empty (all services), the response
    // HealthCheckResponse { status = 1 (SERVING) } is field 1 as a varint: 0x08 0x01.
    private static readonly Method<byte[], byte[]> HealthCheck = new(
        MethodType.Unary, "grpc.health.v1.Health", "Check",
        Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    private static async Task<bool> ServingAsync(CallInvoker invoker, CancellationToken ct)
    {
        var response = await invoker.AsyncUnaryCall(HealthCheck, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct), []);
        return response is [0x08, 0x01];
    }

    private async Task WaitForExitAsync(Process process, string when)
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The exchange server (pid {process.Id}) did not exit within {StopTimeout.TotalSeconds:0} s {when}:\n{RecentOutput}");
        }
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptLines) _output.Dequeue();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    private sealed class PortInUseException(string message) : InvalidOperationException(message);
}
