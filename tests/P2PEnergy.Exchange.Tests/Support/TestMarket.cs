using P2PEnergy.Exchange.Tests.Reference;

namespace P2PEnergy.Exchange.Tests.Support;

/// <summary>What one command returned and emitted.</summary>
public sealed record CommandResult(ResultCode Code, IReadOnlyList<MarketEvent> Events)
{
    public IReadOnlyList<Lot> Lots => Events.OfType<LotCreatedEvent>().Select(e => e.Lot).ToList();

    public IReadOnlyList<OrderDoneEvent> Done => Events.OfType<OrderDoneEvent>().ToList();

    /// <summary>The id the command's order was accepted with.</summary>
    public long OrderId => Events.OfType<OrderAcceptedEvent>().Single().Order.OrderId;
}

/// <summary>
/// A market under test (the engine or the reference) with participants 1, 2, 3, … by number, a default
/// slot, a fixed clock, and the invariant checker run after every command.
/// </summary>
public sealed class TestMarket
{
    /// <summary>Delivery at 1,800,000,000 s; gate at 1,799,999,700 s.</summary>
    public const long Slot = 1_000_000;

    public static readonly TheoryData<string> Implementations = new() { "engine", "reference" };

    private readonly Dictionary<int, ulong> _nextClientOrderId = [];

    public TestMarket(string implementation, MarketConfig? config = null, WheelingTable? wheeling = null)
    {
        config ??= new MarketConfig();
        Market = implementation switch
        {
            "engine" => new EngineMarket(config, wheeling),
            "reference" => new ReferenceEngine(config, wheeling),
            _ => throw new ArgumentException(implementation, nameof(implementation)),
        };
        Checker = new InvariantChecker(Market);
        Now = GateMs(Slot) - 3_600_000; // an hour before the default slot's gate
    }

    public IMarket Market { get; }

    public InvariantChecker Checker { get; }

    public List<MarketEvent> AllEvents { get; } = [];

    public long Now { get; set; }

    public MarketConfig Config => Market.Config;

    public long GateMs(long slot) => (slot * Config.SlotSeconds - Config.GateLeadSeconds) * 1000L;

    public static Address P(int n)
    {
        var bytes = new byte[Address.Length];
        bytes[0] = 0xAB;
        bytes[19] = (byte)n;
        bytes[18] = (byte)(n >> 8);
        return Address.FromBytes(bytes);
    }

    /// <summary>Registers participants 1 … <paramref name="count"/> in zone 0.</summary>
    public TestMarket WithParticipants(int count, int zone = 0)
    {
        for (var i = 1; i <= count; i++) Register(i, zone);
        return this;
    }

    public void Register(int n, int zone) => Assert.Equal(ResultCode.Ok, Market.RegisterParticipant(P(n), zone, ParticipantKind.Prosumer));

    public TestMarket WithSlot(Mechanism mechanism, long slot = Slot)
    {
        Assert.Equal(ResultCode.Ok, Market.OpenSlot(slot, mechanism, Now));
        return this;
    }

    private CommandResult Run(Func<IMarketEvents, ResultCode> command)
    {
        var recorder = new MarketEventRecorder();
        var code = command(recorder);
        var events = recorder.Events.ToList();
        AllEvents.AddRange(events);
        Checker.AfterCommand(events);
        return new CommandResult(code, events);
    }

    public ulong NextClientOrderId(int participant)
    {
        _nextClientOrderId.TryGetValue(participant, out var id);
        _nextClientOrderId[participant] = id + 1;
        return id + 1;
    }

    public CommandResult Submit(SubmitOrder cmd) => Run(e => Market.Submit(cmd, e));

    public CommandResult Submit(int participant, Side side, long wh, long price, Product product = Product.Standard,
        EnergySource source = EnergySource.Mixed, long slot = Slot, ulong? clientOrderId = null, long? at = null) =>
        Submit(new SubmitOrder(P(participant), clientOrderId ?? NextClientOrderId(participant), side, slot, wh, price,
            side == Side.Buy ? product : default, side == Side.Sell ? source : default, at ?? Now));

    public CommandResult Buy(int participant, long wh, long price, long slot = Slot) =>
        Submit(participant, Side.Buy, wh, price, Product.Standard, slot: slot);

    public CommandResult GreenBuy(int participant, long wh, long price, long slot = Slot) =>
        Submit(participant, Side.Buy, wh, price, Product.Green, slot: slot);

    public CommandResult SellMixed(int participant, long wh, long price, long slot = Slot) =>
        Submit(participant, Side.Sell, wh, price, source: EnergySource.Mixed, slot: slot);

    public CommandResult SellRenewable(int participant, long wh, long price, long slot = Slot) =>
        Submit(participant, Side.Sell, wh, price, source: EnergySource.Renewable, slot: slot);

    public CommandResult Cancel(int participant, long orderId, long? at = null) =>
        Run(e => Market.Cancel(new CancelOrder(P(participant), orderId, at ?? Now), e));

    public CommandResult Reduce(int participant, long orderId, long byWh, long? at = null) =>
        Run(e => Market.Reduce(new ReduceOrder(P(participant), orderId, byWh, at ?? Now), e));

    public CommandResult CloseGate(long slot = Slot) => Run(e => Market.CloseGate(slot, e));

    /// <summary>Everything a rejected command must leave as it was.</summary>
    public string Snapshot()
    {
        var parts = new List<string> { $"next order {Market.NextOrderId}", $"next lot {Market.NextLotId}" };
        foreach (var s in Market.Slots)
        {
            parts.Add(s.ToString());
            parts.AddRange(Market.LiveOrders(s.Slot).Select(o => o.ToString()));
            foreach (var product in new[] { Product.Standard, Product.Green })
            {
                var code = Market.GetDepth(s.Slot, product, 0, out var depth);
                parts.Add($"{product} {code} bids [{string.Join(";", depth?.Bids ?? [])}] asks [{string.Join(";", depth?.Asks ?? [])}]");
            }
        }
        return string.Join("\n", parts);
    }

}
