namespace P2PEnergy.Agents;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014; Vigna's reference code): a small seeded generator written here
/// rather than System.Random, whose seeded sequence is an implementation detail that .NET does not promise to
/// keep. Same seed → same sequence on every runtime. Not for cryptography.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    public ulong NextUInt64()
    {
        unchecked
        {
            _state += 0x9E3779B97F4A7C15UL;
            return Finalize(_state);
        }
    }

    /// <summary>Uniform in [0, 1): the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>
    /// Standard normal by Box–Muller, one value per call (the second is discarded so a draw never depends on
    /// an earlier call's leftover).
    /// </summary>
    public double NextGaussian()
    {
        var u1 = 1.0 - NextDouble(); // (0, 1]: the log is finite
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    internal static ulong Finalize(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}

/// <summary>
/// Independent streams from one community seed: a stream is named by a label (e.g. a participant id and what
/// it draws) and a number (e.g. the local day), so what one participant draws never depends on how many
/// others there are or in which order they were simulated.
/// </summary>
public static class Seeds
{
    public static ulong Derive(ulong seed, string label, long number = 0)
    {
        unchecked
        {
            var h = SplitMix64.Finalize(seed ^ 0x6A09E667F3BCC909UL);
            h = SplitMix64.Finalize(h ^ Fnv1a(label));
            return SplitMix64.Finalize(h ^ (ulong)number);
        }
    }

    public static SplitMix64 Stream(ulong seed, string label, long number = 0) => new(Derive(seed, label, number));

    /// <summary>FNV-1a over the UTF-16 code units: a stable string hash (string.GetHashCode is randomised per process).</summary>
    private static ulong Fnv1a(string text)
    {
        unchecked
        {
            var h = 0xCBF29CE484222325UL;
            foreach (var c in text)
            {
                h = (h ^ (byte)c) * 0x100000001B3UL;
                h = (h ^ (byte)(c >> 8)) * 0x100000001B3UL;
            }
            return h;
        }
    }
}
