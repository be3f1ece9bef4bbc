using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Migration;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;

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
    internal static ReadOnlySpan<byte> Magic => "AMS1"u8;
    internal const int FrameHeaderBytes = 20;

    private readonly ConcurrentDictionary<string, Inbound> _inbound = new();
    private readonly SslStreamCertificateContext _certificate = SslStreamCertificateContext.Create(tls.Certificate, null);

    /// <summary>A transfer this node has accepted: where its chunks go and who may send them.</summary>
    /// <param name="Receiver">The transfer's receiver actor.</param>
    /// <param name="Source">The sender actor on the source node, which the receiver acknowledges.</param>
    /// <param name="SourceNode">The only host whose certificate may open the transfer's stream.</param>
    /// <param name="Buffers">Where the stream's chunks are read into; the receiver gives them back once written.</param>
    public sealed record Inbound(IActorRef Receiver, IActorRef Source, string SourceNode, int ChunkBytes, ChunkBuffers Buffers);

    public HostEntry Self => self;

    public FaultInjection Faults { get; } = faults ?? FaultInjection.None;

    public void Expect(string transferId, Inbound inbound) => _inbound[transferId] = inbound;

    public void Forget(string transferId) => _inbound.TryRemove(transferId, out _);

    public bool TryFind(string transferId, out Inbound inbound) => _inbound.TryGetValue(transferId, out inbound!);

    /// <summary>Null if the peer's certificate may do what <paramref name="role"/> may (null: any role of the cluster's), else why not.</summary>
    public string? Refusal(X509Certificate? certificate, string? role) => tls.Refusal(certificate, role);

    /// <summary>
    /// The port admits any certificate of the cluster's at the handshake: clients ask over it too.
    /// What a connection may do then depends on its role (<see cref="StreamPortListener"/>).
    /// </summary>
    private bool AdmitsAnyRole(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        tls.Refusal(certificate, role: null) is null;

    /// <summary>A node dials only nodes: a stream port answered by a client's certificate is not a peer's.</summary>
    private bool AdmitsNode(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        tls.Refusal(certificate, ClusterTls.NodeRole) is null;

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
    public async Task<ArchiveStreamWriter> OpenAsync(HostEntry target, string transferId, IActorRef owner, TimeSpan limit, CancellationToken cancellation)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        bounded.CancelAfter(limit);
        var (tcp, ssl) = await ConnectAsync(target, Preamble(Magic, transferId), bounded.Token);
        return new ArchiveStreamWriter(tcp, ssl, transferId, owner, Faults);
    }

    /// <summary>A TLS connection to <paramref name="target"/>'s stream port, this node's certificate shown, <paramref name="preamble"/> sent.</summary>
    internal async Task<(TcpClient Tcp, SslStream Ssl)> ConnectAsync(HostEntry target, byte[] preamble, CancellationToken cancellation)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(target.Address, target.StreamPort, cancellation);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = target.Name,
                ClientCertificateContext = _certificate,
                RemoteCertificateValidationCallback = AdmitsNode,
            }, cancellation);
            await ssl.WriteAsync(preamble, cancellation);
            return (tcp, ssl);
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

    internal static void WriteFrameHeader(Span<byte> header, long sequence, long offset, int length)
    {
        BinaryPrimitives.WriteInt64LittleEndian(header, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], offset);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], length);
    }

    internal static (long Sequence, long Offset, int Length) ReadFrameHeader(ReadOnlySpan<byte> header) =>
        (BinaryPrimitives.ReadInt64LittleEndian(header),
         BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
         BinaryPrimitives.ReadInt32LittleEndian(header[16..]));
}
