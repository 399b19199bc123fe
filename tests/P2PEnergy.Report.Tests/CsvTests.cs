namespace P2PEnergy.Report.Tests;

/// <summary>The sample's CSV files, exactly, from the hand computation in <see cref="Sample"/>.</summary>
public class CsvTests
{
    private readonly CommunityReport report = Sample.Report();

    [Fact]
    public void Slots_csv()
    {
        const string expected =
            "slot,start_local,retail_ticks,buy_back_ticks,clearing_standard_ticks,clearing_green_ticks,traded_renewable_wh,traded_mixed_wh,lots,"
            + "load_wh,generation_wh,p2p_bought_wh,p2p_sold_wh,grid_import_wh,grid_export_wh,baseline_grid_import_wh,baseline_grid_export_wh,co2_mg,baseline_co2_mg\n"
            + "867074,2019-06-17T10:00+09:00,2600,800,2000,1800,1500,0,2,2500,2500,1500,1500,500,500,2000,2000,225000,900000\n"
            + "867075,2019-06-17T10:30+09:00,2600,800,,,0,0,0,1000,400,0,0,600,0,600,0,270000,270000\n"
            + "867076,2019-06-17T11:00+09:00,2600,800,,1500,1500,0,1,3000,1800,1500,1500,1200,0,2700,1500,540000,1215000\n"
            + "867077,2019-06-17T11:30+09:00,3000,800,2400,,0,1000,1,1600,1000,1000,1000,600,0,1600,0,270000,720000\n";
        Assert.Equal(expected, report.SlotsCsv());
    }

    private const string FigureHeader =
        "load_wh,generation_wh,p2p_bought_wh,p2p_bought_renewable_wh,p2p_bought_money,p2p_sold_wh,p2p_sold_money,wheeling_paid,"
        + "grid_import_wh,grid_import_money,grid_export_wh,grid_export_money,compensation_paid,compensation_received,petrol_money,cost,"
        + "baseline_grid_import_wh,baseline_grid_export_wh,baseline_cost,saving,saving_bp,avg_buy_ticks,avg_sell_ticks,"
        + "renewable_share_bp,baseline_renewable_share_bp,self_sufficiency_bp,baseline_self_sufficiency_bp,co2_mg,baseline_co2_mg";

    [Fact]
    public void Participants_csv()
    {
        var expected =
            "address,name,type,zone," + FigureHeader + "\n"
            + Sample.Sato + ",Sato,prosumer,feeder-1,"
            + "1800,4700,0,0,0,3000,5050000,0,600,1800000,500,400000,0,0,0,-3650000,600,3500,-1000000,2650000,26500,,1683,6667,6667,6667,6667,270000,270000\n"
            + Sample.Suzuki + ",Suzuki,household,feeder-1,"
            + "3300,0,1500,500,3400000,0,0,300000,1800,4680000,0,0,0,0,0,8380000,3300,0,8980000,600000,668,2467,,1515,0,4545,0,810000,1485000\n"
            + Sample.Tanaka + ",Tanaka PHEV,phev,feeder-1,"
            + "3000,1000,2500,2500,4050000,1000,2400000,500000,500,1300000,0,0,0,0,300000,3750000,3000,0,8100000,4350000,5370,1820,2400,8333,0,8333,0,225000,1350000\n";
        Assert.Equal(expected, report.ParticipantsCsv());
    }

    [Fact]
    public void Types_csv_ends_with_the_community()
    {
        var lines = report.TypesCsv().Split('\n');
        Assert.Equal("group,participants," + FigureHeader, lines[0]);
        Assert.Equal(["household", "prosumer", "phev", "community"], lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')[0]));
        Assert.Equal(
            "community,3,8100,5700,4000,3000,7450000,4000,7450000,800000,2900,7780000,500,400000,0,0,300000,8480000,6900,3500,16080000,7600000,4726,2063,1863,5185,1481,6420,1481,1305000,3105000",
            lines[4]);
        Assert.Equal("", lines[^1]);
    }

    [Fact]
    public void Names_with_commas_and_quotes_are_quoted()
    {
        var participants = Sample.Participants.Select(p => p.Address == Sample.Suzuki ? p with { Name = "Suzuki, \"Hanako\"" } : p).ToList();
        var csv = CommunityReport.Build(Sample.Result() with { Participants = participants }).ParticipantsCsv();
        Assert.Contains(Sample.Suzuki + ",\"Suzuki, \"\"Hanako\"\"\",household,", csv);
        Assert.Equal("plain", ReportCsv.Field("plain"));
        Assert.Equal("\"a\nb\"", ReportCsv.Field("a\nb"));
    }
}
