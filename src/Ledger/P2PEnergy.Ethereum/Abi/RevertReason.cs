using System.Numerics;

namespace P2PEnergy.Ethereum;

/// <summary>Reads the two built-in revert payloads: Error(string) and Panic(uint256).</summary>
public static class RevertReason
{
    private static readonly AbiFunction ErrorString = new("Error(string)");
    private static readonly AbiFunction Panic = new("Panic(uint256)");

    /// <summary>
    /// "reverted: &lt;message&gt;" for Error(string), "panic: 0x&lt;code&gt;" for Panic(uint256);
    /// false for anything else (custom errors or empty data).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> revertData, out string reason)
    {
        reason = string.Empty;
        if (revertData.Length < 4)
        {
            return false;
        }
        try
        {
            if (revertData[..4].SequenceEqual(ErrorString.Selector))
            {
                reason = "reverted: " + (string)ErrorString.DecodeCall(revertData)[0]!;
                return true;
            }
            if (revertData[..4].SequenceEqual(Panic.Selector))
            {
                reason = "panic: " + Hex.EncodeQuantity((BigInteger)Panic.DecodeCall(revertData)[0]!);
                return true;
            }
        }
        catch (AbiDecodingException)
        {
            return false;
        }
        return false;
    }
}
