namespace P2PEnergy.Report;

/// <summary>
/// The report on a simulated community run: figures per participant, per participant type and for the whole
/// community against the grid-only baseline, the market and the chain, and the seed-004 pilot beside ours.
/// Immutable; built once by <see cref="Build"/>, then rendered as text, Markdown, CSV and PNG.
/// </summary>
public sealed class CommunityReport
{
    public const string CommunityLabel = "Community";

    private CommunityReport(
        SimulationResult input, IReadOnlyList<ParticipantFigures> participants, IReadOnlyList<TypeFigures> types,
        GroupFigures community, IReadOnlyList<SlotFigures> slots, IReadOnlyList<StorageSeries> storage, MarketTotals market,
        long meanRetailTicks, long meanBuyBackTicks, PilotComparison pilot, IReadOnlyList<string> checks)
    {
        Input = input;
        Participants = participants;
        Types = types;
        Community = community;
        Slots = slots;
        Storage = storage;
        Market = market;
        MeanRetailTicks = meanRetailTicks;
        MeanBuyBackTicks = meanBuyBackTicks;
        Pilot = pilot;
        Checks = checks;
    }

    public SimulationResult Input { get; }
    public Scenario Scenario => Input.Scenario;
    public ChainSummary Chain => Input.Chain;

    /// <summary>In the order the participants were listed.</summary>
    public IReadOnlyList<ParticipantFigures> Participants { get; }

    /// <summary>Types present in the community, in <see cref="ParticipantType"/> order.</summary>
    public IReadOnlyList<TypeFigures> Types { get; }

    public GroupFigures Community { get; }

    /// <summary>In ascending slot order.</summary>
    public IReadOnlyList<SlotFigures> Slots { get; }

    /// <summary>Participants that reported a storage state, in listing order.</summary>
    public IReadOnlyList<StorageSeries> Storage { get; }

    public MarketTotals Market { get; }

    /// <summary>Plain mean of the slots' retail prices, ticks, rounded half away from zero.</summary>
    public long MeanRetailTicks { get; }

    /// <summary>Plain mean of the slots' buy-back prices, ticks, rounded half away from zero.</summary>
    public long MeanBuyBackTicks { get; }

    public PilotComparison Pilot { get; }

    /// <summary>Inconsistencies in the input that do not stop the report (e.g. settled P2P bought ≠ sold in a slot).</summary>
    public IReadOnlyList<string> Checks { get; }

    public GroupFigures? FiguresOf(ParticipantType type) => Types.FirstOrDefault(t => t.Type == type)?.Figures;

    public GroupFigures FiguresOf(string address) => Participants.Single(p => p.Participant.Address == address).Figures;

    /// <summary>Computes the report; throws <see cref="ArgumentException"/> listing every validation error of the input.</summary>
    public static CommunityReport Build(SimulationResult input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = input.Validate();
        if (errors.Count > 0) throw new ArgumentException("the simulation result cannot be reported on:\n" + string.Join("\n", errors), nameof(input));

        var factor = input.Scenario.GridEmissionFactor.GramsPerKWh;
        var baselines = input.Baselines.ToDictionary(b => (b.Participant, b.Slot));
        var byAddress = input.Participants.ToDictionary(p => p.Address, StringComparer.Ordinal);
        var rows = input.ParticipantSlots.OrderBy(r => r.Slot).ThenBy(r => r.Participant, StringComparer.Ordinal).ToList();

        var perParticipant = input.Participants.ToDictionary(p => p.Address, _ => new FiguresSum(), StringComparer.Ordinal);
        var perType = new Dictionary<ParticipantType, FiguresSum>();
        var perSlot = input.Slots.ToDictionary(m => m.Slot, _ => new FiguresSum());
        var community = new FiguresSum();
        foreach (var r in rows)
        {
            var b = baselines[(r.Participant, r.Slot)];
            var type = byAddress[r.Participant].Type;
            perParticipant[r.Participant].Add(r, b, factor);
            if (!perType.TryGetValue(type, out var t)) perType[type] = t = new FiguresSum();
            t.Add(r, b, factor);
            perSlot[r.Slot].Add(r, b, factor);
            community.Add(r, b, factor);
        }

        var participants = input.Participants
            .Select(p => new ParticipantFigures(p, perParticipant[p.Address].ToFigures(p.Name, 1)))
            .ToList();
        var types = input.Participants.Select(p => p.Type).Distinct().Order()
            .Select(type => new TypeFigures(type, (perType.GetValueOrDefault(type) ?? new FiguresSum())
                .ToFigures(ReportText.TypeName(type), input.Participants.Count(p => p.Type == type))))
            .ToList();
        var communityFigures = community.ToFigures(CommunityLabel, input.Participants.Count);

        var market = input.Slots.OrderBy(m => m.Slot).ToList();
        var slots = market
            .Select(m => new SlotFigures(m, StartLocal(input.Scenario, m.Slot), perSlot[m.Slot].ToFigures($"slot {m.Slot}", input.Participants.Count)))
            .ToList();

        var storageRows = rows.Where(r => r.Storage is not null).ToLookup(r => r.Participant, StringComparer.Ordinal);
        var storage = input.Participants
            .Where(p => storageRows.Contains(p.Address))
            .Select(p => new StorageSeries(p, storageRows[p.Address].Select(r => (r.Slot, r.Storage!.Value.PerMille)).ToList()))
            .ToList();

        var totals = new MarketTotals(
            market.Sum(m => m.RenewableTradedWh), market.Sum(m => m.MixedTradedWh), market.Sum(m => (long)m.LotCount),
            communityFigures.BoughtWh, communityFigures.SoldWh);
        var meanRetail = Rounding.Divide(market.Aggregate(Int128.Zero, (sum, m) => sum + m.RetailTicks), market.Count);
        var meanBuyBack = Rounding.Divide(market.Aggregate(Int128.Zero, (sum, m) => sum + m.BuyBackTicks), market.Count);

        var pilot = PilotComparison.Build(communityFigures, types.FirstOrDefault(t => t.Type == ParticipantType.Phev)?.Figures, types,
            input.Participants, meanRetail, meanBuyBack, input.Scenario.Days, input.Assumptions);

        return new CommunityReport(input, participants, types, communityFigures, slots, storage, totals, meanRetail, meanBuyBack, pilot,
            Consistency(input, slots, totals));
    }

    /// <summary>The start of a slot in the community's local time.</summary>
    public static DateTimeOffset StartLocal(Scenario scenario, long slot) =>
        DateTimeOffset.FromUnixTimeSeconds(checked(slot * scenario.SlotSeconds)).ToOffset(scenario.UtcOffset);

    private static List<string> Consistency(SimulationResult input, IReadOnlyList<SlotFigures> slots, MarketTotals totals)
    {
        var checks = new List<string>();
        foreach (var s in slots)
        {
            var m = s.Market;
            if (s.Community.BoughtWh != s.Community.SoldWh)
                checks.Add($"slot {m.Slot}: settled P2P bought {s.Community.BoughtWh} Wh differs from sold {s.Community.SoldWh} Wh");
            if (s.Community.BoughtWh > m.TradedWh)
                checks.Add($"slot {m.Slot}: settled P2P bought {s.Community.BoughtWh} Wh is more than matched {m.TradedWh} Wh");
            if (s.Community.BoughtRenewableWh > m.RenewableTradedWh)
                checks.Add($"slot {m.Slot}: settled renewable {s.Community.BoughtRenewableWh} Wh is more than matched renewable {m.RenewableTradedWh} Wh");
            if (m.TradedWh > 0 && m.LotCount == 0)
                checks.Add($"slot {m.Slot}: {m.TradedWh} Wh matched in no lot");
        }
        if (input.Chain.LotsRecorded != totals.Lots)
            checks.Add($"chain: {input.Chain.LotsRecorded} lots recorded, {totals.Lots} matched");
        return checks;
    }

    /// <summary>Plain-text report: aligned columns, for logs, the console and tests.</summary>
    public string RenderText() => ReportText.Text(this);

    /// <summary>report.md: the same tables, the pilot beside ours, the differences, definitions and the files.</summary>
    public string RenderMarkdown() => ReportText.Markdown(this);

    /// <summary>One row per slot, exact integers in the units of DESIGN.md.</summary>
    public string SlotsCsv() => ReportCsv.Slots(this);

    /// <summary>One row per participant, exact integers in the units of DESIGN.md.</summary>
    public string ParticipantsCsv() => ReportCsv.Participants(this);

    /// <summary>One row per participant type and one for the community.</summary>
    public string TypesCsv() => ReportCsv.Types(this);

    /// <summary>Writes report.md, the CSV files and the PNG plots into <paramref name="folder"/> (created if needed).</summary>
    public ReportFiles WriteTo(string folder) => ReportWriter.Write(this, folder);
}
