using System.Numerics;
using System.Text;
using static P2PEnergy.Ethereum.Tests.TestUtil;

namespace P2PEnergy.Ethereum.Tests;

/// <summary>Vectors published in the Ethereum specifications themselves.</summary>
public class SpecVectorTests
{
    // Keccak-256 of the empty string (well-known; also KECCAK_EMPTY in go-ethereum), which differs from SHA3-256("").
    [Fact]
    public void Keccak256_of_empty_input_is_the_published_value_not_sha3()
    {
        Assert.Equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", ToHex(Keccak.Hash256([])));
        Assert.NotEqual("0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", ToHex(Keccak.Hash256([])));
    }

    // keccak256(rlp([])) = the empty-ommers hash in every block header (yellow paper).
    [Fact]
    public void Keccak256_of_rlp_empty_list_is_the_empty_ommers_hash()
    {
        Assert.Equal(
            "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
            ToHex(Keccak.Hash256(Rlp.Encode(RlpItem.List()))));
    }

    // RLP examples from the Ethereum wiki / ethereum.org RLP page.
    public static TheoryData<string, string> RlpExamples()
    {
        var lorem = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";
        return new TheoryData<string, string>
        {
            { "dog", "0x83646f67" },
            { "", "0x80" },
            { lorem, "0xb838" + Convert.ToHexStringLower(Encoding.ASCII.GetBytes(lorem)) },
        };
    }

    [Theory]
    [MemberData(nameof(RlpExamples))]
    public void Rlp_strings_match_the_wiki(string text, string expected)
    {
        var item = RlpItem.Utf8(text);
        Assert.Equal(expected, ToHex(Rlp.Encode(item)));
        Assert.Equal(item, Rlp.Decode(H(expected)));
    }

    [Theory]
    [InlineData(0, "0x80")]
    [InlineData(15, "0x0f")]
    [InlineData(1024, "0x820400")]
    [InlineData(127, "0x7f")]
    [InlineData(128, "0x8180")]
    public void Rlp_integers_match_the_wiki(long value, string expected)
    {
        Assert.Equal(expected, ToHex(Rlp.Encode(RlpItem.Integer(value))));
        Assert.Equal(new BigInteger(value), Rlp.Decode(H(expected)).AsString().ToBigInteger());
    }

    [Fact]
    public void Rlp_lists_match_the_wiki()
    {
        var catDog = RlpItem.List(RlpItem.Utf8("cat"), RlpItem.Utf8("dog"));
        Assert.Equal("0xc88363617483646f67", ToHex(Rlp.Encode(catDog)));
        Assert.Equal("0xc0", ToHex(Rlp.Encode(RlpItem.List())));
        // The byte 0x00 is its own encoding.
        Assert.Equal("0x00", ToHex(Rlp.Encode(RlpItem.String([0x00]))));

        // Set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
        var empty = RlpItem.List();
        var three = RlpItem.List(empty, RlpItem.List(RlpItem.List()), RlpItem.List(RlpItem.List(), RlpItem.List(RlpItem.List())));
        Assert.Equal("0xc7c0c1c0c3c0c1c0", ToHex(Rlp.Encode(three)));
        Assert.Equal(three, Rlp.Decode(H("0xc7c0c1c0c3c0c1c0")));
        Assert.Equal(catDog, Rlp.Decode(H("0xc88363617483646f67")));
    }

    [Theory]
    [InlineData("0x8100", "single byte")]        // 0x00 must be encoded as itself
    [InlineData("0x817f", "single byte")]        // so must every byte below 0x80
    [InlineData("0xb80100", "short form")]       // a 1-byte payload must not use the long form
    [InlineData("0x83646f", "remain")]           // truncated
    [InlineData("0x83646f6700", "trailing")]     // extra input
    [InlineData("0xb900380000", "leading zero")] // length with leading zero
    public void Rlp_decoding_rejects_non_canonical_or_broken_input(string hex, string expectedFragment)
    {
        var error = Assert.Throws<RlpException>(() => Rlp.Decode(H(hex)));
        Assert.Contains(expectedFragment, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    // EIP-155, "Example": private key 0x4646...46, nonce 9, gas price 20 gwei, gas 21000, to 0x3535...35,
    // value 10^18, chain id 1.
    [Fact]
    public void Eip155_example_signs_to_the_published_raw_transaction()
    {
        var tx = new LegacyTransaction
        {
            Nonce = 9,
            GasPrice = 20_000_000_000,
            GasLimit = 21000,
            To = Address.Parse("0x3535353535353535353535353535353535353535"),
            Value = BigInteger.Pow(10, 18),
            ChainId = 1,
        };
        Assert.Equal(
            "0xec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080",
            ToHex(tx.GetSigningPayload()));
        Assert.Equal("0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53", ToHex(tx.GetSigningHash()));

        var key = EthKey.FromHex("0x4646464646464646464646464646464646464646464646464646464646464646");
        var signed = tx.Sign(key);
        Assert.Equal(
            BigInteger.Parse("18515461264373351373200002665853028612451056578545711640558177340181847433846"), signed.Signature.R);
        Assert.Equal(
            BigInteger.Parse("46948507304638947509940763649030358759909902576025900602547168820602576006531"), signed.Signature.S);
        Assert.Equal(
            "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83",
            signed.RawHex);

        var decoded = SignedTransaction.Decode(signed.RawHex);
        var legacy = Assert.IsType<LegacyTransaction>(decoded.Transaction);
        Assert.Equal(1UL, legacy.ChainId);
        Assert.Equal(9UL, legacy.Nonce);
        Assert.Equal(key.Address, decoded.RecoverSender());
        Assert.Equal(signed.Hash, decoded.Hash);
    }

    // EIP-55, "Test Cases" (all caps, all lower, normal).
    [Theory]
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")]
    [InlineData("0x8617E340B3D01FA5F11F306F4090FD50E238070D")]
    [InlineData("0xde709f2102306220921060314715629080e2fb77")]
    [InlineData("0x27b1fdb04752bbc536007a920d24acb045561c26")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    public void Eip55_examples_round_trip_through_parse_and_format(string checksummed)
    {
        var address = Address.Parse(checksummed);
        Assert.Equal(checksummed, address.ToString());
        Assert.Equal(address, Address.Parse(checksummed.ToLowerInvariant()));
        Assert.Equal(address, Address.Parse("0x" + checksummed[2..].ToUpperInvariant()));
    }

    [Fact]
    public void Eip55_rejects_a_mixed_case_address_with_a_wrong_checksum()
    {
        // One letter of the EIP's "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" flipped to lower case.
        var error = Assert.Throws<FormatException>(() => Address.Parse("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        Assert.False(Address.TryParse("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", out _));
    }

    // Solidity ABI spec, "Examples".
    [Fact]
    public void Abi_spec_example_baz()
    {
        var baz = new AbiFunction("baz(uint32,bool)");
        Assert.Equal("0xcdcd77c0", ToHex(baz.Selector));
        Assert.Equal(
            "0xcdcd77c0"
            + "0000000000000000000000000000000000000000000000000000000000000045"
            + "0000000000000000000000000000000000000000000000000000000000000001",
            ToHex(baz.EncodeCall(69, true)));
    }

    [Fact]
    public void Abi_spec_example_bar_fixed_array_of_bytes3()
    {
        var bar = new AbiFunction("bar(bytes3[2])");
        Assert.Equal("0xfce353f6", ToHex(bar.Selector));
        var call = bar.EncodeCall(new object[] { new object[] { "abc"u8.ToArray(), "def"u8.ToArray() } });
        Assert.Equal(
            "0xfce353f6"
            + "6162630000000000000000000000000000000000000000000000000000000000"
            + "6465660000000000000000000000000000000000000000000000000000000000",
            ToHex(call));
    }

    [Fact]
    public void Abi_spec_example_sam_with_dynamic_members()
    {
        var sam = new AbiFunction("sam(bytes,bool,uint256[])");
        const string expected = "0xa5643bf2"
            + "0000000000000000000000000000000000000000000000000000000000000060"
            + "0000000000000000000000000000000000000000000000000000000000000001"
            + "00000000000000000000000000000000000000000000000000000000000000a0"
            + "0000000000000000000000000000000000000000000000000000000000000004"
            + "6461766500000000000000000000000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000003"
            + "0000000000000000000000000000000000000000000000000000000000000001"
            + "0000000000000000000000000000000000000000000000000000000000000002"
            + "0000000000000000000000000000000000000000000000000000000000000003";
        Assert.Equal(expected, ToHex(sam.EncodeCall("dave"u8.ToArray(), true, new object[] { 1, 2, 3 })));
        var decoded = sam.DecodeCall(H(expected));
        AssertAbiEqual(new object[] { "dave"u8.ToArray(), true, new object[] { 1, 2, 3 } }, decoded);
    }

    [Fact]
    public void Abi_spec_example_f_with_mixed_static_and_dynamic()
    {
        var f = new AbiFunction("f(uint256,uint32[],bytes10,bytes)");
        const string expected = "0x8be65246"
            + "0000000000000000000000000000000000000000000000000000000000000123"
            + "0000000000000000000000000000000000000000000000000000000000000080"
            + "3132333435363738393000000000000000000000000000000000000000000000"
            + "00000000000000000000000000000000000000000000000000000000000000e0"
            + "0000000000000000000000000000000000000000000000000000000000000002"
            + "0000000000000000000000000000000000000000000000000000000000000456"
            + "0000000000000000000000000000000000000000000000000000000000000789"
            + "000000000000000000000000000000000000000000000000000000000000000d"
            + "48656c6c6f2c20776f726c642100000000000000000000000000000000000000";
        var args = new object[] { 0x123, new object[] { 0x456, 0x789 }, "1234567890"u8.ToArray(), "Hello, world!"u8.ToArray() };
        Assert.Equal(expected, ToHex(f.EncodeCall(args)));
        AssertAbiEqual(args, f.DecodeCall(H(expected)));
    }

    [Fact]
    public void Erc20_transfer_selector_and_transfer_topic_are_the_well_known_values()
    {
        Assert.Equal("0xa9059cbb", ToHex(AbiFunction.ComputeSelector("transfer(address,uint256)")));
        Assert.Equal(
            "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
            ToHex(AbiEvent.Parse("Transfer(address indexed from, address indexed to, uint256 value)").Topic0));
    }

    // EIP-712, "Test cases": the Ether Mail example (hashes as given in the EIP's Example.js).
    [Fact]
    public void Eip712_mail_example_matches_the_eip()
    {
        var types = new Dictionary<string, IReadOnlyList<Eip712Field>>
        {
            ["Person"] = [new("name", "string"), new("wallet", "address")],
            ["Mail"] = [new("from", "Person"), new("to", "Person"), new("contents", "string")],
        };
        var domain = new Eip712Domain
        {
            Name = "Ether Mail",
            Version = "1",
            ChainId = 1,
            VerifyingContract = Address.Parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"),
        };
        var message = new Dictionary<string, object?>
        {
            ["from"] = new Dictionary<string, object?> { ["name"] = "Cow", ["wallet"] = Address.Parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826") },
            ["to"] = new Dictionary<string, object?> { ["name"] = "Bob", ["wallet"] = Address.Parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB") },
            ["contents"] = "Hello, Bob!",
        };
        Assert.Equal("Mail(Person from,Person to,string contents)Person(string name,address wallet)", Eip712.EncodeType(types, "Mail"));
        Assert.Equal("0xa0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2", ToHex(Eip712.HashType(types, "Mail")));
        Assert.Equal("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", ToHex(Eip712.HashDomain(domain)));
        Assert.Equal("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e", ToHex(Eip712.HashStruct(types, "Mail", message)));
        Assert.Equal("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2", ToHex(Eip712.Hash(domain, types, "Mail", message)));

        // The EIP signs with the private key keccak256("cow"); the signer is the "from" wallet.
        var cow = EthKey.FromPrivateKey(Keccak.Hash256Utf8("cow"));
        Assert.Equal(Address.Parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"), cow.Address);
        var signature = cow.Sign(Eip712.Hash(domain, types, "Mail", message));
        Assert.Equal(28, signature.V);
        Assert.Equal("0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d", ToHex(Hex.ToMinimalBigEndian(signature.R)));
        Assert.Equal("0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562", ToHex(Hex.ToMinimalBigEndian(signature.S)));
    }

    // EIP-712 encodeType: referenced struct types follow the primary type sorted by name, each once.
    [Fact]
    public void Eip712_encode_type_orders_dependencies_by_name()
    {
        var types = new Dictionary<string, IReadOnlyList<Eip712Field>>
        {
            ["Transaction"] = [new("to", "Zeta[]"), new("from", "Alpha"), new("asset", "Mid")],
            ["Zeta"] = [new("a", "Alpha")],
            ["Alpha"] = [new("x", "uint256")],
            ["Mid"] = [new("z", "Zeta"), new("b", "bytes")],
        };
        Assert.Equal(
            "Transaction(Zeta[] to,Alpha from,Mid asset)Alpha(uint256 x)Mid(Zeta z,bytes b)Zeta(Alpha a)",
            Eip712.EncodeType(types, "Transaction"));
    }
}
