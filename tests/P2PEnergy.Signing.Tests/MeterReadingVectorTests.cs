namespace P2PEnergy.Signing.Tests;

using System.Numerics;
using System.Text.Json;
using P2PEnergy.Ethereum;

/// <summary>Meter readings agree byte for byte with ethers v6 (vectors/signing-vectors.json, "meterReadingVectors", from vectors/generate.mjs).</summary>
public sealed class MeterReadingVectorTests
{
    private static readonly JsonElement Root = Load();

    private static JsonElement Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "vectors", "signing-vectors.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static TheoryData<int> Vectors()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < Root.GetProperty("meterReadingVectors").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Fact]
    public void There_are_vectors_for_every_domain()
    {
        var domains = Root.GetProperty("meterReadingVectors").EnumerateArray()
            .Select(v => v.GetProperty("domain").GetProperty("verifyingContract").GetString()).Distinct().Count();
        Assert.Equal(Root.GetProperty("domainSeparators").GetArrayLength(), domains);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Digest_and_signature_match_ethers(int index)
    {
        var v = Root.GetProperty("meterReadingVectors")[index];
        Assert.Equal("MeterReading", v.GetProperty("primaryType").GetString());
        var d = v.GetProperty("domain");
        var domain = new MarketDomain(ulong.Parse(d.GetProperty("chainId").GetString()!), Address.Parse(d.GetProperty("verifyingContract").GetString()!));
        var key = EthKey.FromHex(v.GetProperty("privateKey").GetString()!);
        var m = v.GetProperty("message");
        ulong U(string name) => ulong.Parse(m.GetProperty(name).GetString()!);
        var reading = new MeterReadingMessage(m.GetProperty("meter").GetString()!, m.GetProperty("participant").GetString()!, U("slot"), U("importWh"), U("exportWh"));

        var digest = MeterReadingSigning.Digest(domain, reading);
        var signature = key.Sign(domain, reading);

        Assert.Equal(v.GetProperty("structHash").GetString(), Hex.Encode(MeterReadingSigning.HashStruct(reading)));
        Assert.Equal(v.GetProperty("digest").GetString(), Hex.Encode(digest));
        Assert.Equal(v.GetProperty("signature").GetString(), Hex.Encode(signature));
        // The hand-rolled encoding agrees with the general EIP-712 encoder of the Ethereum layer.
        var generic = new Dictionary<string, object?>
        {
            ["meter"] = Address.Parse(reading.Meter), ["participant"] = Address.Parse(reading.Participant), ["slot"] = new BigInteger(reading.Slot),
            ["importWh"] = new BigInteger(reading.ImportWh), ["exportWh"] = new BigInteger(reading.ExportWh),
        };
        Assert.Equal(digest, Eip712.Hash(domain.ToEip712(), MeterReadingSigning.Types, "MeterReading", generic));
        // The meter's key signed it: its address is the reading's meter.
        Assert.Equal(key.Address, Address.Parse(reading.Meter));
        Assert.True(MeterReadingSigning.IsSignedByMeter(domain, reading, Hex.Decode(v.GetProperty("signature").GetString()!)));
    }
}
