using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Migration;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using K4os.Compression.LZ4;

namespace AkkaMigration.Node.Streaming;

/// <summary>
/// The nodes' direct streams for archive bytes: a TLS connection per transfer, beside Akka.Remote,
/// with the same certificates and the same rule for who is admitted. Akka messages still carry
/// everything else (the handshake, acknowledgements, the end of the archive); the stream only
/// replaces <see cref="Shared.Protocol.ArchiveChunk"/> messages, which through Akka.Remote cost
/// about four copies a side (docs/benchmark.md).
/// </summary>
/// <remarks>The wire format: docs/architecture.md, "The archive stream's wire format".</remarks>
/// <param name="faults">What the fault suite injects on the wire (a damaged chunk, a death on a chunk's arrival); none elsewhere.</param>
public sealed class ArchiveStreams(HostEntry self, ClusterTls tls, FaultInjection? faults = null)
{
    internal static ReadOnlySpan<byte> Magic => "AMS2"u8;
    internal const int FrameHeaderBytes = 24;

    private readonly ConcurrentDictionary<string, Expected> _inbound = new();
    private readonly SslStreamCertificateContext _certificate = SslStreamCertificateContext.Create(tls.Certificate, null);

    /// <summary>A transfer this node has accepted: where its chunks go and who may send them.</summary>
    /// <param name="Receiver">The transfer's receiver actor.</param>
    /// <param name="Source">The sender actor on the source node, which the receiver acknowledges.</param>
    /// <param name="SourceNode">The only host whose certificate may open the transfer's stream.</param>
    /// <param name="Buffers">Where the stream's chunks are read into; the receiver gives them back once written.</param>
    public sealed record Inbound(IActorRef Receiver, IActorRef Source, string SourceNode, int ChunkBytes, ChunkBuffers Buffers);

    /// <param name="Ended">Cancelled once the receiver stops: its stream, idle or waiting for a buffer, closes then.</param>
    private sealed record Expected(Inbound Inbound, CancellationTokenSource Ended)
    {
        /// <summary>1 once a stream was opened for the transfer: a transfer has one stream, never two feeding one receiver.</summary>
        public int Opened;
    }

    public HostEntry Self => self;

    public FaultInjection Faults { get; } = faults ?? FaultInjection.None;

    public void Expect(string transferId, Inbound inbound) => _inbound[transferId] = new Expected(inbound, new CancellationTokenSource());

    public void Forget(string transferId)
    {
        if (_inbound.TryRemove(transferId, out var expected))
        {
            // Not disposed: the stream's loop may still link to its token.
            expected.Ended.Cancel();
        }
    }

    public bool TryFind(string transferId, out Inbound inbound)
    {
        inbound = _inbound.TryGetValue(transferId, out var expected) ? expected.Inbound : null!;
        return expected is not null;
    }

    /// <summary>Claims the transfer's one stream.</summary>
    /// <param name="ended">Cancelled when the transfer ends, whatever the stream is doing then.</param>
    /// <returns>Null, or why the stream may not be opened: no such transfer, or it has its stream already.</returns>
    public string? TryOpen(string transferId, out Inbound inbound, out CancellationToken ended)
    {
        (inbound, ended) = (null!, CancellationToken.None);
        if (!_inbound.TryGetValue(transferId, out var expected))
        {
            return $"no transfer {transferId} is under way here";
        }
        if (Interlocked.Exchange(ref expected.Opened, 1) == 1)
        {
            return $"transfer {transferId} has its stream already";
        }
        (inbound, ended) = (expected.Inbound, expected.Ended.Token);
        return null;
    }

    /// <summary>Null if the peer's certificate may do what <paramref name="role"/> may (null: any role of the cluster's), else why not.</summary>
    public string? Refusal(X509Certificate? certificate, string? role) => tls.Refusal(certificate, role);

    /// <summary>The host's own certificate and the cluster's rules for others'.</summary>
    public ClusterTls Tls => tls;

    /// <summary>Null if a node's certificate may speak from <paramref name="from"/> (<see cref="ClusterTls.PlaceProblem"/>), else why not.</summary>
    public string? PlaceProblem(X509Certificate certificate, IPAddress from) => tls.PlaceProblem(certificate, from, null, from.ToString());

    /// <summary>
    /// The port admits any certificate of the cluster's at the handshake: clients ask over it too.
    /// What a connection may do then depends on its role (<see cref="StreamPortListener"/>).
    /// </summary>
    private bool AdmitsAnyRole(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        tls.Refusal(certificate, role: null) is null;

    internal SslServerAuthenticationOptions ServerOptions => new()
    {
        ServerCertificateContext = _certificate,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = AdmitsAnyRole,
    };

    /// <summary>
    /// Connects to the target's stream port, shows this node's certificate and names the transfer.
    /// Chunks written to the result go out in order; a broken stream is reported to <paramref name="owner"/>.
    /// </summary>
    /// <param name="limit">How long the connection and the handshake may take.</param>
    /// <param name="pack">Whether chunks that shrink under LZ4 go packed (config.ini's [transfer] compression).</param>
    public async Task<ArchiveStreamWriter> OpenAsync(HostEntry target, string transferId, IActorRef owner, TimeSpan limit, bool pack,
        CancellationToken cancellation)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(limit);
        var (tcp, ssl) = await ConnectAsync(target, Preamble(Magic, transferId), bounded.Token);
        return new ArchiveStreamWriter(tcp, ssl, transferId, owner, Faults, pack);
    }

    /// <summary>A TLS connection to <paramref name="target"/>'s stream port, this node's certificate shown, <paramref name="preamble"/> sent.</summary>
    internal async Task<(TcpClient Tcp, SslStream Ssl)> ConnectAsync(HostEntry target, byte[] preamble, CancellationToken cancellation)
    {
        var tcp = new TcpClient { NoDelay = true };
        string? refusal = null;
        try
        {
            await tcp.ConnectAsync(target.Address, target.StreamPort, cancellation);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            // A node dials only nodes, and only the host config.ini puts at the port it dials.
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = target.Name,
                ClientCertificateContext = _certificate,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    (refusal = tls.Refusal(certificate, ClusterTls.NodeRole)
                        ?? tls.PlaceProblem(certificate!, null, target, $"{target.Address}:{target.StreamPort}")) is null,
            }, cancellation);
            await ssl.WriteAsync(preamble, cancellation);
            return (tcp, ssl);
        }
        catch (AuthenticationException e) when (refusal is not null)
        {
            tcp.Dispose();
            throw new AuthenticationException($"the certificate {target.Name}'s stream port showed {refusal}", e);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Opens a request for an image (<see cref="ImageShipping"/>) rather than a transfer's chunks.</summary>
    internal static ReadOnlySpan<byte> ImageMagic => "AMI1"u8;

    /// <summary>A stream's first bytes: what it is for (<paramref name="magic"/>), then the transfer id or the image's name.</summary>
    internal static byte[] Preamble(ReadOnlySpan<byte> magic, string name)
    {
        var id = Encoding.ASCII.GetBytes(name);
        return [.. magic, checked((byte)id.Length), .. id];
    }

    /// <summary>Packs <paramref name="chunk"/> with LZ4 into <paramref name="packed"/> (grown as needed, reused by the caller).</summary>
    /// <returns>
    /// The packed length, or 0 when packing saves less than an eighth: random memory and compressed
    /// files go as they are, and the receiver has nothing to unpack.
    /// </returns>
    internal static int Pack(ReadOnlySpan<byte> chunk, ref byte[] packed)
    {
        var room = LZ4Codec.MaximumOutputSize(chunk.Length);
        if (packed.Length < room)
        {
            packed = new byte[room];
        }
        var length = LZ4Codec.Encode(chunk, packed, LZ4Level.L00_FAST);
        return length > 0 && length <= chunk.Length - chunk.Length / 8 ? length : 0;
    }

    /// <param name="length">The chunk's bytes in the archive.</param>
    /// <param name="packed">The LZ4 block that follows, in bytes; 0 when the chunk follows as it is.</param>
    internal static void WriteFrameHeader(Span<byte> header, long sequence, long offset, int length, int packed)
    {
        BinaryPrimitives.WriteInt64LittleEndian(header, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], length);
        BinaryPrimitives.WriteInt32LittleEndian(header[20..], packed);
    }

    internal static (long Sequence, long Offset, int Length, int Packed) ReadFrameHeader(ReadOnlySpan<byte> header) =>
        (BinaryPrimitives.ReadInt64LittleEndian(header),
         BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
         BinaryPrimitives.ReadInt32LittleEndian(header[16..]),
         BinaryPrimitives.ReadInt32LittleEndian(header[20..]));
}
