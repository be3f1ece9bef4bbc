using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Tests.Support;

/// <summary>Raw bytes to a node's stream port over TLS with the client's certificate, for specs of what the port refuses.</summary>
public static class ClientChannelCalls
{
    /// <param name="certificate">Another certificate to show instead of the client's.</param>
    /// <param name="from">A loopback address of the machine's to connect from (127.0.0.2, say), to look like another host.</param>
    /// <returns>Everything the node wrote back before it closed the connection.</returns>
    public static async Task<byte[]> SendAsync(MigrationConfig config, string node, byte[] bytes, X509Certificate2? certificate = null, IPAddress? from = null)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var ssl = await OpenAsync(config, node, bytes, certificate, from, limit.Token);
        using var answer = new MemoryStream();
        await ssl.CopyToAsync(answer, limit.Token);
        return answer.ToArray();
    }

    /// <summary>As <see cref="SendAsync"/>, but the connection stays open for the caller, who disposes it (and its socket with it).</summary>
    public static async Task<SslStream> OpenAsync(MigrationConfig config, string node, byte[] bytes, X509Certificate2? certificate = null,
        IPAddress? from = null, CancellationToken cancellation = default)
    {
        var host = config.GetHost(node);
        var tcp = from is null ? new TcpClient() : new TcpClient(new IPEndPoint(from, 0));
        try
        {
            await tcp.ConnectAsync(host.Address, host.StreamPort, cancellation);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = node,
                ClientCertificates = [certificate ?? ClusterTls.ForClient(config).Certificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }, cancellation);
            await ssl.WriteAsync(bytes, cancellation);
            return ssl;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>A client channel frame around <paramref name="json"/>: its length, then the text.</summary>
    public static byte[] Frame(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }
}
