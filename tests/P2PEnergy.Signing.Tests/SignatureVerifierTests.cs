namespace P2PEnergy.Signing.Tests;

using P2PEnergy.Ethereum;

/// <summary>The verifier that remembers signers' keys must answer exactly as recovery does, on both paths.</summary>
public sealed class SignatureVerifierTests
{
    private static readonly EthKey Alice = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-test:alice"));
    private static readonly EthKey Mallory = EthKey.FromPrivateKey(Keccak.Hash256Utf8("p2penergy-test:mallory"));

    private static byte[] Digest(string text) => Keccak.Hash256Utf8(text);

    [Fact]
    public void First_signature_is_recovered_then_the_key_is_remembered_and_later_ones_verified()
    {
        var verifier = new SignatureVerifier();
        var d1 = Digest("order 1");
        var d2 = Digest("order 2");
        Assert.True(verifier.IsSignedBy(d1, MarketSigning.SignDigest(Alice, d1), Alice.Address));
        Assert.Equal(1, verifier.Remembered);
        // Fast path: a new signature of the remembered signer.
        Assert.True(verifier.IsSignedBy(d2, MarketSigning.SignDigest(Alice, d2), Alice.Address));
        // Fast path refusals: another key's signature, a signature over another digest, a flipped bit.
        Assert.False(verifier.IsSignedBy(d2, MarketSigning.SignDigest(Mallory, d2), Alice.Address));
        Assert.False(verifier.IsSignedBy(d1, MarketSigning.SignDigest(Alice, d2), Alice.Address));
        var flipped = MarketSigning.SignDigest(Alice, d2);
        flipped[10] ^= 1;
        Assert.False(verifier.IsSignedBy(d2, flipped, Alice.Address));
        Assert.Equal(1, verifier.Remembered);
    }

    [Fact]
    public void A_refused_signature_is_never_remembered()
    {
        var verifier = new SignatureVerifier();
        var d = Digest("forged");
        Assert.False(verifier.IsSignedBy(d, MarketSigning.SignDigest(Mallory, d), Alice.Address));
        Assert.Equal(0, verifier.Remembered);
        // Alice's own signature is still accepted afterwards.
        Assert.True(verifier.IsSignedBy(d, MarketSigning.SignDigest(Alice, d), Alice.Address));
    }

    [Fact]
    public void Same_rules_as_recovery_for_malformed_signatures()
    {
        var verifier = new SignatureVerifier();
        var d = Digest("rules");
        var good = MarketSigning.SignDigest(Alice, d);
        Assert.True(verifier.IsSignedBy(d, good, Alice.Address)); // now remembered: the fast path must keep the rules
        var badV = (byte[])good.Clone();
        badV[64] = 29;
        Assert.False(verifier.IsSignedBy(d, badV, Alice.Address));
        Assert.False(verifier.IsSignedBy(d, good.AsSpan(0, 64), Alice.Address));
        Assert.False(verifier.IsSignedBy(d, good, Address.Zero));
        // High s (n − s with v flipped) is the same point but refused, as OpenZeppelin ECDSA refuses it.
        var parsed = EcdsaSignature.FromBytes65(good);
        var n = System.Numerics.BigInteger.Parse("115792089237316195423570985008687907852837564279074904382605163141518161494337");
        var highS = new byte[65];
        Hex.WriteBigEndianPadded(parsed.R, highS.AsSpan(0, 32));
        Hex.WriteBigEndianPadded(n - parsed.S, highS.AsSpan(32, 32));
        highS[64] = (byte)(good[64] == 27 ? 28 : 27);
        Assert.False(MarketSigning.TryRecoverSigner(d, highS, out _));
        Assert.False(verifier.IsSignedBy(d, highS, Alice.Address));
    }

    [Fact]
    public void With_no_room_to_remember_it_still_answers_right()
    {
        var verifier = new SignatureVerifier(capacity: 0);
        var d = Digest("no cache");
        Assert.True(verifier.IsSignedBy(d, MarketSigning.SignDigest(Alice, d), Alice.Address));
        Assert.False(verifier.IsSignedBy(d, MarketSigning.SignDigest(Mallory, d), Alice.Address));
        Assert.Equal(0, verifier.Remembered);
    }
}
