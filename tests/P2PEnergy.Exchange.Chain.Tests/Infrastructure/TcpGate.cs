using System.Net;
using System.Net.Sockets;

namespace P2PEnergy.Exchange.Chain.Tests.Infrastructure;

/// <summary>
/// A port on 127.0.0.1 in front of the node. Closed (the start): nothing listens, a connection is refused,
/// exactly as with a node that is not up yet. <see cref="Open"/>: connections are forwarded to the node.
/// </summary>
public sealed class TcpGate : IAsyncDisposable
{
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;

    public TcpGate(int targetPort)
    {
        _target = targetPort;
        // A free port, then let it go: nothing listens on it until Open.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public void Open()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        lock (_tasks)
        {
            _tasks.Add(AcceptAsync(_listener));
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var outbound = new TcpClient();
            lock (_tasks)
            {
                _connections.Add(inbound);
                _connections.Add(outbound);
                _tasks.Add(ForwardAsync(inbound, outbound));
            }
        }
    }

    private async Task ForwardAsync(TcpClient inbound, TcpClient outbound)
    {
        try
        {
            await outbound.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            var a = inbound.GetStream();
            var b = outbound.GetStream();
            await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Stop();
        Task[] tasks;
        lock (_tasks)
        {
            foreach (var c in _connections)
            {
                c.Dispose();
            }
            tasks = [.. _tasks];
        }
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
