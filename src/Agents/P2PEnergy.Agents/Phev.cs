namespace P2PEnergy.Agents;

/// <summary>Where a PHEV is during a slot.</summary>
public enum PhevLocation { Home = 1, Office = 2, Driving = 3 }

/// <summary>
/// The commute of a PHEV owned by an employee of the office (seed 004: the pilot is the office and its
/// employees, 事業所とその従業員; PHEVs look for cheap electricity between commutes, 通勤の合間に安い電気を探して充電する,
/// and charge at the office: 通勤先の事業所で充電). Times in local minutes of the day are an assumption: leave
/// home 07:30, arrive 08:00, leave the office 17:30, home 18:00; weekdays only, parked at home at weekends.
/// A slot that overlaps a trip at all is a driving slot: the car is unplugged for the whole slot.
/// </summary>
public sealed record CommuteSchedule(
    int LeaveHomeMinute = 450,
    int ArriveOfficeMinute = 480,
    int LeaveOfficeMinute = 1050,
    int ArriveHomeMinute = 1080,
    bool WeekdaysOnly = true)
{
    public static CommuteSchedule Default { get; } = new();

    public void Validate()
    {
        if (!(0 <= LeaveHomeMinute && LeaveHomeMinute < ArriveOfficeMinute && ArriveOfficeMinute <= LeaveOfficeMinute
              && LeaveOfficeMinute < ArriveHomeMinute && ArriveHomeMinute <= 1440))
            throw new InvalidOperationException("the commute must be: leave home < arrive office ≤ leave office < arrive home, within one day");
    }

    public bool Commutes(long localDay, SlotClock clock) => !WeekdaysOnly || clock.IsWeekday(localDay);

    public PhevLocation LocationAt(long slot, SlotClock clock)
    {
        if (!Commutes(clock.LocalDay(slot), clock)) return PhevLocation.Home;
        var start = clock.StartMinute(clock.SlotOfDay(slot));
        var end = start + clock.SlotMinutes;
        bool Overlaps(int from, int to) => start < to && from < end;
        if (Overlaps(LeaveHomeMinute, ArriveOfficeMinute) || Overlaps(LeaveOfficeMinute, ArriveHomeMinute)) return PhevLocation.Driving;
        return start >= ArriveOfficeMinute && end <= LeaveOfficeMinute ? PhevLocation.Office : PhevLocation.Home;
    }

    /// <summary>
    /// Parked slots from <paramref name="slot"/> (included) to the next departure (excluded); null when the car
    /// does not leave within 8 days (never, or it is driving now).
    /// </summary>
    public int? ParkedSlotsUntilDeparture(long slot, SlotClock clock)
    {
        if (LocationAt(slot, clock) == PhevLocation.Driving) return null;
        var horizon = 8 * clock.SlotsPerDay;
        for (var k = 1; k <= horizon; k++)
            if (LocationAt(slot + k, clock) == PhevLocation.Driving) return k;
        return null;
    }

    /// <summary>Driving slots of a day (in order): each carries an equal share of the day's trips.</summary>
    public int[] DrivingSlots(long localDay, SlotClock clock)
    {
        var first = clock.FirstSlotOf(localDay);
        return Enumerable.Range(0, clock.SlotsPerDay).Where(i => LocationAt(first + i, clock) == PhevLocation.Driving).ToArray();
    }
}

/// <summary>
/// A plug-in hybrid. The seed names no model; the pilot is Toyota's (seed 004), whose PHEV of 2019 was the
/// Prius PHV, so its public figures are the assumption: 8.8 kWh battery; charging 3.0 kW (200 V AC); 1.5 kW back
/// to the grid (its 1500 W external supply; seed 004: PHEVs feed back for peaks, ピーク対応のための逆潮流;
/// seed 003: V2G, バッテリーから系統へ逆潮流); 85 % round trip through the charger. Real-world driving
/// 0.15 kWh/km on electricity and 25 km/L on petrol, petrol at 150 JPY/L, a 15 km commute each way
/// (assumptions).
/// </summary>
public sealed record PhevSpec(
    StorageSpec Storage,
    CommuteSchedule Schedule,
    double WhPerKm = 150,
    double OneWayKm = 15,
    double ReserveSoc = 0.2,
    double PetrolYenPerLitre = 150,
    double KmPerLitre = 25,
    double TripSpread = 0.10)
{
    public static PhevSpec PriusPhv { get; } = new(new StorageSpec(8_800, 3_000, 1_500, 0.85), CommuteSchedule.Default);

    /// <summary>Battery energy for one commute leg, Wh.</summary>
    public double LegWh => OneWayKm * WhPerKm;

    /// <summary>
    /// The target at every departure: the next leg plus a reserve of <see cref="ReserveSoc"/> (assumption: 20 %,
    /// the first point of seed 004, Table 1), capped at capacity. 8.8 kWh: 1 760 + 2 250 = 4 010 Wh (45.6 %).
    /// The PHEV must have it by departure (it plans its charging; <see cref="SlotDecider"/>) and may sell above it.
    /// </summary>
    public double TargetWh => Math.Min(Storage.CapacityWh, ReserveSoc * Storage.CapacityWh + LegWh);

    /// <summary>
    /// The most a PHEV pays for a kWh, in ticks (DESIGN.md: it can fall back to petrol): a kWh bought stores √η
    /// kWh and drives √η / (kWh per km) km that petrol would cost (JPY/L) / (km/L) for. Floored to a tick.
    /// Defaults: 150 / 25 / 0.15 × √0.85 = 40 × 0.92195 = 36.878 JPY/kWh → 3687 ticks.
    /// </summary>
    public long PetrolEquivalentTicks =>
        (long)Math.Floor(PetrolYenPerLitre / KmPerLitre / (WhPerKm / 1000.0) * Storage.OneWayEfficiency * Units.TicksPerYenPerKWh + 1e-9);

    /// <summary>
    /// Battery Wh the PHEV must take at its terminals this slot so that charging at full power in the
    /// remaining parked slots still reaches the target by departure: the latest-possible plan. Rounded up, so
    /// charging exactly this much in every slot lands on or above the target. 0 when no departure is near.
    /// </summary>
    public long MustChargeWh(StorageState state, long slot, SlotClock clock)
    {
        var parked = Schedule.ParkedSlotsUntilDeparture(slot, clock);
        if (parked is null) return 0;
        var storedPerSlot = Units.FloorWh(Storage.MaxChargeW * clock.SlotHours) * Storage.OneWayEfficiency;
        var mustStore = TargetWh - state.EnergyWh - (parked.Value - 1) * storedPerSlot;
        var room = StoragePhysics.ChargeRoomWh(Storage, state, clock.SlotHours);
        return Math.Min(room, Units.CeilingWh(mustStore / Storage.OneWayEfficiency));
    }

    /// <summary>
    /// Battery Wh the day's trips take, by slot: forecast = one leg per driving slot run (legs split evenly over
    /// their slots); actual = × (1 + N(0, <see cref="TripSpread"/>)) within ±30 % (traffic, air conditioning;
    /// assumption). Integer Wh by <see cref="Units.QuantizeCumulative"/>.
    /// </summary>
    public SlotSeries DriveDemand(ulong phevSeed, long localDay, SlotClock clock)
    {
        var forecast = new double[clock.SlotsPerDay];
        var actual = new double[clock.SlotsPerDay];
        if (Schedule.Commutes(localDay, clock))
        {
            var rng = Seeds.Stream(phevSeed, "phev-drive", localDay);
            foreach (var (from, to) in new[] { (Schedule.LeaveHomeMinute, Schedule.ArriveOfficeMinute), (Schedule.LeaveOfficeMinute, Schedule.ArriveHomeMinute) })
            {
                var slots = Enumerable.Range(0, clock.SlotsPerDay)
                    .Where(i => clock.StartMinute(i) < to && from < clock.StartMinute(i) + clock.SlotMinutes).ToArray();
                var factor = 1 + Math.Clamp(TripSpread * rng.NextGaussian(), -0.3, 0.3);
                foreach (var i in slots)
                {
                    forecast[i] += LegWh / slots.Length;
                    actual[i] += LegWh / slots.Length * factor;
                }
            }
        }
        return new SlotSeries(Units.QuantizeCumulative(forecast), Units.QuantizeCumulative(actual));
    }

    public void Validate()
    {
        Storage.Validate();
        Schedule.Validate();
        if (!(WhPerKm > 0) || OneWayKm < 0 || ReserveSoc is < 0 or > 1 || !(PetrolYenPerLitre > 0) || !(KmPerLitre > 0))
            throw new InvalidOperationException("PHEV figures out of range");
    }
}
