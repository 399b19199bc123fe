using System.Numerics;
using static P2PEnergy.Ethereum.Tests.TestUtil;

namespace P2PEnergy.Ethereum.Tests;

public class HexTests
{
    [Theory]
    [InlineData("0x", 0)]
    [InlineData("0x00ff", 2)]
    [InlineData("0xABcd", 2)]
    public void Decode_accepts_prefixed_even_hex(string hex, int length) => Assert.Equal(length, Hex.Decode(hex).Length);

    [Theory]
    [InlineData("00ff", "prefix")]
    [InlineData("0x0ff", "odd")]
    [InlineData("0x0g", "non-hex")]
    public void Decode_rejects_with_a_clear_message(string hex, string fragment)
    {
        var error = Assert.Throws<FormatException>(() => Hex.Decode(hex));
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0x0")]
    [InlineData(1, "0x1")]
    [InlineData(1024, "0x400")]
    [InlineData(255, "0xff")]
    public void Quantities_have_no_leading_zeros(long value, string expected)
    {
        Assert.Equal(expected, Hex.EncodeQuantity(value));
        Assert.Equal(expected, Hex.EncodeQuantity((ulong)value));
        Assert.Equal(new BigInteger(value), Hex.DecodeQuantity(expected));
    }

    [Theory]
    [InlineData("0x", "no digits")]
    [InlineData("0x0400", "leading zeros")]
    [InlineData("400", "prefix")]
    [InlineData("0x4g", "non-hex")]
    [InlineData("-0x1", "prefix")]
    public void Quantity_parsing_is_strict(string text, string fragment)
    {
        var error = Assert.Throws<FormatException>(() => Hex.DecodeQuantity(text));
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UInt64_quantity_rejects_overflow()
    {
        Assert.Equal(ulong.MaxValue, Hex.DecodeQuantityUInt64("0xffffffffffffffff"));
        Assert.Throws<FormatException>(() => Hex.DecodeQuantityUInt64("0x10000000000000000"));
    }
}

public class AddressAndKeyTests
{
    [Fact]
    public void Default_address_is_zero_and_equality_is_by_value()
    {
        Assert.True(default(Address).IsZero);
        Assert.Equal(Address.Zero, Address.Parse("0x0000000000000000000000000000000000000000"));
        var a = Address.Parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
        var b = new Address(a.ToBytes());
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, Address.Zero);
        Assert.Equal("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", a.ToLowerHex());
    }

    [Theory]
    [InlineData("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedaa")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ")]
    public void Malformed_addresses_are_rejected(string text)
    {
        Assert.Throws<FormatException>(() => Address.Parse(text));
        Assert.False(Address.TryParse(text, out _));
    }

    [Fact]
    public void Private_key_must_be_in_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EthKey.FromPrivateKey(new byte[32]));
        // The curve order n itself is not a valid key.
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            EthKey.FromHex("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
        Assert.Throws<ArgumentException>(() => EthKey.FromPrivateKey(new byte[31]));
    }

    [Fact]
    public void Key_one_has_the_generator_as_public_key()
    {
        // secp256k1 G (SEC 2, section 2.4.1).
        var key = EthKey.FromHex("0x0000000000000000000000000000000000000000000000000000000000000001");
        Assert.Equal(
            "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
            ToHex(key.PublicKey));
        Assert.Equal("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", key.Address.ToString());
        Assert.Equal(H("0x0000000000000000000000000000000000000000000000000000000000000001"), key.PrivateKeyBytes);
    }

    [Fact]
    public void Generated_keys_differ_and_sign_recoverably()
    {
        var a = EthKey.Generate();
        var b = EthKey.Generate();
        Assert.NotEqual(a.Address, b.Address);
        var hash = Keccak.Hash256Utf8("x");
        Assert.Equal(a.Address, EthKey.RecoverAddress(hash, a.Sign(hash)));
    }

    [Fact]
    public void Signature_components_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EcdsaSignature(0, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EcdsaSignature(1, 1, 2));
        var bytes = new byte[65];
        bytes[31] = 1;
        bytes[63] = 1;
        bytes[64] = 29;
        Assert.Throws<ArgumentException>(() => EcdsaSignature.FromBytes65(bytes));
    }
}

public class AbiTests
{
    [Theory]
    [InlineData("uint", "uint256")]
    [InlineData("int", "int256")]
    [InlineData("bytes32[]", "bytes32[]")]
    [InlineData("(uint64,address,bytes32)[]", "(uint64,address,bytes32)[]")]
    [InlineData("tuple(uint8,(string,bool[2])[])[3]", "(uint8,(string,bool[2])[])[3]")]
    [InlineData("()", "()")]
    public void Type_parser_produces_canonical_names(string text, string canonical) =>
        Assert.Equal(canonical, AbiType.Parse(text).CanonicalName);

    [Theory]
    [InlineData("uint7")]
    [InlineData("uint264")]
    [InlineData("uint08")]
    [InlineData("bytes33")]
    [InlineData("bytes0")]
    [InlineData("float")]
    [InlineData("(uint256")]
    [InlineData("uint256[")]
    [InlineData("uint256[0]")]
    [InlineData("(uint256,)")]
    [InlineData("uint256 ")]
    public void Type_parser_rejects_invalid_types(string text)
    {
        var error = Assert.Throws<FormatException>(() => AbiType.Parse(text));
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dynamic_and_static_types_are_classified_as_the_spec_says()
    {
        Assert.False(AbiType.Parse("(uint256,bytes32)[2]").IsDynamic);
        Assert.Equal(128, AbiType.Parse("(uint256,bytes32)[2]").HeadSize);
        Assert.True(AbiType.Parse("(uint256,string)").IsDynamic);
        Assert.True(AbiType.Parse("uint256[]").IsDynamic);
        Assert.True(AbiType.Parse("string[2]").IsDynamic);
        Assert.Equal(32, AbiType.Parse("string[2]").HeadSize);
    }

    [Fact]
    public void Values_out_of_range_for_their_width_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.EncodeValue(AbiType.UInt(8), 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.EncodeValue(AbiType.UInt(256), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.EncodeValue(AbiType.Int(8), 128));
        Assert.Throws<ArgumentOutOfRangeException>(() => Abi.EncodeValue(AbiType.Int(8), -129));
        Assert.Throws<ArgumentException>(() => Abi.EncodeValue(AbiType.FixedBytes(4), new byte[3]));
        Assert.Throws<ArgumentException>(() => Abi.EncodeValue(AbiType.Address, "0x00"));
        Assert.Throws<ArgumentException>(() => Abi.EncodeValue(AbiType.Parse("uint8[2]"), new object[] { 1 }));
    }

    [Fact]
    public void Negative_int8_is_sign_extended_to_32_bytes()
    {
        Assert.Equal("0x" + new string('f', 64), ToHex(Abi.EncodeValue(AbiType.Int(8), -1)));
        Assert.Equal("0x" + new string('f', 62) + "80", ToHex(Abi.EncodeValue(AbiType.Int(8), -128)));
    }

    [Fact]
    public void Decoding_is_strict_about_ranges_padding_and_bounds()
    {
        var types = AbiType.ParseList("uint8");
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(types, Abi.EncodeValue(AbiType.UInt(16), 256)));
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("bool"), Abi.EncodeValue(AbiType.UInt(8), 2)));
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("int8"), Abi.EncodeValue(AbiType.UInt(8), 255)));
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("address"), Abi.EncodeValue(AbiType.UInt(168), BigInteger.One << 160)));
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("uint256"), new byte[31]));

        // A string whose length claims more bytes than exist.
        var broken = Abi.Encode(AbiType.ParseList("string"), ["hello"]);
        broken[63] = 200;
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("string"), broken));

        // An array whose length would need more memory than the data holds.
        var huge = Abi.Encode(AbiType.ParseList("uint256[]"), [new object[] { 1 }]);
        huge[32] = 0x7f;
        Assert.Throws<AbiDecodingException>(() => Abi.Decode(AbiType.ParseList("uint256[]"), huge));
    }

    [Fact]
    public void Function_declarations_accept_names_and_give_canonical_signatures()
    {
        var function = new AbiFunction("recordLots((uint64 slot, address seller, bytes32 hash)[] lots, uint amount)", "(bool ok)");
        Assert.Equal("recordLots((uint64,address,bytes32)[],uint256)", function.Signature);
        Assert.Equal(AbiFunction.ComputeSelector("recordLots((uint64,address,bytes32)[],uint256)"), function.Selector);
        Assert.Equal([true], function.DecodeOutput(Abi.EncodeValue(AbiType.Bool, true)));
        var call = function.EncodeCall(new object[] { new object[] { 1, Address.Zero, new byte[32] } }, 5);
        AssertAbiEqual(new object[] { new object[] { new object[] { 1, Address.Zero, new byte[32] } }, 5 }, function.DecodeCall(call));
        call[0] ^= 1;
        Assert.Throws<AbiDecodingException>(() => function.DecodeCall(call));
    }

    [Fact]
    public void Event_log_decoding_checks_topic0_and_topic_count()
    {
        var transfer = AbiEvent.Parse("Transfer(address indexed from, address indexed to, uint256 value)");
        var from = Address.Parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        var topics = new[] { transfer.Topic0, AbiEvent.EncodeTopic(AbiType.Address, from), AbiEvent.EncodeTopic(AbiType.Address, Address.Zero) };
        var data = Abi.EncodeValue(AbiType.UInt(256), 7);
        AssertAbiEqual(new object[] { from, Address.Zero, 7 }, transfer.DecodeLog(topics, data));
        Assert.Throws<AbiDecodingException>(() => transfer.DecodeLog(topics[..2], data));
        Assert.Throws<AbiDecodingException>(() => transfer.DecodeLog([new byte[32], topics[1], topics[2]], data));
    }

    [Fact]
    public void Revert_reasons_are_decoded()
    {
        var error = new AbiFunction("Error(string)").EncodeCall("not enough energy");
        Assert.True(RevertReason.TryDecode(error, out var reason));
        Assert.Equal("reverted: not enough energy", reason);
        var panic = new AbiFunction("Panic(uint256)").EncodeCall(0x11);
        Assert.True(RevertReason.TryDecode(panic, out reason));
        Assert.Equal("panic: 0x11", reason);
        Assert.False(RevertReason.TryDecode(H("0x12345678"), out _));
    }
}

public class RlpTests
{
    [Fact]
    public void Hostile_nesting_is_rejected_instead_of_overflowing_the_stack()
    {
        // One level past the limit, built legitimately.
        RlpItem item = RlpItem.List();
        for (int i = 0; i < Rlp.MaxDepth; i++)
        {
            item = RlpItem.List(item);
        }
        var error = Assert.Throws<RlpException>(() => Rlp.Decode(Rlp.Encode(item)));
        Assert.Contains("nested deeper", error.Message, StringComparison.Ordinal);

        // 100 000 levels of well-formed nesting: must fail with RlpException, not crash the process.
        var deep = DeeplyNestedEmptyList(100_000);
        Assert.Equal(0xc0, deep[^1]);
        error = Assert.Throws<RlpException>(() => Rlp.Decode(deep));
        Assert.Contains("nested deeper", error.Message, StringComparison.Ordinal);
    }

    // Built by hand (the encoder would recurse as deep): sizes grow from the innermost [] outwards,
    // then list prefixes are written outermost first.
    private static byte[] DeeplyNestedEmptyList(int levels)
    {
        var sizes = new int[levels + 1];
        sizes[0] = 1;
        for (int i = 1; i <= levels; i++)
        {
            sizes[i] = sizes[i - 1] + ListPrefix(sizes[i - 1]).Length;
        }
        var output = new List<byte>(sizes[levels]);
        for (int i = levels; i >= 1; i--)
        {
            output.AddRange(ListPrefix(sizes[i - 1]));
        }
        output.Add(0xc0);
        return output.ToArray();
    }

    private static byte[] ListPrefix(int payload)
    {
        if (payload < 56)
        {
            return [(byte)(0xc0 + payload)];
        }
        var length = Hex.ToMinimalBigEndian(payload);
        return [(byte)(0xf7 + length.Length), .. length];
    }

    [Fact]
    public void Integers_with_leading_zero_bytes_are_not_canonical()
    {
        var item = Rlp.Decode(H("0x820001")).AsString();
        Assert.Throws<RlpException>(() => item.ToBigInteger());
        Assert.Equal(new BigInteger(256), Rlp.Decode(H("0x820100")).AsString().ToBigInteger());
        Assert.Throws<RlpException>(() => Rlp.Decode(H("0xc0")).AsString());
    }
}

public class TransactionTests
{
    [Fact]
    public void Decoding_rejects_unknown_types_and_high_s()
    {
        Assert.Throws<NotSupportedException>(() => SignedTransaction.Decode(H("0x01c0")));
        var key = EthKey.FromHex("0x4646464646464646464646464646464646464646464646464646464646464646");
        var tx = new Eip1559Transaction { ChainId = 1, MaxFeePerGas = 2, MaxPriorityFeePerGas = 1, GasLimit = 21000, To = Address.Zero };
        var signed = tx.Sign(key);
        var fields = ((RlpList)Rlp.Decode(signed.RawBytes.AsSpan(1))).Items.ToArray();
        var highS = Secp256k1.NValue - signed.Signature.S;
        fields[11] = RlpItem.Integer(highS);
        fields[9] = RlpItem.Integer(1 - signed.Signature.YParity);
        byte[] tampered = [0x02, .. Rlp.Encode(new RlpList(fields))];
        var error = Assert.Throws<RlpException>(() => SignedTransaction.Decode(tampered));
        Assert.Contains("high s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Priority_fee_above_max_fee_is_rejected()
    {
        var tx = new Eip1559Transaction { ChainId = 1, MaxFeePerGas = 1, MaxPriorityFeePerGas = 2, GasLimit = 21000 };
        Assert.Throws<InvalidOperationException>(() => tx.GetSigningHash());
    }

    [Fact]
    public void Contract_creation_has_an_empty_to_field()
    {
        var tx = new LegacyTransaction { ChainId = 31337, GasPrice = 1, GasLimit = 100000, Data = [0x60, 0x00] };
        var decoded = SignedTransaction.Decode(tx.Sign(EthKey.Generate()).RawBytes);
        Assert.Null(decoded.Transaction.To);
    }
}
