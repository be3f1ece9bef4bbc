using System.Buffers.Binary;
using System.Diagnostics;
using System.Formats.Tar;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// An image a target lacks, fetched from the source over the archive stream's port and TLS, so no
/// registry is needed. The target asks with <see cref="ArchiveStreams.ImageMagic"/> and the image's
/// name; the source answers with the archive's length (or -1 and a reason), the bytes (podman save),
/// and their SHA-256. The source sends only what its <see cref="Offers"/> allow; the target loads the
/// image only if the hash matches and the archive is the image whose id the source stated, and keeps
/// it only if podman then finds that id under the image's name.
/// </summary>
public sealed class ImageShipping(ArchiveStreams streams, IContainerRuntime runtime, string scratchDirectory)
{
    private const int NoImage = -1;

    /// <summary>Saving and sending one image; the stream port's own limit may end it sooner.</summary>
    private static readonly TimeSpan SendLimit = TimeSpan.FromMinutes(10);

    /// <summary>A manifest larger than this is no image of ours: it is not read.</summary>
    private const int ManifestLimit = 1 << 20;

    /// <summary>The images this node's moves are sending, and to whom.</summary>
    public ImageOffers Offers { get; } = new();

    /// <summary>Where refused requests are logged; the node's host sets it once it has built its logging.</summary>
    public ILogger Log { get; set; } = NullLogger.Instance;

    /// <summary>Whether <paramref name="id"/> has the form of podman's image id: 64 lowercase hex digits.</summary>
    public static bool IsImageId(string? id) => id is { Length: 64 } && id.All(char.IsAsciiHexDigitLower);

    /// <summary>
    /// The target's side: fetch <paramref name="image"/> from <paramref name="source"/> and load it,
    /// if it is the image <paramref name="expectedId"/>.
    /// </summary>
    public async Task<ImageFetched> FetchAsync(HostEntry source, string image, string expectedId, TimeSpan limit, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        var path = ScratchFile("fetched");
        ImageFetched Failed(ImageFailure code, string reason) => new(image, 0, clock.ElapsedMilliseconds, reason, code);
        try
        {
            // Loading over a name that is here would move it to another image.
            if (await runtime.ImageIdAsync(image, bounded.Token) is { } present)
            {
                return present == expectedId ? new ImageFetched(image, 0, clock.ElapsedMilliseconds)
                    : Failed(ImageFailure.ImageDiffers, $"it has an image {image} already, {Short(present)}, not {Short(expectedId)}");
            }
            var (tcp, ssl) = await streams.ConnectAsync(source, ArchiveStreams.Preamble(ArchiveStreams.ImageMagic, image), bounded.Token);
            long length;
            using (tcp)
            await using (ssl)
            {
                length = await ReadLengthAsync(ssl, bounded.Token);
                if (length == NoImage)
                {
                    return Failed(ImageFailure.SourceRefused, $"{source.Name} could not send it: {await ReadReasonAsync(ssl, bounded.Token)}");
                }
                await ReceiveVerifiedAsync(ssl, path, length, bounded.Token);
            }
            if (await ArchiveProblemAsync(path, image, expectedId, bounded.Token) is { } wrong)
            {
                return Failed(ImageFailure.WrongImage, $"{source.Name} sent another image than {Short(expectedId)}: {wrong}; nothing of it was loaded");
            }
            await runtime.LoadImageAsync(path, bounded.Token);
            var loaded = await runtime.ImageIdAsync(image, bounded.Token);
            if (loaded != expectedId)
            {
                if (loaded is not null)
                {
                    await runtime.RemoveImageAsync(image, bounded.Token);
                }
                return Failed(ImageFailure.WrongImage, $"{source.Name} sent another image than {Short(expectedId)}: {image} loaded as {(loaded is null ? "nothing" : Short(loaded))}, and was removed");
            }
            return new ImageFetched(image, length, clock.ElapsedMilliseconds);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ContainerRuntimeException or OperationCanceledException
                                     or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException)
        {
            var reason = e is OperationCanceledException && !cancellationToken.IsCancellationRequested ? $"not done within {limit.TotalSeconds:0} s" : e.Message;
            return Failed(ImageFailure.FetchFailed, $"fetching it from {source.Name} failed: {reason}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// The source's side: answer one request on an admitted stream, whose certificate the stream port
    /// has found to be that of the host at the peer's address.
    /// </summary>
    public async Task ServeAsync(SslStream ssl, string image, CancellationToken cancellationToken)
    {
        var requester = (ssl.RemoteCertificate as X509Certificate2)?.GetNameInfo(X509NameType.SimpleName, forIssuer: false) ?? "";
        string? refusal = null;
        using var slot = !Names.IsValidImageName(image) ? null : Offers.TryStartSend(requester, image, out refusal);
        if (slot is null)
        {
            refusal ??= $"'{image}' is not an image name";
            Log.LogWarning("image request from {Requester} for {Image} refused: {Refusal}", requester, image, refusal);
            await RefuseAsync(ssl, refusal, cancellationToken);
            return;
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(SendLimit);
        await SendAsync(ssl, image, bounded.Token);
    }

    private async Task SendAsync(SslStream ssl, string image, CancellationToken cancellationToken)
    {
        var path = ScratchFile("saved");
        try
        {
            string? refusal = !await runtime.HasImageAsync(image, cancellationToken) ? $"it has no image {image} either" : null;
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
                await RefuseAsync(ssl, refusal, cancellationToken);
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

    private static async Task RefuseAsync(SslStream ssl, string refusal, CancellationToken cancellationToken)
    {
        var reason = Encoding.UTF8.GetBytes(refusal);
        await ssl.WriteAsync(Length(NoImage), cancellationToken);
        await ssl.WriteAsync(Length(reason.Length), cancellationToken);
        await ssl.WriteAsync(reason, cancellationToken);
        await ssl.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Why the saved image at <paramref name="path"/> (podman save's docker-archive) is not
    /// <paramref name="expectedId"/> under <paramref name="image"/>'s name alone, or null: read from its
    /// manifest before podman loads anything, so a foreign archive cannot retag this host's images.
    /// </summary>
    private static async Task<string?> ArchiveProblemAsync(string path, string image, string expectedId, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        await using var tar = new TarReader(file);
        byte[]? manifest = null;
        while (await tar.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') != "manifest.json")
            {
                continue;
            }
            if (manifest is not null || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.Length > ManifestLimit
                || entry.DataStream is null)
            {
                return "its manifest.json is repeated, not a file, or too large";
            }
            manifest = new byte[entry.Length];
            await entry.DataStream.ReadExactlyAsync(manifest, cancellationToken);
        }
        if (manifest is null)
        {
            return "it has no manifest.json";
        }
        try
        {
            var images = JsonSerializer.Deserialize<ManifestEntry[]>(manifest) ?? [];
            if (images is not [{ } only])
            {
                return $"it holds {images.Length} images, not one";
            }
            var id = Path.GetFileNameWithoutExtension(only.Config ?? "");
            if (id != expectedId)
            {
                return $"its image is {Short(id)}";
            }
            var tags = only.RepoTags ?? [];
            return tags.Length == 1 && NamesImage(tags[0], image) ? null : $"it names {(tags.Length == 0 ? "no image" : string.Join(", ", tags))}, not {image}";
        }
        catch (JsonException e)
        {
            return $"its manifest.json is unreadable: {e.Message}";
        }
    }

    /// <summary>Whether podman's full <paramref name="tag"/> (registry/name:tag) is what the job's <paramref name="image"/> names.</summary>
    private static bool NamesImage(string tag, string image)
    {
        var tagged = image.Contains(':', StringComparison.Ordinal) && image.LastIndexOf(':') > image.LastIndexOf('/') ? image : $"{image}:latest";
        return tag == tagged || tag == $"localhost/{tagged}" || tag == $"docker.io/library/{tagged}" || tag == $"docker.io/{tagged}";
    }

    private sealed record ManifestEntry(string? Config, string[]? RepoTags);

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;

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
