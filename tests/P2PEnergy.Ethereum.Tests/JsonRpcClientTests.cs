using System.Numerics;
using System.Text.Json;
using static P2PEnergy.Ethereum.Tests.TestUtil;

namespace P2PEnergy.Ethereum.Tests;

public sealed class JsonRpcClientTests : IDisposable
{
    // Released when each test ends, so handlers that simulate a hung node always finish.
    private readonly CancellationTokenSource _serverStopping = new();

    public void Dispose()
    {
        _serverStopping.Cancel();
        _serverStopping.Dispose();
    }

    private static EthJsonRpcClient Client(Uri url, int maxRetries = 3, int timeoutMs = 5000) => new(new JsonRpcClientOptions
    {
        Endpoint = url,
        MaxRetries = maxRetries,
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(20),
        Timeout = TimeSpan.FromMilliseconds(timeoutMs),
    });

    [Fact]
    public async Task Retries_on_503_then_returns_the_result()
    {
        await using var server = new FakeRpcServer((n, request) =>
            n <= 2 ? (503, "Service Unavailable") : (200, FakeRpcServer.Result(request, "\"0x7a69\"")));
        using var client = Client(server.Url);

        Assert.Equal(31337UL, await client.GetChainIdAsync());
        Assert.Equal(3, server.Requests.Count);
        Assert.All(server.Requests, r => Assert.Equal("eth_chainId", r.GetProperty("method").GetString()));
    }

    [Fact]
    public async Task Gives_up_after_the_configured_retries_with_the_url_in_the_error()
    {
        await using var server = new FakeRpcServer((n, request) => (502, "Bad Gateway"));
        using var client = Client(server.Url, maxRetries: 2);

        var error = await Assert.ThrowsAsync<JsonRpcTransportException>(() => client.GetBlockNumberAsync());
        Assert.Equal(JsonRpcTransportFailure.HttpStatus, error.Failure);
        Assert.Equal(502, error.HttpStatusCode);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(server.Url, error.Url);
        Assert.Contains(server.Url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task Does_not_retry_a_json_rpc_error_and_surfaces_code_message_and_data()
    {
        // Error(string) "lot already recorded", as a node returns it for a reverted eth_call.
        var revert = Hex.Encode(new AbiFunction("Error(string)").EncodeCall("lot already recorded"));
        await using var server = new FakeRpcServer((n, request) =>
            (200, FakeRpcServer.Error(request, 3, "execution reverted: lot already recorded", $"\"{revert}\"")));
        using var client = Client(server.Url);

        var error = await Assert.ThrowsAsync<JsonRpcException>(() =>
            client.CallAsync(new CallRequest { To = Address.Zero, Data = [1, 2, 3, 4] }, BlockParameter.Latest));
        Assert.Equal(3, error.Code);
        Assert.Equal("execution reverted: lot already recorded", error.RpcMessage);
        Assert.Equal("eth_call", error.Method);
        Assert.Equal(revert, ToHex(error.RevertData!));
        Assert.Contains("reverted: lot already recorded", error.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_json_rpc_error_in_a_5xx_response_is_still_not_retried()
    {
        await using var server = new FakeRpcServer((n, request) =>
            (500, FakeRpcServer.Error(request, -32000, "nonce too low", "{\"message\":\"x\",\"data\":\"0x1234\"}")));
        using var client = Client(server.Url);

        var error = await Assert.ThrowsAsync<JsonRpcException>(() => client.SendRawTransactionAsync(new byte[] { 0xc0 }));
        Assert.Equal(-32000, error.Code);
        Assert.Equal("nonce too low", error.RpcMessage);
        Assert.Equal(H("0x1234"), error.RevertData);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Timeout_gives_a_clear_transport_exception_without_retrying()
    {
        await using var server = new FakeRpcServer(async (n, request) =>
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(_serverStopping.Token);
            return (200, FakeRpcServer.Result(request, "\"0x1\""));
        });
        using var client = Client(server.Url, maxRetries: 3, timeoutMs: 300);

        var error = await Assert.ThrowsAsync<JsonRpcTransportException>(() => client.GetBlockNumberAsync());
        Assert.Equal(JsonRpcTransportFailure.Timeout, error.Failure);
        Assert.Equal(1, error.Attempts);
        Assert.Contains("300 ms", error.Message, StringComparison.Ordinal);
        Assert.Contains(server.Url.ToString(), error.Message, StringComparison.Ordinal);
        // No retry after a timeout (the request may have been processed). The client has returned, so every
        // attempt it made has been sent or abandoned: the node saw at most one. Under load the one attempt can
        // time out before its request is accepted, so zero arrivals is possible too; more than one never is.
        Assert.InRange(server.Arrivals, 0, 1);
    }

    [Fact]
    public async Task Connection_refused_is_retried_then_reported_as_a_transport_failure()
    {
        var url = new Uri($"http://127.0.0.1:{FakeRpcServer.FreePort()}/");
        using var client = Client(url, maxRetries: 2);

        var error = await Assert.ThrowsAsync<JsonRpcTransportException>(() => client.GetChainIdAsync());
        Assert.Equal(JsonRpcTransportFailure.ConnectionFailed, error.Failure);
        Assert.Equal(3, error.Attempts);
        Assert.Equal(url, error.Url);
    }

    [Fact]
    public async Task Client_errors_and_malformed_responses_are_not_retried()
    {
        await using var notFound = new FakeRpcServer((n, request) => (404, "not here"));
        using (var client = Client(notFound.Url))
        {
            var error = await Assert.ThrowsAsync<JsonRpcTransportException>(() => client.GetChainIdAsync());
            Assert.Equal(JsonRpcTransportFailure.HttpStatus, error.Failure);
            Assert.Equal(404, error.HttpStatusCode);
            Assert.Single(notFound.Requests);
        }

        await using var wrongId = new FakeRpcServer((n, request) => (200, "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":\"0x1\"}"));
        using (var client = Client(wrongId.Url))
        {
            var error = await Assert.ThrowsAsync<JsonRpcTransportException>(() => client.GetChainIdAsync());
            Assert.Equal(JsonRpcTransportFailure.MalformedResponse, error.Failure);
            Assert.Contains("id", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Quantities_are_parsed_strictly()
    {
        await using var server = new FakeRpcServer((n, request) => (200, FakeRpcServer.Result(request, "\"0x01\"")));
        using var client = Client(server.Url);
        var error = await Assert.ThrowsAsync<FormatException>(() => client.GetBlockNumberAsync());
        Assert.Contains("leading zeros", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Typed_methods_send_the_expected_params_and_parse_results()
    {
        var account = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        var contract = Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3");
        var topic = AbiEvent.ComputeTopic0("LotRecorded(uint64,address,bytes32)");
        var hash = Keccak.Hash256Utf8("tx");
        var log = $$"""
            {"address":"{{contract.ToLowerHex()}}","topics":["{{ToHex(topic)}}"],"data":"0x0a","blockNumber":"0x5",
             "blockHash":"{{ToHex(Keccak.Hash256Utf8("b"))}}","transactionHash":"{{ToHex(hash)}}","transactionIndex":"0x0","logIndex":"0x2","removed":false}
            """;
        await using var server = new FakeRpcServer((n, request) =>
        {
            string result = request.GetProperty("method").GetString() switch
            {
                "eth_getTransactionCount" => "\"0x2a\"",
                "eth_gasPrice" => "\"0x3b9aca00\"",
                "eth_estimateGas" => "\"0x5208\"",
                "eth_feeHistory" => """{"oldestBlock":"0x10","baseFeePerGas":["0x3b9aca00","0x342770c0"],"gasUsedRatio":[0.5],"reward":[["0x1","0x2"]]}""",
                "eth_sendRawTransaction" => $"\"{ToHex(hash)}\"",
                "eth_getTransactionReceipt" when request.GetProperty("params")[0].GetString() == ToHex(hash) => $$"""
                    {"transactionHash":"{{ToHex(hash)}}","transactionIndex":"0x0","blockHash":"{{ToHex(Keccak.Hash256Utf8("b"))}}",
                     "blockNumber":"0x5","from":"{{account.ToLowerHex()}}","to":"{{contract.ToLowerHex()}}","contractAddress":null,
                     "cumulativeGasUsed":"0xa410","gasUsed":"0xa410","effectiveGasPrice":"0x3b9aca00","status":"0x1","type":"0x2",
                     "logs":[{{log}}],"logsBloom":"0x00"}
                    """,
                "eth_getTransactionReceipt" => "null",
                "eth_getLogs" => $"[{log}]",
                "eth_call" => "\"0x0000000000000000000000000000000000000000000000000000000000000001\"",
                "eth_getBalance" => "\"0xde0b6b3a7640000\"",
                _ => throw new InvalidOperationException("unexpected method"),
            };
            return (200, FakeRpcServer.Result(request, result));
        });
        using var client = Client(server.Url);

        Assert.Equal(42UL, await client.GetTransactionCountAsync(account, BlockParameter.Pending));
        Assert.Equal(new BigInteger(1_000_000_000), await client.GetGasPriceAsync());
        Assert.Equal(BigInteger.Pow(10, 18), await client.GetBalanceAsync(account, BlockParameter.At(5)));
        Assert.Equal(21000UL, await client.EstimateGasAsync(new CallRequest { From = account, To = contract, Value = 1 }));

        var fees = await client.GetFeeHistoryAsync(1, BlockParameter.Latest, [25, 75]);
        Assert.Equal(16UL, fees.OldestBlock);
        Assert.Equal([new BigInteger(1_000_000_000), new BigInteger(875_000_000)], fees.BaseFeePerGas);
        Assert.Equal([new BigInteger(1), new BigInteger(2)], fees.Reward[0]);

        Assert.Equal(hash, await client.SendRawTransactionAsync(new byte[] { 0x02, 0xc0 }));
        var receipt = await client.GetTransactionReceiptAsync(hash);
        Assert.NotNull(receipt);
        Assert.True(receipt.Succeeded);
        Assert.Equal(42000UL, receipt.GasUsed);
        Assert.Equal(5UL, receipt.BlockNumber);
        Assert.Equal(account, receipt.From);
        Assert.Equal(contract, receipt.To);
        Assert.Null(receipt.ContractAddress);
        Assert.Equal((byte)2, receipt.Type);
        var receiptLog = Assert.Single(receipt.Logs);
        Assert.Equal(topic, receiptLog.Topics[0]);
        Assert.Equal(2UL, receiptLog.LogIndex);
        Assert.Null(await client.GetTransactionReceiptAsync(new byte[32]));

        var logs = await client.GetLogsAsync(new LogFilter
        {
            Addresses = [contract],
            Topics = [[topic], null, [new byte[32], topic]],
            FromBlock = BlockParameter.At(1),
            ToBlock = BlockParameter.Latest,
        });
        Assert.Equal(contract, Assert.Single(logs).Address);
        Assert.Equal(H("0x0a"), logs[0].Data);

        var output = await client.CallAsync(new CallRequest { To = contract, Data = [0xaa] }, BlockParameter.Latest);
        Assert.Equal([true], new AbiFunction("ok()", "(bool)").DecodeOutput(output));

        var requests = server.Requests
            .GroupBy(r => r.GetProperty("method").GetString()!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().GetProperty("params"), StringComparer.Ordinal);
        Assert.Equal($"[\"{account.ToLowerHex()}\",\"pending\"]", requests["eth_getTransactionCount"].GetRawText());
        Assert.Equal($"[\"{account.ToLowerHex()}\",\"0x5\"]", requests["eth_getBalance"].GetRawText());
        Assert.Equal("[\"0x1\",\"latest\",[25,75]]", requests["eth_feeHistory"].GetRawText());
        Assert.Equal("[\"0x02c0\"]", requests["eth_sendRawTransaction"].GetRawText());
        Assert.Equal(
            $"[{{\"from\":\"{account.ToLowerHex()}\",\"to\":\"{contract.ToLowerHex()}\",\"value\":\"0x1\"}}]",
            requests["eth_estimateGas"].GetRawText());
        Assert.Equal(
            $"[{{\"to\":\"{contract.ToLowerHex()}\",\"data\":\"0xaa\"}},\"latest\"]",
            requests["eth_call"].GetRawText());
        Assert.Equal(
            $"[{{\"fromBlock\":\"0x1\",\"toBlock\":\"latest\",\"address\":\"{contract.ToLowerHex()}\",\"topics\":[\"{ToHex(topic)}\",null,[\"{ToHex(new byte[32])}\",\"{ToHex(topic)}\"]]}}]",
            requests["eth_getLogs"].GetRawText());
    }

    [Fact]
    public async Task Generic_send_passes_params_through_and_returns_the_raw_result()
    {
        await using var server = new FakeRpcServer((n, request) =>
            (200, FakeRpcServer.Result(request, request.GetProperty("params").GetRawText())));
        using var client = Client(server.Url);

        var result = await client.SendAsync("hardhat_mine", ["0x10", 3, true, null]);
        Assert.Equal(JsonValueKind.Array, result.ValueKind);
        Assert.Equal("[\"0x10\",3,true,null]", result.GetRawText());
        Assert.Equal("2.0", server.Requests[0].GetProperty("jsonrpc").GetString());
        Assert.Equal("hardhat_mine", server.Requests[0].GetProperty("method").GetString());
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        await using var server = new FakeRpcServer(async (n, request) =>
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(_serverStopping.Token);
            return (200, FakeRpcServer.Result(request, "\"0x1\""));
        });
        using var client = Client(server.Url);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetBlockNumberAsync(cancel.Token));
    }
}
