using ScottPlot;

namespace P2PEnergy.Report;

/// <summary>
/// The report's PNG plots (ScottPlot). Times are hours since local midnight of the first slot's day, so a second
/// day runs from 24 to 48. Labels are in English: the fonts SkiaSharp finds on a bare Linux machine have no
/// Japanese glyphs. Prices and energy are converted to double here, for drawing only.
/// </summary>
internal static class ReportPlots
{
    public const int Width = 1000;
    public const int Height = 560;

    /// <summary>Past this many lines (a scaled-up community) a legend would cover the plot.</summary>
    public const int MaxLegendEntries = 16;

    private static readonly Color RetailColor = Color.FromHex("#d62728");
    private static readonly Color BuyBackColor = Color.FromHex("#1f77b4");
    private static readonly Color StandardColor = Color.FromHex("#ff7f0e");
    private static readonly Color GreenColor = Color.FromHex("#2ca02c");
    private static readonly Color MixedColor = Color.FromHex("#7f7f7f");

    public static void ClearingPrices(CommunityReport report, string path)
    {
        var plot = NewPlot("Clearing price per slot against retail and buy-back", XLabel(report), "JPY/kWh");
        var starts = report.Slots.Select(s => Hours(report, s.StartLocal)).ToList();
        var end = EndHours(report);
        var xs = starts.Append(end).ToArray();

        // Grid prices hold for the whole slot: horizontal steps from each slot's start to the next.
        Step(plot, xs, report.Slots.Select(s => YenPerKWh(s.Market.RetailTicks)).ToArray(), RetailColor, "retail");
        Step(plot, xs, report.Slots.Select(s => YenPerKWh(s.Market.BuyBackTicks)).ToArray(), BuyBackColor, "buy-back");

        var half = SlotHours(report) / 2;
        foreach (var (product, color, label) in new[] { (Product.Standard, StandardColor, "clearing, standard"), (Product.Green, GreenColor, "clearing, green") })
        {
            var points = report.Slots.Where(s => s.Market.ClearingTicks(product) is not null)
                .Select(s => (X: Hours(report, s.StartLocal) + half, Y: YenPerKWh(s.Market.ClearingTicks(product)!.Value))).ToList();
            if (points.Count == 0) continue;
            var scatter = plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), color);
            scatter.MarkerSize = 9;
            scatter.LegendText = label;
        }
        plot.Axes.SetLimitsX(starts[0], end);
        plot.Axes.SetLimitsY(0, Math.Max(1, report.Slots.Max(s => Math.Max(s.Market.RetailTicks, s.Market.ClearingPrices.Select(p => p.Ticks).DefaultIfEmpty(0).Max()))) / 100.0 * 1.15);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    public static void EnergyTraded(CommunityReport report, string path)
    {
        var plot = NewPlot("Energy traded per slot by source", XLabel(report), "kWh");
        var width = SlotHours(report) * 0.8;
        var bars = new List<Bar>();
        foreach (var s in report.Slots)
        {
            var x = Hours(report, s.StartLocal) + SlotHours(report) / 2;
            var renewable = s.Market.RenewableTradedWh / 1000.0;
            var mixed = s.Market.MixedTradedWh / 1000.0;
            bars.Add(new Bar { Position = x, ValueBase = 0, Value = renewable, FillColor = GreenColor, Size = width, LineWidth = 0 });
            bars.Add(new Bar { Position = x, ValueBase = renewable, Value = renewable + mixed, FillColor = MixedColor, Size = width, LineWidth = 0 });
        }
        plot.Add.Bars(bars);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "renewable sellers", FillColor = GreenColor });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "mixed sellers", FillColor = MixedColor });
        plot.Axes.SetLimitsX(Hours(report, report.Slots[0].StartLocal), EndHours(report));
        plot.Axes.SetLimitsY(0, Math.Max(0.1, report.Slots.Max(s => s.Market.TradedWh) / 1000.0 * 1.15));
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    public static void SavingsByType(CommunityReport report, string path)
    {
        var plot = NewPlot("Saving against grid-only by participant type", string.Empty, "saving, % of grid-only cost");
        var groups = report.Types.Select(t => t.Figures).Append(report.Community).ToList();
        var bars = new List<Bar>();
        for (var i = 0; i < groups.Count; i++)
        {
            if (groups[i].SavingBasisPoints is not { } bp) continue;
            var value = bp / 100.0;
            bars.Add(new Bar
            {
                Position = i,
                Value = value,
                FillColor = groups[i].Label == CommunityReport.CommunityLabel ? BuyBackColor : GreenColor,
                Label = Display.Percent(bp),
            });
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        var pilot = plot.Add.HorizontalLine(PilotFigures.OverallImprovementBasisPoints / 100.0, 2, RetailColor, LinePattern.Dashed);
        pilot.LegendText = "pilot, overall 25.4 % (seed 004)";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(i => (double)i).ToArray(),
            groups.Select(g => g.SavingBasisPoints is null ? g.Label + " (n/a)" : g.Label).ToArray());
        var values = bars.Select(b => b.Value).Append(PilotFigures.OverallImprovementBasisPoints / 100.0).Append(0).ToList();
        var span = Math.Max(1, values.Max() - values.Min());
        plot.Axes.SetLimitsY(values.Min() - span * 0.1, values.Max() + span * 0.15);
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, Width, Height);
    }

    public static void StateOfCharge(CommunityReport report, string path)
    {
        var plot = NewPlot("PHEV and battery state of charge (end of slot)", XLabel(report), "state of charge, %");
        var palette = new ScottPlot.Palettes.Category10();
        var i = 0;
        foreach (var series in report.Storage)
        {
            var ends = series.Points.Select(p => Hours(report, CommunityReport.StartLocal(report.Scenario, p.Slot)) + SlotHours(report)).ToArray();
            var scatter = plot.Add.Scatter(ends, series.Points.Select(p => p.PerMille / 10.0).ToArray(), palette.GetColor(i++));
            scatter.LegendText = $"{series.Participant.Name} ({ReportText.TypeName(series.Participant.Type)})";
            scatter.LineWidth = 2;
            scatter.MarkerSize = 4;
        }
        if (report.Storage.Count == 0)
            plot.Add.Annotation("No PHEV or battery reported a state of charge", Alignment.MiddleCenter);
        else if (report.Storage.Count <= MaxLegendEntries)
            plot.ShowLegend(Alignment.LowerRight);
        else
            plot.Add.Annotation($"{report.Storage.Count} PHEVs and batteries", Alignment.LowerRight);
        plot.Axes.SetLimitsX(Hours(report, report.Slots[0].StartLocal), EndHours(report));
        plot.Axes.SetLimitsY(0, 105);
        plot.SavePng(path, Width, Height);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static void Step(Plot plot, double[] xs, double[] perSlot, Color color, string label)
    {
        // One more y than slots, so the last slot's step reaches the end of the slot.
        var ys = perSlot.Append(perSlot[^1]).ToArray();
        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.ConnectStyle = ConnectStyle.StepHorizontal;
        scatter.MarkerSize = 0;
        scatter.LineWidth = 2;
        scatter.LegendText = label;
    }

    private static string XLabel(CommunityReport report) =>
        $"hours from {report.Slots[0].StartLocal:yyyy-MM-dd} 00:00 (UTC{report.Scenario.UtcOffset:\\+hh\\:mm})";

    private static double YenPerKWh(long ticks) => ticks / 100.0;

    private static double SlotHours(CommunityReport report) => report.Scenario.SlotSeconds / 3600.0;

    private static double Hours(CommunityReport report, DateTimeOffset t) =>
        (t - new DateTimeOffset(report.Slots[0].StartLocal.Date, report.Scenario.UtcOffset)).TotalHours;

    private static double EndHours(CommunityReport report) => Hours(report, report.Slots[^1].StartLocal) + SlotHours(report);
}
