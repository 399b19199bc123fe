namespace P2PEnergy.Report.Tests;

public class ValidationTests
{
    [Fact]
    public void The_sample_is_valid() => Assert.Empty(Sample.Result().Validate());

    [Fact]
    public void Build_lists_every_error_of_the_input()
    {
        var bad = Sample.Result() with
        {
            ParticipantSlots = [.. Sample.Rows, new ParticipantSlot { Participant = "0xunknown", Slot = Sample.Slot0, LoadWh = 1, GenerationWh = 0 }],
            Scenario = Sample.Scenario with { Days = 0 },
        };
        var e = Assert.Throws<ArgumentException>(() => CommunityReport.Build(bad));
        Assert.Contains("participant 0xunknown, slot 867074: not a listed participant", e.Message);
        Assert.Contains("participant 0xunknown, slot 867074: no grid-only baseline", e.Message);
        Assert.Contains("scenario: days must be at least 1, not 0", e.Message);
    }

    public static TheoryData<string, Func<SimulationResult, SimulationResult>> Broken() => new()
    {
        { "listed twice", r => r with { ParticipantSlots = [.. r.ParticipantSlots, r.ParticipantSlots[0]] } },
        { "not a listed slot", r => r with { Slots = r.Slots.Skip(1).ToList() } },
        { "no grid-only baseline", r => r with { Baselines = r.Baselines.Skip(1).ToList() } },
        { "no participant slot for it", r => r with { Baselines = [.. r.Baselines, new BaselineSlot { Participant = Sample.Sato, Slot = 1 }] } },
        { "is more than bought", r => Replace(r, 4, x => x with { BoughtRenewableWh = x.BoughtWh + 1 }) },
        { "a negative energy or money line", r => Replace(r, 0, x => x with { GridExportMoney = -1 }) },
        { "is impossible", r => Replace(r, 8, x => x with { Storage = new StorageState(10_001, 10_000) }) },
        { "no stated source", r => r with { Scenario = r.Scenario with { GridEmissionFactor = new GridEmissionFactor(450, " ") } } },
        { "address is empty", r => r with { Participants = [.. r.Participants, new Participant("", "nobody", ParticipantType.Office, "z")] } },
        { "unknown type", r => r with { Participants = [r.Participants[0] with { Type = (ParticipantType)42 }, .. r.Participants.Skip(1)] } },
        { "more than one clearing price for a product", r => r with { Slots = [r.Slots[0] with { ClearingPrices = [new(Product.Green, 1), new(Product.Green, 2)] }, .. r.Slots.Skip(1)] } },
        { "does not divide a day", r => r with { Scenario = r.Scenario with { SlotSeconds = 7 } } },
        { "the audit passed with discrepancies", r => r with { Chain = r.Chain with { Audit = new AuditResult(true, ["lot 3 missing"]) } } },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Each_kind_of_broken_input_is_named(string expected, Func<SimulationResult, SimulationResult> breakIt)
    {
        var errors = breakIt(Sample.Result()).Validate();
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Inconsistencies_that_do_not_stop_the_report_are_listed_as_checks()
    {
        // Suzuki's settled purchase in slot 3 is 100 Wh more than the PHEV sold; the chain is one lot short.
        var r = Replace(Sample.Result(), 7, x => x with { BoughtWh = 1100, BoughtMoney = 1100 * 2400 });
        r = r with { Chain = r.Chain with { LotsRecorded = 3 } };
        var report = CommunityReport.Build(r);
        Assert.Equal(
            [
                "slot 867077: settled P2P bought 1100 Wh differs from sold 1000 Wh",
                "slot 867077: settled P2P bought 1100 Wh is more than matched 1000 Wh",
                "chain: 3 lots recorded, 4 matched",
            ],
            report.Checks);
        Assert.Contains("- chain: 3 lots recorded, 4 matched", report.RenderText());
    }

    private static SimulationResult Replace(SimulationResult r, int index, Func<ParticipantSlot, ParticipantSlot> change)
    {
        var rows = r.ParticipantSlots.ToList();
        rows[index] = change(rows[index]);
        return r with { ParticipantSlots = rows };
    }
}
