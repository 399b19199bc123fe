using System.Globalization;
using System.Text.Json;
using P2PEnergy.Agents;

namespace P2PEnergy.Simulator.Day;

/// <summary>A time-of-use retail price: from … to (local clock, half hours; "to" may be "24:00") at this many ticks.</summary>
public sealed record TimeOfUseBand(int FromHalfHour, int ToHalfHour, long RetailTicks);

/// <summary>The grid's prices for the community: flat retail, optional time-of-use bands, buy-back.</summary>
public sealed record TariffSpec(long RetailTicks, long BuyBackTicks, IReadOnlyList<TimeOfUseBand> TimeOfUse)
{
    /// <summary>Retail for the half hour of the local day (0 … 47): the band that holds it, else the flat price.</summary>
    public long RetailAt(int halfHourOfDay)
    {
        foreach (var band in TimeOfUse)
            if (halfHourOfDay >= band.FromHalfHour && halfHourOfDay < band.ToHalfHour) return band.RetailTicks;
        return RetailTicks;
    }
}

/// <summary>One pair of the wheeling table (seller zone, buyer zone) and its fee in ticks.</summary>
public sealed record WheelingPair(int SellerZone, int BuyerZone, long FeeTicks);

/// <summary>
/// The wheeling table as the exchange applies it (admin.proto SetWheelingTable): the default fee between two
/// different zones, 0 within a zone, unless a pair overrides it.
/// </summary>
public sealed record WheelingSpec(long DefaultFeeTicks, IReadOnlyList<WheelingPair> Entries)
{
    public long Fee(int sellerZone, int buyerZone)
    {
        foreach (var e in Entries)
            if (e.SellerZone == sellerZone && e.BuyerZone == buyerZone) return e.FeeTicks;
        return sellerZone == buyerZone ? 0 : DefaultFeeTicks;
    }
}

/// <summary>How much wheeling a buyer expects on top of the energy price when it caps its bid (<see cref="GridPrices"/>).</summary>
public enum WheelingAllowance
{
    /// <summary>None: bids are capped at retail; a lot across zones may cost more than retail in all.</summary>
    None = 1,
    /// <summary>The fee from a seller in the buyer's own zone (the exchange prefers the nearest source).</summary>
    OwnZone = 2,
    /// <summary>The highest fee from any zone of the community: price + wheeling never exceeds retail.</summary>
    Max = 3,
}

/// <summary>A window of local clock time traded each day (half-open), in slots of the day.</summary>
public sealed record HourWindow(int FromMinute, int ToMinute);

/// <summary>What a scenario file describes, validated: the community and its market's settings.</summary>
public sealed record Scenario(
    string Name,
    string Description,
    IReadOnlyList<Participant> Participants,
    int Scale,
    string? StartDate,
    int UtcOffsetMinutes,
    DayType? DayType,
    HourWindow? Hours,
    long LotStepWh,
    int DefaultZone,
    IReadOnlyDictionary<string, int> SiteZones,
    WheelingSpec Wheeling,
    WheelingAllowance WheelingAllowance,
    TariffSpec Tariff)
{
    public int ZoneOf(Participant p) => SiteZones.TryGetValue(p.Site, out var z) ? z : DefaultZone;

    /// <summary>Every zone used by the community.</summary>
    public IReadOnlyList<int> Zones => Participants.Select(ZoneOf).Distinct().Order().ToArray();

    /// <summary>The wheeling a buyer in <paramref name="buyerZone"/> allows for when it caps its bid.</summary>
    public long AllowanceTicks(int buyerZone) => WheelingAllowance switch
    {
        WheelingAllowance.None => 0,
        WheelingAllowance.OwnZone => Wheeling.Fee(buyerZone, buyerZone),
        _ => Zones.Max(seller => Wheeling.Fee(seller, buyerZone)),
    };
}

/// <summary>A scenario file that cannot be used: the message names the file and the field.</summary>
public sealed class ScenarioException(string message) : Exception(message);

/// <summary>
/// Reads scenario files (JSON, see Scenarios/*.json). Every error names the field as a JSON path
/// ("tariff.timeOfUse[1].from") and says what was expected.
/// </summary>
public static class ScenarioLoader
{
    /// <summary>The folder of the bundled scenarios (copied beside the program).</summary>
    public static string BundledFolder => Path.Combine(AppContext.BaseDirectory, "Scenarios");

    /// <summary>A file path, or the name of a bundled scenario ("small", "higashi-fuji").</summary>
    public static string Resolve(string fileOrName)
    {
        if (File.Exists(fileOrName)) return fileOrName;
        var bundled = Path.Combine(BundledFolder, fileOrName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? fileOrName : fileOrName + ".json");
        if (File.Exists(bundled)) return bundled;
        var known = Directory.Exists(BundledFolder)
            ? string.Join(", ", Directory.GetFiles(BundledFolder, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
            : "none";
        throw new ScenarioException($"scenario '{fileOrName}': no such file, and no bundled scenario of that name (bundled: {known})");
    }

    public static Scenario Load(string fileOrName, int? scaleOverride = null)
    {
        var path = Resolve(fileOrName);
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new ScenarioException($"{path}: cannot read: {e.Message}"); }
        return Parse(text, path, scaleOverride);
    }

    public static Scenario Parse(string json, string source, int? scaleOverride = null)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ScenarioException($"{source}: not valid JSON: {e.Message}"); }
        using (doc)
        {
            return new Reader(source).Scenario(doc.RootElement, scaleOverride);
        }
    }

    private sealed class Reader(string source)
    {
        private ScenarioException Error(string path, string message) => new($"{source}: {path}: {message}");

        public Scenario Scenario(JsonElement root, int? scaleOverride)
        {
            if (root.ValueKind != JsonValueKind.Object) throw Error("$", "a scenario is a JSON object");
            var name = String(root, "name", "name", required: true)!;
            var description = String(root, "description", "description") ?? "";

            var community = Object(root, "community", "community", required: true)!.Value;
            var scale = scaleOverride ?? (int)Integer(community, "scale", "community.scale", 1, 1, 100_000);
            if (scale is < 1 or > 100_000) throw Error("scale", $"must be 1 … 100000, was {scale}");
            var preset = String(community, "preset", "community.preset");
            var hasList = community.TryGetProperty("participants", out var list);
            IReadOnlyList<Participant> participants;
            if (preset is not null && hasList) throw Error("community", "give either \"preset\" or \"participants\", not both");
            if (preset is not null)
            {
                participants = preset switch
                {
                    "higashi-fuji" => HigashiFuji.Build(scale),
                    _ => throw Error("community.preset", $"unknown preset '{preset}' (known: higashi-fuji)"),
                };
            }
            else if (hasList)
            {
                participants = ParticipantList(list, scale);
            }
            else throw Error("community", "needs \"preset\" or \"participants\"");

            var startDate = String(root, "startDate", "startDate");
            if (startDate is not null && startDate != "next" && !DateOnly.TryParseExact(startDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
                throw Error("startDate", $"expected \"YYYY-MM-DD\" or \"next\", was \"{startDate}\"");

            var offsetText = String(root, "utcOffset", "utcOffset") ?? "+09:00";
            var utcOffsetMinutes = ParseOffset(offsetText) ?? throw Error("utcOffset", $"expected \"+HH:MM\" or \"-HH:MM\", was \"{offsetText}\"");

            var dayTypeText = String(root, "dayType", "dayType") ?? "random";
            DayType? dayType = dayTypeText switch
            {
                "random" => null,
                "clear" => Agents.DayType.Clear,
                "cloudy" => Agents.DayType.Cloudy,
                "rain" => Agents.DayType.Rain,
                _ => throw Error("dayType", $"expected random, clear, cloudy or rain, was \"{dayTypeText}\""),
            };

            HourWindow? hours = null;
            if (Object(root, "hours", "hours") is { } h)
            {
                var from = ClockMinute(h, "from", "hours.from", required: true)!.Value;
                var to = ClockMinute(h, "to", "hours.to", required: true)!.Value;
                if (to <= from) throw Error("hours", $"\"to\" must be after \"from\"");
                hours = new HourWindow(from, to);
            }

            var lotStep = Integer(root, "lotStepWh", "lotStepWh", Units.DefaultLotStepWh, 1, 1_000_000_000);

            var zonesElement = Object(root, "zones", "zones");
            var defaultZone = 0;
            var siteZones = new Dictionary<string, int>(StringComparer.Ordinal);
            if (zonesElement is { } z)
            {
                defaultZone = (int)Integer(z, "default", "zones.default", 0, 0, 1023);
                if (Object(z, "sites", "zones.sites") is { } sites)
                    foreach (var p in sites.EnumerateObject())
                    {
                        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var zone) || zone is < 0 or > 1023)
                            throw Error($"zones.sites.{p.Name}", "expected a zone number 0 … 1023");
                        siteZones[p.Name] = zone;
                    }
            }

            var wheelingElement = Object(root, "wheeling", "wheeling", required: true)!.Value;
            var defaultFee = Integer(wheelingElement, "defaultFeeTicks", "wheeling.defaultFeeTicks", null, 0, 1_000_000);
            var entries = new List<WheelingPair>();
            if (wheelingElement.TryGetProperty("entries", out var entriesElement))
            {
                if (entriesElement.ValueKind != JsonValueKind.Array) throw Error("wheeling.entries", "expected an array");
                var i = 0;
                foreach (var e in entriesElement.EnumerateArray())
                {
                    var path = $"wheeling.entries[{i++}]";
                    if (e.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
                    entries.Add(new WheelingPair(
                        (int)Integer(e, "sellerZone", path + ".sellerZone", null, 0, 1023),
                        (int)Integer(e, "buyerZone", path + ".buyerZone", null, 0, 1023),
                        Integer(e, "feeTicks", path + ".feeTicks", null, 0, 1_000_000)));
                }
            }
            var allowanceText = String(wheelingElement, "allowance", "wheeling.allowance") ?? "max";
            var allowance = allowanceText switch
            {
                "none" => WheelingAllowance.None,
                "own-zone" => WheelingAllowance.OwnZone,
                "max" => WheelingAllowance.Max,
                _ => throw Error("wheeling.allowance", $"expected none, own-zone or max, was \"{allowanceText}\""),
            };

            var tariffElement = Object(root, "tariff", "tariff", required: true)!.Value;
            var retail = Integer(tariffElement, "retailTicks", "tariff.retailTicks", null, 1, 1_000_000);
            var buyBack = Integer(tariffElement, "buyBackTicks", "tariff.buyBackTicks", null, 0, 1_000_000);
            var bands = new List<TimeOfUseBand>();
            if (tariffElement.TryGetProperty("timeOfUse", out var touElement))
            {
                if (touElement.ValueKind != JsonValueKind.Array) throw Error("tariff.timeOfUse", "expected an array");
                var i = 0;
                foreach (var b in touElement.EnumerateArray())
                {
                    var path = $"tariff.timeOfUse[{i++}]";
                    if (b.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
                    var from = ClockMinute(b, "from", path + ".from", required: true)!.Value;
                    var to = ClockMinute(b, "to", path + ".to", required: true)!.Value;
                    if (from % 30 != 0 || to % 30 != 0) throw Error(path, "time-of-use bands start and end on a half hour");
                    if (to <= from) throw Error(path, "\"to\" must be after \"from\"");
                    var ticks = Integer(b, "retailTicks", path + ".retailTicks", null, 1, 1_000_000);
                    if (bands.Any(o => from / 30 < o.ToHalfHour && o.FromHalfHour < to / 30)) throw Error(path, "overlaps an earlier band");
                    bands.Add(new TimeOfUseBand(from / 30, to / 30, ticks));
                }
            }
            var tariff = new TariffSpec(retail, buyBack, bands);
            for (var hh = 0; hh < 48; hh++)
                if (buyBack > tariff.RetailAt(hh)) throw Error("tariff.buyBackTicks", $"buy-back {buyBack} is above retail {tariff.RetailAt(hh)} at half hour {hh}");

            return new Scenario(name, description, participants, scale, startDate, utcOffsetMinutes, dayType, hours, lotStep,
                defaultZone, siteZones, new WheelingSpec(defaultFee, entries), allowance, tariff);
        }

        private List<Participant> ParticipantList(JsonElement list, int scale)
        {
            if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0) throw Error("community.participants", "expected a non-empty array");
            var template = new List<Participant>();
            var i = 0;
            foreach (var e in list.EnumerateArray())
            {
                var path = $"community.participants[{i++}]";
                if (e.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
                var id = String(e, "id", path + ".id", required: true)!;
                var kindText = String(e, "kind", path + ".kind", required: true)!;
                var strategyText = String(e, "strategy", path + ".strategy") ?? "economy";
                var strategy = strategyText switch
                {
                    "economy" => StrategyKind.Economy,
                    "green" => StrategyKind.Green,
                    "price-focused" => StrategyKind.PriceFocused,
                    _ => throw Error(path + ".strategy", $"expected economy, green or price-focused, was \"{strategyText}\""),
                };
                var site = String(e, "site", path + ".site") ?? id;
                var kwp = Number(e, "pvKWp", path + ".pvKWp");
                var battery = e.TryGetProperty("battery", out var b) && b.ValueKind == JsonValueKind.True;
                if (e.TryGetProperty("battery", out b) && b.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw Error(path + ".battery", "expected true or false");
                try
                {
                    template.Add(kindText switch
                    {
                        "household" => Participant.Household(id, strategy, site),
                        "prosumer" => Participant.Prosumer(id, strategy, site,
                            new PvSpec(kwp ?? throw Error(path + ".pvKWp", "a prosumer needs pvKWp")), battery ? BatterySpec.HomeDefault : null),
                        "office" => Participant.Office(id, strategy, site, kwp is { } k ? new PvSpec(k) : null),
                        "phev" => Participant.PhevOf(id, strategy, site, String(e, "workSite", path + ".workSite") ?? HigashiFuji.OfficeSite),
                        "battery" => Participant.StandaloneBattery(id, strategy, site),
                        _ => throw Error(path + ".kind", $"expected household, prosumer, office, phev or battery, was \"{kindText}\""),
                    });
                }
                catch (InvalidOperationException x)
                {
                    throw Error(path, x.Message);
                }
            }
            var duplicate = template.GroupBy(p => p.Id).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw Error("community.participants", $"id \"{duplicate.Key}\" is used twice");
            // Scale k: k copies of every home (and its devices); copy n > 1 gets ".n" on its id and site. An office
            // stays one participant with its load and PV multiplied, as in HigashiFuji.Build.
            var result = new List<Participant>();
            foreach (var p in template)
            {
                if (p.Kind == AgentKind.Office)
                {
                    result.Add(scale == 1 ? p : p with { OfficeScale = p.OfficeScale * scale, Pv = p.Pv is { } pv ? new PvSpec(pv.KWp * scale) : null });
                    continue;
                }
                for (var n = 1; n <= scale; n++)
                    result.Add(n == 1 ? p : p with { Id = $"{p.Id}.{n}", Site = SiteCopy(p.Site, n, template) });
            }
            return result;
        }

        // A copy's site: offices are shared, homes are copied with the home.
        private static string SiteCopy(string site, int n, List<Participant> template) =>
            template.Any(t => t.Kind == AgentKind.Office && t.Site == site) ? site : $"{site}.{n}";

        private JsonElement? Object(JsonElement parent, string name, string path, bool required = false)
        {
            if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
                return required ? throw Error(path, "is required") : null;
            if (e.ValueKind != JsonValueKind.Object) throw Error(path, "expected an object");
            return e;
        }

        private string? String(JsonElement parent, string name, string path, bool required = false)
        {
            if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
                return required ? throw Error(path, "is required") : null;
            if (e.ValueKind != JsonValueKind.String) throw Error(path, $"expected a string, was {e.ValueKind.ToString().ToLowerInvariant()}");
            var s = e.GetString()!;
            if (required && string.IsNullOrWhiteSpace(s)) throw Error(path, "must not be empty");
            return s;
        }

        private long Integer(JsonElement parent, string name, string path, long? defaultValue, long min, long max)
        {
            if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null)
                return defaultValue ?? throw Error(path, "is required");
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v)) throw Error(path, "expected a whole number");
            if (v < min || v > max) throw Error(path, $"must be {min} … {max}, was {v}");
            return v;
        }

        private double? Number(JsonElement parent, string name, string path)
        {
            if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
            if (e.ValueKind != JsonValueKind.Number) throw Error(path, "expected a number");
            var v = e.GetDouble();
            if (!(v >= 0) || double.IsInfinity(v)) throw Error(path, $"must be 0 or more, was {v}");
            return v;
        }

        private int? ClockMinute(JsonElement parent, string name, string path, bool required = false)
        {
            var text = String(parent, name, path, required);
            if (text is null) return null;
            var parts = text.Split(':');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hh)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mm) && mm < 60 && hh * 60 + mm <= 1440)
                return hh * 60 + mm;
            throw Error(path, $"expected a local time \"HH:MM\" (00:00 … 24:00), was \"{text}\"");
        }

        private static int? ParseOffset(string text)
        {
            if (text.Length != 6 || text[0] is not ('+' or '-') || text[3] != ':') return null;
            if (!int.TryParse(text.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hh)
                || !int.TryParse(text.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var mm) || hh > 14 || mm >= 60)
                return null;
            return (text[0] == '-' ? -1 : 1) * (hh * 60 + mm);
        }
    }
}
