using System.Collections.Concurrent;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Chunk buffers of one size, used again. A chunk is a large-object allocation; a new one for
/// every chunk of a 256 MB archive made full garbage collections a large part of a transfer's CPU
/// (docs/benchmark.md). Only buffers of exactly <paramref name="size"/> bytes are kept, since a
/// chunk's array is exactly as long as its data.
/// </summary>
public sealed class ChunkBuffers(int size, int capacity)
{
    private readonly ConcurrentBag<byte[]> _free = [];

    public byte[] Rent(int length) => length == size && _free.TryTake(out var buffer) ? buffer : new byte[length];

    /// <summary>Only for a buffer nobody else holds.</summary>
    public void Return(byte[] buffer)
    {
        if (buffer.Length == size && _free.Count < capacity)
        {
            _free.Add(buffer);
        }
    }
}
