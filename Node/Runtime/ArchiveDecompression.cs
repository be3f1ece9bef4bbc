using System.IO.Compression;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// A checkpoint archive's tar as podman wrote it (--compress none, gzip or zstd, told apart by their
/// first bytes), read no further than a bound and stopped when cancelled: a small archive may
/// unpack to far more than the disk it would be restored onto holds.
/// </summary>
public static class ArchiveDecompression
{
    public static Stream Open(FileStream file, long maxBytes, CancellationToken cancellationToken)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = file.Read(magic);
        file.Position = 0;
        return read switch
        {
            >= 2 when magic[0] == 0x1f && magic[1] == 0x8b =>
                new BoundedStream(new GZipStream(file, CompressionMode.Decompress, leaveOpen: true), maxBytes, cancellationToken),
            4 when magic.SequenceEqual(new byte[] { 0x28, 0xb5, 0x2f, 0xfd }) => new BoundedStream(new ZstdStream(file.Name, cancellationToken), maxBytes, cancellationToken),
            // A plain tar is no larger than the file: read where it is, entries passed over by seeking.
            _ => file,
        };
    }

    /// <summary>Reads through <paramref name="inner"/>, refusing to go past <paramref name="maxBytes"/>, and checks for cancellation on each read.</summary>
    private sealed class BoundedStream(Stream inner, long maxBytes, CancellationToken cancellationToken) : ReadOnlyStream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = inner.Read(buffer);
            _read += read;
            return _read > maxBytes ? throw new InvalidDataException($"it unpacks to more than {maxBytes} bytes, the space free for it") : read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>zstd has no decoder in .NET: the zstd tool's output, stopped when the reader is done or cancelled.</summary>
    private sealed class ZstdStream : ReadOnlyStream
    {
        private readonly System.Diagnostics.Process _zstd;
        private readonly CancellationTokenRegistration _cancellation;

        public ZstdStream(string path, CancellationToken cancellationToken)
        {
            _zstd = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("zstd", ["-dc", "--", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidDataException("cannot start zstd to read a zstd archive");
            // A read blocked on the pipe ends when zstd does.
            _cancellation = cancellationToken.Register(Stop);
        }

        public override int Read(byte[] buffer, int offset, int count) => _zstd.StandardOutput.BaseStream.Read(buffer, offset, count);

        private void Stop()
        {
            if (!_zstd.HasExited)
            {
                _zstd.Kill();
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _cancellation.Dispose();
                Stop();
                _zstd.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
