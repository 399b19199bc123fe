using System.Globalization;

namespace P2PEnergy.Ethereum;

/// <summary>
/// Recursive-descent parser for ABI type strings, and for parameter lists in
/// human-readable declarations ("Transfer(address indexed from, address indexed to, uint256 value)").
/// </summary>
internal sealed class AbiTypeParser
{
    private readonly string _text;
    private int _pos;

    private AbiTypeParser(string text)
    {
        _text = text;
    }

    internal sealed record Parameter(AbiType Type, string? Name, bool Indexed);

    internal static AbiType ParseType(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new AbiTypeParser(text);
        var type = parser.Type(allowNames: false);
        if (parser._pos != text.Length)
        {
            throw parser.Error("unexpected trailing characters");
        }
        return type;
    }

    /// <summary>Parses "name(params)"; parameters may carry "indexed" and a name when <paramref name="allowNames"/>.</summary>
    internal static (string Name, IReadOnlyList<Parameter> Parameters) ParseDeclaration(string text, bool allowNames)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new AbiTypeParser(text);
        parser.SkipSpaces();
        var name = parser.Identifier();
        if (name.Length == 0 || char.IsDigit(name[0]))
        {
            throw parser.Error("expected a function or event name");
        }
        var parameters = parser.ParameterList(allowNames);
        parser.SkipSpaces();
        if (parser._pos != text.Length)
        {
            throw parser.Error("unexpected trailing characters");
        }
        return (name, parameters);
    }

    private List<Parameter> ParameterList(bool allowNames)
    {
        Expect('(');
        var result = new List<Parameter>();
        if (allowNames)
        {
            SkipSpaces();
        }
        if (Peek() == ')')
        {
            _pos++;
            return result;
        }
        while (true)
        {
            if (allowNames)
            {
                SkipSpaces();
            }
            var type = Type(allowNames);
            string? name = null;
            bool indexed = false;
            if (allowNames)
            {
                // Optional modifiers then an optional name, separated by spaces.
                while (Peek() == ' ')
                {
                    SkipSpaces();
                    var word = Identifier();
                    if (word.Length == 0)
                    {
                        break;
                    }
                    if (word == "indexed" && name is null)
                    {
                        indexed = true;
                    }
                    else if (word is "memory" or "calldata" && name is null)
                    {
                        // Data-location keywords carry no ABI meaning.
                    }
                    else if (name is null)
                    {
                        name = word;
                    }
                    else
                    {
                        throw Error($"unexpected word '{word}'");
                    }
                }
                SkipSpaces();
            }
            result.Add(new Parameter(type, name, indexed));
            char c = Peek();
            _pos++;
            if (c == ')')
            {
                return result;
            }
            if (c != ',')
            {
                _pos--;
                throw Error("expected ',' or ')'");
            }
        }
    }

    private AbiType Type(bool allowNames)
    {
        AbiType type;
        if (Peek() == '(' || _text.AsSpan(_pos).StartsWith("tuple("))
        {
            if (Peek() != '(')
            {
                _pos += "tuple".Length;
            }
            type = new AbiTupleType(ParameterList(allowNames).Select(p => p.Type).ToArray());
        }
        else
        {
            type = Elementary();
        }
        while (Peek() == '[')
        {
            _pos++;
            int start = _pos;
            while (char.IsAsciiDigit(Peek()))
            {
                _pos++;
            }
            var digits = _text[start.._pos];
            Expect(']');
            if (digits.Length == 0)
            {
                type = new AbiArrayType(type);
            }
            else
            {
                if (digits[0] == '0' || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int length))
                {
                    throw Error($"invalid fixed array length '{digits}'");
                }
                type = new AbiFixedArrayType(type, length);
            }
        }
        return type;
    }

    private AbiType Elementary()
    {
        int start = _pos;
        var word = Identifier();
        switch (word)
        {
            case "address":
                return AbiType.Address;
            case "bool":
                return AbiType.Bool;
            case "string":
                return AbiType.String;
            case "bytes":
                return AbiType.Bytes;
            case "uint":
                return new AbiUIntType(256);
            case "int":
                return new AbiIntType(256);
        }
        try
        {
            if (word.StartsWith("uint", StringComparison.Ordinal) && TryNumber(word, 4, out int ubits))
            {
                return new AbiUIntType(ubits);
            }
            if (word.StartsWith("int", StringComparison.Ordinal) && TryNumber(word, 3, out int ibits))
            {
                return new AbiIntType(ibits);
            }
            if (word.StartsWith("bytes", StringComparison.Ordinal) && TryNumber(word, 5, out int size))
            {
                return new AbiFixedBytesType(size);
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            _pos = start;
            throw Error($"'{word}': {e.Message.Split(" (Parameter")[0]}");
        }
        _pos = start;
        throw Error(word.Length == 0 ? "expected a type" : $"unknown type '{word}'");
    }

    private static bool TryNumber(string word, int offset, out int value)
    {
        var digits = word.AsSpan(offset);
        value = 0;
        return digits.Length > 0 && digits[0] != '0'
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private string Identifier()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_' || _text[_pos] == '$'))
        {
            _pos++;
        }
        return _text[start.._pos];
    }

    private void SkipSpaces()
    {
        while (Peek() == ' ')
        {
            _pos++;
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }
        _pos++;
    }

    private FormatException Error(string what) =>
        new($"Invalid ABI type '{_text}' at position {_pos}: {what}.");
}
