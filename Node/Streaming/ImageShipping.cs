using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// An image a target lacks, fetched from the source over the archive stream's port and TLS, so no
/// registry is needed. The target asks with <see cref="ArchiveStreams.ImageMagic"/> and the image's
/// name; the source answers with the archive's length (or -1 and a reason), the bytes (podman save),
/// and their SHA-256. The target loads the image only if the hash matches.
/// </summary>
public sealed class ImageShipping(ArchiveStreams streams, IContainerRuntime runtime, string scratchDirectory)
{
    private const int NoImage = -1;

    /// <summary>The target's side: fetch <paramref name="image"/> from <paramref name="source"/> and load it.</summary>
    public async Task<ImageFetched> FetchAsync(HostEntry source, string image, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        var path = ScratchFile("fetched");
        try
        {
            var (tcp, ssl) = await streams.ConnectAsync(source, ArchiveStreams.Preamble(ArchiveStreams.ImageMagic, image), bounded.Token);
            long length;
            using (tcp)
            await using (ssl)
            {
                length = await ReadLengthAsync(ssl, bounded.Token);
                if (length == NoImage)
                {
                    return new ImageFetched(image, 0, clock.ElapsedMilliseconds, $"{source.Name} could not send it: {await ReadReasonAsync(ssl, bounded.Token)}");
                }
                await ReceiveVerifiedAsync(ssl, path, length, bounded.Token);
            }
            await runtime.LoadImageAsync(path, bounded.Token);
            return new ImageFetched(image, length, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ContainerRuntimeException or OperationCanceledException
                                     or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            var reason = e is OperationCanceledException && !cancellationToken.IsCancellationRequested ? $"not done within {limit.TotalSeconds:0} s" : e.Message;
            return new ImageFetched(image, 0, clock.ElapsedMilliseconds, $"fetching it from {source.Name} failed: {reason}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The source's side: answer one request on an admitted stream.</summary>
    public async Task ServeAsync(SslStream ssl, string image, CancellationToken cancellationToken)
    {
        var path = ScratchFile("saved");
        try
        {
            string? refusal = !Names.IsValidImageName(image) ? $"'{image}' is not an image name"
                : !await runtime.HasImageAsync(image, cancellationToken) ? $"it has no image {image} either"
                : null;
            if (refusal is null)
            {
                try
                {
                    await runtime.SaveImageAsync(image, path, cancellationToken);
                }
                catch (ContainerRuntimeException e)
                {
                    refusal = e.Message;
                }
            }
            if (refusal is not null)
            {
                var reason = Encoding.UTF8.GetBytes(refusal);
                await ssl.WriteAsync(Length(NoImage), cancellationToken);
                await ssl.WriteAsync(Length(reason.Length), cancellationToken);
                await ssl.WriteAsync(reason, cancellationToken);
                return;
            }
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await ssl.WriteAsync(Length(file.Length), cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await file.ReadAsync(buffer, cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await ssl.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            await ssl.WriteAsync(hash.GetHashAndReset(), cancellationToken);
            await ssl.FlushAsync(cancellationToken);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task ReceiveVerifiedAsync(SslStream ssl, string path, long length, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            var buffer = new byte[1 << 16];
            for (var left = length; left > 0;)
            {
                var read = await ssl.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken);
                if (read == 0)
                {
                    throw new InvalidDataException($"the image ended after {length - left} of {length} bytes");
                }
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                left -= read;
            }
        }
        var expected = new byte[32];
        await ssl.ReadExactlyAsync(expected, cancellationToken);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(expected))
        {
            throw new InvalidDataException("the image's SHA-256 does not match what the source sent");
        }
    }

    private static async Task<long> ReadLengthAsync(SslStream ssl, CancellationToken cancellationToken)
    {
        var bytes = new byte[8];
        await ssl.ReadExactlyAsync(bytes, cancellationToken);
        return BinaryPrimitives.ReadInt64BigEndian(bytes);
    }

    private static async Task<string> ReadReasonAsync(SslStream ssl, CancellationToken cancellationToken)
    {
        var length = await ReadLengthAsync(ssl, cancellationToken);
        var reason = new byte[Math.Clamp(length, 0, 4096)];
        await ssl.ReadExactlyAsync(reason, cancellationToken);
        return Encoding.UTF8.GetString(reason);
    }

    private static byte[] Length(long length)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, length);
        return bytes;
    }

    private string ScratchFile(string kind)
    {
        Directory.CreateDirectory(scratchDirectory);
        return Path.Combine(scratchDirectory, $"image-{kind}-{Guid.NewGuid():N}.tar");
    }
}
