namespace P2PEnergy.Exchange.Server.Tests.Integration;

using Google.Protobuf;
using Grpc.Core;
using P2PEnergy.Ethereum;
using P2PEnergy.Exchange.Protos.V1;
using P2PEnergy.Exchange.Server.Services;
using P2PEnergy.Exchange.Server.Tests.Helpers;
using P2PEnergy.Ledger;
using P2PEnergy.Signing;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMarket;
using static P2PEnergy.Exchange.Server.Tests.Helpers.TestMetering;
using Core = P2PEnergy.Exchange;

/// <summary>Meter readings through the whole host (simulated clock) with real gRPC clients.</summary>
public sealed class MeteringHostTests : IDisposable
{
    private readonly ExchangeHostFactory _host = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    public void Dispose()
    {
        _timeout.Dispose();
        _host.Dispose();
    }

    private CancellationToken Ct => _timeout.Token;

    private MeteringService.MeteringServiceClient Metering => new(_host.Channel);

    private MeteringAdmin.MeteringAdminClient MeteringAdminClient => new(_host.Channel);

    private async Task SetUpAsync()
    {
        foreach (var (who, zone) in new[] { (Seller, 0), (Buyer, 1), (Other, 2) })
        {
            await _host.Admin.RegisterParticipantAsync(new RegisterParticipantRequest { Address = who, Zone = zone, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);
        }
        foreach (var (meter, who) in new[] { (SellerMeter, Seller), (BuyerMeter, Buyer), (OtherMeter, Other) })
        {
            var bound = await MeteringAdminClient.BindMeterAsync(new BindMeterRequest { Meter = AddressOf(meter), Participant = who }, cancellationToken: Ct);
            Assert.True(bound.Bound);
        }
    }

    private Task<SubmitReadingResponse> SubmitAsync(MeterReading reading) =>
        Metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = reading }, cancellationToken: Ct).ResponseAsync;

    private static async Task<RpcException> RefusedAsync(Task call, StatusCode status, int code)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.True(status == ex.StatusCode, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.Equal(code.ToString(), ex.Trailers.GetValue(ResultStatus.ResultCodeTrailer));
        return ex;
    }

    [Fact]
    public async Task Readings_from_submission_to_proof()
    {
        await SetUpAsync();
        var seller = Reading(SellerMeter, Seller, Ended, 350, 1200);
        var buyer = Reading(BuyerMeter, Buyer, Ended, 900, 0);

        var first = await SubmitAsync(seller);
        Assert.True(first.Accepted);
        Assert.True((await SubmitAsync(buyer)).Accepted);
        var again = await SubmitAsync(seller);
        Assert.False(again.Accepted);
        Assert.Equal(first.ReadingId, again.ReadingId);

        // Refusals, each with its status and code.
        await RefusedAsync(SubmitAsync(Reading(SellerMeter, Seller, Ended, 350, 1300)), StatusCode.AlreadyExists, ResultStatus.ConflictingReading);
        await RefusedAsync(SubmitAsync(Reading(MeterKey("nobody"), Seller, Ended, 1, 1)), StatusCode.NotFound, ResultStatus.UnknownMeter);
        await RefusedAsync(SubmitAsync(Reading(OtherMeter, Seller, Ended, 1, 1)), StatusCode.PermissionDenied, ResultStatus.NotMetersParticipant);
        await RefusedAsync(SubmitAsync(Reading(OtherMeter, Other, Ended, -1, 1)), StatusCode.InvalidArgument, ResultStatus.EdgeValidation);
        await RefusedAsync(SubmitAsync(Reading(OtherMeter, Other, Slot0, 1, 1)), StatusCode.FailedPrecondition, ResultStatus.FutureSlot);
        await RefusedAsync(SubmitAsync(Reading(OtherMeter, Other, Ended, 1, 1, by: Mallory)), StatusCode.Unauthenticated, ResultStatus.BadSignature);
        await RefusedAsync(Metering.GetReadingProofAsync(new GetReadingProofRequest { Participant = Seller, Slot = Ended }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition, ResultStatus.ReadingRootPending);

        // The accepted reading is unchanged.
        var read = await Metering.GetReadingAsync(new GetReadingRequest { Participant = Seller, Slot = Ended }, cancellationToken: Ct);
        Assert.Equal(seller, read.Reading);
        Assert.False(read.Sealed);

        // The deadline passes (simulated clock): the slot is sealed, the other meter's reading is late.
        await _host.Admin.AdvanceClockAsync(new AdvanceClockRequest { By = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(1)) }, cancellationToken: Ct);
        var late = Reading(OtherMeter, Other, Ended, 4200, 0);
        await RefusedAsync(SubmitAsync(late), StatusCode.FailedPrecondition, ResultStatus.LateReading);

        var rejected = (await MeteringAdminClient.GetRejectedReadingsAsync(new GetRejectedReadingsRequest { Slot = Ended }, cancellationToken: Ct)).Readings;
        Assert.Equal([ReadingRejection.Conflicting, ReadingRejection.Late], rejected.Select(r => r.Reason));
        Assert.Equal(late, rejected[1].Reading);

        // Each participant checks its reading against the sealed root.
        var sealedReadings = await MeteringAdminClient.SealReadingsAsync(new SealReadingsRequest { Slot = Ended }, cancellationToken: Ct);
        Assert.False(sealedReadings.NewlySealed); // the deadline sealed it
        Assert.Equal(2, sealedReadings.ReadingCount);
        foreach (var r in new[] { seller, buyer })
        {
            var proof = await Metering.GetReadingProofAsync(new GetReadingProofRequest { Participant = r.Participant, Slot = Ended }, cancellationToken: Ct);
            Assert.Equal(r, proof.Reading);
            Assert.Equal(sealedReadings.SlotRoot, proof.SlotRoot);
            var leaf = MeterReadingMerkleTree.Leaf(Address.Parse(r.Meter), Address.Parse(r.Participant), (ulong)r.Slot, (ulong)r.ImportWh, (ulong)r.ExportWh);
            Assert.True(MeterReadingMerkleTree.Verify(proof.SlotRoot.Span, leaf, proof.Proof.Select(p => p.ToByteArray()).ToList()));
            var domain = new MarketDomain(proof.ChainId, Address.Parse(proof.LedgerAddress));
            Assert.True(MeterReadingSigning.IsSignedByMeter(domain,
                new MeterReadingMessage(r.Meter, r.Participant, (ulong)r.Slot, (ulong)r.ImportWh, (ulong)r.ExportWh), proof.Reading.Signature.Span));
        }
        await RefusedAsync(Metering.GetReadingProofAsync(new GetReadingProofRequest { Participant = Other, Slot = Ended }, cancellationToken: Ct).ResponseAsync,
            StatusCode.NotFound, ResultStatus.ReadingNotFound);
    }

    [Fact]
    public async Task Binding_is_checked_against_the_market()
    {
        await SetUpAsync();
        var again = await MeteringAdminClient.BindMeterAsync(new BindMeterRequest { Meter = AddressOf(SellerMeter), Participant = Seller }, cancellationToken: Ct);
        Assert.False(again.Bound);
        await RefusedAsync(MeteringAdminClient.BindMeterAsync(new BindMeterRequest { Meter = AddressOf(SellerMeter), Participant = Buyer }, cancellationToken: Ct).ResponseAsync,
            StatusCode.AlreadyExists, ResultStatus.MeterAlreadyBound);
        await RefusedAsync(MeteringAdminClient.BindMeterAsync(new BindMeterRequest { Meter = AddressOf(MeterKey("new")), Participant = Stranger }, cancellationToken: Ct).ResponseAsync,
            StatusCode.PermissionDenied, (int)Core.ResultCode.UnknownParticipant);
        await RefusedAsync(MeteringAdminClient.SealReadingsAsync(new SealReadingsRequest { Slot = Slot0 }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition, ResultStatus.FutureSlot);
    }

    [Fact]
    public async Task Metering_admin_needs_the_operators_token_when_one_is_configured()
    {
        using var host = new ExchangeHostFactory(new Dictionary<string, string?> { ["Exchange:AdminToken"] = "operator" });
        var admin = new MeteringAdmin.MeteringAdminClient(host.Channel);
        var request = new BindMeterRequest { Meter = AddressOf(SellerMeter), Participant = Seller };

        var missing = await Assert.ThrowsAsync<RpcException>(() => admin.BindMeterAsync(request, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        var wrong = await Assert.ThrowsAsync<RpcException>(() => admin.BindMeterAsync(request, new Metadata { { AdminGuard.Header, "guess" } }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, wrong.StatusCode);
        var seal = await Assert.ThrowsAsync<RpcException>(() => admin.SealReadingsAsync(new SealReadingsRequest { Slot = Ended }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, seal.StatusCode);
        var audit = await Assert.ThrowsAsync<RpcException>(() => admin.GetRejectedReadingsAsync(new GetRejectedReadingsRequest { Slot = Ended }, cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, audit.StatusCode);

        var token = new Metadata { { AdminGuard.Header, "operator" } };
        await new MarketAdmin.MarketAdminClient(host.Channel).RegisterParticipantAsync(
            new RegisterParticipantRequest { Address = Seller, Zone = 0, Kind = ParticipantKind.Prosumer }, token, cancellationToken: Ct);
        Assert.True((await admin.BindMeterAsync(request, token, cancellationToken: Ct)).Bound);
        // Meters and participants need no token.
        var metering = new MeteringService.MeteringServiceClient(host.Channel);
        Assert.True((await metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(SellerMeter, Seller, Ended, 1, 2) }, cancellationToken: Ct)).Accepted);
    }

    [Fact]
    public async Task The_reading_deadline_comes_from_configuration()
    {
        using var host = new ExchangeHostFactory(new Dictionary<string, string?> { ["Exchange:ReadingDeadlineSeconds"] = "0" });
        await new MarketAdmin.MarketAdminClient(host.Channel).RegisterParticipantAsync(
            new RegisterParticipantRequest { Address = Seller, Zone = 0, Kind = ParticipantKind.Prosumer }, cancellationToken: Ct);
        await new MeteringAdmin.MeteringAdminClient(host.Channel).BindMeterAsync(new BindMeterRequest { Meter = AddressOf(SellerMeter), Participant = Seller }, cancellationToken: Ct);
        var metering = new MeteringService.MeteringServiceClient(host.Channel);
        await RefusedAsync(metering.SubmitReadingAsync(new SubmitReadingRequest { Reading = Reading(SellerMeter, Seller, Ended, 1, 2) }, cancellationToken: Ct).ResponseAsync,
            StatusCode.FailedPrecondition, ResultStatus.LateReading);
    }
}
