using System.Net.Sockets;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// Whether a peer's node process is gone for sure: its host answers, and refuses a connection to the
/// node's Akka port because nothing listens there. Silence, an unreachable network or an accepted
/// connection prove nothing of the kind, since a partition looks just like them.
/// </summary>
public static class PeerProbe
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);

    public static async Task<bool> RefusesAsync(string address, int port, CancellationToken cancellation)
    {
        using var tcp = new TcpClient();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(Limit);
        try
        {
            await tcp.ConnectAsync(address, port, limit.Token);
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
