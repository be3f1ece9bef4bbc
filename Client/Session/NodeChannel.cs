using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Client.Session;

/// <summary>
/// One request's connection to a node (<see cref="ClientWire"/>): dialled out to the node's stream
/// port over mutual TLS, where the node must show a node's certificate of the cluster CA.
/// </summary>
internal sealed class NodeChannel : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _ssl;

    private NodeChannel(TcpClient tcp, SslStream ssl)
    {
        _tcp = tcp;
        _ssl = ssl;
    }

    /// <summary>Connects, proves who this client is, checks the node, and sends <paramref name="request"/>.</summary>
    /// <param name="timeout">How long the node may take to answer, which it bounds its own wait by.</param>
    public static async Task<NodeChannel> OpenAsync(HostEntry node, ClusterTls tls, IClientRequest request, TimeSpan timeout, CancellationToken cancellation)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(node.Address, node.StreamPort, cancellation);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            string? refusal = null;
            try
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = node.Name,
                    ClientCertificates = [tls.Certificate],
                    // The chain, the role and the place, as between nodes: the host config.ini puts at this port.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        (refusal = tls.Refusal(certificate, ClusterTls.NodeRole)
                            ?? tls.PlaceProblem(certificate!, null, node, $"{node.Address}:{node.StreamPort}")) is null,
                }, cancellation);
            }
            catch (AuthenticationException) when (refusal is not null)
            {
                throw new AuthenticationException($"{node.Name}'s certificate {refusal}");
            }
            await ssl.WriteAsync((byte[])[.. ClientWire.Magic, 0], cancellation);
            await ClientWire.WriteRequestAsync(ssl, request, timeout, cancellation);
            return new NodeChannel(tcp, ssl);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <returns>The node's next answer, or null when it closed the connection.</returns>
    public Task<object?> ReadAnswerAsync(CancellationToken cancellation) => ClientWire.ReadAnswerAsync(_ssl, cancellation);

    public async ValueTask DisposeAsync()
    {
        await _ssl.DisposeAsync();
        _tcp.Dispose();
    }
}
