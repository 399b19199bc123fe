using System.Text.Json;

namespace P2PEnergy.Ethereum;

/// <summary>The node answered with a JSON-RPC error object. Never retried: the node did process the request.</summary>
public sealed class JsonRpcException : Exception
{
    public JsonRpcException(string method, int code, string rpcMessage, JsonElement? data)
        : base(BuildMessage(method, code, rpcMessage, data))
    {
        Method = method;
        Code = code;
        RpcMessage = rpcMessage;
        Data = data;
    }

    public string Method { get; }

    /// <summary>The error code from the node (e.g. -32000 for most execution errors, 3 for reverts in geth).</summary>
    public int Code { get; }

    /// <summary>The node's error message, unchanged.</summary>
    public string RpcMessage { get; }

    /// <summary>The error's "data" member, if any.</summary>
    public new JsonElement? Data { get; }

    /// <summary>
    /// Revert data when the node supplied it: "data" as a hex string (geth, newer Hardhat) or
    /// "data.data" as a hex string (older Hardhat / Ganache).
    /// </summary>
    public byte[]? RevertData => ExtractRevertData(Data);

    private static byte[]? ExtractRevertData(JsonElement? data)
    {
        if (data is not { } element)
        {
            return null;
        }
        if (element.ValueKind == JsonValueKind.String && Hex.TryDecode(element.GetString(), out var bytes))
        {
            return bytes;
        }
        if (element.ValueKind == JsonValueKind.Object
            && element.TryGetProperty("data", out var inner)
            && inner.ValueKind == JsonValueKind.String
            && Hex.TryDecode(inner.GetString(), out var innerBytes))
        {
            return innerBytes;
        }
        return null;
    }

    private static string BuildMessage(string method, int code, string rpcMessage, JsonElement? data)
    {
        var message = $"{method} failed with JSON-RPC error {code}: {rpcMessage}";
        if (ExtractRevertData(data) is { } revert && RevertReason.TryDecode(revert, out var reason))
        {
            message += $" ({reason})";
        }
        return message;
    }
}

public enum JsonRpcTransportFailure
{
    /// <summary>No HTTP response: connection refused, reset, DNS, TLS.</summary>
    ConnectionFailed,

    /// <summary>An HTTP status other than success, with no JSON-RPC error in the body.</summary>
    HttpStatus,

    /// <summary>No complete answer within the configured timeout.</summary>
    Timeout,

    /// <summary>The body was not a JSON-RPC response to our request.</summary>
    MalformedResponse,
}

/// <summary>No valid JSON-RPC answer could be obtained from <see cref="Url"/>.</summary>
public sealed class JsonRpcTransportException : Exception
{
    public JsonRpcTransportException(
        Uri url, string method, JsonRpcTransportFailure failure, int attempts, string detail, int? httpStatusCode = null, Exception? inner = null)
        : base($"{method} to {url} failed after {attempts} attempt(s): {detail}", inner)
    {
        Url = url;
        Method = method;
        Failure = failure;
        Attempts = attempts;
        HttpStatusCode = httpStatusCode;
    }

    public Uri Url { get; }

    public string Method { get; }

    public JsonRpcTransportFailure Failure { get; }

    public int Attempts { get; }

    public int? HttpStatusCode { get; }
}
