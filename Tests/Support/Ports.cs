using System.Net;
using System.Net.Sockets;

namespace AkkaMigration.Tests.Support;

public static class Ports
{
    /// <summary>A node listens on its port and the next three: stream, metrics and fencing (config.ini's defaults).</summary>
    private const int Span = 4;

    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A TCP port free on loopback right now with the <see cref="Span"/> - 1 after it, none of them
    /// given to this process before: specs start many nodes, and the kernel hands out the same range
    /// for outgoing connections, so a derived port is checked too, not assumed.
    /// </summary>
    public static int Free()
    {
        lock (Given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                var block = Enumerable.Range(port, Span).ToArray();
                if (port + Span <= IPEndPoint.MaxPort && block.All(p => !Given.Contains(p)) && block.Skip(1).All(Bindable))
                {
                    Given.UnionWith(block);
                    return port;
                }
            }
        }
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Loopback, port);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
