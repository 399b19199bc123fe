namespace P2PEnergy.Report.Tests;

/// <summary>The sample's figures, against the numbers computed by hand in <see cref="Sample"/>.</summary>
public class FiguresTests
{
    private readonly CommunityReport report = Sample.Report();

    [Fact]
    public void Each_participants_cost_against_its_grid_only_baseline()
    {
        var sato = report.FiguresOf(Sample.Sato);
        Assert.Equal((-3_650_000L, -1_000_000L, 2_650_000L), (sato.Cost, sato.BaselineCost, sato.Saving));
        // A net seller earning more: saving relative to |grid-only cost|.
        Assert.Equal(26_500, sato.SavingBasisPoints);

        var suzuki = report.FiguresOf(Sample.Suzuki);
        Assert.Equal((8_380_000L, 8_980_000L, 600_000L), (suzuki.Cost, suzuki.BaselineCost, suzuki.Saving));
        Assert.Equal(668, suzuki.SavingBasisPoints); // 668.15

        var tanaka = report.FiguresOf(Sample.Tanaka);
        // Petrol is a cost in both: 300,000 each.
        Assert.Equal(300_000, tanaka.PetrolMoney);
        Assert.Equal(300_000, tanaka.BaselinePetrolMoney);
        Assert.Equal((3_750_000L, 8_100_000L, 4_350_000L), (tanaka.Cost, tanaka.BaselineCost, tanaka.Saving));
        Assert.Equal(5370, tanaka.SavingBasisPoints); // 5370.37
    }

    [Fact]
    public void The_community_is_the_sum_of_its_members()
    {
        var c = report.Community;
        Assert.Equal(CommunityReport.CommunityLabel, c.Label);
        Assert.Equal(3, c.Participants);
        Assert.Equal((8_480_000L, 16_080_000L, 7_600_000L), (c.Cost, c.BaselineCost, c.Saving));
        Assert.Equal(4726, c.SavingBasisPoints); // 4726.37
        // Market money nets out inside the community: its cost is grid import + wheeling − grid export + petrol.
        Assert.Equal(c.BoughtMoney, c.SoldMoney);
        Assert.Equal(c.GridImportMoney + c.WheelingPaid - c.GridExportMoney + c.PetrolMoney, c.Cost);
        Assert.Equal((8100L, 5700L, 2900L, 500L), (c.LoadWh, c.GenerationWh, c.GridImportWh, c.GridExportWh));
    }

    [Fact]
    public void Average_prices_are_money_over_energy_rounded_to_a_tick()
    {
        // (7,450,000 + 800,000 wheeling) / 4000 Wh = 2062.5 → 2063; 7,450,000 / 4000 = 1862.5 → 1863.
        Assert.Equal(2063, report.Community.AverageBuyTicks);
        Assert.Equal(1863, report.Community.AverageSellTicks);
        Assert.Equal(2467, report.FiguresOf(Sample.Suzuki).AverageBuyTicks);  // 3,700,000 / 1500 = 2466.67
        Assert.Null(report.FiguresOf(Sample.Suzuki).AverageSellTicks);        // sold nothing
        Assert.Equal(1683, report.FiguresOf(Sample.Sato).AverageSellTicks);   // 5,050,000 / 3000 = 1683.33
        Assert.Equal(1820, report.FiguresOf(Sample.Tanaka).AverageBuyTicks);  // 4,550,000 / 2500
        Assert.Equal(2400, report.FiguresOf(Sample.Tanaka).AverageSellTicks);
    }

    [Fact]
    public void Self_sufficiency_and_renewable_share()
    {
        var c = report.Community;
        // Locally supplied: Sato 500+400+300+0, Suzuki 500+0+0+1000, Tanaka 1000+0+1500+0.
        Assert.Equal(5200, c.LocallySuppliedWh);
        Assert.Equal(6420, c.SelfSufficiencyBasisPoints);   // 5200 / 8100 = 64.1975 %
        // Suzuki's last slot came from the PHEV, a mixed seller: local but not renewable.
        Assert.Equal(4200, c.RenewableWh);
        Assert.Equal(5185, c.RenewableShareBasisPoints);    // 51.85 %
        // Grid-only: only Sato's own PV, 1200 Wh.
        Assert.Equal(1200, c.BaselineLocallySuppliedWh);
        Assert.Equal(1481, c.BaselineSelfSufficiencyBasisPoints);
        Assert.Equal(1481, c.BaselineRenewableShareBasisPoints);

        var suzuki = report.FiguresOf(Sample.Suzuki);
        Assert.Equal(4545, suzuki.SelfSufficiencyBasisPoints); // 1500 / 3300
        Assert.Equal(1515, suzuki.RenewableShareBasisPoints);  // 500 / 3300
        Assert.Equal(0, suzuki.BaselineSelfSufficiencyBasisPoints);
    }

    [Fact]
    public void Renewable_and_local_supply_are_clamped_to_the_load()
    {
        // Charging from the grid beyond the load, and mixed purchases beyond what is local, never go negative.
        var row = new ParticipantSlot
        {
            Participant = Sample.Suzuki, Slot = Sample.Slot0, LoadWh = 500, GenerationWh = 0,
            BoughtWh = 400, BoughtMoney = 400 * 2000, GridImportWh = 900, GridImportMoney = 900 * 2600,
        };
        var figures = Single(row, new BaselineSlot { Participant = Sample.Suzuki, Slot = Sample.Slot0, GridImportWh = 500, GridImportMoney = 500 * 2600 });
        Assert.Equal(0, figures.LocallySuppliedWh);
        Assert.Equal(0, figures.RenewableWh);
    }

    [Fact]
    public void Co2_is_grid_import_times_the_factor()
    {
        Assert.Equal(450, Sample.Scenario.GridEmissionFactor.GramsPerKWh);
        Assert.Equal(2900L * 450, report.Community.Co2Mg);
        Assert.Equal(6900L * 450, report.Community.BaselineCo2Mg);
        Assert.Equal(1_800_000, report.Community.Co2ReductionMg);
        Assert.Equal(1800L * 450, report.FiguresOf(Sample.Suzuki).Co2Mg);
    }

    [Fact]
    public void Types_present_are_reported_in_type_order()
    {
        Assert.Equal([ParticipantType.Household, ParticipantType.Prosumer, ParticipantType.Phev], report.Types.Select(t => t.Type));
        Assert.Equal("PHEV", report.FiguresOf(ParticipantType.Phev)!.Label);
        Assert.Equal(report.FiguresOf(Sample.Tanaka).Cost, report.FiguresOf(ParticipantType.Phev)!.Cost);
        Assert.Null(report.FiguresOf(ParticipantType.Office));
    }

    [Fact]
    public void Types_add_up_to_the_community()
    {
        Assert.Equal(report.Community.Cost, report.Types.Sum(t => t.Figures.Cost));
        Assert.Equal(report.Community.BaselineCost, report.Types.Sum(t => t.Figures.BaselineCost));
        Assert.Equal(report.Community.RenewableWh, report.Types.Sum(t => t.Figures.RenewableWh));
        Assert.Equal(report.Community.Participants, report.Types.Sum(t => t.Figures.Participants));
    }

    [Fact]
    public void Market_chain_and_grid_price_totals()
    {
        Assert.Equal(new MarketTotals(3000, 1000, 4, 4000, 4000), report.Market);
        Assert.Equal(7500, report.Market.RenewableTradedBasisPoints);
        Assert.Equal(2700, report.MeanRetailTicks);   // (3 × 2600 + 3000) / 4
        Assert.Equal(800, report.MeanBuyBackTicks);
        Assert.Equal(850_000, report.Chain.Gas.Total);
        Assert.Empty(report.Checks);
    }

    [Fact]
    public void Slots_carry_local_start_times_and_community_sums()
    {
        Assert.Equal(new DateTimeOffset(2019, 6, 17, 10, 0, 0, TimeSpan.FromHours(9)), report.Slots[0].StartLocal);
        Assert.Equal(new DateTimeOffset(2019, 6, 17, 11, 30, 0, TimeSpan.FromHours(9)), report.Slots[3].StartLocal);
        Assert.Equal([2500L, 1000, 3000, 1600], report.Slots.Select(s => s.Community.LoadWh));
        Assert.Equal([2000L, 600, 2700, 1600], report.Slots.Select(s => s.Community.BaselineGridImportWh));
    }

    [Fact]
    public void Storage_series_in_per_mille_per_slot()
    {
        var series = Assert.Single(report.Storage);
        Assert.Equal(Sample.Tanaka, series.Participant.Address);
        Assert.Equal([(Sample.Slot0, 600L), (Sample.Slot0 + 1, 600L), (Sample.Slot0 + 2, 800L), (Sample.Slot0 + 3, 700L)], series.Points);
    }

    [Fact]
    public void The_order_rows_are_given_in_does_not_change_the_report()
    {
        var shuffled = Sample.Result() with
        {
            ParticipantSlots = Sample.Rows.Reverse().ToList(),
            Baselines = Sample.Baselines.Reverse().ToList(),
            Slots = Sample.Market.Reverse().ToList(),
        };
        var other = CommunityReport.Build(shuffled);
        Assert.Equal(report.RenderText(), other.RenderText());
        Assert.Equal(report.SlotsCsv(), other.SlotsCsv());
        Assert.Equal(report.ParticipantsCsv(), other.ParticipantsCsv());
    }

    [Fact]
    public void A_grid_only_cost_of_zero_leaves_the_saving_percentage_absent()
    {
        var row = new ParticipantSlot { Participant = Sample.Sato, Slot = Sample.Slot0, LoadWh = 0, GenerationWh = 0, SoldWh = 100, SoldMoney = 100 * 2000 };
        var figures = Single(row, new BaselineSlot { Participant = Sample.Sato, Slot = Sample.Slot0 });
        Assert.Equal(200_000, figures.Saving);
        Assert.Null(figures.SavingBasisPoints);
        Assert.Null(figures.SelfSufficiencyBasisPoints);
    }

    private static GroupFigures Single(ParticipantSlot row, BaselineSlot baseline)
    {
        var result = Sample.Result() with
        {
            Participants = [Sample.Participants.Single(p => p.Address == row.Participant)],
            Slots = [Sample.Market[0]],
            ParticipantSlots = [row],
            Baselines = [baseline],
            Chain = new ChainSummary(0, 0, new GasUsed(0, 0, 0), AuditResult.Clean),
        };
        return CommunityReport.Build(result).Community;
    }
}
