using System.Globalization;
using System.Text;

namespace P2PEnergy.Ethereum;

/// <summary>
/// EIP-191 version 0x45 ("personal_sign"): keccak256("\x19Ethereum Signed Message:\n" + decimal length + message).
/// </summary>
public static class PersonalMessage
{
    public static byte[] Hash(ReadOnlySpan<byte> message)
    {
        var prefix = Encoding.UTF8.GetBytes("\u0019Ethereum Signed Message:\n" + message.Length.ToString(CultureInfo.InvariantCulture));
        return Keccak.Hash256Concat(prefix, message.ToArray());
    }

    /// <summary>Hash of the UTF-8 bytes of <paramref name="message"/>.</summary>
    public static byte[] Hash(string message) => Hash(Encoding.UTF8.GetBytes(message));

    public static EcdsaSignature Sign(EthKey key, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Sign(Hash(message));
    }

    public static Address RecoverSigner(ReadOnlySpan<byte> message, EcdsaSignature signature) =>
        EthKey.RecoverAddress(Hash(message), signature);
}
