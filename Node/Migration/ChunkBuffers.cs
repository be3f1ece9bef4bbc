using System.Collections.Concurrent;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Chunk buffers of one size, used again. A chunk is a large-object allocation; a new one for
/// every chunk of a 256 MB archive made full garbage collections a large part of a transfer's CPU
/// (docs/benchmark.md). Only buffers of exactly <paramref name="size"/> bytes are kept, since a
/// chunk's array is exactly as long as its data.
/// </summary>
/// <remarks>
/// What a peer's stream reads into is a fixed pool (<see cref="RentAsync"/>): at most
/// <paramref name="capacity"/> buffers are out at once, and the stream waits for one to come back,
/// so a source that sends faster than the disk writes is slowed down instead of growing the heap.
/// </remarks>
public sealed class ChunkBuffers(int size, int capacity)
{
    private readonly ConcurrentBag<byte[]> _free = [];
    private readonly SemaphoreSlim _room = new(capacity, capacity);
    /// <summary>The buffers <see cref="RentAsync"/> lent out: only their return makes room.</summary>
    private readonly ConcurrentDictionary<byte[], byte> _lent = new(ReferenceEqualityComparer.Instance);

    public int Capacity => capacity;

    /// <summary>For this node's own archive (the sender's reads): never waits.</summary>
    public byte[] Rent(int length) => length == size && _free.TryTake(out var buffer) ? buffer : new byte[length];

    /// <summary>For a peer's chunk: waits while <see cref="Capacity"/> buffers are out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is not that of a chunk: checked before anything is allocated.</exception>
    public async Task<byte[]> RentAsync(int length, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, size);
        await _room.WaitAsync(cancellation);
        var buffer = Rent(length);
        _lent[buffer] = 0;
        return buffer;
    }

    /// <summary>Only for a buffer nobody else holds; a lent one makes room for the next.</summary>
    public void Return(byte[] buffer)
    {
        Release(buffer);
        if (buffer.Length == size && _free.Count < capacity)
        {
            _free.Add(buffer);
        }
    }

    /// <summary>A lent buffer its holder keeps (or drops), no longer counted against the pool: it makes room, but is not used again.</summary>
    public void Release(byte[] buffer)
    {
        if (_lent.TryRemove(buffer, out _))
        {
            _room.Release();
        }
    }
}
