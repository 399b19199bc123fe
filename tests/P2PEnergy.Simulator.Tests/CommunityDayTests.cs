using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Simulator.Day;

namespace P2PEnergy.Simulator.Tests;

/// <summary>The small scenario through the real exchange in memory (no chain): each test its own fresh exchange.</summary>
public sealed class CommunityDayTests
{
    private static async Task<(DayResult Result, List<Lot> Lots)> RunSmallAsync(ulong seed, Mechanism mechanism = Mechanism.CallAuction, int? slots = null)
    {
        using var host = new ExchangeHost();
        var scenario = ScenarioLoader.Load("small");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var result = await CommunityDay.RunAsync(host.Channel, scenario, new DayOptions { Seed = seed, Mechanism = mechanism, MaxSlots = slots, LedgerTimeout = TimeSpan.FromSeconds(5) }, null, cts.Token);
        var market = new ExchangeService.ExchangeServiceClient(host.Channel);
        var lots = (await market.GetLotsAsync(new GetLotsRequest { PageSize = 1000 }, cancellationToken: cts.Token)).Lots.ToList();
        return (result, lots);
    }

    [Fact]
    public async Task Small_scenario_trades_meters_and_settles_every_slot()
    {
        var (r, lots) = await RunSmallAsync(seed: 1);

        Assert.Equal(4, r.Run.SlotCount);
        Assert.Equal(6, r.Participants.Count);
        Assert.NotEmpty(lots);
        Assert.Equal(lots.Count, r.Lots.Count);
        Assert.Empty(r.Warnings);
        Assert.Equal(0, r.Checks.Violations);
        Assert.True(r.Checks.LedgerCaughtUp);
        foreach (var s in r.Slots)
        {
            Assert.Equal(r.Participants.Count, s.ReadingsAccepted);
            Assert.Equal(0, s.ReadingsRefused);
            Assert.Equal(0, s.OrdersRefused);
            Assert.True(s.Settled, $"slot {s.Slot} settled");
            Assert.True(s.Conserved, $"slot {s.Slot} conserved");
            Assert.Equal(0, s.MissingReadings);
            // Never a lot above retail nor below buy-back; the call auction clears each product at one price.
            foreach (var lot in r.Lots.Where(l => l.Slot == s.Slot))
            {
                Assert.InRange(lot.PriceTicks, s.BuyBackTicks, s.RetailTicks);
                Assert.True(lot.PriceTicks + lot.WheelingFeeTicks <= s.RetailTicks, "bids allow for the highest wheeling (allowance max)");
                Assert.Equal(s.ClearingPrices.Single(p => p.Product == lot.Product).Ticks, lot.PriceTicks);
            }
            Assert.Equal(r.Lots.Where(l => l.Slot == s.Slot).Sum(l => l.EnergyWh), s.RenewableTradedWh + s.MixedTradedWh);
        }
        // Time of use: 11:00-11:30 local is the small scenario's dearer half hour.
        Assert.Equal([2620, 2620, 2800, 2620], r.Slots.Select(s => s.RetailTicks).ToArray());

        // What delivery was told each agent bought and sold is exactly its Wh in the exchange's lots.
        var ids = r.Participants.ToDictionary(p => p.Address, p => p.Id);
        foreach (var row in r.ParticipantSlots)
        {
            var address = r.Participants.Single(p => p.Id == row.Participant).Address;
            var slotLots = lots.Where(l => l.Slot == row.Slot).ToList();
            Assert.Equal(slotLots.Where(l => l.Buyer == address).Sum(l => l.EnergyWh), row.TradedBoughtWh);
            Assert.Equal(slotLots.Where(l => l.Seller == address).Sum(l => l.EnergyWh), row.TradedSoldWh);
            Assert.Equal(slotLots.Where(l => l.Buyer == address && l.Source == EnergySource.Renewable).Sum(l => l.EnergyWh), row.TradedBoughtRenewableWh);
            // A bill puts every metered Wh on one line; settled energy never exceeds what was traded.
            if (row.Billed)
            {
                Assert.Equal(row.MeterImportWh, row.BoughtWh + row.GridImportWh);
                Assert.Equal(row.MeterExportWh, row.SoldWh + row.GridExportWh);
                Assert.True(row.BoughtWh <= row.TradedBoughtWh && row.SoldWh <= row.TradedSoldWh);
            }
        }
        Assert.All(lots, l => Assert.True(ids.ContainsKey(l.Buyer) && ids.ContainsKey(l.Seller)));
        // Every participant and slot has a row and a baseline row; storage is reported for the battery home and the PHEV.
        Assert.Equal(r.Participants.Count * r.Run.SlotCount, r.ParticipantSlots.Count);
        Assert.Equal(r.Participants.Count * r.Run.SlotCount, r.Baseline.Count);
        Assert.All(r.ParticipantSlots.Where(p => p.Kind is "home-with-battery" or "phev"), p => Assert.NotNull(p.StorageWh));
        // Agents trade on forecasts, meters read what really happened: somewhere they differ.
        Assert.Contains(r.ParticipantSlots, p => p.PvWh != p.ForecastPvWh || p.LoadWh != p.ForecastLoadWh);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_lots_and_numbers_and_another_seed_does_not()
    {
        var first = await RunSmallAsync(seed: 7);
        var again = await RunSmallAsync(seed: 7);
        var other = await RunSmallAsync(seed: 8);

        Assert.Equal(first.Result.ToJson(), again.Result.ToJson());
        Assert.Equal(first.Lots.Select(l => l.ToString()), again.Lots.Select(l => l.ToString()));
        Assert.NotEqual(
            first.Result.ParticipantSlots.Select(p => (p.LoadWh, p.PvWh, p.MeterImportWh, p.MeterExportWh)),
            other.Result.ParticipantSlots.Select(p => (p.LoadWh, p.PvWh, p.MeterImportWh, p.MeterExportWh)));
        Assert.NotEqual(first.Result.Participants.Select(p => p.Address), other.Result.Participants.Select(p => p.Address));
    }

    [Fact]
    public async Task Continuous_trading_settles_too()
    {
        var (r, lots) = await RunSmallAsync(seed: 1, Mechanism.Continuous, slots: 2);

        Assert.Equal("continuous", r.Run.Mechanism);
        Assert.Equal(2, r.Run.SlotCount);
        Assert.NotEmpty(lots);
        Assert.Equal(0, r.Checks.Violations);
        Assert.All(r.Slots, s => Assert.True(s.Settled && s.Conserved));
        foreach (var s in r.Slots)
            foreach (var price in s.ClearingPrices)
            {
                var ofProduct = lots.Where(l => l.Slot == s.Slot && (l.Product == Product.Green ? "green" : "standard") == price.Product).ToList();
                Assert.InRange(price.Ticks, ofProduct.Min(l => l.PriceTicks), ofProduct.Max(l => l.PriceTicks));
            }
    }

    [Fact]
    public async Task The_result_maps_onto_the_report_and_the_report_is_written()
    {
        var (r, _) = await RunSmallAsync(seed: 3);

        var input = ReportMapping.ToReportInput(r);
        Assert.Empty(input.Validate());
        var report = P2PEnergy.Report.CommunityReport.Build(input);
        Assert.Equal(r.Participants.Count, report.Participants.Count);
        // The report's cost per participant is the bills' (paid − received) plus petrol, as the simulator's rows.
        foreach (var p in r.Participants)
            Assert.Equal(r.ParticipantSlots.Where(x => x.Participant == p.Id).Sum(x => -x.Net + x.PetrolMoney),
                input.ParticipantSlots.Where(x => x.Participant == p.Address).Sum(x => x.Cost));
        var folder = Path.Combine(Path.GetTempPath(), "p2penergy-sim-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var files = report.WriteTo(folder);
            Assert.True(File.Exists(files.Markdown));
            Assert.Contains(r.Run.Scenario, report.RenderText());
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_whole_Higashi_Fuji_day_runs_clean()
    {
        using var host = new ExchangeHost();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var r = await CommunityDay.RunAsync(host.Channel, ScenarioLoader.Load("higashi-fuji"), new DayOptions { Seed = 1 }, null, cts.Token);

        Assert.Equal(48, r.Run.SlotCount);
        Assert.Equal(30, r.Participants.Count);
        Assert.Equal(0, r.Checks.Violations);
        Assert.Empty(r.Warnings);
        Assert.All(r.Slots, s => Assert.True(s.Settled && s.Conserved && s.ReadingsAccepted == 30));
        Assert.NotEmpty(r.Lots);
        // Time of use 17:00-22:00 (10 slots) at 30.00 JPY/kWh.
        Assert.Equal(10, r.Slots.Count(s => s.RetailTicks == 3000));
        Assert.Empty(ReportMapping.ToReportInput(r).Validate());
    }

    [Fact]
    public async Task A_second_run_with_the_same_keys_on_the_same_exchange_is_accepted()
    {
        using var host = new ExchangeHost();
        var scenario = ScenarioLoader.Load("small");
        var first = await CommunityDay.RunAsync(host.Channel, scenario, new DayOptions { Seed = 1, MaxSlots = 2 }, null, CancellationToken.None);
        // Same seed, so the same participants and meters (already registered and bound) and fresh client order ids.
        var second = await CommunityDay.RunAsync(host.Channel, scenario, new DayOptions { Seed = 1, MaxSlots = 2, StartDate = "next" }, null, CancellationToken.None);

        Assert.Equal(0, first.Checks.Violations);
        Assert.Equal(0, second.Checks.Violations);
        Assert.True(second.Run.FirstSlot > first.Run.LastSlot);
        Assert.NotEmpty(second.Lots);
    }

    [Fact]
    public async Task A_start_date_behind_the_exchange_clock_is_refused_clearly()
    {
        using var host = new ExchangeHost();
        var scenario = ScenarioLoader.Load("small") with { StartDate = "2025-12-31" };
        var e = await Assert.ThrowsAsync<DayRunException>(() => CommunityDay.RunAsync(host.Channel, scenario, new DayOptions(), null, CancellationToken.None));
        Assert.Contains("past its gate", e.Message);
    }
}
