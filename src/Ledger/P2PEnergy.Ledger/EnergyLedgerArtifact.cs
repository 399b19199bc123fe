using System.Text.Json;

namespace P2PEnergy.Ledger;

/// <summary>The compiled contract as Hardhat writes it (contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json).</summary>
public sealed class EnergyLedgerArtifact
{
    /// <summary>Where the artifact lies below the repository root.</summary>
    public const string RelativePath = "contracts/artifacts/contracts/EnergyLedger.sol/EnergyLedger.json";

    private EnergyLedgerArtifact(string abiJson, byte[] bytecode, string path)
    {
        AbiJson = abiJson;
        Abi = ContractAbi.Parse(abiJson);
        Bytecode = bytecode;
        Path = path;
    }

    public string Path { get; }

    /// <summary>The "abi" member as JSON text.</summary>
    public string AbiJson { get; }

    public ContractAbi Abi { get; }

    /// <summary>Creation code (without constructor arguments).</summary>
    public byte[] Bytecode { get; }

    public static EnergyLedgerArtifact Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        if (root.TryGetProperty("contractName", out var name) && name.GetString() != "EnergyLedger")
        {
            throw new FormatException($"{path} is the artifact of {name.GetString()}, not EnergyLedger.");
        }
        var abi = root.GetProperty("abi").GetRawText();
        var bytecode = Hex.Decode(root.GetProperty("bytecode").GetString() ?? throw new FormatException($"{path} has no bytecode."));
        if (bytecode.Length == 0)
        {
            throw new FormatException($"{path} has empty bytecode (an interface or abstract contract?).");
        }
        return new EnergyLedgerArtifact(abi, bytecode, path);
    }

    /// <summary>The artifact below the first directory upwards from <paramref name="start"/> that holds it; null when none does.</summary>
    public static string? Find(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, RelativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
