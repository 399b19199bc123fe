using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using P2PEnergy.Exchange.Tests.Support;

namespace P2PEnergy.Exchange.Tests;

/// <summary>A seed for one random command stream; the whole stream is rebuilt from it, so a failure names it.</summary>
public readonly record struct StreamSeed(int Value);

public static class StreamSeeds
{
    // Any non-negative int, not FsCheck's size-bounded ints: 300 cases should be 300 different streams.
    public static Arbitrary<StreamSeed> Seeds() => Arb.From(Gen.Choose(0, int.MaxValue).Select(v => new StreamSeed(v)));
}

/// <summary>
/// The engine against the reference on random order streams (STYLE.md: the call auction and the CDA each
/// have a slow obviously-right reference, and property tests compare them). Every command's events must be
/// identical and the invariants must hold after every command; see <see cref="Differential"/>.
/// </summary>
public sealed class PropertyTests
{
    [Property(MaxTest = 500, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void Continuous_engine_emits_what_the_reference_emits(StreamSeed seed)
    {
        var outcome = Differential.Execute(seed.Value, Mechanism.Continuous);
        Assert.True(outcome.Commands >= 20);
    }

    [Property(MaxTest = 500, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void Call_auction_engine_emits_what_the_reference_emits(StreamSeed seed)
    {
        var outcome = Differential.Execute(seed.Value, Mechanism.CallAuction);
        Assert.True(outcome.GateClosures >= 1);
    }

    [Property(MaxTest = 200, Arbitrary = [typeof(StreamSeeds)], QuietOnSuccess = true)]
    public void Mixed_mechanisms_engine_emits_what_the_reference_emits(StreamSeed seed)
    {
        Differential.Execute(seed.Value, mechanism: null);
    }

    /// <summary>
    /// The generator must actually reach the interesting paths; otherwise the properties above prove little.
    /// Fixed seeds, so this is deterministic.
    /// </summary>
    [Fact]
    public void Random_streams_trade_and_reject()
    {
        var outcomes = Enumerable.Range(1, 40).Select(s => Differential.Execute(s, s % 2 == 0 ? Mechanism.Continuous : Mechanism.CallAuction)).ToList();
        var lots = outcomes.Sum(o => o.Lots);
        var commands = outcomes.Sum(o => o.Commands);
        var rejected = outcomes.Sum(o => o.Rejected);
        Assert.True(lots > 300, $"only {lots} lots");
        Assert.True(outcomes.Count(o => o.Lots > 0) > 30);
        // Mostly accepted commands, but a fair share of refusals.
        Assert.InRange(rejected, commands / 10, commands / 2);
        var codes = outcomes.SelectMany(o => o.Codes.Keys).ToHashSet();
        ResultCode[] expected =
        [
            ResultCode.Ok, ResultCode.QuantityNotPositive, ResultCode.QuantityNotLotMultiple, ResultCode.QuantityTooLarge,
            ResultCode.PriceOutOfRange, ResultCode.InvalidSide, ResultCode.InvalidProduct, ResultCode.InvalidSource,
            ResultCode.ReduceNotBelowRemaining, ResultCode.InvalidParticipant, ResultCode.UnknownParticipant,
            ResultCode.NotOrderOwner, ResultCode.UnknownSlot, ResultCode.SlotClosed, ResultCode.DuplicateClientOrderId,
            ResultCode.OrderNotFound,
        ];
        Assert.Empty(expected.Except(codes));
    }

    /// <summary>Long streams: deep books, many levels, nodes freed and reused; seeded, so deterministic.</summary>
    [Theory]
    [InlineData(11, Mechanism.Continuous)]
    [InlineData(12, Mechanism.CallAuction)]
    [InlineData(13, null)]
    public void Long_streams_agree(int seed, Mechanism? mechanism)
    {
        var outcome = Differential.Execute(seed, mechanism, commands: 1_500);
        Assert.True(outcome.Lots > 50, $"only {outcome.Lots} lots");
    }
}
