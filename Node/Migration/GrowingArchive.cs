namespace AkkaMigration.Node.Migration;

/// <summary>
/// A checkpoint archive read while podman still writes it, a chunk-sized buffer at a time: a short
/// read means the reader has caught up, and the partial chunk waits for more bytes. Not thread-safe:
/// its actor keeps one read outstanding.
/// </summary>
/// <param name="buffers">Where chunk buffers come from; null for a new array each (the receiver may keep it).</param>
public sealed class GrowingArchive(string path, int chunkBytes, ChunkBuffers? buffers) : IDisposable
{
    private FileStream? _file;
    private byte[]? _buffer;
    private int _filled;

    /// <summary>Bytes read so far.</summary>
    public long Read { get; private set; }

    /// <summary>False while the file does not exist: podman creates it only once CRIU has dumped the container.</summary>
    /// <exception cref="IOException">It exists and cannot be opened.</exception>
    public bool TryOpen()
    {
        if (_file is not null)
        {
            return true;
        }
        if (!File.Exists(path))
        {
            return false;
        }
        try
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return true;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    /// <summary>Reads into the chunk being filled, never past <paramref name="total"/> (podman's final size, once known).</summary>
    public Task<int> ReadMoreAsync(long? total)
    {
        var buffer = _buffer ??= buffers?.Rent(chunkBytes) ?? new byte[chunkBytes];
        var limit = total is { } t ? (int)Math.Min(buffer.Length - _filled, t - Read) : buffer.Length - _filled;
        return _file!.ReadAtLeastAsync(buffer.AsMemory(_filled, limit), limit, throwOnEndOfStream: false).AsTask();
    }

    /// <returns>The chunk, once <paramref name="length"/> more bytes filled it; else null.</returns>
    public byte[]? Advance(int length)
    {
        _filled += length;
        Read += length;
        return _filled == _buffer!.Length ? Take() : null;
    }

    /// <summary>The last, partial chunk of a whole archive; null when there is none.</summary>
    public byte[]? TakeRest()
    {
        var filled = _filled;
        return filled > 0 ? Take()[..filled] : null;
    }

    private byte[] Take()
    {
        var chunk = _buffer!;
        (_buffer, _filled) = (null, 0);
        return chunk;
    }

    public void Dispose() => _file?.Dispose();
}
