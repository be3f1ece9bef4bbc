namespace AkkaMigration.Worker;

/// <summary>What the workload's state memory holds.</summary>
public enum StateKind
{
    /// <summary>Pseudo-random bytes that do not compress: the default, and every figure before it.</summary>
    Random,

    /// <summary>
    /// JSON-like text records, as a typical heap of strings and caches holds: deterministic, and it
    /// compresses (opt-in with <c>--state-kind text</c>, for the benchmark's compression part).
    /// </summary>
    Text,
}

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
        : this(number, workMillis, stateMb, StateKind.Random)
    {
    }

    public Workload(long number, int workMillis, int stateMb, StateKind kind)
    {
        Number = number;
        TotalTicks = Math.Max(1, workMillis / TickMillis);
        _state = kind == StateKind.Text ? NewTextState(number, stateMb) : NewState(number, stateMb);
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

    /// <summary>The checksum a fresh workload of this kind starts from.</summary>
    public static ulong ExpectedChecksum(long number, int stateMb, StateKind kind) =>
        Checksum(kind == StateKind.Text ? NewTextState(number, stateMb) : NewState(number, stateMb));

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

    private static byte[][] NewTextState(long number, int stateMb)
    {
        var total = (long)stateMb * 1024 * 1024;
        var blocks = new byte[(int)((total + BlockBytes - 1) / BlockBytes)][];
        var text = new TextRecords(Seed(number));
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new byte[(int)Math.Min(BlockBytes, total - (long)i * BlockBytes)];
            text.Fill(blocks[i]);
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

    /// <summary>
    /// One stream of newline-separated JSON records, cut across blocks where a block ends:
    /// <c>{"id":1,"user":"alice","city":"Lyon","status":"active","score":412,"ts":1700000003,"note":"..."}</c>.
    /// Sequential ids, clock-like timestamps and small vocabularies, with pseudo-random choices: about
    /// what a service's heap of records looks like to a compressor (zstd and gzip shrink it several times).
    /// </summary>
    private sealed class TextRecords(ulong x)
    {
        private static readonly byte[][] Users = Words("alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil");
        private static readonly byte[][] Cities = Words("Lyon Oslo Porto Kyoto Quito Lima Perth Turin Bergen Austin Dakar Hanoi Cork Graz Split Malmo");
        private static readonly byte[][] Statuses = Words("active idle suspended pending");
        private static readonly byte[][] Notes = Words("ok retry-scheduled cache-hit cache-miss timeout slow-disk rebalanced throttled");

        private readonly byte[] _record = new byte[512];
        private int _length;
        private int _taken;
        private long _id;
        private long _ts = 1_700_000_000;

        public void Fill(Span<byte> buffer)
        {
            while (!buffer.IsEmpty)
            {
                if (_taken == _length)
                {
                    Next();
                }
                var n = Math.Min(buffer.Length, _length - _taken);
                _record.AsSpan(_taken, n).CopyTo(buffer);
                _taken += n;
                buffer = buffer[n..];
            }
        }

        private void Next()
        {
            _id++;
            _ts += (long)(Random() % 5);
            _length = 0;
            _taken = 0;
            Append("{\"id\":"u8);
            Append(_id);
            Append(",\"user\":\""u8);
            Append(Users[Random() % (ulong)Users.Length]);
            Append("\",\"city\":\""u8);
            Append(Cities[Random() % (ulong)Cities.Length]);
            Append("\",\"status\":\""u8);
            Append(Statuses[Random() % (ulong)Statuses.Length]);
            Append("\",\"score\":"u8);
            Append((long)(Random() % 1000));
            Append(",\"ts\":"u8);
            Append(_ts);
            Append(",\"note\":\""u8);
            Append(Notes[Random() % (ulong)Notes.Length]);
            Append("\"}\n"u8);
        }

        private ulong Random()
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            return unchecked(x * 0x2545F4914F6CDD1DUL) >> 32;
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(_record.AsSpan(_length));
            _length += bytes.Length;
        }

        private void Append(long value)
        {
            System.Buffers.Text.Utf8Formatter.TryFormat(value, _record.AsSpan(_length), out var written);
            _length += written;
        }

        private static byte[][] Words(string words) =>
            [.. words.Split(' ').Select(System.Text.Encoding.ASCII.GetBytes)];
    }
}
