using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Durability.Tests.Infrastructure;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Signing;

namespace P2PEnergy.Durability.Tests;

/// <summary>
/// Meter bindings, readings (accepted, and refused ones kept for audit), seals and the settlements that follow them
/// come back after a restart in Redis mode, by replay alone and through a snapshot.
/// </summary>
public sealed class MeteringJournalTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static EthKey MeterKey(int participant) => EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-durability-test:meter:" + participant));

    private static MeterReading Reading(int participant, long slot, long importWh, long exportWh)
    {
        var meter = MeterKey(participant);
        var reading = new MeterReading
        {
            Meter = meter.Address.ToLowerHex(), Participant = Trading.AddressOf(participant), Slot = slot, ImportWh = importWh, ExportWh = exportWh,
        };
        var message = new MeterReadingMessage(reading.Meter, reading.Participant, unchecked((ulong)slot), unchecked((ulong)importWh), unchecked((ulong)exportWh));
        reading.Signature = ByteString.CopyFrom(meter.Sign(Trading.Domain, message));
        return reading;
    }

    /// <summary>What the exchange serves about the first slot's metering and settlement.</summary>
    private static async Task<List<string>> MeteringOfAsync(RedisExchangeHost host)
    {
        var metering = new MeteringService.MeteringServiceClient(host.Channel);
        var admin = new MeteringAdmin.MeteringAdminClient(host.Channel);
        var settlement = new SettlementService.SettlementServiceClient(host.Channel);
        var seen = new List<string>();
        for (var p = 0; p < Trading.Participants; p++)
        {
            try
            {
                seen.Add((await metering.GetReadingProofAsync(new GetReadingProofRequest { Participant = Trading.AddressOf(p), Slot = Trading.FirstSlot })).ToString());
            }
            catch (RpcException e)
            {
                seen.Add($"{p}: {e.StatusCode}");
            }
        }
        seen.Add((await admin.GetRejectedReadingsAsync(new GetRejectedReadingsRequest { Slot = Trading.FirstSlot })).ToString());
        seen.Add((await settlement.GetSettlementAsync(new GetSettlementRequest { Slot = Trading.FirstSlot })).ToString());
        return seen;
    }

    [Theory]
    [InlineData(100_000)] // replay only
    [InlineData(7)] // mostly from snapshots
    public async Task Readings_seals_and_settlements_survive_a_restart(int snapshotEvery)
    {
        var market = "m" + Guid.NewGuid().ToString("N")[..12];
        var settings = new Dictionary<string, string> { ["Redis:SnapshotEveryEntries"] = snapshotEvery.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        List<string> before;
        using (var first = new RedisExchangeHost(fixture.Redis.ConnectionString, market, settings))
        {
            await Trading.SetUpAsync(first.Admin);
            var meteringAdmin = new MeteringAdmin.MeteringAdminClient(first.Channel);
            for (var p = 0; p < Trading.Participants; p++)
            {
                await meteringAdmin.BindMeterAsync(new BindMeterRequest { Meter = MeterKey(p).Address.ToLowerHex(), Participant = Trading.AddressOf(p) });
            }
            for (var i = 0; i < 60; i++) await first.Exchange.SubmitOrderAsync(new SubmitOrderRequest { Order = Trading.Order(11, i) });
            await first.Admin.CloseGateAsync(new CloseGateRequest { Slot = Trading.FirstSlot });
            await first.Admin.AdvanceClockAsync(new AdvanceClockRequest { ToUnixSeconds = (Trading.FirstSlot + 1) * 1800 });
            var metering = new MeteringService.MeteringServiceClient(first.Channel);
            for (var p = 0; p < 6; p++)
            {
                await metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(p, Trading.FirstSlot, 100 * p, 1500 - 100 * p) });
            }
            // A second, different reading of meter 0: refused (ALREADY_EXISTS) and kept for audit.
            var conflict = await Assert.ThrowsAsync<RpcException>(() => metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(0, Trading.FirstSlot, 1, 2) }).ResponseAsync);
            Assert.Equal(StatusCode.AlreadyExists, conflict.StatusCode);
            await meteringAdmin.SealReadingsAsync(new SealReadingsRequest { Slot = Trading.FirstSlot });
            before = await MeteringOfAsync(first);
        }
        Assert.Contains(before, s => s.Contains("slotRoot", StringComparison.Ordinal)); // proofs were served

        using var second = new RedisExchangeHost(fixture.Redis.ConnectionString, market, settings);
        var after = await MeteringOfAsync(second);
        Assert.Equal(before, after);
        if (snapshotEvery < 100) Assert.True(second.Recovery!.SnapshotSeq > 0, "the restart should have started from a snapshot");

        // The bindings came back too: a second binding of meter 0 to another participant is refused.
        var rebind = await Assert.ThrowsAsync<RpcException>(() => new MeteringAdmin.MeteringAdminClient(second.Channel)
            .BindMeterAsync(new BindMeterRequest { Meter = MeterKey(0).Address.ToLowerHex(), Participant = Trading.AddressOf(1) }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, rebind.StatusCode);
    }
}
