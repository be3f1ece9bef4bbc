using System.Buffers.Binary;
using System.Formats.Tar;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Tests.Support;

/// <summary>An image request on a node's stream port, as any holder of a certificate can make one, and a stream port that answers one.</summary>
public static class ImageRequests
{
    /// <summary>
    /// Asks <paramref name="node"/> for the worker image with <paramref name="certificate"/>, from
    /// <paramref name="from"/> (a loopback address; null: the system's choice), trusting whatever
    /// answers. What came back before the node closed: nothing when it refused, at the handshake or after.
    /// </summary>
    public static async Task<byte[]> AskAsync(HostEntry node, X509Certificate2 certificate, IPAddress? from = null)
    {
        using var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var answer = new MemoryStream();
        await tcp.ConnectAsync(node.Address, node.StreamPort, limit.Token);
        await using var ssl = new SslStream(tcp.GetStream());
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = node.Name,
                ClientCertificates = [certificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, limit.Token);
            await ssl.WriteAsync(ArchiveStreams.Preamble(ArchiveStreams.ImageMagic, ClusterSteps.WorkerImage), limit.Token);
            await ssl.CopyToAsync(answer, limit.Token);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            // Closed, at the handshake or without a TLS close_notify: what arrived is the answer.
        }
        return answer.ToArray();
    }

    /// <summary>The reason in a node's refusal (length -1, then the reason), or null when <paramref name="answer"/> is none.</summary>
    public static string? Refusal(byte[] answer) =>
        answer.Length >= 16 && BinaryPrimitives.ReadInt64BigEndian(answer) == -1 ? Encoding.UTF8.GetString(answer.AsSpan(16)) : null;

    /// <summary>A stream port's answer to the first image request on <paramref name="listener"/>: <paramref name="image"/>'s bytes, whatever was asked.</summary>
    public static async Task ServeOnceAsync(TcpListener listener, X509Certificate2 certificate, byte[] image)
    {
        using var tcp = await listener.AcceptTcpClientAsync();
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = certificate,
            ClientCertificateRequired = true,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var head = new byte[ArchiveStreams.ImageMagic.Length + 1];
        await ssl.ReadExactlyAsync(head);
        await ssl.ReadExactlyAsync(new byte[head[^1]]);
        var length = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(length, image.Length);
        await ssl.WriteAsync(length);
        await ssl.WriteAsync(image);
        await ssl.WriteAsync(SHA256.HashData(image));
        await ssl.FlushAsync();
    }

    /// <summary>An image archive as podman save writes one (docker-archive): its manifest names the image's id and tags.</summary>
    public static byte[] SavedImage(string id, params string[] tags)
    {
        using var archive = new MemoryStream();
        using (var tar = new TarWriter(archive, leaveOpen: true))
        {
            var manifest = JsonSerializer.SerializeToUtf8Bytes(new[] { new { Config = $"{id}.json", RepoTags = tags, Layers = Array.Empty<string>() } });
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream(manifest) });
        }
        return archive.ToArray();
    }
}
