using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests.Audit;

/// <summary>One transaction's logs, as a replica replays them: what a tamper test edits.</summary>
public sealed class ReplicaTransaction(List<ReplicaLog> logs)
{
    public List<ReplicaLog> Logs { get; } = logs;

    public bool Has(AbiEvent e) => Logs.Any(l => l.Is(e));
}

/// <summary>A log to replay: its topics and data, as the ledger emitted them (or as a test changed them).</summary>
public sealed record ReplicaLog(IReadOnlyList<byte[]> Topics, byte[] Data)
{
    public bool Is(AbiEvent e) => Topics.Count > 0 && Topics[0].AsSpan().SequenceEqual(e.Topic0);

    /// <summary>The log with its <paramref name="index"/>th 32-byte data word set to <paramref name="value"/>.</summary>
    public ReplicaLog WithWord(int index, long value)
    {
        var data = Data.ToArray();
        data.AsSpan(index * 32, 32).Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(data.AsSpan(index * 32 + 24, 8), value);
        return this with { Data = data };
    }
}

/// <summary>
/// A second "rogue" deployment that replays a real ledger's logs, transaction by transaction, with changes a test
/// makes: the events of the real contract cannot be forged, so a discrepancy that only a broken contract (or a
/// forged log) could cause is built here. The replica is a few dozen bytes of hand-assembled EVM code: a call whose
/// first byte is 0xEE emits the logs packed after it (per log: topic count (1 byte), data length (2 bytes), topics,
/// data); every other call is forwarded (STATICCALL) to the real ledger, so the auditor's views (gridOperator,
/// readingsRoot, balanceOf, totalSupply) answer with the real ledger's state. The real ledger's own address in topics
/// and data words becomes the replica's, so the clearing Transfers are the replica's.
/// </summary>
public sealed class EventReplica
{
    private const byte EmitMarker = 0xEE;

    private EventReplica(HardhatNodeFixture chain, Address source, Address address)
    {
        Chain = chain;
        Source = source;
        Address = address;
    }

    public HardhatNodeFixture Chain { get; }

    /// <summary>The real ledger whose logs are replayed and whose views answer.</summary>
    public Address Source { get; }

    /// <summary>The replica: audit this address.</summary>
    public Address Address { get; }

    public static async Task<EventReplica> DeployAsync(HardhatNodeFixture chain, Address source)
    {
        var runtime = Runtime(source);
        byte[] init =
        [
            0x61, (byte)(runtime.Length >> 8), (byte)(runtime.Length & 0xff), // PUSH2 length
            0x61, 0x00, 0x0f, // PUSH2 15: where the runtime starts in this code
            0x60, 0x00, // PUSH1 0
            0x39, // CODECOPY
            0x61, (byte)(runtime.Length >> 8), (byte)(runtime.Length & 0xff),
            0x60, 0x00,
            0xf3, // RETURN
            .. runtime,
        ];
        var receipt = await new TransactionSender(chain.Client, HardhatNode.ChainId).SendAsync(chain.AdminKey, to: null, init, "deploy replica");
        return new EventReplica(chain, source, receipt.ContractAddress ?? throw new InvalidOperationException("The replica's deployment names no address."));
    }

    /// <summary>Every log of the source ledger, grouped per transaction in chain order.</summary>
    public async Task<List<ReplicaTransaction>> ReadSourceAsync()
    {
        var head = await Chain.Client.GetBlockNumberAsync();
        var logs = await EnergyLedgerContract.ReadLogsAsync(Chain.Client, Source, [], 0, head);
        return logs
            .OrderBy(l => l.BlockNumber).ThenBy(l => l.LogIndex)
            .GroupBy(l => Hex.Encode(l.TransactionHash!))
            .Select(g => new ReplicaTransaction(g.Select(l => new ReplicaLog(l.Topics.Select(Swap).ToList(), SwapWords(l.Data))).ToList()))
            .ToList();
    }

    /// <summary>Replays the source's logs (changed by <paramref name="tamper"/>) into the replica, one transaction per source transaction.</summary>
    public async Task ReplayAsync(Action<List<ReplicaTransaction>>? tamper = null)
    {
        var transactions = await ReadSourceAsync();
        tamper?.Invoke(transactions);
        var sender = new TransactionSender(Chain.Client, HardhatNode.ChainId);
        foreach (var tx in transactions.Where(t => t.Logs.Count > 0))
        {
            var call = new List<byte> { EmitMarker };
            foreach (var log in tx.Logs)
            {
                call.Add(checked((byte)log.Topics.Count));
                call.Add(checked((byte)(log.Data.Length >> 8)));
                call.Add((byte)(log.Data.Length & 0xff));
                foreach (var topic in log.Topics) call.AddRange(topic);
                call.AddRange(log.Data);
            }
            await sender.SendAsync(Chain.AdminKey, Address, [.. call], "replay logs");
        }
    }

    private byte[] Swap(byte[] word) => IsSource(word) ? Word(Address) : word;

    private byte[] SwapWords(byte[] data)
    {
        var copy = data.ToArray();
        for (int i = 0; i + 32 <= copy.Length; i += 32)
        {
            if (IsSource(copy.AsSpan(i, 32).ToArray())) Word(Address).CopyTo(copy, i);
        }
        return copy;
    }

    private bool IsSource(byte[] word) => word.Length == 32 && word.AsSpan().SequenceEqual(Word(Source));

    private static byte[] Word(Address address)
    {
        var word = new byte[32];
        address.ToBytes().CopyTo(word, 12);
        return word;
    }

    /// <summary>The replica's runtime code, assembled with its labels resolved (jump targets are PUSH2).</summary>
    private static byte[] Runtime(Address source)
    {
        var a = new Assembler();
        // Dispatch: a first byte of 0xEE replays logs, anything else is a view for the real ledger.
        a.Op(0x60, 0x00).Op(0x35).Op(0x60, 0xf8).Op(0x1c).Op(0x60, EmitMarker).Op(0x14).Jump("emit").Op(0x57);
        // Forward: STATICCALL(gas, source, 0, calldatasize, 0, 0), then return (or revert with) what it returned.
        a.Op(0x36).Op(0x60, 0x00).Op(0x60, 0x00).Op(0x37);
        a.Op(0x60, 0x00).Op(0x60, 0x00).Op(0x36).Op(0x60, 0x00).Op([0x73, .. source.ToBytes()]).Op(0x5a).Op(0xfa);
        a.Op(0x3d).Op(0x60, 0x00).Op(0x60, 0x00).Op(0x3e);
        a.Jump("ok").Op(0x57);
        a.Op(0x3d).Op(0x60, 0x00).Op(0xfd);
        a.Label("ok").Op(0x3d).Op(0x60, 0x00).Op(0xf3);
        // Emit: p = 1; while p < calldatasize: n, len = header at p; copy the data to memory 0; LOGn; p += 3 + 32n + len.
        a.Label("emit").Op(0x60, 0x01);
        a.Label("loop");
        a.Op(0x80).Op(0x36).Op(0x11).Op(0x15).Jump("done").Op(0x57); // [p]
        a.Op(0x80).Op(0x35); // [p, word]
        a.Op(0x80).Op(0x60, 0xf8).Op(0x1c); // [p, word, n]
        a.Op(0x90).Op(0x60, 0xe8).Op(0x1c).Op(0x61, 0xff, 0xff).Op(0x16); // [p, n, len]
        a.Op(0x80).Op(0x82).Op(0x60, 0x05).Op(0x1b).Op(0x84).Op(0x01).Op(0x60, 0x03).Op(0x01).Op(0x60, 0x00).Op(0x37); // calldatacopy(0, p + 3 + 32n, len)
        for (int k = 0; k <= 4; k++)
        {
            a.Op(0x81).Op(0x60, (byte)k).Op(0x14).Jump($"log{k}").Op(0x57);
        }
        a.Op(0xfe);
        for (int k = 0; k <= 4; k++)
        {
            a.Label($"log{k}");
            for (int j = k - 1; j >= 0; j--)
            {
                int pushed = k - 1 - j;
                a.Op((byte)(0x80 + 3 + pushed - 1)).Op(0x60, (byte)(3 + 32 * j)).Op(0x01).Op(0x35); // topic j = calldataload(p + 3 + 32j)
            }
            a.Op((byte)(0x80 + k)).Op(0x60, 0x00).Op((byte)(0xa0 + k)); // LOGk(0, len, topics)
            a.Jump("next").Op(0x56);
        }
        a.Label("next").Op(0x90).Op(0x60, 0x05).Op(0x1b).Op(0x01).Op(0x60, 0x03).Op(0x01).Op(0x01).Jump("loop").Op(0x56);
        a.Label("done").Op(0x00);
        return a.Build();
    }

    private sealed class Assembler
    {
        private readonly List<byte> _code = [];
        private readonly Dictionary<string, int> _labels = [];
        private readonly List<(int At, string Label)> _jumps = [];

        public Assembler Op(params byte[] bytes)
        {
            _code.AddRange(bytes);
            return this;
        }

        /// <summary>PUSH2 of a label's offset (patched in <see cref="Build"/>).</summary>
        public Assembler Jump(string label)
        {
            _code.Add(0x61);
            _jumps.Add((_code.Count, label));
            _code.AddRange([0, 0]);
            return this;
        }

        public Assembler Label(string label)
        {
            _labels.Add(label, _code.Count);
            _code.Add(0x5b); // JUMPDEST
            return this;
        }

        public byte[] Build()
        {
            var code = _code.ToArray();
            foreach (var (at, label) in _jumps)
            {
                int target = _labels[label];
                code[at] = (byte)(target >> 8);
                code[at + 1] = (byte)(target & 0xff);
            }
            return code;
        }
    }
}
