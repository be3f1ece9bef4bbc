namespace AkkaMigration.Worker;

/// <summary>
/// The job's computation and its in-memory state. Deterministic from its inputs, so a test can
/// compute the same state checksum independently and prove the memory survived a migration.
/// </summary>
public sealed class Workload
{
    public const int TickMillis = 100;

    /// <summary>
    /// The state lives in blocks: one array holds at most about 2 GB, and 2048 MB overflowed a 32-bit
    /// size. The generator and the checksum run on across blocks, so any size gives the same figures
    /// as one contiguous array would.
    /// </summary>
    private const int BlockBytes = 64 * 1024 * 1024;

    private readonly byte[][] _state;

    public Workload(long number, int workMillis, int stateMb)
    {
        Number = number;
        TotalTicks = Math.Max(1, workMillis / TickMillis);
        _state = NewState(number, stateMb);
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
    public static ulong ExpectedChecksum(long number, int stateMb) => Checksum(NewState(number, stateMb));

    private static byte[][] NewState(long number, int stateMb)
    {
        var total = (long)stateMb * 1024 * 1024;
        var blocks = new byte[(int)((total + BlockBytes - 1) / BlockBytes)][];
        var x = Seed(number);
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new byte[(int)Math.Min(BlockBytes, total - (long)i * BlockBytes)];
            x = Fill(blocks[i], x);
        }
        return blocks;
    }

    private static ulong Seed(long number) => unchecked((ulong)number * 0x9E3779B97F4A7C15UL) | 1UL;

    // xorshift64*: fast, and its output does not compress, like a real heap full of data.
    /// <returns>The generator's state, for the next block to go on from.</returns>
    private static ulong Fill(Span<byte> buffer, ulong x)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer);
        for (var i = 0; i < words.Length; i++)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            words[i] = unchecked(x * 0x2545F4914F6CDD1DUL);
        }
        return x;
    }

    private static ulong Checksum(byte[][] blocks)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var block in blocks)
        {
            foreach (var word in System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(block))
            {
                hash = unchecked((hash ^ word) * 0x100000001B3UL);
            }
        }
        return hash;
    }
}
