using System.Text.Json;

namespace P2PEnergy.Ledger;

/// <summary>
/// A compiled contract's ABI (the "abi" array of a Hardhat artifact or a solc --abi file) turned into
/// the Ethereum layer's <see cref="AbiFunction"/>, <see cref="AbiEvent"/> and custom errors.
/// </summary>
public sealed class ContractAbi
{
    private readonly Dictionary<string, AbiFunction> _functions;
    private readonly Dictionary<string, AbiEvent> _events;
    private readonly Dictionary<string, AbiFunction> _errors;

    private ContractAbi(
        Dictionary<string, AbiFunction> functions, Dictionary<string, AbiEvent> events, Dictionary<string, AbiFunction> errors, IReadOnlyList<AbiType> constructorInputs)
    {
        _functions = functions;
        _events = events;
        _errors = errors;
        ConstructorInputs = constructorInputs;
    }

    public IReadOnlyList<AbiType> ConstructorInputs { get; }

    public IEnumerable<AbiFunction> Functions => _functions.Values;

    public IEnumerable<AbiEvent> Events => _events.Values;

    /// <summary>Custom errors; an error's revert data is encoded like a call of a function of the same signature.</summary>
    public IEnumerable<AbiFunction> Errors => _errors.Values;

    /// <summary>Parses the ABI JSON array.</summary>
    public static ContractAbi Parse(string abiJson)
    {
        using var document = JsonDocument.Parse(abiJson);
        return Parse(document.RootElement);
    }

    public static ContractAbi Parse(JsonElement abi)
    {
        if (abi.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("A contract ABI is a JSON array.");
        }
        var functions = new Dictionary<string, AbiFunction>(StringComparer.Ordinal);
        var events = new Dictionary<string, AbiEvent>(StringComparer.Ordinal);
        var errors = new Dictionary<string, AbiFunction>(StringComparer.Ordinal);
        IReadOnlyList<AbiType> constructorInputs = [];
        foreach (var entry in abi.EnumerateArray())
        {
            string type = entry.TryGetProperty("type", out var t) ? t.GetString() ?? "function" : "function";
            string name = entry.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty;
            var inputs = Parameters(entry, "inputs");
            switch (type)
            {
                case "function":
                {
                    var outputs = Parameters(entry, "outputs");
                    var function = new AbiFunction(
                        name + "(" + string.Join(",", inputs.Select(p => p.Type)) + ")",
                        "(" + string.Join(",", outputs.Select(p => p.Type)) + ")");
                    functions[function.Signature] = function;
                    break;
                }
                case "event":
                {
                    bool anonymous = entry.TryGetProperty("anonymous", out var a) && a.ValueKind == JsonValueKind.True;
                    var e = new AbiEvent(name, inputs.Select(p => new AbiEventParameter(p.Name, AbiType.Parse(p.Type), p.Indexed)).ToArray(), anonymous);
                    events[e.Signature] = e;
                    break;
                }
                case "error":
                {
                    var error = new AbiFunction(name + "(" + string.Join(",", inputs.Select(p => p.Type)) + ")");
                    errors[error.Signature] = error;
                    break;
                }
                case "constructor":
                    constructorInputs = inputs.Select(p => AbiType.Parse(p.Type)).ToArray();
                    break;
            }
        }
        return new ContractAbi(functions, events, errors, constructorInputs);
    }

    /// <summary>The function with this canonical signature, e.g. "recordLots(bytes)"; throws when the ABI lacks it.</summary>
    public AbiFunction Function(string signature) =>
        _functions.TryGetValue(signature, out var f) ? f : throw new KeyNotFoundException($"The ABI has no function {signature}.");

    public AbiEvent Event(string signature) =>
        _events.TryGetValue(signature, out var e) ? e : throw new KeyNotFoundException($"The ABI has no event {signature}.");

    public AbiFunction Error(string signature) =>
        _errors.TryGetValue(signature, out var e) ? e : throw new KeyNotFoundException($"The ABI has no error {signature}.");

    /// <summary>The custom error whose selector starts <paramref name="revertData"/>, if any.</summary>
    public AbiFunction? FindError(ReadOnlySpan<byte> revertData)
    {
        if (revertData.Length < 4)
        {
            return null;
        }
        foreach (var error in _errors.Values)
        {
            if (revertData[..4].SequenceEqual(error.Selector))
            {
                return error;
            }
        }
        return null;
    }

    private sealed record Parameter(string? Name, string Type, bool Indexed);

    private static List<Parameter> Parameters(JsonElement entry, string member)
    {
        var result = new List<Parameter>();
        if (!entry.TryGetProperty(member, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return result;
        }
        foreach (var p in list.EnumerateArray())
        {
            string? name = p.TryGetProperty("name", out var n) ? n.GetString() : null;
            bool indexed = p.TryGetProperty("indexed", out var i) && i.ValueKind == JsonValueKind.True;
            result.Add(new Parameter(string.IsNullOrEmpty(name) ? null : name, CanonicalType(p), indexed));
        }
        return result;
    }

    // "tuple[]" with components (uint64 a, bytes b) -> "(uint64,bytes)[]"
    private static string CanonicalType(JsonElement parameter)
    {
        string type = parameter.GetProperty("type").GetString() ?? throw new FormatException("ABI parameter without a type.");
        if (!type.StartsWith("tuple", StringComparison.Ordinal))
        {
            return type;
        }
        var components = parameter.TryGetProperty("components", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.EnumerateArray().Select(CanonicalType)
            : [];
        return "(" + string.Join(",", components) + ")" + type["tuple".Length..];
    }
}
