using P2PEnergy.Agents;
using P2PEnergy.Simulator.Day;

namespace P2PEnergy.Simulator.Tests;

public sealed class ScenarioLoaderTests
{
    private const string Minimal = """
        {
          "name": "t",
          "community": { "participants": [ { "id": "a", "kind": "household" } ] },
          "wheeling": { "defaultFeeTicks": 1000 },
          "tariff": { "retailTicks": 2620, "buyBackTicks": 700 }
        }
        """;

    [Fact]
    public void Bundled_higashi_fuji_is_seed_004s_community_and_scales()
    {
        var s = ScenarioLoader.Load("higashi-fuji");
        Assert.Equal(1 + 20 + 9, s.Participants.Count);
        Assert.Equal(4, s.Participants.Count(p => p.Battery is not null));
        Assert.Equal(0, s.ZoneOf(s.Participants.Single(p => p.Kind == AgentKind.Office)));
        Assert.Equal(1, s.ZoneOf(s.Participants.First(p => p.Kind == AgentKind.Phev)));
        Assert.Equal(3000, s.Tariff.RetailAt(17 * 2));
        Assert.Equal(2620, s.Tariff.RetailAt(12 * 2));
        Assert.Equal(1000, s.AllowanceTicks(1));

        var big = ScenarioLoader.Load("higashi-fuji", scaleOverride: 3);
        Assert.Equal(1 + 60 + 27, big.Participants.Count);
        Assert.Equal(3, big.Scale);
    }

    [Fact]
    public void Bundled_small_has_six_participants_and_scales_homes_only()
    {
        var s = ScenarioLoader.Load("small");
        Assert.Equal(6, s.Participants.Count);
        Assert.Equal(new HourWindow(600, 720), s.Hours);
        Assert.Equal(DayType.Clear, s.DayType);
        var twice = ScenarioLoader.Load("small", scaleOverride: 2);
        Assert.Equal(12, twice.Participants.Count);
        Assert.Equal(twice.Participants.Count, twice.Participants.Select(p => p.Id).Distinct().Count());
    }

    [Fact]
    public void A_minimal_file_gets_the_defaults()
    {
        var s = ScenarioLoader.Parse(Minimal, "t.json");
        Assert.Equal(540, s.UtcOffsetMinutes);
        Assert.Null(s.DayType);
        Assert.Equal(100, s.LotStepWh);
        Assert.Equal(WheelingAllowance.Max, s.WheelingAllowance);
    }

    [Theory]
    [InlineData("\"name\": \"t\",", "", "name: is required")]
    [InlineData("\"retailTicks\": 2620", "\"retailTicks\": \"26.2\"", "tariff.retailTicks: expected a whole number")]
    [InlineData("\"buyBackTicks\": 700", "\"buyBackTicks\": 3000", "tariff.buyBackTicks: buy-back 3000 is above retail")]
    [InlineData("\"kind\": \"household\"", "\"kind\": \"castle\"", "community.participants[0].kind: expected household")]
    [InlineData("\"kind\": \"household\"", "\"kind\": \"prosumer\"", "community.participants[0].pvKWp: a prosumer needs pvKWp")]
    [InlineData("\"kind\": \"household\"", "\"kind\": \"household\", \"strategy\": \"greedy\"", "community.participants[0].strategy")]
    [InlineData("\"defaultFeeTicks\": 1000", "\"defaultFeeTicks\": -1", "wheeling.defaultFeeTicks: must be 0")]
    [InlineData("\"defaultFeeTicks\": 1000", "\"defaultFeeTicks\": 1000, \"allowance\": \"some\"", "wheeling.allowance")]
    [InlineData("\"buyBackTicks\": 700", "\"buyBackTicks\": 700, \"timeOfUse\": [ { \"from\": \"17:15\", \"to\": \"22:00\", \"retailTicks\": 3000 } ]", "tariff.timeOfUse[0]: time-of-use bands start and end on a half hour")]
    [InlineData("\"buyBackTicks\": 700", "\"buyBackTicks\": 700, \"timeOfUse\": [ { \"from\": \"7pm\", \"to\": \"22:00\", \"retailTicks\": 3000 } ]", "tariff.timeOfUse[0].from: expected a local time")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"startDate\": \"June\",", "startDate: expected \"YYYY-MM-DD\" or \"next\"")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"dayType\": \"sunny\",", "dayType: expected random, clear, cloudy or rain")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"utcOffset\": \"9\",", "utcOffset: expected")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"hours\": { \"from\": \"12:00\", \"to\": \"10:00\" },", "hours: \"to\" must be after \"from\"")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"zones\": { \"sites\": { \"office\": -1 } },", "zones.sites.office: expected a zone number")]
    [InlineData("{ \"id\": \"a\", \"kind\": \"household\" }", "{ \"id\": \"a\", \"kind\": \"household\" }, { \"id\": \"a\", \"kind\": \"household\" }", "id \"a\" is used twice")]
    [InlineData("\"participants\": [", "\"preset\": \"higashi-fuji\", \"participants\": [", "community: give either \"preset\" or \"participants\"")]
    public void Errors_name_the_field(string replace, string with, string expected)
    {
        Assert.Contains(replace, Minimal);
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(Minimal.Replace(replace, with), "t.json"));
        Assert.StartsWith("t.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Broken_json_and_unknown_names_are_reported()
    {
        Assert.Contains("not valid JSON", Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse("{ \"name\": ", "x.json")).Message);
        Assert.Contains("bundled: higashi-fuji, small", Assert.Throws<ScenarioException>(() => ScenarioLoader.Load("no-such-scenario")).Message);
    }

    [Theory]
    [InlineData(new[] { "--scenario", "small" }, "--exchange URL is required")]
    [InlineData(new[] { "--exchange", "localhost:5080" }, "is not an http(s) URL")]
    [InlineData(new[] { "--exchange", "http://x", "--mechanism", "dutch" }, "--mechanism: expected call-auction or continuous")]
    [InlineData(new[] { "--exchange", "http://x", "--days", "0" }, "--days: expected a whole number 1")]
    [InlineData(new[] { "--exchange", "http://x", "--seed", "-3" }, "--seed")]
    [InlineData(new[] { "--exchange", "http://x", "--frobnicate", "1" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "--exchange", "http://x", "--out" }, "--out needs a value")]
    public void Option_errors_are_clear(string[] args, string expected)
    {
        Assert.Contains(expected, Assert.Throws<DayRunException>(() => DayCommand.Parse(args)).Message);
    }

    [Fact]
    public void Options_have_their_defaults()
    {
        var p = DayCommand.Parse(["--exchange", "http://127.0.0.1:5080", "--no-progress"]);
        Assert.Equal("higashi-fuji", p.Scenario);
        Assert.Equal(1UL, p.Options.Seed);
        Assert.Equal(1, p.Options.Days);
        Assert.Equal(Exchange.Protos.V1.Mechanism.CallAuction, p.Options.Mechanism);
        Assert.Equal(Path.Combine("out", "day"), p.Out);
        Assert.False(p.Progress);
    }
}
