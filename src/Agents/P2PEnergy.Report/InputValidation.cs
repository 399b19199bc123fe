namespace P2PEnergy.Report;

/// <summary>What makes a <see cref="SimulationResult"/> impossible to report on. Every error is listed, not only the first.</summary>
internal static class InputValidation
{
    public static IReadOnlyList<string> Errors(SimulationResult input)
    {
        var errors = new List<string>();
        var scenario = input.Scenario;
        if (string.IsNullOrWhiteSpace(scenario.Name)) errors.Add("scenario: name is empty");
        if (scenario.Days < 1) errors.Add($"scenario: days must be at least 1, not {scenario.Days}");
        if (scenario.SlotSeconds <= 0 || 86_400 % scenario.SlotSeconds != 0) errors.Add($"scenario: slot length {scenario.SlotSeconds} s does not divide a day");
        if (scenario.GridEmissionFactor.GramsPerKWh < 0) errors.Add("scenario: grid emission factor is negative");
        if (string.IsNullOrWhiteSpace(scenario.GridEmissionFactor.Source)) errors.Add("scenario: grid emission factor has no stated source");

        var participants = new Dictionary<string, Participant>(StringComparer.Ordinal);
        if (input.Participants.Count == 0) errors.Add("no participants");
        foreach (var p in input.Participants)
        {
            if (string.IsNullOrWhiteSpace(p.Address)) errors.Add($"participant '{p.Name}': address is empty");
            else if (!participants.TryAdd(p.Address, p)) errors.Add($"participant {p.Address}: listed twice");
            if (!Enum.IsDefined(p.Type)) errors.Add($"participant {p.Address}: unknown type {(int)p.Type}");
        }

        var slots = new HashSet<long>();
        foreach (var m in input.Slots)
        {
            if (!slots.Add(m.Slot)) errors.Add($"slot {m.Slot}: listed twice");
            if (m.RetailTicks < 0 || m.BuyBackTicks < 0) errors.Add($"slot {m.Slot}: negative grid price");
            if (m.RenewableTradedWh < 0 || m.MixedTradedWh < 0 || m.LotCount < 0) errors.Add($"slot {m.Slot}: negative traded energy or lot count");
            if (m.ClearingPrices.Any(p => p.Ticks < 0)) errors.Add($"slot {m.Slot}: negative clearing price");
            if (m.ClearingPrices.GroupBy(p => p.Product).Any(g => g.Count() > 1)) errors.Add($"slot {m.Slot}: more than one clearing price for a product");
        }
        if (input.Slots.Count == 0) errors.Add("no slots");

        var rows = new HashSet<(string, long)>();
        foreach (var r in input.ParticipantSlots)
        {
            var at = $"participant {r.Participant}, slot {r.Slot}";
            if (!participants.ContainsKey(r.Participant)) errors.Add($"{at}: not a listed participant");
            if (!slots.Contains(r.Slot)) errors.Add($"{at}: not a listed slot");
            if (!rows.Add((r.Participant, r.Slot))) errors.Add($"{at}: listed twice");
            long[] amounts =
            [
                r.LoadWh, r.GenerationWh, r.BoughtWh, r.BoughtMoney, r.BoughtRenewableWh, r.SoldWh, r.SoldMoney, r.WheelingPaid,
                r.GridImportWh, r.GridImportMoney, r.GridExportWh, r.GridExportMoney, r.CompensationPaid, r.CompensationReceived, r.PetrolMoney,
            ];
            if (amounts.Any(a => a < 0)) errors.Add($"{at}: a negative energy or money line");
            if (r.BoughtRenewableWh > r.BoughtWh) errors.Add($"{at}: bought renewable {r.BoughtRenewableWh} Wh is more than bought {r.BoughtWh} Wh");
            if (r.Storage is { } s && !Plausible(s)) errors.Add($"{at}: storage {s.EnergyWh} Wh of {s.CapacityWh} Wh is impossible");
        }

        var baselines = new HashSet<(string, long)>();
        foreach (var b in input.Baselines)
        {
            var at = $"baseline of participant {b.Participant}, slot {b.Slot}";
            if (!baselines.Add((b.Participant, b.Slot))) errors.Add($"{at}: listed twice");
            else if (!rows.Contains((b.Participant, b.Slot))) errors.Add($"{at}: no participant slot for it");
            if (b.GridImportWh < 0 || b.GridImportMoney < 0 || b.GridExportWh < 0 || b.GridExportMoney < 0 || b.PetrolMoney < 0)
                errors.Add($"{at}: a negative energy or money line");
        }
        foreach (var (participant, slot) in rows.Where(k => !baselines.Contains(k)))
            errors.Add($"participant {participant}, slot {slot}: no grid-only baseline");

        var chain = input.Chain;
        if (chain.LotsRecorded < 0 || chain.Transactions < 0 || chain.Gas.Recording < 0 || chain.Gas.OrderRoots < 0 || chain.Gas.Settlement < 0)
            errors.Add("chain: a negative count");
        if (chain.Audit.Passed && chain.Audit.Discrepancies.Count > 0) errors.Add("chain: the audit passed with discrepancies");
        return errors;
    }

    private static bool Plausible(StorageState s) => s.CapacityWh > 0 && s.EnergyWh >= 0 && s.EnergyWh <= s.CapacityWh;
}
