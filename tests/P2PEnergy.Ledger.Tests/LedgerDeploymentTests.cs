namespace P2PEnergy.Ledger.Tests;

public sealed class LedgerDeploymentTests
{
    private static readonly LedgerDeployment Sample = new()
    {
        ChainId = 31337,
        Ledger = Address.Parse("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
        Admin = Address.Parse("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
        Operator = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        DeployBlock = 1,
        TransactionHash = "0x" + new string('a', 64),
        DeployedAt = new DateTimeOffset(2026, 4, 1, 9, 30, 0, TimeSpan.Zero),
    };

    [Fact]
    public void Round_trips_through_its_file()
    {
        var dir = Directory.CreateTempSubdirectory("ledger-deployment-");
        try
        {
            var path = Path.Combine(dir.FullName, "sub", "deployment.json");
            Sample.Save(path);
            Assert.Equal(Sample, LedgerDeployment.Load(path));
            var text = File.ReadAllText(path);
            Assert.Contains("\"ledger\": \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"", text); // checksummed
            Assert.Contains("\"chainId\": 31337", text);
            Assert.Single(dir.GetFiles("*", SearchOption.AllDirectories)); // no temporary file left behind
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Refuses_a_file_that_lacks_a_member_or_has_a_bad_address()
    {
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => LedgerDeployment.FromJson("{\"chainId\": 1}"));
        var bad = Sample.ToJson().Replace("0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x5fbdb2315678afecb367f032d93F642f64180aa3", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => LedgerDeployment.FromJson(bad)); // mixed case with a wrong checksum
    }
}
