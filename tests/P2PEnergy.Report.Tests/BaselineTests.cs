namespace P2PEnergy.Report.Tests;

public class BaselineTests
{
    [Fact]
    public void A_slot_short_of_generation_imports_the_difference_at_retail()
    {
        var b = GridOnlyBaseline.ForSlot("p", 9, loadWh: 1000, generationWh: 300, retailTicks: 2600, buyBackTicks: 800);
        Assert.Equal((700L, 700L * 2600, 0L, 0L), (b.GridImportWh, b.GridImportMoney, b.GridExportWh, b.GridExportMoney));
        Assert.Equal(1_820_000, b.Cost);
    }

    [Fact]
    public void A_slot_with_surplus_exports_it_at_buy_back()
    {
        var b = GridOnlyBaseline.ForSlot("p", 9, loadWh: 500, generationWh: 2500, retailTicks: 2600, buyBackTicks: 800);
        Assert.Equal((0L, 0L, 2000L, 1_600_000L), (b.GridImportWh, b.GridImportMoney, b.GridExportWh, b.GridExportMoney));
        Assert.Equal(-1_600_000, b.Cost);
    }

    [Fact]
    public void Each_slot_uses_its_own_grid_prices()
    {
        // The sample's prosumer: exports 2000 and 1500 Wh at 8.00, imports 600 Wh at 30.00 in the last slot.
        var sato = GridOnlyBaseline.WithoutStorage(Sample.Rows.Where(r => r.Participant == Sample.Sato), Sample.Market);
        Assert.Equal([2000L, 0, 1500, 0], sato.Select(b => b.GridExportWh));
        Assert.Equal([0L, 0, 0, 1_800_000], sato.Select(b => b.GridImportMoney));
        Assert.Equal(-1_000_000, sato.Sum(b => b.Cost));
    }

    [Fact]
    public void Storage_and_petrol_need_a_baseline_stated_by_the_caller()
    {
        var phev = Sample.Rows.Where(r => r.Participant == Sample.Tanaka);
        var e = Assert.Throws<ArgumentException>(() => GridOnlyBaseline.WithoutStorage(phev, Sample.Market));
        Assert.Contains("stated by the caller", e.Message);

        var petrolOnly = new ParticipantSlot { Participant = "p", Slot = Sample.Slot0, LoadWh = 0, GenerationWh = 0, PetrolMoney = 1 };
        Assert.Throws<ArgumentException>(() => GridOnlyBaseline.WithoutStorage([petrolOnly], Sample.Market));
    }

    [Fact]
    public void A_slot_without_grid_prices_is_refused()
    {
        var row = new ParticipantSlot { Participant = "p", Slot = 1, LoadWh = 10, GenerationWh = 0 };
        var e = Assert.Throws<ArgumentException>(() => GridOnlyBaseline.WithoutStorage([row], Sample.Market));
        Assert.Contains("no market slot", e.Message);
    }

    [Fact]
    public void Negative_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => GridOnlyBaseline.ForSlot("p", 1, -1, 0, 2600, 800));
        Assert.Throws<ArgumentException>(() => GridOnlyBaseline.ForSlot("p", 1, 0, 0, 2600, -800));
    }
}
