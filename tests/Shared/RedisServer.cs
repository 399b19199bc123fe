using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace P2PEnergy.Testing;

/// <summary>
/// A throw-away redis-server for one test (or one fixture): a free port of 127.0.0.1, its own temporary
/// directory, append-only file on, RDB snapshots off. Tests that need Redis start one of these and fail
/// loudly when they cannot (redis-server missing, refusing to start): a test never passes by skipping.
/// </summary>
/// <remarks>
/// Compiled into each test project that needs it (<c>&lt;Compile Include="../Shared/RedisServer.cs" /&gt;</c>), so
/// it depends on nothing but the BCL: readiness is a raw PING on a socket, not a Redis client.
/// <see cref="KillAsync"/> is SIGKILL: what Redis wrote to its AOF before (every command, written before the
/// reply) stays in the page cache and is read back by <see cref="RestartAsync"/>, as after a crash of the process.
/// </remarks>
public sealed class RedisServer : IAsyncDisposable
{
    private const string Executable = "redis-server";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string _executable;
    private readonly string _appendFsync;
    private readonly Queue<string> _output = new();
    private Process? _process;
    private bool _disposed;

    private RedisServer(string executable, int port, string dataDirectory, string appendFsync)
    {
        _executable = executable;
        Port = port;
        DataDirectory = dataDirectory;
        _appendFsync = appendFsync;
    }

    public int Port { get; }

    /// <summary>
    /// For StackExchange.Redis: the endpoint, and abortConnect=false so that a client connected while the server
    /// is down (killed by a test) gets errors per command and reconnects by itself once it is back.
    /// </summary>
    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)},abortConnect=false";

    /// <summary>The server's --dir: its append-only files (appendonlydir/) live here.</summary>
    public string DataDirectory { get; }

    public int? ProcessId
    {
        get
        {
            var process = _process;
            try
            {
                return process is { HasExited: false } ? process.Id : null;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Starts redis-server on a free port of 127.0.0.1 with --appendonly yes --appendfsync <paramref name="appendFsync"/>
    /// --save "" in a new temporary directory and waits until it answers PING. Throws with the server's output when
    /// it does not start, and says how to install it when redis-server is not on PATH.
    /// </summary>
    public static async Task<RedisServer> StartAsync(string appendFsync = "everysec", CancellationToken ct = default)
    {
        if (appendFsync is not ("always" or "everysec" or "no"))
        {
            throw new ArgumentOutOfRangeException(nameof(appendFsync), appendFsync, "appendfsync is always, everysec or no.");
        }
        var executable = FindOnPath(Executable) ?? throw new InvalidOperationException(
            $"{Executable} is not on PATH ({Environment.GetEnvironmentVariable("PATH")}). The Redis tests start their own server: " +
            "scripts/test.sh installs it with apt (apt-get install -y redis-server); install it so, or put redis-server 7 or newer on PATH.");
        // A free port can be taken between our probe and the server's bind: try a few.
        Exception? last = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory("p2pe-redis-").FullName;
            var server = new RedisServer(executable, FreePort(), directory, appendFsync);
            try
            {
                await server.StartProcessAsync(ct);
                return server;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                last = e;
                await server.DisposeAsync();
                if (!server.RecentOutput().Contains("Address already in use", StringComparison.Ordinal))
                {
                    throw;
                }
            }
        }
        throw last!;
    }

    /// <summary>SIGKILL: no shutdown, no final fsync. Waits until the process is gone.</summary>
    public async Task KillAsync()
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
                process.Kill(); // SIGKILL on Unix
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>Starts the server again on the same port and directory (killing it first if it runs): the AOF is loaded, then PING answers.</summary>
    public async Task RestartAsync()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await KillAsync();
        await StartProcessAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await KillAsync();
        try
        {
            if (Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open (should not happen after the kill): the temporary directory stays behind.
        }
    }

    /// <summary>The last lines redis-server printed (its log goes to stdout).</summary>
    public string RecentOutput()
    {
        lock (_output)
        {
            return string.Join('\n', _output);
        }
    }

    public override string ToString() => $"redis-server 127.0.0.1:{Port} (pid {ProcessId?.ToString(CultureInfo.InvariantCulture) ?? "none"}, dir {DataDirectory})";

    private async Task StartProcessAsync(CancellationToken ct)
    {
        var psi = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = DataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--port", Port.ToString(CultureInfo.InvariantCulture),
                     "--bind", "127.0.0.1",
                     "--protected-mode", "yes",
                     "--dir", DataDirectory,
                     "--appendonly", "yes",
                     "--appendfsync", _appendFsync,
                     "--save", "",
                     "--daemonize", "no",
                     "--logfile", "",
                 })
        {
            psi.ArgumentList.Add(arg);
        }
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start {_executable}.");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start {_executable}: {e.Message}", e);
        }
        _process = process;
        // Should the test host end without disposing us (a crash, a killed run), the server must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
            catch (InvalidOperationException)
            {
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var started = Stopwatch.StartNew();
        string? lastAnswer = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // Let the output readers catch up with what the process wrote before it exited.
                await process.WaitForExitAsync(ct);
                throw new InvalidOperationException(
                    $"redis-server exited with code {process.ExitCode} while starting on 127.0.0.1:{Port} (dir {DataDirectory}):\n{RecentOutput()}");
            }
            lastAnswer = await PingAsync(ct);
            if (lastAnswer == "+PONG")
            {
                return;
            }
            if (started.Elapsed > StartTimeout)
            {
                throw new TimeoutException(
                    $"redis-server on 127.0.0.1:{Port} did not answer PING with PONG within {StartTimeout.TotalSeconds:0} s " +
                    $"(last answer: {lastAnswer ?? "no connection"}):\n{RecentOutput()}");
            }
            await Task.Delay(20, ct);
        }
    }

    /// <summary>The first line of the answer to PING ("+PONG", or "-LOADING ..." while the AOF loads), or null when nobody listens.</summary>
    private async Task<string?> PingAsync(CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), timeout.Token);
            await socket.SendAsync("PING\r\n"u8.ToArray(), SocketFlags.None, timeout.Token);
            var buffer = new byte[256];
            int length = 0;
            while (length < buffer.Length)
            {
                int read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }
                length += read;
                int end = Array.IndexOf(buffer, (byte)'\n', 0, length);
                if (end >= 0)
                {
                    return Encoding.ASCII.GetString(buffer, 0, end).TrimEnd('\r');
                }
            }
            return length == 0 ? null : Encoding.ASCII.GetString(buffer, 0, length);
        }
        catch (SocketException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return null;
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

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
