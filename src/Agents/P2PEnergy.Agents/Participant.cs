namespace P2PEnergy.Agents;

/// <summary>
/// A participant of the community as data: who it is, which strategy of seed 004 Table 1 its owner chose, where
/// its meter is (<paramref name="Site"/>, e.g. "home-07"; a PHEV's home, its <paramref name="WorkSite"/> the office)
/// and its devices. Build one with the factory methods, which check that the devices fit the kind.
/// </summary>
public sealed record Participant(
    string Id,
    AgentKind Kind,
    StrategyKind Strategy,
    string Site,
    PvSpec? Pv = null,
    HouseholdLoadSpec? HomeLoad = null,
    OfficeLoadSpec? OfficeLoad = null,
    double OfficeScale = 1.0,
    BatterySpec? Battery = null,
    PhevSpec? Phev = null,
    string? WorkSite = null)
{
    public PriceStrategy PriceStrategy => PriceStrategy.For(Strategy);

    /// <summary>The battery or the PHEV's battery, if it has one.</summary>
    public StorageSpec? Storage => Battery?.Storage ?? Phev?.Storage;

    public static Participant Household(string id, StrategyKind strategy, string site, HouseholdLoadSpec? load = null) =>
        new Participant(id, AgentKind.Household, strategy, site, HomeLoad: load ?? HouseholdLoadSpec.Default).Validated();

    public static Participant Prosumer(string id, StrategyKind strategy, string site, PvSpec pv, BatterySpec? battery = null, HouseholdLoadSpec? load = null) =>
        new Participant(id, AgentKind.Prosumer, strategy, site, Pv: pv, HomeLoad: load ?? HouseholdLoadSpec.Default, Battery: battery).Validated();

    public static Participant Office(string id, StrategyKind strategy, string site, PvSpec? pv, OfficeLoadSpec? load = null, double scale = 1.0) =>
        new Participant(id, AgentKind.Office, strategy, site, Pv: pv, OfficeLoad: load ?? OfficeLoadSpec.Default, OfficeScale: scale).Validated();

    public static Participant PhevOf(string id, StrategyKind strategy, string homeSite, string workSite, PhevSpec? phev = null) =>
        new Participant(id, AgentKind.Phev, strategy, homeSite, Phev: phev ?? PhevSpec.PriusPhv, WorkSite: workSite).Validated();

    public static Participant StandaloneBattery(string id, StrategyKind strategy, string site, BatterySpec? battery = null) =>
        new Participant(id, AgentKind.Battery, strategy, site, Battery: battery ?? BatterySpec.HomeDefault).Validated();

    public Participant Validated()
    {
        if (string.IsNullOrWhiteSpace(Id)) throw new InvalidOperationException("a participant needs an id");
        _ = PriceStrategy.For(Strategy);
        var ok = Kind switch
        {
            AgentKind.Household => HomeLoad is not null && Pv is null && Battery is null && Phev is null && OfficeLoad is null,
            AgentKind.Prosumer => HomeLoad is not null && Pv is not null && Phev is null && OfficeLoad is null,
            AgentKind.Office => OfficeLoad is not null && HomeLoad is null && Battery is null && Phev is null && OfficeScale > 0,
            AgentKind.Phev => Phev is not null && WorkSite is not null && Pv is null && HomeLoad is null && OfficeLoad is null && Battery is null,
            AgentKind.Battery => Battery is not null && Pv is null && HomeLoad is null && OfficeLoad is null && Phev is null,
            _ => false,
        };
        if (!ok) throw new InvalidOperationException($"{Id}: the devices do not fit a {Kind}");
        Battery?.Validate();
        Phev?.Validate();
        if (Pv is { KWp: < 0 }) throw new InvalidOperationException($"{Id}: negative kWp");
        return this;
    }

    /// <summary>
    /// Forecast and actual PV and load (for a PHEV: its driving demand) of one local day, deterministic from
    /// the community seed: every participant draws from its own stream named by its id.
    /// </summary>
    public DayProfile Profile(ulong communitySeed, WeatherDay weather, SolarSite site, SlotClock clock)
    {
        var seed = Seeds.Derive(communitySeed, "participant:" + Id);
        var day = weather.LocalDay;
        var pv = Pv?.Generate(site, weather, clock) ?? SlotSeries.Zero(clock);
        var load = Kind switch
        {
            AgentKind.Household or AgentKind.Prosumer => HomeLoad!.Generate(seed, day, clock),
            AgentKind.Office => OfficeLoad!.Generate(seed, day, clock, OfficeScale),
            AgentKind.Phev => Phev!.DriveDemand(seed, day, clock),
            _ => SlotSeries.Zero(clock),
        };
        return new DayProfile(day, pv, load);
    }
}

/// <summary>Energy of one participant in one slot: PV generation and consumption (a PHEV's: what driving takes), Wh.</summary>
public readonly record struct SlotEnergy(long PvWh, long LoadWh)
{
    public void Validate()
    {
        if (PvWh < 0 || LoadWh < 0) throw new ArgumentException($"PV and load must not be negative: {this}");
    }
}

/// <summary>One participant's forecast and actual energy for each slot of a local day.</summary>
public sealed record DayProfile(long LocalDay, SlotSeries Pv, SlotSeries Load)
{
    public SlotEnergy Forecast(int slotOfDay) => new(Pv.ForecastWh[slotOfDay], Load.ForecastWh[slotOfDay]);
    public SlotEnergy Actual(int slotOfDay) => new(Pv.ActualWh[slotOfDay], Load.ActualWh[slotOfDay]);
}

/// <summary>A participant's device state between slots: its battery or PHEV battery, if any.</summary>
public sealed record AgentState(StorageState? Storage)
{
    /// <summary>
    /// The state a simulation starts from (assumption): a stationary battery half full, a PHEV at its
    /// departure target; all of it counted as mixed (not renewable) energy.
    /// </summary>
    public static AgentState Initial(Participant participant)
    {
        if (participant.Phev is { } phev) return new AgentState(new StorageState(phev.TargetWh, 0));
        if (participant.Battery is { } battery) return new AgentState(new StorageState(battery.Storage.CapacityWh / 2, 0));
        return new AgentState((StorageState?)null);
    }
}
