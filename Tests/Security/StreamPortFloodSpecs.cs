using System.Net;
using System.Net.Sockets;
using System.Text;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Tests.MultiNode;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A bounded flood on a node's stream port, on the specs' loopback hosts only: connections that
/// open and say nothing, from one address (127.0.0.2), while a client at another (127.0.0.1) asks.
/// </summary>
public sealed class StreamPortFloodSpecs(TwoNodeCluster nodes) : IClassFixture<TwoNodeCluster>
{
    private const int Flood = 400;
    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Silent_connections_past_the_limit_are_closed_at_once_while_the_node_still_answers_a_client_elsewhere()
    {
        var config = nodes.Cluster.Config;
        var host = config.GetHost("nodeB");
        var request = ClientChannelCalls.Frame("""{"type":"GetNodeStatus","timeoutMs":3000,"message":{}}""");
        var flood = new List<TcpClient>();
        try
        {
            for (var i = 0; i < Flood; i++)
            {
                var connection = new TcpClient(new IPEndPoint(Flooder, 0));
                await connection.ConnectAsync(host.Address, host.StreamPort);
                flood.Add(connection);
            }

            var answer = Encoding.UTF8.GetString(await ClientChannelCalls.SendAsync(config, "nodeB", [.. "AMC1"u8, 0, .. request]));
            var closed = (await Task.WhenAll(flood.Select(ClosedByTheNodeAsync))).Count(c => c);

            Assert.Contains("\"type\":\"NodeStatus\"", answer);
            Assert.Equal(Flood - StreamPortListener.HandshakesPerPeer, closed);
        }
        finally
        {
            flood.ForEach(c => c.Dispose());
        }
        // Once the flood is gone, its address is welcome again.
        await Poll.UntilAsync("the flooder's address to be answered again",
            async () => Encoding.UTF8.GetString(await ClientChannelCalls.SendAsync(config, "nodeB", [.. "AMC1"u8, 0, .. request], from: Flooder)
                .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : [])),
            answer => answer.Contains("\"type\":\"NodeStatus\""));
    }

    /// <summary>A connection the node turned away reads its end at once; one it admitted to the handshake waits (10 s) for TLS.</summary>
    private static async Task<bool> ClosedByTheNodeAsync(TcpClient connection)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            return await connection.GetStream().ReadAsync(new byte[1], wait.Token) == 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }
}
