using System.Numerics;
using System.Text.Json;

namespace P2PEnergy.Ledger.Tests.Infrastructure;

/// <summary>
/// Every mined transaction of a dev chain as raw signed bytes, to be replayed into a restarted node.
/// Hardhat has no eth_getRawTransactionByHash, so the raw form is rebuilt from eth_getBlockByNumber's fields
/// and checked against the transaction hash. Our own code only sends type-2 transactions without access lists.
/// </summary>
public static class ChainHistory
{
    public static async Task<IReadOnlyList<byte[]>> CaptureAsync(EthJsonRpcClient client)
    {
        var raws = new List<byte[]>();
        var head = await client.GetBlockNumberAsync();
        for (ulong n = 1; n <= head; n++)
        {
            var block = await client.SendAsync("eth_getBlockByNumber", [Hex.EncodeQuantity(n), true]);
            foreach (var tx in block.GetProperty("transactions").EnumerateArray())
            {
                raws.Add(Rebuild(tx));
            }
        }
        return raws;
    }

    public static async Task ReplayAsync(EthJsonRpcClient client, IReadOnlyList<byte[]> raws)
    {
        foreach (var raw in raws)
        {
            try
            {
                await client.SendRawTransactionAsync(raw);
            }
            catch (JsonRpcException e) when (e.RevertData is not null)
            {
                // It reverted the first time too (automine mines reverting transactions): same outcome again.
            }
        }
    }

    private static byte[] Rebuild(JsonElement tx)
    {
        string Get(string name) => tx.GetProperty(name).GetString()!;
        BigInteger Q(string name) => Hex.DecodeQuantity(Get(name));
        if (Q("type") != 2)
        {
            throw new NotSupportedException($"Transaction {Get("hash")} is of type {Get("type")}; only type 2 is replayed.");
        }
        if (tx.TryGetProperty("accessList", out var accessList) && accessList.GetArrayLength() > 0)
        {
            throw new NotSupportedException("Access lists are not replayed.");
        }
        var to = tx.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.String ? Hex.Decode(t.GetString()!) : [];
        var parity = tx.TryGetProperty("yParity", out var y) ? Hex.DecodeQuantity(y.GetString()!) : Q("v");
        var list = RlpItem.List(
            RlpItem.Integer(Q("chainId")),
            RlpItem.Integer(Q("nonce")),
            RlpItem.Integer(Q("maxPriorityFeePerGas")),
            RlpItem.Integer(Q("maxFeePerGas")),
            RlpItem.Integer(Q("gas")),
            RlpItem.String(to),
            RlpItem.Integer(Q("value")),
            RlpItem.String(Hex.Decode(Get("input"))),
            RlpItem.List(),
            RlpItem.Integer(parity),
            RlpItem.Integer(Q("r")),
            RlpItem.Integer(Q("s")));
        byte[] raw = [2, .. Rlp.Encode(list)];
        if (Hex.Encode(Keccak.Hash256(raw)) != Get("hash").ToLowerInvariant())
        {
            throw new InvalidOperationException($"Rebuilt transaction does not hash to {Get("hash")}.");
        }
        return raw;
    }
}
