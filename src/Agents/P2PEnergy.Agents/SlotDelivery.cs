namespace P2PEnergy.Agents;

/// <summary>What an agent actually traded for a slot (its lots' Wh), and how much of what it bought was renewable.</summary>
public readonly record struct SlotTrades(long BoughtWh, long SoldWh, long BoughtRenewableWh = 0)
{
    public static SlotTrades None { get; } = new(0, 0);

    public void Validate()
    {
        if (BoughtWh < 0 || SoldWh < 0 || BoughtRenewableWh < 0 || BoughtRenewableWh > BoughtWh)
            throw new ArgumentException($"traded energy out of range: {this}");
    }
}

/// <summary>A meter's reading for a slot: Wh taken from and given to the grid at the participant's connection.</summary>
public readonly record struct MeterReading(long ImportWh, long ExportWh)
{
    /// <summary>The slot's net flow, export positive, as one import or one export register (the other 0).</summary>
    public static MeterReading FromNetExport(long netExportWh) => new(Math.Max(0, -netExportWh), Math.Max(0, netExportWh));
}

/// <summary>
/// The slot as it happened for one participant: its next device state, its meter reading, and what its battery
/// did. <paramref name="PetrolKm"/>: kilometres a PHEV drove on petrol because its battery ran empty.
/// </summary>
public sealed record SlotOutcome(AgentState Next, MeterReading Meter, long ChargedWh, long DischargedWh, double DrivenFromBatteryWh, double PetrolKm);

/// <summary>
/// Delivery: runs a slot's physics for what was traded and what really happened, and reads the meter. Integer
/// Wh at the meter: PV, load, trades and the battery's terminal energies are whole Wh (the battery rounds its
/// own limits down, <see cref="StoragePhysics"/>), so a reading is an exact sum, not a rounded double.
/// </summary>
public static class SlotDelivery
{
    public static SlotOutcome Advance(Participant participant, AgentState state, long slot, SlotClock clock, SlotEnergy actual, SlotTrades traded)
    {
        actual.Validate();
        traded.Validate();
        if (participant.Phev is { } phev)
            return AdvancePhev(phev, SlotDecider.StorageOf(participant, state), slot, clock, actual, traded);
        if (participant.Battery is { } battery)
            return AdvanceBattery(battery, SlotDecider.StorageOf(participant, state), clock, actual, traded);
        // No storage: the meter sees PV and load; what was traded changes the bill, not the flow.
        return new SlotOutcome(state, MeterReading.FromNetExport(actual.PvWh - actual.LoadWh), 0, 0, 0, 0);
    }

    /// <summary>
    /// The battery absorbs or supplies x = PV − load + bought − sold, the Wh that would otherwise make the
    /// meter differ from the trades: charging what it can (the rest is exported to the grid at buy-back),
    /// discharging down to its reserve (the rest is imported at retail). Charging counts as renewable up to
    /// the own PV surplus plus the renewable Wh bought.
    /// </summary>
    private static SlotOutcome AdvanceBattery(BatterySpec battery, StorageState state, SlotClock clock, SlotEnergy actual, SlotTrades traded)
    {
        var hours = clock.SlotHours;
        var x = actual.PvWh - actual.LoadWh + traded.BoughtWh - traded.SoldWh;
        long charged = 0, discharged = 0;
        var next = state;
        if (x > 0)
        {
            var renewable = Math.Min(x, Math.Max(0, actual.PvWh - actual.LoadWh) + traded.BoughtRenewableWh);
            (next, charged) = StoragePhysics.Charge(battery.Storage, state, x, renewable, hours);
        }
        else if (x < 0)
        {
            (next, discharged) = StoragePhysics.Discharge(battery.Storage, state, -x, battery.ReserveWh, hours);
        }
        var meter = MeterReading.FromNetExport(actual.PvWh - actual.LoadWh - charged + discharged);
        return new SlotOutcome(new AgentState(next), meter, charged, discharged, 0, 0);
    }

    /// <summary>
    /// Driving: the trip (actual.LoadWh) takes the battery down to empty, the rest is driven on petrol; the car
    /// is unplugged, so its meter reads 0 / 0. Parked: it charges max(bought, must-charge) — the grid supplies
    /// what the market did not, so the target is met by departure whatever the market did — or discharges what
    /// it sold, never below its departure target.
    /// </summary>
    private static SlotOutcome AdvancePhev(PhevSpec phev, StorageState state, long slot, SlotClock clock, SlotEnergy actual, SlotTrades traded)
    {
        if (phev.Schedule.LocationAt(slot, clock) == PhevLocation.Driving)
        {
            var used = Math.Min(state.EnergyWh, actual.LoadWh);
            var petrolKm = (actual.LoadWh - used) / phev.WhPerKm;
            return new SlotOutcome(new AgentState(StoragePhysics.Drain(state, used)), new MeterReading(0, 0), 0, 0, used, petrolKm);
        }
        var hours = clock.SlotHours;
        var x = actual.PvWh - actual.LoadWh + traded.BoughtWh - traded.SoldWh;
        var charge = Math.Max(x, phev.MustChargeWh(state, slot, clock));
        long charged = 0, discharged = 0;
        var next = state;
        if (charge > 0)
            (next, charged) = StoragePhysics.Charge(phev.Storage, state, charge, Math.Min(charge, traded.BoughtRenewableWh), hours);
        else if (x < 0)
            (next, discharged) = StoragePhysics.Discharge(phev.Storage, state, -x, phev.TargetWh, hours);
        var meter = MeterReading.FromNetExport(actual.PvWh - actual.LoadWh - charged + discharged);
        return new SlotOutcome(new AgentState(next), meter, charged, discharged, 0, 0);
    }
}
