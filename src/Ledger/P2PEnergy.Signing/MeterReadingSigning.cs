using System.Buffers.Binary;
using P2PEnergy.Ethereum;

namespace P2PEnergy.Signing;

/// <summary>
/// What a meter signs for one slot: EIP-712
/// <c>MeterReading(address meter,address participant,uint64 slot,uint64 importWh,uint64 exportWh)</c>, in the
/// market's domain (<see cref="MarketDomain"/>), so that a reading is valid for one market on one chain only.
/// </summary>
/// <remarks>
/// The meter is its own secp256k1 key (never the participant's): the operator binds it to one participant.
/// Import and export are the Wh that flowed from and to the grid during the slot. The wire carries slot and
/// energy as int64; they are signed as the uint64 with the same bits (a negative value, which the exchange
/// refuses anyway, signs as a huge one).
/// </remarks>
/// <param name="Meter">The meter's address, "0x" + 40 hex digits (any case; hashed as the 20 bytes).</param>
/// <param name="Participant">The participant the meter is bound to, "0x" + 40 hex digits.</param>
/// <param name="Slot">Slot index = delivery start in unix seconds / slot length.</param>
/// <param name="ImportWh">Wh taken from the grid in the slot.</param>
/// <param name="ExportWh">Wh fed into the grid in the slot.</param>
public sealed record MeterReadingMessage(string Meter, string Participant, ulong Slot, ulong ImportWh, ulong ExportWh);

/// <summary>EIP-712 digest, signature and check of <see cref="MeterReadingMessage"/> (same signature rules as <see cref="MarketSigning"/>).</summary>
public static class MeterReadingSigning
{
    public const string MeterReadingType = "MeterReading(address meter,address participant,uint64 slot,uint64 importWh,uint64 exportWh)";

    /// <summary>The EIP-712 type (without EIP712Domain), for wallets and for <see cref="Eip712.Hash"/>.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<Eip712Field>> Types { get; } = new Dictionary<string, IReadOnlyList<Eip712Field>>
    {
        ["MeterReading"] =
        [
            new("meter", "address"),
            new("participant", "address"),
            new("slot", "uint64"),
            new("importWh", "uint64"),
            new("exportWh", "uint64"),
        ],
    };

    private static readonly byte[] MeterReadingTypeHash = Keccak.Hash256Utf8(MeterReadingType);

    /// <summary>hashStruct(MeterReading): keccak256(typeHash || the five members, one 32-byte word each).</summary>
    public static byte[] HashStruct(MeterReadingMessage reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        Span<byte> words = stackalloc byte[6 * 32];
        words.Clear();
        MeterReadingTypeHash.CopyTo(words);
        WriteAddress(words[32..64], reading.Meter, "meter");
        WriteAddress(words[64..96], reading.Participant, "participant");
        BinaryPrimitives.WriteUInt64BigEndian(words[(96 + 24)..128], reading.Slot);
        BinaryPrimitives.WriteUInt64BigEndian(words[(128 + 24)..160], reading.ImportWh);
        BinaryPrimitives.WriteUInt64BigEndian(words[(160 + 24)..192], reading.ExportWh);
        return Keccak.Hash256(words);
    }

    /// <summary>keccak256(0x19 0x01 || domainSeparator || hashStruct(reading)): what the meter signs.</summary>
    public static byte[] Digest(MarketDomain domain, MeterReadingMessage reading)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var structHash = HashStruct(reading);
        Span<byte> buffer = stackalloc byte[2 + 32 + 32];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        domain.SeparatorSpan.CopyTo(buffer[2..34]);
        structHash.CopyTo(buffer[34..]);
        return Keccak.Hash256(buffer);
    }

    /// <summary>The meter's signature: 65 bytes r || s || v, v = 27 or 28, low s (deterministic, RFC 6979).</summary>
    public static byte[] Sign(this EthKey meterKey, MarketDomain domain, MeterReadingMessage reading) =>
        MarketSigning.SignDigest(meterKey, Digest(domain, reading));

    /// <summary>
    /// True when <paramref name="signature"/> was made by the key of <paramref name="reading"/>'s meter over
    /// the reading's digest in <paramref name="domain"/>. A <paramref name="verifier"/> remembers meters' public
    /// keys (faster from the second reading on); without one the key is recovered each time.
    /// </summary>
    public static bool IsSignedByMeter(MarketDomain domain, MeterReadingMessage reading, ReadOnlySpan<byte> signature, SignatureVerifier? verifier = null)
    {
        ArgumentNullException.ThrowIfNull(reading);
        if (!MarketSigning.TryParseAddress(reading.Meter, out var meter)) return false;
        var digest = Digest(domain, reading);
        return verifier is null ? MarketSigning.IsSignedBy(digest, signature, meter) : verifier.IsSignedBy(digest, signature, meter);
    }

    private static void WriteAddress(Span<byte> word, string text, string member)
    {
        if (!MarketSigning.TryParseAddress(text, out var address))
        {
            throw new FormatException($"{member} {(text is null ? "null" : $"\"{text}\"")} is not 0x and 40 hex digits");
        }
        address.WriteTo(word[12..]);
    }
}
