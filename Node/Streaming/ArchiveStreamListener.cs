using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using AkkaMigration.Node.Faults;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// Takes archive streams on the node's stream port: admits a peer whose certificate chains to the
/// cluster CA and names the host a transfer this node accepted comes from, and hands each chunk to
/// that transfer's receiver actor as if it had come through Akka. Anything else closes the connection.
/// </summary>
public sealed class ArchiveStreamListener(ArchiveStreams streams, ImageShipping images, ILogger<ArchiveStreamListener> log) : BackgroundService
{
    /// <summary>A peer that connects and says nothing is not kept waiting on forever.</summary>
    private static readonly TimeSpan HandshakeLimit = TimeSpan.FromSeconds(10);

    /// <summary>Saving and sending an image: podman save of a large image takes a while.</summary>
    private static readonly TimeSpan ImageLimit = TimeSpan.FromMinutes(10);

    private TcpListener? _listener;

    /// <summary>Binds before the host counts as started, so a port that is taken stops the node with a clear error.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var self = streams.Self;
        _listener = new TcpListener(IPAddress.Parse(self.Address), self.StreamPort);
        try
        {
            _listener.Start();
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"cannot take archive streams on {self.Address}:{self.StreamPort} (config.ini stream_port): {e.Message}", e);
        }
        log.LogInformation("taking archive streams on {Address}:{Port}", self.Address, self.StreamPort);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var client = await _listener!.AcceptTcpClientAsync(stopping);
                _ = ServeAsync(client, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            _listener!.Stop();
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stopping)
    {
        var peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            using (client)
            await using (var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false))
            {
                var (transferId, inbound, image) = await AdmitAsync(ssl, peer, stopping);
                if (inbound is not null)
                {
                    await ForwardChunksAsync(ssl, transferId, inbound, stopping);
                }
                else if (image is not null)
                {
                    using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    limit.CancelAfter(ImageLimit);
                    log.LogInformation("sending image {Image} to {Peer}", image, peer);
                    await images.ServeAsync(ssl, image, limit.Token);
                }
            }
        }
        catch (Exception e) when (e is IOException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
        {
            if (!stopping.IsCancellationRequested)
            {
                log.LogWarning("archive stream from {Peer} closed: {Reason}", peer, e.Message);
            }
        }
        catch (Exception e)
        {
            // Nobody awaits this connection's task: what is not logged here is lost.
            log.LogError(e, "archive stream from {Peer} failed", peer);
        }
    }

    /// <returns>The transfer the stream is for, or a null inbound if the peer may not send it; or the image it asks for.</returns>
    private async Task<(string TransferId, ArchiveStreams.Inbound? Inbound, string? Image)> AdmitAsync(SslStream ssl, string peer, CancellationToken stopping)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        limit.CancelAfter(HandshakeLimit);
        await ssl.AuthenticateAsServerAsync(streams.ServerOptions, limit.Token);
        var head = new byte[ArchiveStreams.Magic.Length + 1];
        await ssl.ReadExactlyAsync(head, limit.Token);
        var forImage = head.AsSpan(0, ArchiveStreams.ImageMagic.Length).SequenceEqual(ArchiveStreams.ImageMagic);
        if (!forImage && !head.AsSpan(0, ArchiveStreams.Magic.Length).SequenceEqual(ArchiveStreams.Magic))
        {
            log.LogWarning("archive stream from {Peer} refused: it does not start like one", peer);
            return ("", null, null);
        }
        var id = new byte[head[^1]];
        await ssl.ReadExactlyAsync(id, limit.Token);
        var transferId = Encoding.ASCII.GetString(id);
        if (forImage)
        {
            return ("", null, transferId);
        }
        var name = (ssl.RemoteCertificate as X509Certificate2)?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!streams.TryFind(transferId, out var inbound))
        {
            log.LogWarning("archive stream from {Peer} ({Name}) refused: no transfer {Transfer} is under way here", peer, name, transferId);
            return (transferId, null, null);
        }
        if (name != inbound.SourceNode)
        {
            log.LogWarning("archive stream from {Peer} refused: transfer {Transfer} comes from {Source}, the certificate is {Name}'s",
                peer, transferId, inbound.SourceNode, name);
            return (transferId, null, null);
        }
        return (transferId, inbound, null);
    }

    private async Task ForwardChunksAsync(SslStream ssl, string transferId, ArchiveStreams.Inbound inbound, CancellationToken stopping)
    {
        var header = new byte[ArchiveStreams.FrameHeaderBytes];
        while (await ssl.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, stopping) == header.Length)
        {
            var (sequence, offset, length) = ArchiveStreams.ReadFrameHeader(header);
            if (sequence == streams.Faults.DieOnChunk)
            {
                FaultInjection.Die();
            }
            if (length <= 0 || length > inbound.ChunkBytes)
            {
                log.LogWarning("archive stream of transfer {Transfer} closed: chunk {Sequence} claims {Length} bytes (at most {Max})",
                    transferId, sequence, length, inbound.ChunkBytes);
                return;
            }
            var data = inbound.Buffers.Rent(length);
            await ssl.ReadExactlyAsync(data, stopping);
            if (!streams.TryFind(transferId, out _))
            {
                return; // The receiver has stopped: nothing waits for the rest.
            }
            // The receiver checks the chunk as it checks one from Akka, and acknowledges the source over Akka.
            inbound.Receiver.Tell(new ArchiveChunk(transferId, sequence, offset, data), inbound.Source);
        }
    }
}
