using System.Net;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace P2PEnergy.Ethereum;

/// <summary>
/// Ethereum JSON-RPC over HTTP. Connection failures and HTTP 5xx are retried with exponential
/// backoff; a JSON-RPC error is never retried (the node processed the request, and re-sending
/// e.g. a transaction could have effects) and surfaces as <see cref="JsonRpcException"/>.
/// Anything else that prevents an answer surfaces as <see cref="JsonRpcTransportException"/>.
/// </summary>
public sealed class EthJsonRpcClient : IDisposable
{
    private readonly JsonRpcClientOptions _options;
    private readonly HttpClient _http;
    private long _nextId;

    /// <param name="handler">For tests or custom transports; the client owns a default handler when null.</param>
    public EthJsonRpcClient(JsonRpcClientOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxRetries cannot be negative.");
        }
        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Timeout must be positive.");
        }
        _options = options;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan; // our own per-attempt timeout applies
    }

    public Uri Endpoint => _options.Endpoint;

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Sends any method. Parameters are serialised with System.Text.Json (strings, numbers,
    /// booleans, <see cref="JsonNode"/>, ...). Returns the "result" member.
    /// </summary>
    public async Task<JsonElement> SendAsync(string method, IReadOnlyList<object?>? parameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        long id = Interlocked.Increment(ref _nextId);
        var body = BuildRequest(id, method, parameters ?? []);
        var url = _options.Endpoint;
        for (int attempt = 1; ; attempt++)
        {
            bool canRetry = attempt <= _options.MaxRetries;
            byte[] responseBody;
            HttpStatusCode status;
            try
            {
                (status, responseBody) = await PostOnceAsync(body, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException e)
            {
                throw new JsonRpcTransportException(
                    url, method, JsonRpcTransportFailure.Timeout, attempt,
                    $"no response within {_options.Timeout.TotalMilliseconds:0} ms", inner: e);
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                if (!canRetry)
                {
                    throw new JsonRpcTransportException(url, method, JsonRpcTransportFailure.ConnectionFailed, attempt, e.Message, inner: e);
                }
                await DelayBeforeRetryAsync(attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }

            // A JSON-RPC error wins over the HTTP status: some nodes send errors with 4xx/5xx.
            var parsed = TryParseResponse(responseBody, id, method);
            if (parsed.Error is not null)
            {
                throw parsed.Error;
            }
            int code = (int)status;
            if (code >= 500)
            {
                if (!canRetry)
                {
                    throw new JsonRpcTransportException(url, method, JsonRpcTransportFailure.HttpStatus, attempt, $"HTTP {code} {status}", code);
                }
                await DelayBeforeRetryAsync(attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (code < 200 || code > 299)
            {
                throw new JsonRpcTransportException(url, method, JsonRpcTransportFailure.HttpStatus, attempt, $"HTTP {code} {status}", code);
            }
            if (parsed.Result is { } result)
            {
                return result;
            }
            throw new JsonRpcTransportException(url, method, JsonRpcTransportFailure.MalformedResponse, attempt, parsed.Problem ?? "malformed response");
        }
    }

    // ---- typed methods ----

    public async Task<ulong> GetChainIdAsync(CancellationToken cancellationToken = default) =>
        ReadUInt64(await SendAsync("eth_chainId", null, cancellationToken).ConfigureAwait(false), "eth_chainId");

    public async Task<ulong> GetBlockNumberAsync(CancellationToken cancellationToken = default) =>
        ReadUInt64(await SendAsync("eth_blockNumber", null, cancellationToken).ConfigureAwait(false), "eth_blockNumber");

    /// <summary>The account nonce; use <see cref="BlockParameter.Pending"/> to count transactions still in the pool.</summary>
    public async Task<ulong> GetTransactionCountAsync(Address account, BlockParameter block, CancellationToken cancellationToken = default) =>
        ReadUInt64(await SendAsync("eth_getTransactionCount", [account.ToLowerHex(), block.ToRpc()], cancellationToken).ConfigureAwait(false), "eth_getTransactionCount");

    public async Task<BigInteger> GetBalanceAsync(Address account, BlockParameter block, CancellationToken cancellationToken = default) =>
        ReadQuantity(await SendAsync("eth_getBalance", [account.ToLowerHex(), block.ToRpc()], cancellationToken).ConfigureAwait(false), "eth_getBalance");

    public async Task<BigInteger> GetGasPriceAsync(CancellationToken cancellationToken = default) =>
        ReadQuantity(await SendAsync("eth_gasPrice", null, cancellationToken).ConfigureAwait(false), "eth_gasPrice");

    public async Task<FeeHistory> GetFeeHistoryAsync(
        int blockCount, BlockParameter newestBlock, IReadOnlyList<double>? rewardPercentiles = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        var percentiles = new JsonArray((rewardPercentiles ?? []).Select(p => (JsonNode?)JsonValue.Create(p)).ToArray());
        var result = await SendAsync(
            "eth_feeHistory", [Hex.EncodeQuantity((ulong)blockCount), newestBlock.ToRpc(), percentiles], cancellationToken).ConfigureAwait(false);
        return ParseFeeHistory(result);
    }

    public async Task<ulong> EstimateGasAsync(CallRequest call, BlockParameter? block = null, CancellationToken cancellationToken = default)
    {
        var parameters = new List<object?> { ToJson(call) };
        if (block is { } b)
        {
            parameters.Add(b.ToRpc());
        }
        return ReadUInt64(await SendAsync("eth_estimateGas", parameters, cancellationToken).ConfigureAwait(false), "eth_estimateGas");
    }

    /// <summary>Executes a call without a transaction; returns the raw return data.</summary>
    public async Task<byte[]> CallAsync(CallRequest call, BlockParameter block, CancellationToken cancellationToken = default) =>
        ReadData(await SendAsync("eth_call", [ToJson(call), block.ToRpc()], cancellationToken).ConfigureAwait(false), "eth_call");

    /// <summary>Submits a signed transaction; returns its hash as reported by the node.</summary>
    public async Task<byte[]> SendRawTransactionAsync(ReadOnlyMemory<byte> rawTransaction, CancellationToken cancellationToken = default) =>
        ReadData(await SendAsync("eth_sendRawTransaction", [Hex.Encode(rawTransaction.Span)], cancellationToken).ConfigureAwait(false), "eth_sendRawTransaction");

    public Task<byte[]> SendRawTransactionAsync(SignedTransaction transaction, CancellationToken cancellationToken = default) =>
        SendRawTransactionAsync(transaction.RawBytes, cancellationToken);

    /// <summary>The receipt, or null while the transaction is not yet mined (or unknown).</summary>
    public async Task<TransactionReceipt?> GetTransactionReceiptAsync(ReadOnlyMemory<byte> transactionHash, CancellationToken cancellationToken = default)
    {
        var result = await SendAsync("eth_getTransactionReceipt", [Hex.Encode(transactionHash.Span)], cancellationToken).ConfigureAwait(false);
        return result.ValueKind == JsonValueKind.Null ? null : ParseReceipt(result);
    }

    public async Task<IReadOnlyList<LogEntry>> GetLogsAsync(LogFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var result = await SendAsync("eth_getLogs", [ToJson(filter)], cancellationToken).ConfigureAwait(false);
        if (result.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("eth_getLogs result is not an array.");
        }
        return result.EnumerateArray().Select(ParseLog).ToArray();
    }

    // ---- transport ----

    private async Task<(HttpStatusCode Status, byte[] Body)> PostOnceAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(_options.Endpoint, content, linked.Token).ConfigureAwait(false);
        var responseBody = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
        return (response.StatusCode, responseBody);
    }

    private Task DelayBeforeRetryAsync(int attempt, CancellationToken cancellationToken)
    {
        return Task.Delay(Backoff.Delay(_options.InitialBackoff, _options.MaxBackoff, attempt), _options.TimeProvider, cancellationToken);
    }

    private static byte[] BuildRequest(long id, string method, IReadOnlyList<object?> parameters)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WriteNumber("id", id);
            writer.WriteString("method", method);
            writer.WritePropertyName("params");
            writer.WriteStartArray();
            foreach (var parameter in parameters)
            {
                if (parameter is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    JsonSerializer.Serialize(writer, parameter, parameter.GetType());
                }
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    private (JsonElement? Result, JsonRpcException? Error, string? Problem) TryParseResponse(byte[] body, long id, string method)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return (null, null, "response is not JSON: " + e.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, "response is not a JSON object");
            }
            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
            {
                return (null, null, "response lacks \"jsonrpc\": \"2.0\"");
            }
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                // An error may carry a null id (e.g. parse errors); accept that, reject a different id.
                if (root.TryGetProperty("id", out var errorId) && errorId.ValueKind == JsonValueKind.Number && !(errorId.TryGetInt64(out var eid) && eid == id))
                {
                    return (null, null, "response id does not match the request id");
                }
                int code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var ci) ? ci : 0;
                string message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : string.Empty;
                JsonElement? data = error.TryGetProperty("data", out var d) ? d.Clone() : null;
                return (null, new JsonRpcException(method, code, message, data), null);
            }
            if (!root.TryGetProperty("id", out var responseId) || !responseId.TryGetInt64(out var rid) || rid != id)
            {
                return (null, null, "response id does not match the request id");
            }
            if (!root.TryGetProperty("result", out var result))
            {
                return (null, null, "response has neither result nor error");
            }
            return (result.Clone(), null, null);
        }
    }

    // ---- JSON mapping ----

    private static JsonObject ToJson(CallRequest call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var json = new JsonObject();
        if (call.From is { } from)
        {
            json["from"] = from.ToLowerHex();
        }
        if (call.To is { } to)
        {
            json["to"] = to.ToLowerHex();
        }
        if (call.Gas is { } gas)
        {
            json["gas"] = Hex.EncodeQuantity(gas);
        }
        if (call.GasPrice is { } gasPrice)
        {
            json["gasPrice"] = Hex.EncodeQuantity(gasPrice);
        }
        if (call.MaxFeePerGas is { } maxFee)
        {
            json["maxFeePerGas"] = Hex.EncodeQuantity(maxFee);
        }
        if (call.MaxPriorityFeePerGas is { } maxPriority)
        {
            json["maxPriorityFeePerGas"] = Hex.EncodeQuantity(maxPriority);
        }
        if (call.Value is { } value)
        {
            json["value"] = Hex.EncodeQuantity(value);
        }
        if (call.Data is { } data)
        {
            json["data"] = Hex.Encode(data);
        }
        return json;
    }

    private static JsonObject ToJson(LogFilter filter)
    {
        var json = new JsonObject();
        if (filter.BlockHash is not null && (filter.FromBlock is not null || filter.ToBlock is not null))
        {
            throw new ArgumentException("A log filter takes either a block hash or a block range, not both.", nameof(filter));
        }
        if (filter.FromBlock is { } fromBlock)
        {
            json["fromBlock"] = fromBlock.ToRpc();
        }
        if (filter.ToBlock is { } toBlock)
        {
            json["toBlock"] = toBlock.ToRpc();
        }
        if (filter.BlockHash is { } blockHash)
        {
            json["blockHash"] = Hex.Encode(blockHash);
        }
        if (filter.Addresses.Count == 1)
        {
            json["address"] = filter.Addresses[0].ToLowerHex();
        }
        else if (filter.Addresses.Count > 1)
        {
            json["address"] = new JsonArray(filter.Addresses.Select(a => (JsonNode?)JsonValue.Create(a.ToLowerHex())).ToArray());
        }
        if (filter.Topics.Count > 0)
        {
            var topics = new JsonArray();
            foreach (var position in filter.Topics)
            {
                topics.Add(position switch
                {
                    null => null,
                    { Count: 1 } single => JsonValue.Create(Hex.Encode(single[0])),
                    _ => new JsonArray(position.Select(t => (JsonNode?)JsonValue.Create(Hex.Encode(t))).ToArray()),
                });
            }
            json["topics"] = topics;
        }
        return json;
    }

    private static TransactionReceipt ParseReceipt(JsonElement json)
    {
        const string m = "eth_getTransactionReceipt";
        return new TransactionReceipt
        {
            TransactionHash = ReadData(Get(json, "transactionHash", m), m),
            TransactionIndex = ReadUInt64(Get(json, "transactionIndex", m), m),
            BlockHash = ReadData(Get(json, "blockHash", m), m),
            BlockNumber = ReadUInt64(Get(json, "blockNumber", m), m),
            From = ReadAddress(Get(json, "from", m), m),
            To = ReadOptionalValue(json, "to", e => ReadAddress(e, m)),
            ContractAddress = ReadOptionalValue(json, "contractAddress", e => ReadAddress(e, m)),
            CumulativeGasUsed = ReadUInt64(Get(json, "cumulativeGasUsed", m), m),
            GasUsed = ReadUInt64(Get(json, "gasUsed", m), m),
            EffectiveGasPrice = ReadOptionalValue(json, "effectiveGasPrice", e => ReadQuantity(e, m)),
            Status = ReadOptionalValue(json, "status", e => (byte)ReadSmall(e, m, 1)),
            Type = ReadOptionalValue(json, "type", e => (byte)ReadSmall(e, m, 255)),
            Logs = Get(json, "logs", m).EnumerateArray().Select(ParseLog).ToArray(),
        };
    }

    private static LogEntry ParseLog(JsonElement json)
    {
        const string m = "log";
        return new LogEntry
        {
            Address = ReadAddress(Get(json, "address", m), m),
            Topics = Get(json, "topics", m).EnumerateArray().Select(t => Hex.DecodeFixed(ReadString(t, m), 32)).ToArray(),
            Data = ReadData(Get(json, "data", m), m),
            BlockNumber = ReadOptionalValue(json, "blockNumber", e => ReadUInt64(e, m)),
            BlockHash = ReadOptional(json, "blockHash", e => ReadData(e, m)),
            TransactionHash = ReadOptional(json, "transactionHash", e => ReadData(e, m)),
            TransactionIndex = ReadOptionalValue(json, "transactionIndex", e => ReadUInt64(e, m)),
            LogIndex = ReadOptionalValue(json, "logIndex", e => ReadUInt64(e, m)),
            Removed = json.TryGetProperty("removed", out var removed) && removed.ValueKind == JsonValueKind.True,
        };
    }

    private static FeeHistory ParseFeeHistory(JsonElement json)
    {
        const string m = "eth_feeHistory";
        var rewards = json.TryGetProperty("reward", out var reward) && reward.ValueKind == JsonValueKind.Array
            ? reward.EnumerateArray().Select(block => (IReadOnlyList<BigInteger>)block.EnumerateArray().Select(r => ReadQuantity(r, m)).ToArray()).ToArray()
            : [];
        return new FeeHistory
        {
            OldestBlock = ReadUInt64(Get(json, "oldestBlock", m), m),
            BaseFeePerGas = Get(json, "baseFeePerGas", m).EnumerateArray().Select(e => ReadQuantity(e, m)).ToArray(),
            GasUsedRatio = Get(json, "gasUsedRatio", m).EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            Reward = rewards,
        };
    }

    private static JsonElement Get(JsonElement json, string name, string context)
    {
        if (json.ValueKind != JsonValueKind.Object || !json.TryGetProperty(name, out var value))
        {
            throw new FormatException($"{context}: missing member '{name}'.");
        }
        return value;
    }

    // Two forms so that an absent or null member is null for value types too (never default(T)).
    private static T? ReadOptional<T>(JsonElement json, string name, Func<JsonElement, T> read)
        where T : class =>
        json.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value) : null;

    private static T? ReadOptionalValue<T>(JsonElement json, string name, Func<JsonElement, T> read)
        where T : struct =>
        json.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value) : null;

    private static string ReadString(JsonElement element, string context) =>
        element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw new FormatException($"{context}: expected a hex string but got {element.ValueKind}.");

    private static BigInteger ReadQuantity(JsonElement element, string context) => Hex.DecodeQuantity(ReadString(element, context));

    private static ulong ReadUInt64(JsonElement element, string context) => Hex.DecodeQuantityUInt64(ReadString(element, context));

    private static int ReadSmall(JsonElement element, string context, int max)
    {
        var value = Hex.DecodeQuantityUInt64(ReadString(element, context));
        return value <= (ulong)max ? (int)value : throw new FormatException($"{context}: value {value} exceeds {max}.");
    }

    private static byte[] ReadData(JsonElement element, string context) => Hex.Decode(ReadString(element, context));

    private static Address ReadAddress(JsonElement element, string context) => Address.Parse(ReadString(element, context));
}
