using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace P2PEnergy.Agents.Tests;

/// <summary>Round trip 0.81 so each way is exactly 0.9: 1000 Wh in store 900, 900 stored give 810 out.</summary>
public sealed class StorageTests
{
    private const double Half = 0.5; // hours in a slot
    private static readonly StorageSpec Spec = new(CapacityWh: 7_000, MaxChargeW: 3_000, MaxDischargeW: 3_000, RoundTripEfficiency: 0.81);

    [Fact]
    public void Charging_stores_energy_less_the_charging_loss()
    {
        var (next, accepted) = StoragePhysics.Charge(Spec, new StorageState(0, 0), 1_000, 0, Half);
        Assert.Equal(1_000, accepted);
        Assert.Equal(900, next.EnergyWh, 9);
    }

    [Fact]
    public void A_round_trip_returns_the_round_trip_efficiency()
    {
        var (charged, _) = StoragePhysics.Charge(Spec, new StorageState(0, 0), 1_000, 0, Half);
        // 900 stored × 0.9 = 810 Wh at the terminals; the store is then empty.
        var (empty, delivered) = StoragePhysics.Discharge(Spec, charged, 5_000, 0, Half);
        Assert.Equal(810, delivered);
        Assert.Equal(0, empty.EnergyWh, 9);
    }

    [Fact]
    public void Power_and_capacity_limit_what_a_slot_can_take()
    {
        // 3 kW × 0.5 h = 1500 Wh.
        Assert.Equal(1_500, StoragePhysics.Charge(Spec, new StorageState(0, 0), 2_000, 0, Half).AcceptedWh);
        // 100 Wh of room / 0.9 = 111.1 → 111 Wh at the terminals, 99.9 stored: 6999.9 ≤ 7000.
        var (full, accepted) = StoragePhysics.Charge(Spec, new StorageState(6_900, 0), 1_000, 0, Half);
        Assert.Equal(111, accepted);
        Assert.Equal(6_999.9, full.EnergyWh, 9);
        Assert.Equal(0, StoragePhysics.Charge(Spec, new StorageState(7_000, 0), 1_000, 0, Half).AcceptedWh);
    }

    [Fact]
    public void Discharging_stops_at_the_floor()
    {
        // 100 Wh above a floor of 1400, × 0.9 = 90 Wh out.
        var (next, delivered) = StoragePhysics.Discharge(Spec, new StorageState(1_500, 0), 500, 1_400, Half);
        Assert.Equal(90, delivered);
        Assert.Equal(1_400, next.EnergyWh, 9);
    }

    [Fact]
    public void Renewable_energy_is_a_share_of_the_pool()
    {
        // Half of 1000 stored Wh is renewable. Delivering 450 takes 450 / 0.9 = 500 stored: 500 left, 250 renewable.
        var (next, _) = StoragePhysics.Discharge(Spec, new StorageState(1_000, 500), 450, 0, Half);
        Assert.Equal(500, next.EnergyWh, 9);
        Assert.Equal(250, next.RenewableWh, 9);
        // Charging 1000 of which 400 from PV adds 900 stored, 360 renewable.
        var (charged, _) = StoragePhysics.Charge(Spec, next, 1_000, 400, Half);
        Assert.Equal(1_400, charged.EnergyWh, 9);
        Assert.Equal(610, charged.RenewableWh, 9);
    }

    [Property(MaxTest = 300, QuietOnSuccess = true)]
    public Property Any_sequence_keeps_the_store_within_its_bounds_and_accounts_for_every_Wh()
    {
        var step = Gen.Choose(-4_000, 4_000);
        return Prop.ForAll(Arb.From(Gen.ListOf(step).Select(l => l.ToArray())), ops =>
        {
            var spec = new StorageSpec(7_000, 3_000, 2_000, 0.9);
            var state = new StorageState(3_500, 1_000);
            var expected = state.EnergyWh;
            foreach (var op in ops)
            {
                if (op >= 0)
                {
                    var (next, accepted) = StoragePhysics.Charge(spec, state, op, op / 2, Half);
                    Assert.InRange(accepted, 0, Math.Min(op, 1_500));
                    expected += accepted * spec.OneWayEfficiency;
                    state = next;
                }
                else
                {
                    var (next, delivered) = StoragePhysics.Discharge(spec, state, -op, 700, Half);
                    Assert.InRange(delivered, 0, Math.Min(-op, 1_000));
                    expected -= delivered / spec.OneWayEfficiency;
                    state = next;
                }
                Assert.InRange(state.EnergyWh, 0, spec.CapacityWh);
                Assert.InRange(state.RenewableWh, 0, state.EnergyWh);
                Assert.Equal(expected, state.EnergyWh, 6);
            }
        });
    }
}
