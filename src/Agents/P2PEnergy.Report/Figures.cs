namespace P2PEnergy.Report;

/// <summary>
/// Sums over a set of participant slots (one participant, a participant type, or the whole community) and what
/// the report derives from them. Sums are exact integers; every derived ratio is rounded once, half away from
/// zero, by <see cref="Rounding"/>, and is null when its denominator is 0.
/// <para>Definitions (the report prints them):</para>
/// <list type="bullet">
/// <item>Cost = paid − received + petrol, with paid = P2P bought + wheeling + grid import + compensation paid and
/// received = P2P sold + grid export + compensation received (the settlement bill). Grid-only cost = grid import −
/// grid export + petrol of the baseline. Saving = grid-only cost − cost; saving % = saving / |grid-only cost|, so a
/// net seller whose income grows shows a positive saving.</item>
/// <item>Average buy price = (P2P bought money + wheeling) / P2P bought Wh: what buyers paid per kWh bought in the
/// market, wheeling included, comparable with retail. Average sell price = P2P sold money / P2P sold Wh. Money / Wh
/// is ticks exactly (1e-5 JPY / Wh = 0.01 JPY/kWh), rounded to a whole tick. Compensation is not in either.</item>
/// <item>Locally supplied Wh of a participant slot = load − grid import, clamped to [0, load]: consumption met by
/// its own generation or storage or by other members, not by the grid. Self-sufficiency = Σ locally supplied / Σ
/// load. For the community this is local generation consumed locally / consumption; storage charged from the grid
/// and discharged later counts as local.</item>
/// <item>Renewable Wh of a participant slot = locally supplied − P2P bought from mixed sellers, clamped to [0, load]:
/// own PV (directly or through own storage) and P2P energy from renewable sellers. Grid energy counts as not
/// renewable (no non-fossil certificate comes with it). Renewable share = Σ renewable / Σ load.</item>
/// <item>CO2 = grid import Wh × emission factor (mg, exact); export to the grid is not credited; petrol is not counted.</item>
/// </list>
/// </summary>
public sealed record GroupFigures
{
    /// <summary>"Community", a participant type's name, or a participant's name.</summary>
    public required string Label { get; init; }
    public int Participants { get; init; }

    public long LoadWh { get; init; }
    public long GenerationWh { get; init; }
    public long BoughtWh { get; init; }
    public long BoughtRenewableWh { get; init; }
    public long BoughtMoney { get; init; }
    public long SoldWh { get; init; }
    public long SoldMoney { get; init; }
    public long WheelingPaid { get; init; }
    public long GridImportWh { get; init; }
    public long GridImportMoney { get; init; }
    public long GridExportWh { get; init; }
    public long GridExportMoney { get; init; }
    public long CompensationPaid { get; init; }
    public long CompensationReceived { get; init; }
    public long PetrolMoney { get; init; }
    public long LocallySuppliedWh { get; init; }
    public long RenewableWh { get; init; }
    public long Co2Mg { get; init; }

    public long BaselineGridImportWh { get; init; }
    public long BaselineGridImportMoney { get; init; }
    public long BaselineGridExportWh { get; init; }
    public long BaselineGridExportMoney { get; init; }
    public long BaselinePetrolMoney { get; init; }
    public long BaselineLocallySuppliedWh { get; init; }
    public long BaselineCo2Mg { get; init; }

    public long Paid => BoughtMoney + WheelingPaid + GridImportMoney + CompensationPaid;
    public long Received => SoldMoney + GridExportMoney + CompensationReceived;
    public long Cost => Paid - Received + PetrolMoney;
    public long BaselineCost => BaselineGridImportMoney - BaselineGridExportMoney + BaselinePetrolMoney;
    public long Saving => BaselineCost - Cost;

    /// <summary>Saving / |grid-only cost| in basis points.</summary>
    public long? SavingBasisPoints => Rounding.BasisPoints(Saving, Math.Abs(BaselineCost));

    /// <summary>(P2P bought money + wheeling) / P2P bought Wh, in ticks.</summary>
    public long? AverageBuyTicks => BoughtWh == 0 ? null : Rounding.Divide((Int128)BoughtMoney + WheelingPaid, BoughtWh);

    /// <summary>P2P sold money / P2P sold Wh, in ticks.</summary>
    public long? AverageSellTicks => SoldWh == 0 ? null : Rounding.Divide(SoldMoney, SoldWh);

    public long? RenewableShareBasisPoints => Rounding.BasisPoints(RenewableWh, LoadWh);

    /// <summary>Without a market, what is supplied locally is the participant's own PV and storage: all of it counts as renewable.</summary>
    public long? BaselineRenewableShareBasisPoints => Rounding.BasisPoints(BaselineLocallySuppliedWh, LoadWh);

    public long? SelfSufficiencyBasisPoints => Rounding.BasisPoints(LocallySuppliedWh, LoadWh);
    public long? BaselineSelfSufficiencyBasisPoints => Rounding.BasisPoints(BaselineLocallySuppliedWh, LoadWh);

    public long Co2ReductionMg => BaselineCo2Mg - Co2Mg;
}

/// <summary>One participant's figures over the whole run.</summary>
public sealed record ParticipantFigures(Participant Participant, GroupFigures Figures);

/// <summary>One participant type's figures (only types present in the community are reported).</summary>
public sealed record TypeFigures(ParticipantType Type, GroupFigures Figures);

/// <summary>The community in one slot: the market and the sums over its participants.</summary>
public sealed record SlotFigures(MarketSlot Market, DateTimeOffset StartLocal, GroupFigures Community);

/// <summary>A PHEV's or a battery's state of charge over the run, per mille at the end of each slot it reported.</summary>
public sealed record StorageSeries(Participant Participant, IReadOnlyList<(long Slot, long PerMille)> Points);

/// <summary>The market's totals over the run.</summary>
public sealed record MarketTotals(long RenewableTradedWh, long MixedTradedWh, long Lots, long SettledBoughtWh, long SettledSoldWh)
{
    public long TradedWh => RenewableTradedWh + MixedTradedWh;

    /// <summary>Renewable share of matched energy, basis points.</summary>
    public long? RenewableTradedBasisPoints => Rounding.BasisPoints(RenewableTradedWh, TradedWh);
}

/// <summary>Mutable sums behind a <see cref="GroupFigures"/>; arithmetic is checked (Directory.Build.props).</summary>
internal sealed class FiguresSum
{
    private readonly HashSet<string> participants = new(StringComparer.Ordinal);
    private long load, generation, bought, boughtRenewable, boughtMoney, sold, soldMoney, wheeling;
    private long gridImport, gridImportMoney, gridExport, gridExportMoney, compPaid, compReceived, petrol;
    private long local, renewable, co2;
    private long bImport, bImportMoney, bExport, bExportMoney, bPetrol, bLocal, bCo2;

    public void Add(ParticipantSlot r, BaselineSlot b, long gramsPerKWh)
    {
        participants.Add(r.Participant);
        load += r.LoadWh;
        generation += r.GenerationWh;
        bought += r.BoughtWh;
        boughtRenewable += r.BoughtRenewableWh;
        boughtMoney += r.BoughtMoney;
        sold += r.SoldWh;
        soldMoney += r.SoldMoney;
        wheeling += r.WheelingPaid;
        gridImport += r.GridImportWh;
        gridImportMoney += r.GridImportMoney;
        gridExport += r.GridExportWh;
        gridExportMoney += r.GridExportMoney;
        compPaid += r.CompensationPaid;
        compReceived += r.CompensationReceived;
        petrol += r.PetrolMoney;
        var locallySupplied = Math.Clamp(r.LoadWh - r.GridImportWh, 0, r.LoadWh);
        local += locallySupplied;
        renewable += Math.Clamp(locallySupplied - (r.BoughtWh - r.BoughtRenewableWh), 0, r.LoadWh);
        co2 += r.GridImportWh * gramsPerKWh;

        bImport += b.GridImportWh;
        bImportMoney += b.GridImportMoney;
        bExport += b.GridExportWh;
        bExportMoney += b.GridExportMoney;
        bPetrol += b.PetrolMoney;
        bLocal += Math.Clamp(r.LoadWh - b.GridImportWh, 0, r.LoadWh);
        bCo2 += b.GridImportWh * gramsPerKWh;
    }

    public GroupFigures ToFigures(string label, int? participantCount = null) => new()
    {
        Label = label,
        Participants = participantCount ?? participants.Count,
        LoadWh = load,
        GenerationWh = generation,
        BoughtWh = bought,
        BoughtRenewableWh = boughtRenewable,
        BoughtMoney = boughtMoney,
        SoldWh = sold,
        SoldMoney = soldMoney,
        WheelingPaid = wheeling,
        GridImportWh = gridImport,
        GridImportMoney = gridImportMoney,
        GridExportWh = gridExport,
        GridExportMoney = gridExportMoney,
        CompensationPaid = compPaid,
        CompensationReceived = compReceived,
        PetrolMoney = petrol,
        LocallySuppliedWh = local,
        RenewableWh = renewable,
        Co2Mg = co2,
        BaselineGridImportWh = bImport,
        BaselineGridImportMoney = bImportMoney,
        BaselineGridExportWh = bExport,
        BaselineGridExportMoney = bExportMoney,
        BaselinePetrolMoney = bPetrol,
        BaselineLocallySuppliedWh = bLocal,
        BaselineCo2Mg = bCo2,
    };
}
