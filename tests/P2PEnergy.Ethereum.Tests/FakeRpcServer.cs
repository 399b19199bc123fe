using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace P2PEnergy.Ethereum.Tests;

/// <summary>
/// A tiny JSON-RPC node stand-in on 127.0.0.1: each request is handed to <c>respond</c> with its
/// 1-based sequence number; the reply's HTTP status and body come back from it.
/// </summary>
internal sealed class FakeRpcServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<int, JsonElement, Task<(int Status, string Body)>> _respond;
    private readonly Task _loop;
    private readonly List<JsonElement> _requests = [];
    private int _arrivals;

    public FakeRpcServer(Func<int, JsonElement, Task<(int Status, string Body)>> respond)
    {
        _respond = respond;
        int port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Url.ToString());
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public FakeRpcServer(Func<int, JsonElement, (int Status, string Body)> respond)
        : this((n, request) => Task.FromResult(respond(n, request)))
    {
    }

    public Uri Url { get; }

    public IReadOnlyList<JsonElement> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToArray();
            }
        }
    }

    /// <summary>
    /// HTTP requests accepted so far, counted when the request arrives, before its body is read: a client that
    /// gives up early (a timeout) may close the connection before the body is read, and then the request is
    /// not in <see cref="Requests"/>, but it did reach the node.
    /// </summary>
    public int Arrivals => Volatile.Read(ref _arrivals);

    public static string Result(JsonElement request, string resultJson) =>
        $"{{\"jsonrpc\":\"2.0\",\"id\":{request.GetProperty("id").GetRawText()},\"result\":{resultJson}}}";

    public static string Error(JsonElement request, int code, string message, string? dataJson = null) =>
        $"{{\"jsonrpc\":\"2.0\",\"id\":{request.GetProperty("id").GetRawText()},\"error\":{{\"code\":{code},\"message\":{JsonSerializer.Serialize(message)}"
        + (dataJson is null ? string.Empty : $",\"data\":{dataJson}") + "}}";

    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task LoopAsync()
    {
        int count = 0;
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            int number = Interlocked.Increment(ref count);
            Interlocked.Increment(ref _arrivals);
            _ = Task.Run(() => HandleAsync(context, number));
        }
    }

    private async Task HandleAsync(HttpListenerContext context, int number)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync();
            var request = JsonDocument.Parse(text).RootElement.Clone();
            lock (_requests)
            {
                _requests.Add(request);
            }
            var (status, body) = await _respond(number, request);
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // Client went away (e.g. after its timeout) or the server is stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
