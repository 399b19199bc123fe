namespace P2PEnergy.Agents;

/// <summary>
/// The participants of the Higashi-Fuji pilot (seed 004: 事業所 1件, 家庭20件(家庭蓄電池4件), PHEV 9台 — one office,
/// 20 homes of which 4 have batteries, 9 PHEVs) as data. What the seed does not say is an assumption, fixed
/// here by a home's number j = 1 … 20 within its block of 20:
/// <list type="bullet">
/// <item>PV: homes 1–12 (60 %), 4.5 kWp each (a typical Japanese residential system); homes 13–20 load only.</item>
/// <item>Batteries: homes 1–4, which also have PV (a home battery is usually installed with PV), 7 kWh
/// (<see cref="BatterySpec.HomeDefault"/>).</item>
/// <item>PHEVs: owned by the even homes 2, 4, … 18, so they spread over battery, PV-only and load-only homes;
/// each commutes to the office (<see cref="PhevSpec.PriusPhv"/>).</item>
/// <item>Strategies (seed 004, Table 1 has three): PHEVs and battery homes take the EV / storage price-focused
/// column, which is named for them; of the other homes every third (6, 9, 12, 15, 18) chose green and the rest
/// economy; the office economy.</item>
/// <item>Office: 20 kWp rooftop PV and <see cref="OfficeLoadSpec.Default"/>.</item>
/// </list>
/// Scale k multiplies the homes (and with them their batteries and PHEVs) by k: 20k homes, 4k batteries, 9k
/// PHEVs. The office stays one participant, its load and PV multiplied by k, so the community keeps its
/// proportions.
/// </summary>
public static class HigashiFuji
{
    // seed 004: 事業所 1件 / 家庭20件(家庭蓄電池4件) / PHEV 9台.
    public const int Offices = 1;
    public const int HomesPerBlock = 20;
    public const int BatteriesPerBlock = 4;
    public const int PhevsPerBlock = 9;

    // Assumptions (see the class comment).
    public const int PvHomesPerBlock = 12;
    public const double HomePvKWp = 4.5;
    public const double OfficePvKWp = 20.0;

    public const string OfficeSite = "office";

    public static IReadOnlyList<Participant> Build(int scale = 1)
    {
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale is a whole number ≥ 1");
        var homes = checked(HomesPerBlock * scale);
        var width = Math.Max(2, homes.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        var participants = new List<Participant>
        {
            Participant.Office("office", StrategyKind.Economy, OfficeSite, new PvSpec(OfficePvKWp * scale), OfficeLoadSpec.Default, scale),
        };
        var phevs = new List<Participant>();
        for (var n = 1; n <= homes; n++)
        {
            var j = (n - 1) % HomesPerBlock + 1;
            var site = "home-" + n.ToString("D" + width, System.Globalization.CultureInfo.InvariantCulture);
            participants.Add(Home(site, j));
            if (j % 2 == 0 && j <= 2 * PhevsPerBlock)
            {
                var id = "phev-" + (phevs.Count + 1).ToString("D" + width, System.Globalization.CultureInfo.InvariantCulture);
                phevs.Add(Participant.PhevOf(id, StrategyKind.PriceFocused, site, OfficeSite));
            }
        }
        participants.AddRange(phevs);
        return participants;
    }

    private static Participant Home(string site, int j)
    {
        if (j <= BatteriesPerBlock)
            return Participant.Prosumer(site, StrategyKind.PriceFocused, site, new PvSpec(HomePvKWp), BatterySpec.HomeDefault);
        var strategy = j % 3 == 0 ? StrategyKind.Green : StrategyKind.Economy;
        return j <= PvHomesPerBlock
            ? Participant.Prosumer(site, strategy, site, new PvSpec(HomePvKWp))
            : Participant.Household(site, strategy, site);
    }
}
