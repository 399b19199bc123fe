namespace P2PEnergy.Signing.Tests;

using P2PEnergy.Ethereum;

public sealed class MeterReadingSigningTests
{
    private static readonly MarketDomain Dev = new(MarketDomain.DevChainId, Address.Zero);
    private static readonly MarketDomain OtherLedger = new(MarketDomain.DevChainId, Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"));
    private static readonly EthKey Meter = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy test: meter"));
    private static readonly EthKey Alice = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy test: alice"));
    private static readonly EthKey Mallory = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy test: mallory"));

    private static MeterReadingMessage Reading() => new(Meter.Address.ToString(), Alice.Address.ToString(), 989_569, 350, 1_200);

    [Fact]
    public void Type_string_is_what_EIP712_encodes_from_the_type()
    {
        Assert.Equal(MeterReadingSigning.MeterReadingType, Eip712.EncodeType(MeterReadingSigning.Types, "MeterReading"));
    }

    [Fact]
    public void Sign_then_check_gives_the_meter()
    {
        var reading = Reading();
        var signature = Meter.Sign(Dev, reading);

        Assert.Equal(MarketSigning.SignatureLength, signature.Length);
        Assert.True(MarketSigning.TryRecoverSigner(MeterReadingSigning.Digest(Dev, reading), signature, out var signer));
        Assert.Equal(Meter.Address, signer);
        Assert.True(MeterReadingSigning.IsSignedByMeter(Dev, reading, signature));
        Assert.True(MeterReadingSigning.IsSignedByMeter(Dev, reading, signature, new SignatureVerifier()));
        Assert.Equal(signature, Meter.Sign(Dev, reading)); // deterministic
    }

    [Fact]
    public void A_reading_signed_by_another_key_is_not_the_meters()
    {
        var reading = Reading();
        var verifier = new SignatureVerifier();
        Assert.True(MeterReadingSigning.IsSignedByMeter(Dev, reading, Meter.Sign(Dev, reading), verifier)); // remembers the meter's key
        // The participant's own key cannot stand in for its meter, nor can anyone else's.
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, Alice.Sign(Dev, reading), verifier));
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, Mallory.Sign(Dev, reading), verifier));
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, Mallory.Sign(Dev, reading)));
    }

    public static TheoryData<string> Changes => new() { "participant", "slot", "importWh", "exportWh", "domain" };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Every_member_and_the_domain_are_signed(string change)
    {
        var reading = Reading();
        var signature = Meter.Sign(Dev, reading);
        var (changed, domain) = change switch
        {
            "participant" => (reading with { Participant = Mallory.Address.ToString() }, Dev),
            "slot" => (reading with { Slot = reading.Slot + 1 }, Dev),
            "importWh" => (reading with { ImportWh = reading.ImportWh + 1 }, Dev),
            "exportWh" => (reading with { ExportWh = reading.ExportWh - 1 }, Dev),
            _ => (reading, OtherLedger),
        };
        Assert.NotEqual(MeterReadingSigning.Digest(Dev, reading), MeterReadingSigning.Digest(domain, changed));
        Assert.False(MeterReadingSigning.IsSignedByMeter(domain, changed, signature));
    }

    [Fact]
    public void Address_case_does_not_change_the_digest()
    {
        var reading = Reading();
        var upper = reading with { Meter = "0x" + reading.Meter[2..].ToUpperInvariant(), Participant = "0X" + reading.Participant[2..].ToUpperInvariant() };
        Assert.Equal(MeterReadingSigning.Digest(Dev, reading), MeterReadingSigning.Digest(Dev, upper));
    }

    [Fact]
    public void Malformed_signatures_and_addresses_are_refused()
    {
        var reading = Reading();
        var signature = Meter.Sign(Dev, reading);
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, signature[..64]));
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, []));
        var badV = (byte[])signature.Clone();
        badV[64] = 29;
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading, badV));
        Assert.False(MeterReadingSigning.IsSignedByMeter(Dev, reading with { Meter = "0x1234" }, signature));
        Assert.Throws<FormatException>(() => MeterReadingSigning.Digest(Dev, reading with { Participant = "alice" }));
    }
}
