using System.Security.Cryptography;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// A checkpoint archive read while podman still writes it, a chunk-sized buffer at a time: a short
/// read means the reader has caught up, and the partial chunk waits for more bytes. The SHA-256 of
/// what was handed out is taken on the way. Not thread-safe: its actor keeps one read outstanding.
/// </summary>
/// <param name="buffers">Where chunk buffers come from, and go back to once the target has its copy.</param>
public sealed class GrowingArchive(string path, int chunkBytes, ChunkBuffers buffers) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private FileStream? _file;
    private byte[]? _buffer;
    private int _filled;

    /// <summary>Bytes read so far.</summary>
    public long Read { get; private set; }

    /// <summary>False while the file does not exist (podman creates it only once CRIU has dumped the container), or with the error when it cannot be opened.</summary>
    public bool TryOpen(out string? error)
    {
        error = null;
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return false;
        }
    }

    /// <summary>Reads into the chunk being filled, never past <paramref name="total"/> (podman's final size, once known).</summary>
    public Task<int> ReadMoreAsync(long? total)
    {
        var buffer = _buffer ??= buffers.Rent(chunkBytes);
        var limit = total is { } t ? (int)Math.Min(buffer.Length - _filled, t - Read) : buffer.Length - _filled;
        return _file!.ReadAtLeastAsync(buffer.AsMemory(_filled, limit), limit, throwOnEndOfStream: false).AsTask();
    }

    /// <returns>The chunk, once <paramref name="length"/> more bytes filled it; else null.</returns>
    public byte[]? Advance(int length)
    {
        _filled += length;
        Read += length;
        if (_filled < _buffer!.Length)
        {
            return null;
        }
        var chunk = Take();
        _hash.AppendData(chunk);
        return chunk;
    }

    /// <summary>The last, partial chunk of a whole archive; null when there is none.</summary>
    public byte[]? TakeRest()
    {
        var filled = _filled;
        if (filled == 0)
        {
            return null;
        }
        var last = Take()[..filled];
        _hash.AppendData(last);
        return last;
    }

    /// <summary>The SHA-256 of every chunk handed out, in order: the whole archive's, once the last is.</summary>
    public string Sha256() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    private byte[] Take()
    {
        var chunk = _buffer!;
        (_buffer, _filled) = (null, 0);
        return chunk;
    }

    /// <summary>A chunk the target has acknowledged: its copy is there, so the buffer can take another.</summary>
    public void Reuse(byte[] chunk) => buffers.Return(chunk);

    public void Dispose()
    {
        _file?.Dispose();
        _hash.Dispose();
    }
}
