using P2PEnergy.Exchange.Tests.Support;
using static P2PEnergy.Exchange.Tests.Support.TestMarket;

namespace P2PEnergy.Exchange.Tests;

/// <summary>
/// Every refused command names its code (MarketTypes.cs: 1xx fields, 2xx who, 3xx market state) and leaves
/// the state exactly as it was (matching-rules.md: "A rejected command leaves the engine's state exactly as
/// it was"). Each test runs on the engine and on the reference.
/// </summary>
public sealed class ValidationTests
{
    /// <summary>A CDA slot with a resting sell (id 1, participant 1) and a resting buy (id 2, participant 2).</summary>
    private static TestMarket Seeded(string impl)
    {
        var m = new TestMarket(impl).WithParticipants(3).WithSlot(Mechanism.Continuous);
        Assert.Equal(1, m.SellMixed(1, 500, 100).OrderId);
        Assert.Equal(2, m.Buy(2, 300, 90).OrderId);
        return m;
    }

    private static void AssertRefusedSubmit(TestMarket m, SubmitOrder cmd, ResultCode expected)
    {
        var before = m.Snapshot();
        var nextId = m.Market.NextOrderId;
        var r = m.Submit(cmd);
        Assert.Equal(expected, r.Code);
        // A refused submit has no order id yet: the event carries 0 and the client's id.
        Assert.Equal([new OrderRejectedEvent(cmd.Participant, cmd.ClientOrderId, 0, expected)], r.Events);
        Assert.Equal(nextId, m.Market.NextOrderId);
        Assert.Equal(before, m.Snapshot());
    }

    private static SubmitOrder Valid(TestMarket m, Side side = Side.Buy) =>
        new(P(3), 77, side, Slot, 200, 95, side == Side.Buy ? Product.Standard : default, side == Side.Sell ? EnergySource.Mixed : default, m.Now);

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Quantities_that_are_not_positive_lot_multiples_within_the_maximum_are_refused(string impl)
    {
        var m = Seeded(impl);
        AssertRefusedSubmit(m, Valid(m) with { EnergyWh = 0 }, ResultCode.QuantityNotPositive);
        AssertRefusedSubmit(m, Valid(m) with { EnergyWh = -100 }, ResultCode.QuantityNotPositive);
        // 150 Wh is 1.5 lot steps of 100 Wh.
        AssertRefusedSubmit(m, Valid(m) with { EnergyWh = 150 }, ResultCode.QuantityNotLotMultiple);
        // MaxOrderWh is 1,000,000,000 Wh; one step more is too large.
        AssertRefusedSubmit(m, Valid(m) with { EnergyWh = 1_000_000_100 }, ResultCode.QuantityTooLarge);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Prices_outside_the_band_are_refused_at_both_ends(string impl)
    {
        var m = Seeded(impl);
        // Band 1 … 100,000 ticks.
        AssertRefusedSubmit(m, Valid(m) with { LimitPriceTicks = 0 }, ResultCode.PriceOutOfRange);
        AssertRefusedSubmit(m, Valid(m) with { LimitPriceTicks = -5 }, ResultCode.PriceOutOfRange);
        AssertRefusedSubmit(m, Valid(m, Side.Sell) with { LimitPriceTicks = 100_001 }, ResultCode.PriceOutOfRange);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_edges_of_the_band_and_the_largest_order_are_accepted(string impl)
    {
        var m = new TestMarket(impl).WithParticipants(2).WithSlot(Mechanism.Continuous);
        Assert.Equal(ResultCode.Ok, m.Buy(1, 1_000_000_000, 1).Code);
        Assert.Equal(ResultCode.Ok, m.SellMixed(2, 100, 100_000).Code);
        // 1 < 100,000: nothing crosses, both rest.
        Assert.Equal(2, m.Market.LiveOrders(Slot).Count);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Sides_products_and_sources_must_be_known(string impl)
    {
        var m = Seeded(impl);
        AssertRefusedSubmit(m, Valid(m) with { Side = (Side)0 }, ResultCode.InvalidSide);
        AssertRefusedSubmit(m, Valid(m) with { Side = (Side)3 }, ResultCode.InvalidSide);
        AssertRefusedSubmit(m, Valid(m) with { Product = (Product)0 }, ResultCode.InvalidProduct);
        AssertRefusedSubmit(m, Valid(m, Side.Sell) with { Source = (EnergySource)7 }, ResultCode.InvalidSource);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Only_the_field_that_applies_to_the_side_is_checked_and_kept(string impl)
    {
        var m = Seeded(impl);
        // A sell's product and a buy's source are ignored, even when they are not valid values.
        var sell = m.Submit(Valid(m, Side.Sell) with { Product = (Product)9, ClientOrderId = 1 });
        var buy = m.Submit(Valid(m) with { Source = (EnergySource)9, ClientOrderId = 2, LimitPriceTicks = 80 });
        Assert.Equal(default, Assert.IsType<OrderAcceptedEvent>(sell.Events[0]).Order.Product);
        Assert.Equal(default, Assert.IsType<OrderAcceptedEvent>(buy.Events[0]).Order.Source);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Unknown_or_missing_participants_are_refused(string impl)
    {
        var m = Seeded(impl);
        AssertRefusedSubmit(m, Valid(m) with { Participant = P(99) }, ResultCode.UnknownParticipant);
        AssertRefusedSubmit(m, Valid(m) with { Participant = Address.Zero }, ResultCode.InvalidParticipant);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Unknown_slots_are_refused(string impl)
    {
        var m = Seeded(impl);
        AssertRefusedSubmit(m, Valid(m) with { Slot = Slot + 1 }, ResultCode.UnknownSlot);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_gate_closes_by_timestamp_at_delivery_start_minus_the_lead(string impl)
    {
        var m = Seeded(impl);
        // Slot 1,000,000 delivers at 1,800,000,000 s; lead 300 s: gate at 1,799,999,700,000 ms.
        var gate = 1_799_999_700_000L;
        Assert.Equal(gate, m.GateMs(Slot));
        AssertRefusedSubmit(m, Valid(m) with { TimestampUnixMs = gate }, ResultCode.SlotClosed);
        AssertRefusedSubmit(m, Valid(m) with { TimestampUnixMs = gate + 60_000 }, ResultCode.SlotClosed);
        // One millisecond earlier is still open.
        Assert.Equal(ResultCode.Ok, m.Submit(Valid(m) with { TimestampUnixMs = gate - 1 }).Code);
        // The gate time has come, but the operator has not closed it: orders still live, the slot is due.
        Assert.Equal([Slot], m.Market.SlotsDueForGateClosure(gate));
        Assert.Empty(m.Market.SlotsDueForGateClosure(gate - 1));
        Assert.Equal(3, m.Market.LiveOrders(Slot).Count);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void The_gate_closed_by_the_operator_refuses_submit_cancel_and_reduce(string impl)
    {
        var m = Seeded(impl);
        Assert.Equal(ResultCode.Ok, m.CloseGate().Code);
        AssertRefusedSubmit(m, Valid(m), ResultCode.SlotClosed);
        // Orders expired at closure, so they are no longer live: cancel and reduce find nothing.
        Assert.Equal(ResultCode.OrderNotFound, m.Cancel(1, 1).Code);
        // A second closure is refused and emits nothing.
        var again = m.CloseGate();
        Assert.Equal(ResultCode.SlotClosed, again.Code);
        Assert.Empty(again.Events);
        Assert.Equal(ResultCode.UnknownSlot, m.CloseGate(Slot + 5).Code);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Cancel_and_reduce_of_a_live_order_are_refused_at_the_gate_time(string impl)
    {
        var m = Seeded(impl);
        var gate = m.GateMs(Slot);
        var before = m.Snapshot();
        Assert.Equal([new OrderRejectedEvent(P(1), 0, 1, ResultCode.SlotClosed)], m.Cancel(1, 1, at: gate).Events);
        Assert.Equal([new OrderRejectedEvent(P(1), 0, 1, ResultCode.SlotClosed)], m.Reduce(1, 1, 100, at: gate).Events);
        Assert.Equal(before, m.Snapshot());
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void A_client_order_id_is_unique_per_participant_for_the_life_of_the_market(string impl)
    {
        var m = Seeded(impl);
        // Participant 3 uses 77; the same 77 from participant 1 is another pair and is fine.
        Assert.Equal(ResultCode.Ok, m.Submit(Valid(m) with { LimitPriceTicks = 80 }).Code);
        AssertRefusedSubmit(m, Valid(m) with { LimitPriceTicks = 81 }, ResultCode.DuplicateClientOrderId);
        Assert.Equal(ResultCode.Ok, m.Submit(Valid(m) with { Participant = P(1), LimitPriceTicks = 82 }).Code);

        // Even after the first order is finished: participant 3 fills resting sell 1 with client id 5 …
        var filled = m.Submit(3, Side.Buy, 500, 100, clientOrderId: 5);
        Assert.Contains(filled.Done, d => d.OrderId == filled.OrderId && d.Reason == OrderDoneReason.Filled);
        // … and cannot use 5 again.
        AssertRefusedSubmit(m, Valid(m) with { ClientOrderId = 5 }, ResultCode.DuplicateClientOrderId);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Field_errors_come_before_participant_errors_before_market_state_errors(string impl)
    {
        var m = Seeded(impl);
        var allWrong = Valid(m) with { EnergyWh = 0, LimitPriceTicks = 0, Participant = P(99), Slot = 5, TimestampUnixMs = long.MaxValue };
        AssertRefusedSubmit(m, allWrong, ResultCode.QuantityNotPositive);
        AssertRefusedSubmit(m, allWrong with { EnergyWh = 100 }, ResultCode.PriceOutOfRange);
        AssertRefusedSubmit(m, allWrong with { EnergyWh = 100, LimitPriceTicks = 50 }, ResultCode.UnknownParticipant);
        AssertRefusedSubmit(m, allWrong with { EnergyWh = 100, LimitPriceTicks = 50, Participant = P(3) }, ResultCode.UnknownSlot);
        AssertRefusedSubmit(m, allWrong with { EnergyWh = 100, LimitPriceTicks = 50, Participant = P(3), Slot = Slot }, ResultCode.SlotClosed);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Cancel_of_another_participants_order_or_of_an_unknown_order_is_refused(string impl)
    {
        var m = Seeded(impl);
        var before = m.Snapshot();
        Assert.Equal([new OrderRejectedEvent(P(2), 0, 1, ResultCode.NotOrderOwner)], m.Cancel(2, 1).Events);
        Assert.Equal([new OrderRejectedEvent(P(1), 0, 42, ResultCode.OrderNotFound)], m.Cancel(1, 42).Events);
        Assert.Equal([new OrderRejectedEvent(P(99), 0, 1, ResultCode.UnknownParticipant)], m.Cancel(99, 1).Events);
        Assert.Equal(before, m.Snapshot());

        // A finished order is not live any more: cancelling it finds nothing.
        Assert.Equal(ResultCode.Ok, m.Cancel(1, 1).Code);
        Assert.Equal(ResultCode.OrderNotFound, m.Cancel(1, 1).Code);
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Reduce_must_be_a_positive_whole_number_of_steps_below_the_remaining_Wh(string impl)
    {
        var m = Seeded(impl);
        var before = m.Snapshot();
        // Order 1 has 500 Wh left: 500 would remove it all (that is a cancel), 600 more than all.
        foreach (var by in new long[] { 500, 600, 0, -100, 150 })
        {
            Assert.Equal([new OrderRejectedEvent(P(1), 0, 1, ResultCode.ReduceNotBelowRemaining)], m.Reduce(1, 1, by).Events);
        }
        Assert.Equal([new OrderRejectedEvent(P(2), 0, 1, ResultCode.NotOrderOwner)], m.Reduce(2, 1, 100).Events);
        Assert.Equal([new OrderRejectedEvent(P(2), 0, 9, ResultCode.OrderNotFound)], m.Reduce(2, 9, 100).Events);
        Assert.Equal(before, m.Snapshot());

        // 400 of 500 is fine and leaves 100.
        Assert.Equal([new OrderReducedEvent(1, P(1), 100)], m.Reduce(1, 1, 400).Events);
        Assert.True(m.Market.TryGetOrder(1, out var state));
        Assert.Equal((100L, 0L), (state.RemainingWh, state.FilledWh));
    }

    [Theory, MemberData(nameof(Implementations), MemberType = typeof(TestMarket))]
    public void Operator_commands_validate_their_input(string impl)
    {
        var m = new TestMarket(impl);
        Assert.Equal(ResultCode.InvalidParticipant, m.Market.RegisterParticipant(Address.Zero, 0, ParticipantKind.Household));
        Assert.Equal(ResultCode.InvalidZone, m.Market.RegisterParticipant(P(1), 64, ParticipantKind.Household));
        Assert.Equal(ResultCode.InvalidZone, m.Market.RegisterParticipant(P(1), -1, ParticipantKind.Household));
        Assert.Equal(ResultCode.InvalidKind, m.Market.RegisterParticipant(P(1), 0, (ParticipantKind)0));
        Assert.Equal(ResultCode.Ok, m.Market.RegisterParticipant(P(1), 63, ParticipantKind.Household));
        Assert.Equal(ResultCode.ParticipantAlreadyRegistered, m.Market.RegisterParticipant(P(1), 0, ParticipantKind.Office));

        Assert.Equal(ResultCode.InvalidSlot, m.Market.OpenSlot(0, Mechanism.Continuous, m.Now));
        Assert.Equal(ResultCode.InvalidMechanism, m.Market.OpenSlot(Slot, (Mechanism)0, m.Now));
        Assert.Equal(ResultCode.SlotClosed, m.Market.OpenSlot(Slot, Mechanism.Continuous, m.GateMs(Slot)));
        Assert.Equal(ResultCode.Ok, m.Market.OpenSlot(Slot, Mechanism.Continuous, m.GateMs(Slot) - 1));
        Assert.Equal(ResultCode.SlotAlreadyOpen, m.Market.OpenSlot(Slot, Mechanism.CallAuction, m.Now));

        Assert.Equal(ResultCode.InvalidZone, m.Market.SetWheelingTable(WheelingTable.Uniform(8)));
        Assert.Equal(ResultCode.InvalidWheelingFee, m.Market.SetWheelingTable(WheelingTable.Uniform(64, 100_001)));
        Assert.Equal(ResultCode.Ok, m.Market.SetWheelingTable(WheelingTable.Uniform(64, 100_000)));
    }
}

public sealed class WheelingTableTests
{
    [Fact]
    public void Entries_outside_the_zones_are_refused_with_an_argument_error()
    {
        // Negative zones included: the build checks overflow, so a (uint) cast would throw OverflowException.
        Assert.Throws<ArgumentOutOfRangeException>(() => WheelingTable.Build(4, 10, [new WheelingEntry(-1, 0, 5)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => WheelingTable.Build(4, 10, [new WheelingEntry(0, 4, 5)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => WheelingTable.Build(4, 10, [new WheelingEntry(0, 1, -5)]));
    }

    [Fact]
    public void Unlisted_pairs_cost_the_default_across_zones_and_nothing_within_one()
    {
        var t = WheelingTable.Build(3, 700, [new WheelingEntry(2, 1, 40)]);
        Assert.Equal(0, t.Fee(1, 1));
        Assert.Equal(700, t.Fee(1, 2));
        Assert.Equal(40, t.Fee(2, 1)); // (seller, buyer) is ordered: 2 → 1 is not 1 → 2
    }
}
