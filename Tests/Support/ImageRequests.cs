using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Tests.Support;

/// <summary>An image request on a node's stream port, as any holder of a certificate can make one.</summary>
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
}
