using System.Net;
using System.Net.Sockets;

namespace AkkaMigration.Tests.Support;

public static class Ports
{
    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A TCP port free on loopback right now, and never one this process was given before, nor
    /// within two of one: a node's metrics port defaults to its port + 2, and specs start many nodes.
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
                if (Enumerable.Range(port - 2, 5).All(near => !Given.Contains(near)))
                {
                    Given.Add(port);
                    return port;
                }
            }
        }
    }
}
