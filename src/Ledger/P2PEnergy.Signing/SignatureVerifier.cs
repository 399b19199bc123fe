using System.Collections.Concurrent;
using System.Security.Cryptography;
using P2PEnergy.Ethereum;

namespace P2PEnergy.Signing;

/// <summary>
/// Checks that a signature was made by an expected address, remembering each signer's public key: the
/// first signature of an address is checked by recovering the key (as <see cref="MarketSigning.IsSignedBy"/>),
/// later ones by verifying against the remembered key, about twice as fast. The same rules either way:
/// 65 bytes r || s || v, v 27 or 28, low s. Thread-safe.
/// </summary>
public sealed class SignatureVerifier
{
    private readonly ConcurrentDictionary<Address, PublicKey> _keys = new();

    /// <param name="capacity">Signers remembered at most (then the slow path serves new ones).</param>
    public SignatureVerifier(int capacity = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Remembered => _keys.Count;

    public bool IsSignedBy(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, Address expected)
    {
        if (expected.IsZero || digest.Length != 32 || signature.Length != MarketSigning.SignatureLength || signature[64] is not (27 or 28)) return false;
        EcdsaSignature parsed;
        try
        {
            parsed = EcdsaSignature.FromBytes65(signature);
        }
        catch (ArgumentException)
        {
            return false;
        }
        if (!parsed.IsLowS) return false;
        if (_keys.TryGetValue(expected, out var key)) return key.Verify(digest, parsed);
        byte[] recovered;
        try
        {
            recovered = EthKey.RecoverPublicKey(digest, parsed);
        }
        catch (CryptographicException)
        {
            return false;
        }
        var publicKey = PublicKey.FromBytes64(recovered);
        if (publicKey.Address != expected) return false;
        if (_keys.Count < Capacity) _keys.TryAdd(expected, publicKey);
        return true;
    }
}
