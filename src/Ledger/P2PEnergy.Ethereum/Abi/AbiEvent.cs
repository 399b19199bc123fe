namespace P2PEnergy.Ethereum;

public sealed record AbiEventParameter(string? Name, AbiType Type, bool Indexed);

/// <summary>
/// A contract event. topic0 is keccak256 of the canonical signature (unless anonymous); indexed
/// parameters follow as topics, the others are ABI-encoded in the log data.
/// </summary>
public sealed class AbiEvent
{
    private readonly byte[] _topic0;

    public AbiEvent(string name, IReadOnlyList<AbiEventParameter> parameters, bool anonymous = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(parameters);
        Name = name;
        Parameters = parameters.ToArray();
        Anonymous = anonymous;
        int maxIndexed = anonymous ? 4 : 3;
        if (Parameters.Count(p => p.Indexed) > maxIndexed)
        {
            throw new ArgumentException($"An event can have at most {maxIndexed} indexed parameters.", nameof(parameters));
        }
        Signature = name + new AbiTupleType(Parameters.Select(p => p.Type).ToArray()).CanonicalName;
        _topic0 = Keccak.Hash256Utf8(Signature);
    }

    /// <summary>Parses a human-readable declaration: "Transfer(address indexed from, address indexed to, uint256 value)".</summary>
    public static AbiEvent Parse(string declaration, bool anonymous = false)
    {
        var (name, parameters) = AbiTypeParser.ParseDeclaration(declaration, allowNames: true);
        return new AbiEvent(name, parameters.Select(p => new AbiEventParameter(p.Name, p.Type, p.Indexed)).ToArray(), anonymous);
    }

    public string Name { get; }

    public IReadOnlyList<AbiEventParameter> Parameters { get; }

    public bool Anonymous { get; }

    /// <summary>Canonical signature, e.g. "Transfer(address,address,uint256)".</summary>
    public string Signature { get; }

    /// <summary>keccak256 of the canonical signature; the first topic of a non-anonymous event's logs.</summary>
    public byte[] Topic0 => (byte[])_topic0.Clone();

    public static byte[] ComputeTopic0(string canonicalSignature) => Keccak.Hash256Utf8(canonicalSignature);

    /// <summary>
    /// The topic under which an indexed value appears: the 32-byte encoding for value types,
    /// keccak256 of the raw bytes for string and bytes. Use it to build log filters.
    /// </summary>
    public static byte[] EncodeTopic(AbiType type, object? value) => type switch
    {
        AbiWordType word => Abi.EncodeWord(word, value),
        AbiStringType => Keccak.Hash256Utf8(value as string ?? throw new ArgumentException("A string topic needs a string value.", nameof(value))),
        AbiBytesType => Keccak.Hash256(value as byte[] ?? throw new ArgumentException("A bytes topic needs a byte[] value.", nameof(value))),
        _ => throw new NotSupportedException($"Topics of type {type} (arrays and tuples) are not supported."),
    };

    /// <summary>
    /// Decodes a log into values in declaration order. Indexed value types are decoded from their topic;
    /// indexed string, bytes, arrays and tuples only exist as a hash and come back as the 32-byte topic.
    /// </summary>
    public object?[] DecodeLog(IReadOnlyList<byte[]> topics, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(topics);
        int topicIndex = 0;
        if (!Anonymous)
        {
            if (topics.Count == 0 || !topics[0].AsSpan().SequenceEqual(_topic0))
            {
                throw new AbiDecodingException($"Log topic0 does not match event {Signature}.");
            }
            topicIndex = 1;
        }
        int indexedCount = Parameters.Count(p => p.Indexed);
        if (topics.Count != topicIndex + indexedCount)
        {
            throw new AbiDecodingException($"Event {Signature} expects {topicIndex + indexedCount} topics, the log has {topics.Count}.");
        }
        var dataTypes = Parameters.Where(p => !p.Indexed).Select(p => p.Type).ToArray();
        var dataValues = Abi.Decode(dataTypes, data);
        var result = new object?[Parameters.Count];
        int dataIndex = 0;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var parameter = Parameters[i];
            if (!parameter.Indexed)
            {
                result[i] = dataValues[dataIndex++];
                continue;
            }
            var topic = topics[topicIndex++];
            if (topic is null || topic.Length != 32)
            {
                throw new AbiDecodingException($"Topic for parameter {i} of {Signature} is not 32 bytes.");
            }
            result[i] = parameter.Type is AbiWordType word ? Abi.DecodeWord(word, topic) : topic.ToArray();
        }
        return result;
    }

    public override string ToString() => Signature;
}
