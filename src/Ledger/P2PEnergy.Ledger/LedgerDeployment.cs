using System.Text.Json;
using System.Text.Json.Serialization;

namespace P2PEnergy.Ledger;

/// <summary>
/// Where the ledger lives: written by the deploy command, read by the exchange, the recorder and the
/// auditors. JSON with checksummed addresses and 0x-hex hashes.
/// </summary>
public sealed record LedgerDeployment
{
    public required ulong ChainId { get; init; }

    public required Address Ledger { get; init; }

    public required Address Admin { get; init; }

    public required Address Operator { get; init; }

    /// <summary>The block that holds the deployment: event scans start here.</summary>
    public required ulong DeployBlock { get; init; }

    public required string TransactionHash { get; init; }

    public required DateTimeOffset DeployedAt { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new AddressJsonConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static LedgerDeployment FromJson(string json) =>
        JsonSerializer.Deserialize<LedgerDeployment>(json, JsonOptions) ?? throw new FormatException("The deployment file holds null.");

    public static LedgerDeployment Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes the file atomically (temporary file, then rename) so that a reader never sees half of it.</summary>
    public void Save(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(temporary, ToJson() + "\n");
        File.Move(temporary, full, overwrite: true);
    }

    private sealed class AddressJsonConverter : JsonConverter<Address>
    {
        public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Address.Parse(reader.GetString() ?? throw new JsonException("An address must be a string."));

        public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
