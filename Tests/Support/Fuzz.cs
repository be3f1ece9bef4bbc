namespace AkkaMigration.Tests.Support;

/// <summary>
/// Seeded random cases. The seed is new each run unless FUZZ_SEED fixes it; a failing case
/// names its seed and number, so the run that found it can be replayed exactly.
/// </summary>
public static class Fuzz
{
    public static int Seed { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();

    /// <summary>Runs <paramref name="body"/> once per case, each with its own generator derived from the seed.</summary>
    public static void Cases(int count, Action<Random, int> body)
    {
        for (var i = 0; i < count; i++)
        {
            try
            {
                body(new Random(unchecked(Seed * 1_000_003 + i)), i);
            }
            catch (Exception e)
            {
                throw new CaseFailed($"fuzz case {i} failed; replay with FUZZ_SEED={Seed}: {e.Message}", e);
            }
        }
    }

    public static string HexId(Random rng) => Convert.ToHexStringLower(Bytes(rng, 16));

    public static byte[] Bytes(Random rng, int count)
    {
        var bytes = new byte[count];
        rng.NextBytes(bytes);
        return bytes;
    }

    public static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    /// <summary>The items in random order, some of them twice.</summary>
    public static List<T> ShuffledWithDuplicates<T>(Random rng, IReadOnlyList<T> items)
    {
        List<T> all = [.. items, .. items.Where(_ => rng.Next(3) == 0)];
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        return all;
    }

    public sealed class CaseFailed(string message, Exception inner) : Exception(message, inner);
}
