namespace P2PEnergy.Agents;

/// <summary>
/// A battery as the grid sees it: capacity (stored Wh), the most it takes or gives per hour at its terminals
/// (W), and its round-trip efficiency. Losses are split evenly between charging and discharging (assumption):
/// each way loses √η, so 1 Wh in gives √η Wh stored and √η Wh stored gives η Wh out.
/// </summary>
public sealed record StorageSpec(double CapacityWh, double MaxChargeW, double MaxDischargeW, double RoundTripEfficiency)
{
    public double OneWayEfficiency => Math.Sqrt(RoundTripEfficiency);

    public void Validate()
    {
        if (!(CapacityWh > 0)) throw new InvalidOperationException($"capacity must be positive, was {CapacityWh}");
        if (MaxChargeW < 0 || MaxDischargeW < 0) throw new InvalidOperationException("power limits must not be negative");
        if (RoundTripEfficiency is <= 0 or > 1) throw new InvalidOperationException($"round-trip efficiency is in (0, 1], was {RoundTripEfficiency}");
    }
}

/// <summary>
/// What a battery holds (stored Wh, physics in double) and how much of it is renewable. Renewable energy is a
/// share of one pool: discharging takes both parts in proportion, so no renewable Wh is declared twice.
/// </summary>
public readonly record struct StorageState(double EnergyWh, double RenewableWh)
{
    public double RenewableShare => EnergyWh <= 0 ? 0 : Math.Clamp(RenewableWh / EnergyWh, 0, 1);

    public Soc StateOfCharge(StorageSpec spec) => Soc.Of(EnergyWh, spec.CapacityWh);
}

/// <summary>
/// Charging and discharging. Terminal energies (what a meter sees) are whole Wh: limits are floored
/// (<see cref="Units.FloorWh"/>) so the battery never accepts or promises more than it can; the stored energy
/// stays a double and is clamped to [0, capacity] against last-bit error.
/// </summary>
public static class StoragePhysics
{
    /// <summary>The most Wh the battery can take at its terminals this slot: power × slot, and room / √η.</summary>
    public static long ChargeRoomWh(StorageSpec spec, StorageState state, double slotHours) =>
        Units.FloorWh(Math.Min(spec.MaxChargeW * slotHours, (spec.CapacityWh - state.EnergyWh) / spec.OneWayEfficiency));

    /// <summary>The most Wh the battery can deliver at its terminals this slot without going below <paramref name="floorWh"/> stored.</summary>
    public static long DischargeAvailableWh(StorageSpec spec, StorageState state, double floorWh, double slotHours) =>
        Units.FloorWh(Math.Min(spec.MaxDischargeW * slotHours, Math.Max(0, state.EnergyWh - floorWh) * spec.OneWayEfficiency));

    /// <summary>
    /// Charges up to <paramref name="terminalWh"/> (limited by <see cref="ChargeRoomWh"/>); the first
    /// <paramref name="renewableWh"/> of it counts as renewable. Returns the new state and the Wh taken.
    /// </summary>
    public static (StorageState Next, long AcceptedWh) Charge(StorageSpec spec, StorageState state, long terminalWh, long renewableWh, double slotHours)
    {
        var accepted = Math.Clamp(terminalWh, 0, ChargeRoomWh(spec, state, slotHours));
        var energy = Math.Min(spec.CapacityWh, state.EnergyWh + accepted * spec.OneWayEfficiency);
        var renewable = Math.Min(energy, state.RenewableWh + Math.Clamp(renewableWh, 0, accepted) * spec.OneWayEfficiency);
        return (new StorageState(energy, renewable), accepted);
    }

    /// <summary>
    /// Delivers up to <paramref name="terminalWh"/> (limited by <see cref="DischargeAvailableWh"/> above
    /// <paramref name="floorWh"/>). Returns the new state and the Wh delivered.
    /// </summary>
    public static (StorageState Next, long DeliveredWh) Discharge(StorageSpec spec, StorageState state, long terminalWh, double floorWh, double slotHours)
    {
        var delivered = Math.Clamp(terminalWh, 0, DischargeAvailableWh(spec, state, floorWh, slotHours));
        return (Drain(state, delivered / spec.OneWayEfficiency), delivered);
    }

    /// <summary>Takes <paramref name="storedWh"/> out of the pool (both parts in proportion), never below zero.</summary>
    internal static StorageState Drain(StorageState state, double storedWh)
    {
        var energy = Math.Max(0, state.EnergyWh - storedWh);
        var renewable = state.EnergyWh <= 0 ? 0 : Math.Min(energy, state.RenewableWh * (energy / state.EnergyWh));
        return new StorageState(energy, renewable);
    }
}

/// <summary>
/// A stationary battery behind a home's meter (or on its own). Defaults are an assumption for a Japanese
/// home battery of the pilot's time: 7.0 kWh, 3.0 kW each way, 90 % round trip.
/// <paramref name="ReserveSoc"/>: the battery never discharges below it (backup for outages; 20 %, the
/// first point of seed 004, Table 1). <paramref name="SellAboveSoc"/>: it sells stored energy only above this,
/// "full" (80 %, the table's last point; DESIGN.md: storage discharges to the grid when full).
/// </summary>
public sealed record BatterySpec(StorageSpec Storage, double ReserveSoc = 0.2, double SellAboveSoc = 0.8)
{
    public static BatterySpec HomeDefault { get; } = new(new StorageSpec(7_000, 3_000, 3_000, 0.90));

    public double ReserveWh => ReserveSoc * Storage.CapacityWh;
    public double SellAboveWh => SellAboveSoc * Storage.CapacityWh;

    public void Validate()
    {
        Storage.Validate();
        if (ReserveSoc is < 0 or > 1 || SellAboveSoc is < 0 or > 1 || SellAboveSoc < ReserveSoc)
            throw new InvalidOperationException("need 0 ≤ reserve ≤ sell-above ≤ 1");
    }
}
