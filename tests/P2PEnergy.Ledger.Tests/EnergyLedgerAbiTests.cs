using System.Numerics;
using System.Text.Json;
using P2PEnergy.Ledger.Tests.Infrastructure;

namespace P2PEnergy.Ledger.Tests;

public sealed class EnergyLedgerAbiTests
{
    [Fact]
    public void The_embedded_abi_is_the_compiled_artifacts()
    {
        var root = HardhatNode.FindRepoRoot();
        HardhatNode.EnsureContractsBuilt(root);
        var artifact = EnergyLedgerArtifact.Load(Path.Combine(root, EnergyLedgerArtifact.RelativePath));
        static string Canonical(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement);
        var embedded = typeof(EnergyLedgerContract).Assembly.GetManifestResourceStream("P2PEnergy.Ledger.EnergyLedger.abi.json")!;
        Assert.True(
            Canonical(artifact.AbiJson) == Canonical(new StreamReader(embedded).ReadToEnd()),
            "src/Ledger/P2PEnergy.Ledger/EnergyLedger.abi.json differs from the compiled artifact's abi: copy the artifact's \"abi\" member there.");
        Assert.NotEmpty(artifact.Bytecode);
    }

    [Fact]
    public void Bindings_carry_the_contracts_signatures()
    {
        Assert.Equal("recordLots(bytes)", EnergyLedgerContract.RecordLotsFunction.Signature);
        Assert.Equal("commitOrderRoot(uint64,bytes32,uint32)", EnergyLedgerContract.CommitOrderRootFunction.Signature);
        Assert.Equal("isRecorded(uint64)", EnergyLedgerContract.IsRecordedFunction.Signature);
        Assert.Equal(["bool"], EnergyLedgerContract.IsRecordedFunction.Outputs.Select(t => t.CanonicalName));
        Assert.Equal(["uint64"], EnergyLedgerContract.LotCountFunction.Outputs.Select(t => t.CanonicalName));
        Assert.Equal(
            Keccak.Hash256Utf8("LotRecorded(uint64,address,address,bytes32)"),
            EnergyLedgerContract.LotRecordedEvent.Topic0);
        Assert.Equal(
            [true, true, true, false],
            EnergyLedgerContract.LotRecordedEvent.Parameters.Select(p => p.Indexed));
        Assert.Equal(["address", "address"], EnergyLedgerContract.Abi.ConstructorInputs.Select(t => t.CanonicalName));
        Assert.Equal(30, EnergyLedgerContract.Abi.Errors.Count());
    }

    private static byte[] Revert(string signature, params object?[] args) => new AbiFunction(signature).EncodeCall(args);

    [Fact]
    public void Decodes_every_custom_error()
    {
        var who = Address.Parse("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
        Assert.Equal(new LedgerError.LotAlreadyRecorded(5), LedgerError.Decode(Revert("LotAlreadyRecorded(uint64)", 5UL)));
        Assert.Equal(new LedgerError.NotOperator(who), LedgerError.Decode(Revert("NotOperator(address)", who)));
        Assert.Equal(new LedgerError.NotAdmin(who), LedgerError.Decode(Revert("NotAdmin(address)", who)));
        Assert.Equal(new LedgerError.ZeroAddress(), LedgerError.Decode(Revert("ZeroAddress()")));
        Assert.Equal(new LedgerError.EmptyBatch(), LedgerError.Decode(Revert("EmptyBatch()")));
        Assert.Equal(new LedgerError.MalformedBatch(76), LedgerError.Decode(Revert("MalformedBatch(uint256)", 76)));
        Assert.Equal(new LedgerError.BatchTooLarge(1001, 1000), LedgerError.Decode(Revert("BatchTooLarge(uint256,uint256)", 1001, 1000)));
        Assert.Equal(new LedgerError.InvalidLot(4, "seller is buyer"), LedgerError.Decode(Revert("InvalidLot(uint64,string)", 4UL, "seller is buyer")));
        Assert.Equal(new LedgerError.OrderRootAlreadyCommitted(9), LedgerError.Decode(Revert("OrderRootAlreadyCommitted(uint64)", 9UL)));
        Assert.Equal(new LedgerError.InvalidOrderRoot(9), LedgerError.Decode(Revert("InvalidOrderRoot(uint64)", 9UL)));
        Assert.Equal(new LedgerError.SettlementInProgress(7), LedgerError.Decode(Revert("SettlementInProgress(uint64)", 7UL)));
        Assert.Equal(new LedgerError.SettlementNotBegun(7), LedgerError.Decode(Revert("SettlementNotBegun(uint64)", 7UL)));
        Assert.Equal(new LedgerError.WrongPhase(7, 2), LedgerError.Decode(Revert("WrongPhase(uint64,uint8)", 7UL, (byte)2)));
        Assert.Equal(new LedgerError.PageOutOfOrder(7, 400, 0), LedgerError.Decode(Revert("PageOutOfOrder(uint64,uint32,uint32)", 7UL, 400U, 0U)));
        Assert.Equal(new LedgerError.PartiesMissing(7, 3), LedgerError.Decode(Revert("PartiesMissing(uint64,uint32)", 7UL, 3U)));
        Assert.Equal(new LedgerError.ClearingShort(1234), LedgerError.Decode(Revert("ClearingShort(uint256)", 1234)));
    }

    [Fact]
    public void Other_revert_data_is_kept_not_lost()
    {
        Assert.Equal(new LedgerError.RevertedWithReason("reverted: nope"), LedgerError.Decode(Revert("Error(string)", "nope")));
        var unknown = LedgerError.Decode(Revert("SomethingElse(uint256)", BigInteger.One));
        Assert.IsType<LedgerError.UnknownRevert>(unknown);
        // A known selector with a malformed body is unknown, not a crash.
        Assert.IsType<LedgerError.UnknownRevert>(LedgerError.Decode(Revert("LotAlreadyRecorded(uint64)", 5UL)[..10]));
    }
}
