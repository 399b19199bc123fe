using System.Globalization;
using System.Text.Json;
using Grpc.Net.Client;
using P2PEnergy.Ethereum;
using P2PEnergy.Ledger;
using P2PEnergy.Ledger.Audit;
using Api = P2PEnergy.Exchange.Protos.V1;
using Core = P2PEnergy.Exchange;

namespace P2PEnergy.Simulator.Day;

/// <summary>
/// Where the audit at the end of a day reads the chain (`day --rpc URL [--deployment FILE] [--from-block N]`): the
/// node's JSON-RPC endpoint, and the ledger's deployment file (its address and deploy block) or, without one, the
/// ledger the exchange reports (LedgerStatus) with its events read from <see cref="FromBlock"/> (default: the deploy block LedgerStatus reports).
/// </summary>
public sealed record AuditTarget(Uri Rpc, string? DeploymentFile, LedgerDeployment? Deployment, ulong? FromBlock)
{
    /// <summary>Reads a deployment file (`p2penergy-ledger deploy --out FILE`); a sentence naming the file and the fix when it cannot.</summary>
    public static LedgerDeployment LoadDeployment(string file)
    {
        if (!File.Exists(file))
            throw new DayRunException($"--deployment: no file '{file}' (the ledger's deployment file, as `p2penergy-ledger deploy --out FILE` writes it)");
        try
        {
            return LedgerDeployment.Load(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DayRunException($"--deployment: cannot read '{file}': {e.Message}");
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or NotSupportedException)
        {
            throw new DayRunException($"--deployment: '{file}' is not a ledger deployment file (JSON with chainId, ledger, admin, operator, deployBlock, …): {e.Message}");
        }
    }
}

/// <summary>
/// The ledger audit that ends a day on chain. Before the day (<see cref="PrepareAsync"/>): the exchange must record on
/// a chain, on the deployment's ledger and chain, and the node must answer with the ledger's code on it; the block
/// then is where the day's transactions start. After the day and the ledger wait (<see cref="RunAsync"/>): the
/// <see cref="LedgerAuditor"/> rebuilds lots, settlements and balances from the chain's events alone and compares them
/// with every lot of the exchange (GetLots); the day's transactions and gas are counted from their receipts.
/// </summary>
public sealed class DayAudit : IDisposable
{
    // What the chain settler calls: settleSlot for a slot in one transaction, or beginSettlement and its pages for one
    // too big for a transaction (every one of them a settlement transaction), and deposits.
    private static readonly Dictionary<string, LedgerCall> Calls = new(StringComparer.Ordinal)
    {
        [SelectorHex(EnergyLedgerContract.RecordLotsFunction.Selector)] = LedgerCall.Recording,
        [SelectorHex(EnergyLedgerContract.CommitOrderRootFunction.Selector)] = LedgerCall.OrderRoot,
        [SelectorHex(EnergyLedgerContract.SettleSlotFunction.Selector)] = LedgerCall.Settlement,
        [SelectorHex(EnergyLedgerContract.BeginSettlementFunction.Selector)] = LedgerCall.Settlement,
        [SelectorHex(EnergyLedgerContract.SettleLotsPageFunction.Selector)] = LedgerCall.Settlement,
        [SelectorHex(EnergyLedgerContract.SettlePartiesPageFunction.Selector)] = LedgerCall.Settlement,
        [SelectorHex(EnergyLedgerContract.DepositFunction.Selector)] = LedgerCall.Settlement,
    };

    private readonly EthJsonRpcClient _client;
    private readonly List<string> _warnings = [];

    private DayAudit(EthJsonRpcClient client, AuditTarget target, Address ledger, ulong fromBlock)
    {
        _client = client;
        Target = target;
        Ledger = ledger;
        FromBlock = fromBlock;
    }

    public AuditTarget Target { get; }

    /// <summary>The ledger audited: the exchange's, and the deployment's when one is given.</summary>
    public Address Ledger { get; }

    /// <summary>Where the ledger's events are read from: the deploy block, --from-block or 0.</summary>
    public ulong FromBlock { get; }

    /// <summary>The chain's head before the day: the day's transactions are in the blocks after it.</summary>
    public ulong StartBlock { get; private set; }

    /// <summary>What the audit could not do exactly as asked (e.g. the exchange's ledger was still busy before the day).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// Checks, before anything is traded, that the audit can run: the exchange records on a chain (LedgerStatus), on
    /// the ledger and chain of the deployment file, and the node at --rpc is that chain with the ledger's code on it.
    /// Then waits (up to <paramref name="idleTimeout"/>) until the exchange has nothing pending on chain and takes the
    /// head block, so that the day's transactions are the ones mined after it.
    /// </summary>
    public static async Task<DayAudit> PrepareAsync(GrpcChannel channel, AuditTarget target, TimeSpan idleTimeout, IDayProgress? progress, CancellationToken ct)
    {
        progress?.Phase("checking the exchange's ledger and the chain");
        var status = await StatusAsync(channel, ct);
        if (!status.Enabled)
            throw new DayRunException($"--rpc: the exchange runs without a chain (no Ledger:RpcUrl), so there is no ledger to audit: leave out --rpc{(target.DeploymentFile is null ? "" : " and --deployment")}, or start the exchange with its ledger");
        if (!Address.TryParse(status.LedgerAddress, out var ledger) || ledger.IsZero)
            throw new DayRunException($"the exchange reports no valid ledger address (LedgerStatus: \"{status.LedgerAddress}\")");
        // Without a deployment file, the events start where the exchange says its ledger was deployed.
        ulong fromBlock = target.FromBlock ?? status.DeployBlock;
        if (target.Deployment is { } d)
        {
            if (d.Ledger != ledger || d.ChainId != status.ChainId)
                throw new DayRunException($"--deployment {target.DeploymentFile}: ledger {d.Ledger} on chain {d.ChainId}, but the exchange records on ledger {ledger} on chain {status.ChainId}: give the exchange's deployment file");
            fromBlock = target.FromBlock ?? d.DeployBlock;
        }

        var client = new EthJsonRpcClient(new JsonRpcClientOptions { Endpoint = target.Rpc, MaxRetries = 2, Timeout = TimeSpan.FromSeconds(30) });
        var audit = new DayAudit(client, target, ledger, fromBlock);
        try
        {
            ulong chainId;
            try
            {
                chainId = await client.GetChainIdAsync(ct);
            }
            catch (Exception e) when (e is JsonRpcTransportException or JsonRpcException)
            {
                throw new DayRunException($"--rpc {target.Rpc}: the chain did not answer eth_chainId: {e.Message}");
            }
            if (chainId != status.ChainId)
                throw new DayRunException($"--rpc {target.Rpc}: that node is chain {chainId}, but the exchange records on chain {status.ChainId}");
            var code = await client.SendAsync("eth_getCode", [ledger.ToLowerHex(), "latest"], ct);
            if (code.ValueKind != JsonValueKind.String || code.GetString() is null or "0x" or "0x0")
                throw new DayRunException($"--rpc {target.Rpc}: no contract at the exchange's ledger {ledger} on that node (a node restarted without its chain? deploy the ledger again)");

            // The exchange's earlier work (e.g. the grid operator's deposit at its start) is not the day's.
            var deadline = DateTimeOffset.UtcNow + idleTimeout;
            progress?.Phase("waiting for the exchange's ledger to be idle");
            while (status.LotsPending + status.RootsPending + status.SettlementsPending > 0 && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
                status = await StatusAsync(channel, ct);
            }
            if (status.LotsPending + status.RootsPending + status.SettlementsPending > 0)
                audit._warnings.Add($"before the day the exchange still had {status.LotsPending} lot(s), {status.RootsPending} root(s) and {status.SettlementsPending} settlement(s) pending on chain: the day's transaction and gas figures include them");
            audit.StartBlock = await client.GetBlockNumberAsync(ct);
            return audit;
        }
        catch
        {
            audit.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Audits the ledger against every lot of the exchange and sums the day's transactions (blocks after
    /// <see cref="StartBlock"/> up to the audited block). Call after the day's ledger wait.
    /// </summary>
    public async Task<(AuditReport Report, AuditSummary Summary)> RunAsync(GrpcChannel channel, DayResult day, IDayProgress? progress, CancellationToken ct)
    {
        progress?.Phase("audit: reading the exchange's lots");
        var lots = await ExchangeLotsAsync(channel, ct);
        progress?.Phase($"audit: rebuilding the ledger from its events (block {FromBlock} on)");
        var report = await new LedgerAuditor(_client, Ledger, FromBlock).AuditAsync(lots, ct);
        progress?.Phase($"audit: the day's transactions (blocks {StartBlock + 1} … {report.Block})");
        var usage = await UsageAsync(StartBlock + 1, report.Block, ct);
        var runSlots = day.Slots.Select(s => s.Slot).ToHashSet();
        var summary = new AuditSummary(
            report.Passed,
            Ledger.ToString(),
            report.FromBlock,
            report.Block,
            report.Totals.Lots,
            report.ExchangeLots,
            report.Slots.Where(s => runSlots.Contains(s.Slot)).Sum(s => s.Lots),
            report.Slots.Count(s => runSlots.Contains(s.Slot) && s.Status == SlotStatus.Settled),
            usage,
            report.Discrepancies.Select(d => d.Message).ToList());
        return (report, summary);
    }

    /// <summary>audit.txt (the auditor's tables, as `p2penergy-ledger audit` prints them) and audit.json (its --json) in <paramref name="folder"/>.</summary>
    public static (string Text, string Json) Write(AuditReport report, string folder)
    {
        Directory.CreateDirectory(folder);
        var text = Path.Combine(folder, "audit.txt");
        using (var w = new StreamWriter(text))
            AuditReportWriter.WriteText(report, w);
        var json = Path.Combine(folder, "audit.json");
        File.WriteAllText(json, AuditReportWriter.ToJson(report) + "\n");
        return (text, json);
    }

    /// <summary>The verdict as the report shows it.</summary>
    public static P2PEnergy.Report.AuditResult ToReport(AuditSummary audit) => new(audit.Passed, audit.Discrepancies);

    private static async Task<Api.GetLedgerStatusResponse> StatusAsync(GrpcChannel channel, CancellationToken ct)
    {
        try
        {
            return await new Api.LedgerStatus.LedgerStatusClient(channel).GetLedgerStatusAsync(new Api.GetLedgerStatusRequest(), cancellationToken: ct);
        }
        catch (Grpc.Core.RpcException e)
        {
            throw new DayRunException($"GetLedgerStatus: the exchange refused: {e.StatusCode}: {e.Status.Detail}");
        }
    }

    /// <summary>Every lot of the exchange (GetLots without a slot: all slots, in lot-id order, paged), as the auditor compares them.</summary>
    private static async Task<IReadOnlyList<Core.Lot>> ExchangeLotsAsync(GrpcChannel channel, CancellationToken ct)
    {
        var market = new Api.ExchangeService.ExchangeServiceClient(channel);
        var lots = new List<Core.Lot>();
        var token = "";
        do
        {
            Api.GetLotsResponse page;
            try
            {
                page = await market.GetLotsAsync(new Api.GetLotsRequest { PageSize = 1000, PageToken = token }, cancellationToken: ct);
            }
            catch (Grpc.Core.RpcException e)
            {
                throw new DayRunException($"GetLots: the exchange refused: {e.StatusCode}: {e.Status.Detail}");
            }
            lots.AddRange(page.Lots.Select(ToCore));
            token = page.NextPageToken;
        } while (token.Length > 0);
        return lots;
    }

    internal static Core.Lot ToCore(Api.Lot l) => new(
        l.LotId, l.Slot, Core.Address.Parse(l.Seller), Core.Address.Parse(l.Buyer), l.EnergyWh, l.PriceTicks, l.WheelingFeeTicks,
        l.Product switch
        {
            Api.Product.Standard => Core.Product.Standard,
            Api.Product.Green => Core.Product.Green,
            _ => throw new DayRunException($"the exchange's lot {l.LotId} has no product ({l.Product})"),
        },
        l.Source switch
        {
            Api.EnergySource.Mixed => Core.EnergySource.Mixed,
            Api.EnergySource.Renewable => Core.EnergySource.Renewable,
            _ => throw new DayRunException($"the exchange's lot {l.LotId} has no source ({l.Source})"),
        },
        l.SellOrderId, l.BuyOrderId);

    /// <summary>The ledger's transactions in blocks <paramref name="from"/> … <paramref name="to"/>, by the function called, with their receipts' gas.</summary>
    private async Task<ChainUsage> UsageAsync(ulong from, ulong to, CancellationToken ct)
    {
        int recordingTx = 0, rootTx = 0, settleTx = 0, otherTx = 0, reverted = 0;
        long recordingGas = 0, rootGas = 0, settleGas = 0, otherGas = 0;
        var ledger = Ledger.ToLowerHex();
        if (from <= to)
        {
            var blocks = Enumerable.Range(0, checked((int)(to - from + 1))).Select(i => from + (ulong)i);
            await Parallel.ForEachAsync(blocks, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (number, token) =>
            {
                var block = await _client.SendAsync("eth_getBlockByNumber", [Hex.EncodeQuantity(number), true], token);
                if (block.ValueKind != JsonValueKind.Object)
                    throw new DayRunException($"--rpc {Target.Rpc}: eth_getBlockByNumber({number}) returned no block");
                foreach (var tx in block.GetProperty("transactions").EnumerateArray())
                {
                    if (!tx.TryGetProperty("to", out var toElement) || toElement.ValueKind != JsonValueKind.String
                        || !string.Equals(toElement.GetString(), ledger, StringComparison.OrdinalIgnoreCase)) continue;
                    var hash = tx.GetProperty("hash").GetString()!;
                    var input = tx.TryGetProperty("input", out var i) ? i.GetString() ?? "" : "";
                    var receipt = await _client.GetTransactionReceiptAsync(Hex.Decode(hash), token)
                        ?? throw new DayRunException($"--rpc {Target.Rpc}: no receipt for the mined transaction {hash}");
                    var gas = checked((long)receipt.GasUsed);
                    if (receipt.Status == 0) Interlocked.Increment(ref reverted);
                    switch (CallOf(input))
                    {
                        case LedgerCall.Recording: Interlocked.Increment(ref recordingTx); Interlocked.Add(ref recordingGas, gas); break;
                        case LedgerCall.OrderRoot: Interlocked.Increment(ref rootTx); Interlocked.Add(ref rootGas, gas); break;
                        case LedgerCall.Settlement: Interlocked.Increment(ref settleTx); Interlocked.Add(ref settleGas, gas); break;
                        default: Interlocked.Increment(ref otherTx); Interlocked.Add(ref otherGas, gas); break;
                    }
                }
            });
        }
        return new ChainUsage(from, to, recordingTx, recordingGas, rootTx, rootGas, settleTx, settleGas, otherTx, otherGas, reverted);
    }

    private static string SelectorHex(byte[] selector) => "0x" + Convert.ToHexStringLower(selector);

    /// <summary>What a transaction to the ledger did, from its input's function selector ("0x" and 8 hex digits, any case).</summary>
    internal static LedgerCall CallOf(string input)
    {
        var selector = input.Length >= 10 ? input[..10].ToLowerInvariant() : input;
        return Calls.GetValueOrDefault(selector, LedgerCall.Other);
    }

    /// <summary>One line for people: the verdict, the lots and slots on chain, the day's transactions and gas.</summary>
    public static string SummaryLine(AuditReport report, AuditSummary summary)
    {
        var u = summary.Usage;
        return string.Create(CultureInfo.InvariantCulture,
            $"{AuditReportWriter.SummaryLine(report)}; this run: {summary.RunLotsOnChain} lots and {summary.RunSlotsSettledOnChain} settled slots on chain, {u.Transactions} transactions, {u.RecordingGas + u.OrderRootGas + u.SettlementGas:N0} gas (blocks {u.FromBlock} … {u.ToBlock})");
    }
}

/// <summary>The kinds of ledger transactions the day's chain figures are split into (<see cref="ChainUsage"/>).</summary>
internal enum LedgerCall
{
    Other,
    Recording,
    OrderRoot,

    /// <summary>settleSlot, beginSettlement, settleLotsPage, settlePartiesPage, deposit.</summary>
    Settlement,
}
