namespace AkkaMigration.Worker;

/// <summary>
/// The job's computation and its in-memory state. Deterministic from its inputs, so a test can
/// compute the same state checksum independently and prove the memory survived a migration.
/// </summary>
public sealed class Workload
{
    public const int TickMillis = 100;

    private readonly byte[] _state;

    public Workload(long number, int workMillis, int stateMb)
    {
        Number = number;
        TotalTicks = Math.Max(1, workMillis / TickMillis);
        _state = new byte[checked(stateMb * 1024 * 1024)];
        Fill(_state, Seed(number));
        InitialChecksum = Checksum(_state);
    }

    public long Number { get; }
    public int TotalTicks { get; }
    public int TicksDone { get; private set; }
    public ulong InitialChecksum { get; }
    public bool Finished => TicksDone >= TotalTicks;

    /// <summary>One unit of work; progress lives only in this process's memory.</summary>
    public void Tick()
    {
        Thread.Sleep(TickMillis);
        TicksDone++;
    }

    public long Result => checked(Number + 1);

    public ulong CurrentChecksum() => Checksum(_state);

    /// <summary>The checksum a fresh workload with these inputs starts from.</summary>
    public static ulong ExpectedChecksum(long number, int stateMb)
    {
        var state = new byte[checked(stateMb * 1024 * 1024)];
        Fill(state, Seed(number));
        return Checksum(state);
    }

    private static ulong Seed(long number) => unchecked((ulong)number * 0x9E3779B97F4A7C15UL) | 1UL;

    // xorshift64*: fast, and its output does not compress, like a real heap full of data.
    private static void Fill(Span<byte> buffer, ulong seed)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer);
        var x = seed;
        for (var i = 0; i < words.Length; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            words[i] = unchecked(x * 0x2545F4914F6CDD1DUL);
        }
    }

    private static ulong Checksum(ReadOnlySpan<byte> buffer)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer);
        var hash = 0xCBF29CE484222325UL;
        foreach (var word in words)
        {
            hash = unchecked((hash ^ word) * 0x100000001B3UL);
        }
        return hash;
    }
}
