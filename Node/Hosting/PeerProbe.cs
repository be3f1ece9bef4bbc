using System.Net.Sockets;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// Whether a peer's node process is gone for sure: its host answers, and refuses a connection to the
/// node's stream port because nothing listens there. Silence, an unreachable network or an accepted
/// connection prove nothing of the kind, since a partition looks just like them. The stream port, not
/// Akka's: a bare connection there costs the peer one warning line, where Akka's TLS port logs it as
/// an error, "likely invalid or malicious traffic".
/// </summary>
public static class PeerProbe
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public static async Task<bool> RefusesAsync(HostEntry host, CancellationToken cancellation)
    {
        if (host.StreamPort == 0)
        {
            return false;
        }
        using var tcp = new TcpClient();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(Limit);
        try
        {
            await tcp.ConnectAsync(host.Address, host.StreamPort, limit.Token);
            return false;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionRefused;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
