using System.Collections;
using System.Numerics;
using System.Text;

namespace P2PEnergy.Ethereum;

/// <summary>One member of an EIP-712 struct type, e.g. ("wallet", "address") or ("to", "Person[]").</summary>
public sealed record Eip712Field(string Name, string Type);

/// <summary>
/// The EIP-712 domain. Only the members that are set take part in the EIP712Domain type,
/// in the order the EIP lists them: name, version, chainId, verifyingContract, salt.
/// </summary>
public sealed record Eip712Domain
{
    public string? Name { get; init; }

    public string? Version { get; init; }

    public BigInteger? ChainId { get; init; }

    public Address? VerifyingContract { get; init; }

    public byte[]? Salt { get; init; }

    internal (IReadOnlyList<Eip712Field> Fields, Dictionary<string, object?> Values) Describe()
    {
        var fields = new List<Eip712Field>();
        var values = new Dictionary<string, object?>();
        if (Name is not null)
        {
            fields.Add(new("name", "string"));
            values["name"] = Name;
        }
        if (Version is not null)
        {
            fields.Add(new("version", "string"));
            values["version"] = Version;
        }
        if (ChainId is { } chainId)
        {
            fields.Add(new("chainId", "uint256"));
            values["chainId"] = chainId;
        }
        if (VerifyingContract is { } contract)
        {
            fields.Add(new("verifyingContract", "address"));
            values["verifyingContract"] = contract;
        }
        if (Salt is not null)
        {
            fields.Add(new("salt", "bytes32"));
            values["salt"] = Salt;
        }
        return (fields, values);
    }
}

/// <summary>
/// EIP-712 typed structured data hashing: hash = keccak256(0x19 0x01 || domainSeparator || hashStruct(message)).
/// Struct values are dictionaries from member name to value; arrays are lists; atomic values
/// follow <see cref="Abi"/> (BigInteger or integers, Address, bool, byte[], string).
/// </summary>
public static class Eip712
{
    public const string DomainTypeName = "EIP712Domain";

    /// <summary>The full typed-data hash that gets signed.</summary>
    public static byte[] Hash(
        Eip712Domain domain,
        IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types,
        string primaryType,
        IReadOnlyDictionary<string, object?> message)
    {
        var domainSeparator = HashDomain(domain);
        var structHash = HashStruct(types, primaryType, message);
        return Keccak.Hash256Concat([0x19, 0x01], domainSeparator, structHash);
    }

    /// <summary>hashStruct(EIP712Domain) for the domain's present members.</summary>
    public static byte[] HashDomain(Eip712Domain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var (fields, values) = domain.Describe();
        var types = new Dictionary<string, IReadOnlyList<Eip712Field>> { [DomainTypeName] = fields };
        return HashStruct(types, DomainTypeName, values);
    }

    /// <summary>
    /// "Name(type1 name1,...)" followed by every struct type it references (transitively),
    /// sorted by name, as the EIP's encodeType specifies.
    /// </summary>
    public static string EncodeType(IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types, string primaryType)
    {
        ArgumentNullException.ThrowIfNull(types);
        var dependencies = new SortedSet<string>(StringComparer.Ordinal);
        CollectDependencies(types, primaryType, dependencies);
        dependencies.Remove(primaryType);
        var builder = new StringBuilder();
        foreach (var name in new[] { primaryType }.Concat(dependencies))
        {
            builder.Append(name).Append('(');
            builder.AppendJoin(',', types[name].Select(f => f.Type + " " + f.Name));
            builder.Append(')');
        }
        return builder.ToString();
    }

    public static byte[] HashType(IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types, string primaryType) =>
        Keccak.Hash256Utf8(EncodeType(types, primaryType));

    /// <summary>keccak256(typeHash || encodeData(value)).</summary>
    public static byte[] HashStruct(
        IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types,
        string primaryType,
        IReadOnlyDictionary<string, object?> value)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(value);
        if (!types.TryGetValue(primaryType, out var fields))
        {
            throw new ArgumentException($"EIP-712 type '{primaryType}' is not defined.", nameof(primaryType));
        }
        var parts = new List<byte[]> { HashType(types, primaryType) };
        foreach (var field in fields)
        {
            if (!value.TryGetValue(field.Name, out var member))
            {
                throw new ArgumentException($"EIP-712 value of type {primaryType} has no member '{field.Name}'.", nameof(value));
            }
            parts.Add(EncodeField(types, field.Type, member, $"{primaryType}.{field.Name}"));
        }
        return Keccak.Hash256Concat(parts.ToArray());
    }

    // encodeData of one member: always 32 bytes.
    private static byte[] EncodeField(
        IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types, string type, object? value, string path)
    {
        if (type.EndsWith(']'))
        {
            // Arrays (fixed or dynamic): keccak256 of the concatenated encodeData of the elements.
            int open = type.LastIndexOf('[');
            var elementType = type[..open];
            var lengthText = type[(open + 1)..^1];
            if (value is not IList list || value is byte[])
            {
                throw new ArgumentException($"{path}: {type} needs a list value.");
            }
            if (lengthText.Length > 0 && int.Parse(lengthText, System.Globalization.CultureInfo.InvariantCulture) != list.Count)
            {
                throw new ArgumentException($"{path}: {type} needs {lengthText} elements, got {list.Count}.");
            }
            var elements = new byte[list.Count][];
            for (int i = 0; i < list.Count; i++)
            {
                elements[i] = EncodeField(types, elementType, list[i], $"{path}[{i}]");
            }
            return Keccak.Hash256Concat(elements);
        }
        if (types.ContainsKey(type))
        {
            var members = value as IReadOnlyDictionary<string, object?>
                ?? throw new ArgumentException($"{path}: struct {type} needs a dictionary value.");
            return HashStruct(types, type, members);
        }
        switch (type)
        {
            case "string":
                return Keccak.Hash256Utf8(value as string ?? throw new ArgumentException($"{path}: string needs a string value."));
            case "bytes":
                return Keccak.Hash256(value as byte[] ?? throw new ArgumentException($"{path}: bytes needs a byte[] value."));
        }
        AbiType atomic;
        try
        {
            atomic = AbiType.Parse(type);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{path}: '{type}' is neither a defined struct nor an atomic type.", e);
        }
        if (atomic is not AbiWordType word)
        {
            throw new ArgumentException($"{path}: type '{type}' is not allowed in EIP-712.");
        }
        return Abi.EncodeWord(word, value);
    }

    private static void CollectDependencies(
        IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> types, string type, SortedSet<string> found)
    {
        int bracket = type.IndexOf('[');
        var baseType = bracket < 0 ? type : type[..bracket];
        if (!types.TryGetValue(baseType, out var fields) || !found.Add(baseType))
        {
            return;
        }
        foreach (var field in fields)
        {
            CollectDependencies(types, field.Type, found);
        }
    }
}
