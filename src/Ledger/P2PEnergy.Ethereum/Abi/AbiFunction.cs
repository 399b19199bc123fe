namespace P2PEnergy.Ethereum;

/// <summary>
/// A contract function: canonical signature, 4-byte selector (first bytes of keccak256 of the
/// signature), call-data encoding and return-data decoding.
/// </summary>
public sealed class AbiFunction
{
    private readonly byte[] _selector;

    /// <summary>
    /// <paramref name="declaration"/> is "name(types)" such as "transfer(address,uint256)"; parameter names
    /// are allowed and ignored. <paramref name="outputs"/> lists the return types, e.g. "(bool)" or "bool".
    /// </summary>
    public AbiFunction(string declaration, string? outputs = null)
    {
        var (name, parameters) = AbiTypeParser.ParseDeclaration(declaration, allowNames: true);
        if (parameters.Any(p => p.Indexed))
        {
            throw new FormatException($"Function '{declaration}' cannot have indexed parameters.");
        }
        Name = name;
        Inputs = parameters.Select(p => p.Type).ToArray();
        Outputs = outputs is null ? [] : ParseOutputs(outputs);
        Signature = name + new AbiTupleType(Inputs).CanonicalName;
        _selector = ComputeSelector(Signature);
    }

    public string Name { get; }

    /// <summary>Canonical signature, e.g. "transfer(address,uint256)".</summary>
    public string Signature { get; }

    public IReadOnlyList<AbiType> Inputs { get; }

    public IReadOnlyList<AbiType> Outputs { get; }

    public byte[] Selector => (byte[])_selector.Clone();

    /// <summary>First four bytes of keccak256 of a canonical signature.</summary>
    public static byte[] ComputeSelector(string canonicalSignature) => Keccak.Hash256Utf8(canonicalSignature)[..4];

    public byte[] EncodeCall(params object?[] arguments) => [.. _selector, .. Abi.Encode(Inputs, arguments)];

    /// <summary>Decodes call data, checking that it starts with this function's selector.</summary>
    public object?[] DecodeCall(ReadOnlySpan<byte> callData)
    {
        if (callData.Length < 4 || !callData[..4].SequenceEqual(_selector))
        {
            throw new AbiDecodingException($"Call data does not start with the selector of {Signature} ({Hex.Encode(_selector)}).");
        }
        return Abi.Decode(Inputs, callData[4..]);
    }

    public object?[] DecodeOutput(ReadOnlySpan<byte> returnData) => Abi.Decode(Outputs, returnData);

    public override string ToString() => Signature;

    private static IReadOnlyList<AbiType> ParseOutputs(string outputs)
    {
        var trimmed = outputs.Trim();
        if (trimmed.StartsWith('(') && !trimmed.EndsWith(']'))
        {
            // A parenthesised list, as after "returns" in Solidity; names are allowed and ignored.
            return AbiTypeParser.ParseDeclaration("returns" + trimmed, allowNames: true).Parameters.Select(p => p.Type).ToArray();
        }
        return [AbiType.Parse(trimmed)];
    }
}
