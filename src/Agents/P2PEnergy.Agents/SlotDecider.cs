namespace P2PEnergy.Agents;

/// <summary>
/// What an agent wants to trade in a slot: a plain record that the simulator turns into a signed order.
/// <paramref name="Product"/> matters on a buy only and <paramref name="Source"/> on a sell only (as in the
/// exchange's NewOrder); the other is set to Standard / Mixed.
/// </summary>
public sealed record OrderIntent(OrderSide Side, long EnergyWh, long LimitPriceTicks, Product Product, EnergySource Source)
{
    public static OrderIntent Buy(long energyWh, long limitPriceTicks, Product product) =>
        new(OrderSide.Buy, energyWh, limitPriceTicks, product, EnergySource.Mixed);

    public static OrderIntent Sell(long energyWh, long limitPriceTicks, EnergySource source) =>
        new(OrderSide.Sell, energyWh, limitPriceTicks, Product.Standard, source);
}

/// <summary>What an agent knows when it decides: the slot, its forecast for it, the grid's prices, the lot step.</summary>
public sealed record SlotContext(long Slot, SlotEnergy Forecast, GridPrices Prices, SlotClock Clock, long LotStepWh = Units.DefaultLotStepWh);

/// <summary>
/// The per-slot decision of every agent kind. Rules common to all:
/// <list type="bullet">
/// <item>Own PV serves own load first (behind the meter); only the net is traded.</item>
/// <item>An agent is on one side of a slot only: its meter reports the slot's net flow, so a buy and a sell in one
/// slot could not both be delivered.</item>
/// <item>Bids are capped at retail (less the expected wheeling) and placed only above buy-back; asks are raised to
/// buy-back and placed only below the bid cap (<see cref="GridPrices"/>). Otherwise no order: the grid serves.</item>
/// <item>Order Wh are floored to the lot step (<see cref="Units.FloorToStep"/>).</item>
/// </list>
/// </summary>
public static class SlotDecider
{
    public static IReadOnlyList<OrderIntent> Decide(Participant participant, AgentState state, SlotContext context)
    {
        context.Forecast.Validate();
        var strategy = participant.PriceStrategy;
        if (participant.Phev is { } phev) return DecidePhev(phev, strategy, StorageOf(participant, state), context);
        if (participant.Battery is { } battery) return DecideWithBattery(battery, strategy, StorageOf(participant, state), context);
        return DecideWithoutStorage(strategy, context);
    }

    /// <summary>
    /// Household, prosumer without battery, office. A deficit has nowhere to wait, so it is bid as urgent: the
    /// table's price at an empty store (clamped: its 20 % column). A surplus has nowhere to go, so it is asked
    /// at the strategy's surplus price (<see cref="PriceStrategy.SurplusAskTicks"/>), as renewable (PV).
    /// </summary>
    private static IReadOnlyList<OrderIntent> DecideWithoutStorage(PriceStrategy strategy, SlotContext context)
    {
        var net = context.Forecast.LoadWh - context.Forecast.PvWh;
        if (net > 0) return BuyAt(net, strategy.BuyTicks(Soc.Empty), strategy, context);
        if (net < 0) return SellAt(-net, strategy.SurplusAskTicks(), renewableShare: 1.0, context);
        return [];
    }

    /// <summary>
    /// A home (or a standalone battery) with a stationary battery.
    /// Surplus: PV charges the battery first; what the battery cannot take is sold as renewable at the surplus
    /// price; if the battery can take it all, the rest of the charging room is bid for at the table's price at the
    /// battery's state of charge (seed 004: storage starts charging when the price is low, 価格10円以下で蓄電池充電開始).
    /// Deficit, battery at or above "full" (<see cref="BatterySpec.SellAboveSoc"/>): the battery covers the home
    /// and what it can still deliver above full is sold at the stored-energy ask.
    /// Deficit otherwise: bid for the deficit plus the charging room at the table's price; if the market does
    /// not fill it, the battery covers the home down to its reserve (<see cref="SlotDelivery"/>), then the grid.
    /// </summary>
    private static IReadOnlyList<OrderIntent> DecideWithBattery(BatterySpec battery, PriceStrategy strategy, StorageState state, SlotContext context)
    {
        var spec = battery.Storage;
        var hours = context.Clock.SlotHours;
        var soc = state.StateOfCharge(spec);
        var net = context.Forecast.LoadWh - context.Forecast.PvWh;
        var room = StoragePhysics.ChargeRoomWh(spec, state, hours);
        if (net < 0)
        {
            var fromPv = Math.Min(-net, room);
            var leftover = -net - fromPv;
            if (Units.FloorToStep(leftover, context.LotStepWh) > 0)
                return SellAt(leftover, strategy.SurplusAskTicks(), renewableShare: 1.0, context);
            return BuyAt(room - fromPv, strategy.BuyTicks(soc), strategy, context);
        }
        if (state.EnergyWh >= battery.SellAboveWh)
        {
            var available = StoragePhysics.DischargeAvailableWh(spec, state, battery.SellAboveWh, hours);
            return SellAt(available - net, strategy.StoredAskTicks(soc, spec.RoundTripEfficiency), state.RenewableShare, context);
        }
        return BuyAt(net + room, strategy.BuyTicks(soc), strategy, context);
    }

    /// <summary>
    /// A PHEV. Driving: nothing (it is unplugged). Parked above its departure target: sell what it can deliver
    /// above the target at the stored-energy ask (seed 003: V2G; seed 004: PHEVs sold in the evening,
    /// 夜の高いときに売っている). Parked at or below it: the must-charge Wh of the latest-possible plan
    /// (<see cref="PhevSpec.MustChargeWh"/>) are bid at the petrol-equivalent price capped at retail — it pays up
    /// to what it would otherwise pay the grid or the pump — and the rest of the charging room at the table's
    /// price for its state of charge (seed 004: it charges when electricity is cheap, e.g. PV surplus in the day).
    /// </summary>
    private static IReadOnlyList<OrderIntent> DecidePhev(PhevSpec phev, PriceStrategy strategy, StorageState state, SlotContext context)
    {
        if (phev.Schedule.LocationAt(context.Slot, context.Clock) == PhevLocation.Driving) return [];
        var spec = phev.Storage;
        var hours = context.Clock.SlotHours;
        var soc = state.StateOfCharge(spec);
        if (state.EnergyWh > phev.TargetWh + Units.ToleranceWh)
        {
            var available = StoragePhysics.DischargeAvailableWh(spec, state, phev.TargetWh, hours);
            return SellAt(available, strategy.StoredAskTicks(soc, spec.RoundTripEfficiency), state.RenewableShare, context);
        }
        var room = StoragePhysics.ChargeRoomWh(spec, state, hours);
        var must = Units.FloorToStep(phev.MustChargeWh(state, context.Slot, context.Clock), context.LotStepWh);
        var intents = new List<OrderIntent>();
        if (must > 0 && context.Prices.Bid(phev.PetrolEquivalentTicks) is { } urgent)
            intents.Add(OrderIntent.Buy(must, urgent, strategy.BuyProduct));
        foreach (var more in BuyAt(room - must, strategy.BuyTicks(soc), strategy, context))
        {
            // One intent per price: the opportunistic bid merges into the urgent one when the cap makes them equal.
            if (intents.Count == 1 && intents[0].LimitPriceTicks == more.LimitPriceTicks)
                intents[0] = intents[0] with { EnergyWh = intents[0].EnergyWh + more.EnergyWh };
            else
                intents.Add(more);
        }
        return intents;
    }

    private static IReadOnlyList<OrderIntent> BuyAt(long wh, long desiredTicks, PriceStrategy strategy, SlotContext context)
    {
        var lots = Units.FloorToStep(wh, context.LotStepWh);
        return lots > 0 && context.Prices.Bid(desiredTicks) is { } price ? [OrderIntent.Buy(lots, price, strategy.BuyProduct)] : [];
    }

    /// <summary>
    /// Sells <paramref name="wh"/> (floored to lots), the renewable share declared renewable: renewable lots =
    /// floor(total × share) to the step, the rest mixed — never more renewable Wh than the pool holds.
    /// </summary>
    private static IReadOnlyList<OrderIntent> SellAt(long wh, long desiredTicks, double renewableShare, SlotContext context)
    {
        var total = Units.FloorToStep(wh, context.LotStepWh);
        if (total <= 0 || context.Prices.Ask(desiredTicks) is not { } price) return [];
        var renewable = Units.FloorToStep(Units.FloorWh(total * Math.Clamp(renewableShare, 0, 1)), context.LotStepWh);
        var intents = new List<OrderIntent>(2);
        if (renewable > 0) intents.Add(OrderIntent.Sell(renewable, price, EnergySource.Renewable));
        if (total - renewable > 0) intents.Add(OrderIntent.Sell(total - renewable, price, EnergySource.Mixed));
        return intents;
    }

    internal static StorageState StorageOf(Participant participant, AgentState state) =>
        state.Storage ?? throw new ArgumentException($"{participant.Id} has storage but its state has none", nameof(state));
}
