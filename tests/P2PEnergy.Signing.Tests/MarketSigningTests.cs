namespace P2PEnergy.Signing.Tests;

using System.Numerics;
using System.Text.Json;
using P2PEnergy.Ethereum;

public sealed class MarketSigningTests
{
    private static readonly MarketDomain Dev = new(MarketDomain.DevChainId, Address.Zero);
    private static readonly EthKey Alice = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy test: alice"));
    private static readonly EthKey Mallory = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy test: mallory"));

    private static OrderMessage Sell() =>
        new(Alice.Address.ToString(), 1, OrderCodes.Sell, 989_569, 1_200, 1_500, 0, OrderCodes.Renewable);

    [Fact]
    public void Type_strings_are_what_EIP712_encodes_from_the_types()
    {
        Assert.Equal(MarketSigning.OrderType, Eip712.EncodeType(MarketSigning.Types, "Order"));
        Assert.Equal(MarketSigning.CancelOrderType, Eip712.EncodeType(MarketSigning.Types, "CancelOrder"));
        Assert.Equal(MarketSigning.ReduceOrderType, Eip712.EncodeType(MarketSigning.Types, "ReduceOrder"));
    }

    [Fact]
    public void Sign_then_recover_gives_the_signer()
    {
        var order = Sell();
        var signature = Alice.Sign(Dev, order);

        Assert.Equal(65, signature.Length);
        Assert.Contains(signature[64], new byte[] { 27, 28 });
        var digest = MarketSigning.Digest(Dev, order);
        Assert.True(MarketSigning.TryRecoverSigner(digest, signature, out var signer));
        Assert.Equal(Alice.Address, signer);
        Assert.True(MarketSigning.IsSignedBy(digest, signature, Alice.Address));
        Assert.False(MarketSigning.IsSignedBy(digest, signature, Mallory.Address));
        Assert.Equal(signature, Alice.Sign(Dev, order)); // deterministic
    }

    public static TheoryData<string, Func<OrderMessage, OrderMessage>> Changes => new()
    {
        { "participant", o => o with { Participant = Mallory.Address.ToString() } },
        { "client order id", o => o with { ClientOrderId = 2 } },
        { "side", o => o with { Side = OrderCodes.Buy } },
        { "slot", o => o with { Slot = o.Slot + 1 } },
        { "energy", o => o with { EnergyWh = 1_300 } },
        { "price", o => o with { LimitPriceTicks = 1_501 } },
        { "product", o => o with { Product = OrderCodes.Green } },
        { "source", o => o with { Source = OrderCodes.Mixed } },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_changed_field_changes_the_digest_and_the_recovered_signer(string field, Func<OrderMessage, OrderMessage> change)
    {
        var order = Sell();
        var signature = Alice.Sign(Dev, order);
        var changed = change(order);
        var digest = MarketSigning.Digest(Dev, changed);

        Assert.NotEqual(MarketSigning.Digest(Dev, order), digest);
        Assert.True(!MarketSigning.TryRecoverSigner(digest, signature, out var signer) || signer != Alice.Address, field);
        Assert.False(MarketSigning.IsSignedBy(digest, signature, Alice.Address), field);
    }

    [Fact]
    public void Another_domain_is_another_digest()
    {
        var order = Sell();
        var digest = MarketSigning.Digest(Dev, order);
        Assert.NotEqual(digest, MarketSigning.Digest(new MarketDomain(1, Address.Zero), order));
        Assert.NotEqual(digest, MarketSigning.Digest(new MarketDomain(MarketDomain.DevChainId, Alice.Address), order));
        Assert.False(MarketSigning.IsSignedBy(MarketSigning.Digest(new MarketDomain(1, Address.Zero), order), Alice.Sign(Dev, order), Alice.Address));
    }

    [Fact]
    public void Cancel_and_reduce_are_signed_and_differ_from_each_other()
    {
        var cancel = new CancelOrderMessage(Alice.Address.ToString(), 7);
        var reduce = new ReduceOrderMessage(Alice.Address.ToString(), 7, 0);
        var cancelDigest = MarketSigning.Digest(Dev, cancel);
        Assert.NotEqual(cancelDigest, MarketSigning.Digest(Dev, reduce));
        Assert.True(MarketSigning.IsSignedBy(cancelDigest, Alice.Sign(Dev, cancel), Alice.Address));
        Assert.False(MarketSigning.IsSignedBy(MarketSigning.Digest(Dev, cancel with { OrderId = 8 }), Alice.Sign(Dev, cancel), Alice.Address));
        Assert.True(MarketSigning.IsSignedBy(MarketSigning.Digest(Dev, reduce), Alice.Sign(Dev, reduce), Alice.Address));
    }

    [Fact]
    public void Participant_is_read_in_any_case()
    {
        var lower = Sell() with { Participant = Alice.Address.ToLowerHex() };
        var upper = Sell() with { Participant = "0X" + Alice.Address.ToLowerHex()[2..].ToUpperInvariant() };
        Assert.Equal(MarketSigning.Digest(Dev, Sell()), MarketSigning.Digest(Dev, lower));
        Assert.Equal(MarketSigning.Digest(Dev, Sell()), MarketSigning.Digest(Dev, upper));
        Assert.Throws<FormatException>(() => MarketSigning.Digest(Dev, Sell() with { Participant = "0x12" }));
    }

    [Fact]
    public void Malformed_signatures_recover_nobody()
    {
        var digest = MarketSigning.Digest(Dev, Sell());
        var good = Alice.Sign(Dev, Sell());

        Assert.False(MarketSigning.TryRecoverSigner(digest, good.AsSpan(0, 64), out _));
        Assert.False(MarketSigning.TryRecoverSigner(digest, new byte[65], out _)); // r = s = 0
        var v1 = (byte[])good.Clone();
        v1[64] -= 27; // v = 0/1: not the 27/28 form
        Assert.False(MarketSigning.TryRecoverSigner(digest, v1, out _));

        // The high-s twin of a valid signature (n - s, other parity) recovers the same key: refused (EIP-2).
        var sig = EcdsaSignature.FromBytes65(good);
        var n = BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber);
        var twin = new EcdsaSignature(sig.R, n - sig.S, (byte)(1 - sig.YParity));
        Assert.Equal(Alice.Address, EthKey.RecoverAddress(digest, twin));
        Assert.False(MarketSigning.TryRecoverSigner(digest, twin.ToBytes65(), out _));
    }

    [Fact]
    public void Order_message_round_trips_through_json()
    {
        var order = Sell() with { ClientOrderId = ulong.MaxValue };
        var json = JsonSerializer.Serialize(order);
        var back = JsonSerializer.Deserialize<OrderMessage>(json);
        Assert.Equal(order, back);
        Assert.Equal(MarketSigning.Digest(Dev, order), MarketSigning.Digest(Dev, back!));
    }
}
