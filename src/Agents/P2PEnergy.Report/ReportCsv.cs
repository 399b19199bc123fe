using System.Globalization;
using System.Text;

namespace P2PEnergy.Report;

/// <summary>
/// CSV files (RFC 4180: comma-separated, fields with a comma, quote or line break quoted, "\n" line ends). Every
/// figure is an exact integer in the units of DESIGN.md: Wh, ticks (0.01 JPY/kWh), money in 1e-5 JPY, CO2 in mg,
/// ratios in basis points (0.01 %) rounded half away from zero; an absent value is an empty field.
/// </summary>
internal static class ReportCsv
{
    private static readonly (string Header, Func<GroupFigures, long?> Value)[] FigureColumns =
    [
        ("load_wh", g => g.LoadWh),
        ("generation_wh", g => g.GenerationWh),
        ("p2p_bought_wh", g => g.BoughtWh),
        ("p2p_bought_renewable_wh", g => g.BoughtRenewableWh),
        ("p2p_bought_money", g => g.BoughtMoney),
        ("p2p_sold_wh", g => g.SoldWh),
        ("p2p_sold_money", g => g.SoldMoney),
        ("wheeling_paid", g => g.WheelingPaid),
        ("grid_import_wh", g => g.GridImportWh),
        ("grid_import_money", g => g.GridImportMoney),
        ("grid_export_wh", g => g.GridExportWh),
        ("grid_export_money", g => g.GridExportMoney),
        ("compensation_paid", g => g.CompensationPaid),
        ("compensation_received", g => g.CompensationReceived),
        ("petrol_money", g => g.PetrolMoney),
        ("cost", g => g.Cost),
        ("baseline_grid_import_wh", g => g.BaselineGridImportWh),
        ("baseline_grid_export_wh", g => g.BaselineGridExportWh),
        ("baseline_cost", g => g.BaselineCost),
        ("saving", g => g.Saving),
        ("saving_bp", g => g.SavingBasisPoints),
        ("avg_buy_ticks", g => g.AverageBuyTicks),
        ("avg_sell_ticks", g => g.AverageSellTicks),
        ("renewable_share_bp", g => g.RenewableShareBasisPoints),
        ("baseline_renewable_share_bp", g => g.BaselineRenewableShareBasisPoints),
        ("self_sufficiency_bp", g => g.SelfSufficiencyBasisPoints),
        ("baseline_self_sufficiency_bp", g => g.BaselineSelfSufficiencyBasisPoints),
        ("co2_mg", g => g.Co2Mg),
        ("baseline_co2_mg", g => g.BaselineCo2Mg),
    ];

    public static string Slots(CommunityReport report)
    {
        var sb = new StringBuilder();
        Row(sb, new[]
        {
            "slot", "start_local", "retail_ticks", "buy_back_ticks", "clearing_standard_ticks", "clearing_green_ticks",
            "traded_renewable_wh", "traded_mixed_wh", "lots", "load_wh", "generation_wh", "p2p_bought_wh", "p2p_sold_wh",
            "grid_import_wh", "grid_export_wh", "baseline_grid_import_wh", "baseline_grid_export_wh", "co2_mg", "baseline_co2_mg",
        });
        foreach (var s in report.Slots)
        {
            var m = s.Market;
            var c = s.Community;
            Row(sb, new[]
            {
                N(m.Slot), s.StartLocal.ToString("yyyy-MM-ddTHH:mmzzz", CultureInfo.InvariantCulture), N(m.RetailTicks), N(m.BuyBackTicks),
                N(m.ClearingTicks(Product.Standard)), N(m.ClearingTicks(Product.Green)), N(m.RenewableTradedWh), N(m.MixedTradedWh), N(m.LotCount),
                N(c.LoadWh), N(c.GenerationWh), N(c.BoughtWh), N(c.SoldWh), N(c.GridImportWh), N(c.GridExportWh),
                N(c.BaselineGridImportWh), N(c.BaselineGridExportWh), N(c.Co2Mg), N(c.BaselineCo2Mg),
            });
        }
        return sb.ToString();
    }

    public static string Participants(CommunityReport report)
    {
        var sb = new StringBuilder();
        Row(sb, new[] { "address", "name", "type", "zone" }.Concat(FigureColumns.Select(c => c.Header)));
        foreach (var p in report.Participants)
            Row(sb, new[] { p.Participant.Address, p.Participant.Name, TypeKey(p.Participant.Type), p.Participant.Zone }
                .Concat(FigureColumns.Select(c => N(c.Value(p.Figures)))));
        return sb.ToString();
    }

    public static string Types(CommunityReport report)
    {
        var sb = new StringBuilder();
        Row(sb, new[] { "group", "participants" }.Concat(FigureColumns.Select(c => c.Header)));
        foreach (var (key, g) in report.Types.Select(t => (TypeKey(t.Type), t.Figures)).Append(("community", report.Community)))
            Row(sb, new[] { key, N(g.Participants) }.Concat(FigureColumns.Select(c => N(c.Value(g)))));
        return sb.ToString();
    }

    /// <summary>The type as a CSV key: lower case, no spaces ("home_with_battery").</summary>
    public static string TypeKey(ParticipantType type) => type switch
    {
        ParticipantType.HomeWithBattery => "home_with_battery",
        _ => type.ToString().ToLowerInvariant(),
    };

    private static string N(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? string.Empty;

    private static void Row(StringBuilder sb, IEnumerable<string> fields) => sb.Append(string.Join(',', fields.Select(Field))).Append('\n');

    internal static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
