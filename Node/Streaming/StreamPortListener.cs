using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using AkkaMigration.Node.Clients;
using AkkaMigration.Node.Faults;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using K4os.Compression.LZ4;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// The node's stream port: archive streams and image requests from peer nodes, and clients'
/// requests (<see cref="ClientGateway"/>). Any certificate of the cluster CA passes the handshake;
/// the connection's first bytes say what it is for, and only a node's certificate may stream an
/// archive (from the host the accepted transfer names) or fetch an image. Anything else is closed.
/// </summary>
public sealed class StreamPortListener(ArchiveStreams streams, ImageShipping images, ClientGateway clients, ILogger<StreamPortListener> log) : BackgroundService
{
    /// <summary>A peer that connects and says nothing is not kept waiting on forever.</summary>
    private static readonly TimeSpan HandshakeLimit = TimeSpan.FromSeconds(10);

    /// <summary>Saving and sending an image: podman save of a large image takes a while.</summary>
    private static readonly TimeSpan ImageLimit = TimeSpan.FromMinutes(10);

    /// <summary>At most this many connections per address, and in all, may be in their handshake at once.</summary>
    public const int HandshakesPerPeer = 32, HandshakesInAll = 256;

    /// <summary>Connections turned away are counted, and the count logged at most this often.</summary>
    private static readonly TimeSpan FloodReportInterval = TimeSpan.FromSeconds(10);

    private readonly HandshakeGate _gate = new(HandshakesPerPeer, HandshakesInAll);
    private TcpListener? _listener;
    private DateTime _lastFloodReport;

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
            throw new InvalidOperationException($"cannot take archive streams and clients' requests on {self.Address}:{self.StreamPort} (config.ini stream_port): {e.Message}", e);
        }
        log.LogInformation("taking archive streams and clients' requests on {Address}:{Port}", self.Address, self.StreamPort);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var client = await _listener!.AcceptTcpClientAsync(stopping);
                var address = (client.Client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
                if (!_gate.TryEnter(address))
                {
                    client.Dispose();
                    ReportFlood(address);
                    continue;
                }
                _ = ServeAsync(client, address, stopping);
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

    private void ReportFlood(IPAddress latest)
    {
        if (DateTime.UtcNow - _lastFloodReport < FloodReportInterval)
        {
            return;
        }
        _lastFloodReport = DateTime.UtcNow;
        log.LogWarning("turned away {Count} connections to the stream port, the latest from {Peer}: too many unfinished handshakes " +
            "(at most {PerPeer} per address and {InAll} in all)", _gate.TakeTurnedAway(), latest, HandshakesPerPeer, HandshakesInAll);
    }

    private async Task ServeAsync(TcpClient client, IPAddress address, CancellationToken stopping)
    {
        var peer = client.Client.RemoteEndPoint?.ToString() ?? "?";
        try
        {
            using (client)
            await using (var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false))
            {
                Purpose? purpose;
                try
                {
                    purpose = await AdmitAsync(ssl, peer, address, stopping);
                }
                finally
                {
                    _gate.Leave(address);
                }
                switch (purpose)
                {
                    case Purpose.Archive archive:
                        try
                        {
                            using var transfer = CancellationTokenSource.CreateLinkedTokenSource(stopping, archive.Ended);
                            await ForwardChunksAsync(ssl, archive.TransferId, archive.Inbound, transfer.Token);
                        }
                        catch (OperationCanceledException) when (archive.Ended.IsCancellationRequested)
                        {
                            // The receiver stopped (done, failed, or the source fell silent): the stream closes with it.
                        }
                        break;
                    case Purpose.Image image:
                        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping))
                        {
                            limit.CancelAfter(ImageLimit);
                            log.LogInformation("sending image {Image} to {Peer}", image.Name, peer);
                            await images.ServeAsync(ssl, image.Name, limit.Token);
                        }
                        break;
                    case Purpose.ClientRequest request:
                        await clients.ServeAsync(ssl, peer, request.Certificate, address, stopping);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
        {
            if (!stopping.IsCancellationRequested)
            {
                log.LogWarning("connection from {Peer} to the stream port closed: {Reason}", peer, e.Message);
            }
        }
        catch (Exception e)
        {
            // Nobody awaits this connection's task: what is not logged here is lost.
            log.LogError(e, "connection from {Peer} to the stream port failed", peer);
        }
    }

    /// <returns>What the connection is for, or null (logged) when it may not do what it asks.</returns>
    private async Task<Purpose?> AdmitAsync(SslStream ssl, string peer, IPAddress address, CancellationToken stopping)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        limit.CancelAfter(HandshakeLimit);
        await ssl.AuthenticateAsServerAsync(streams.ServerOptions, limit.Token);
        var head = new byte[ArchiveStreams.Magic.Length + 1];
        await ssl.ReadExactlyAsync(head, limit.Token);
        var id = new byte[head[^1]];
        await ssl.ReadExactlyAsync(id, limit.Token);
        var magic = head.AsSpan(0, ArchiveStreams.Magic.Length);
        var name = Encoding.ASCII.GetString(id);
        var certificate = ssl.RemoteCertificate as X509Certificate2;
        if (magic.SequenceEqual(ClientWire.Magic))
        {
            return new Purpose.ClientRequest(certificate?.Thumbprint ?? "");
        }
        var forImage = magic.SequenceEqual(ArchiveStreams.ImageMagic);
        if (!forImage && !magic.SequenceEqual(ArchiveStreams.Magic))
        {
            log.LogWarning("connection from {Peer} refused: it does not start like a stream or a request", peer);
            return null;
        }
        if (streams.Refusal(certificate, ClusterTls.NodeRole) is { } refusal)
        {
            log.LogWarning("{What} from {Peer} refused: its certificate {Refusal}", forImage ? "an image request" : "an archive stream", peer, refusal);
            return null;
        }
        if (streams.PlaceProblem(certificate!, address) is { } misplaced)
        {
            log.LogWarning("{What} from {Peer} refused: its certificate {Refusal}", forImage ? "an image request" : "an archive stream", peer, misplaced);
            return null;
        }
        if (forImage)
        {
            return new Purpose.Image(name);
        }
        var node = certificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (!streams.TryFind(name, out var expected))
        {
            log.LogWarning("archive stream from {Peer} ({Name}) refused: no transfer {Transfer} is under way here", peer, node, name);
            return null;
        }
        if (node != expected.SourceNode)
        {
            log.LogWarning("archive stream from {Peer} refused: transfer {Transfer} comes from {Source}, the certificate is {Name}'s",
                peer, name, expected.SourceNode, node);
            return null;
        }
        if (streams.TryOpen(name, out var inbound, out var ended) is { } closed)
        {
            log.LogWarning("archive stream from {Peer} ({Name}) refused: {Reason}", peer, node, closed);
            return null;
        }
        return new Purpose.Archive(name, inbound, ended);
    }

    private abstract record Purpose
    {
        /// <param name="Ended">Cancelled when the transfer's receiver stops.</param>
        public sealed record Archive(string TransferId, ArchiveStreams.Inbound Inbound, CancellationToken Ended) : Purpose;

        public sealed record Image(string Name) : Purpose;

        /// <param name="Certificate">The client certificate's thumbprint: its connections are bounded together.</param>
        public sealed record ClientRequest(string Certificate) : Purpose;
    }

    /// <summary>
    /// Reads frames until the stream ends or <paramref name="transfer"/> does. A source gone silent is
    /// dropped by its receiver's idle timeout, which ends the transfer; a source faster than the disk
    /// waits for a buffer (<see cref="ChunkBuffers.RentAsync"/>) and TCP slows it down.
    /// </summary>
    private async Task ForwardChunksAsync(SslStream ssl, string transferId, ArchiveStreams.Inbound inbound, CancellationToken transfer)
    {
        var header = new byte[ArchiveStreams.FrameHeaderBytes];
        // A packed chunk is smaller than the chunk it unpacks to, so this never outgrows a chunk.
        var packedChunk = Array.Empty<byte>();
        while (await ssl.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, transfer) == header.Length)
        {
            var (sequence, offset, length, packed) = ArchiveStreams.ReadFrameHeader(header);
            if (sequence == streams.Faults.DieOnChunk)
            {
                FaultInjection.Die();
            }
            if (length <= 0 || length > inbound.ChunkBytes || packed < 0 || packed >= length)
            {
                log.LogWarning("archive stream of transfer {Transfer} closed: chunk {Sequence} claims {Length} bytes, {Packed} packed (at most {Max})",
                    transferId, sequence, length, packed, inbound.ChunkBytes);
                return;
            }
            // The claimed length was checked against the transfer's chunk size above: nothing larger is allocated.
            var data = await inbound.Buffers.RentAsync(length, transfer);
            if (packed == 0)
            {
                await ssl.ReadExactlyAsync(data, transfer);
            }
            else
            {
                if (packedChunk.Length < packed)
                {
                    packedChunk = new byte[packed];
                }
                await ssl.ReadExactlyAsync(packedChunk.AsMemory(0, packed), transfer);
                if (LZ4Codec.Decode(packedChunk.AsSpan(0, packed), data) != length)
                {
                    log.LogWarning("archive stream of transfer {Transfer} closed: chunk {Sequence} does not unpack to its {Length} bytes",
                        transferId, sequence, length);
                    return;
                }
            }
            if (!streams.TryFind(transferId, out _))
            {
                return; // The receiver has stopped: nothing waits for the rest.
            }
            // The receiver checks the chunk as it checks one from Akka, and acknowledges the source over Akka.
            inbound.Receiver.Tell(new ArchiveChunk(transferId, sequence, offset, data), inbound.Source);
        }
    }
}
