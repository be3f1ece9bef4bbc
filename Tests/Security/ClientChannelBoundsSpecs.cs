using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using AkkaMigration.Node.Clients;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// What one client certificate can cost a node: its requests' size, and how many connections it
/// may hold. A stream port on loopback (nodeB) with small limits; clients connect with the
/// cluster's client certificate or a node's, from 127.0.0.1 or 127.0.0.2.
/// </summary>
public sealed class ClientChannelBoundsSpecs : IAsyncLifetime
{
    private const int PerCertificate = 3, PerAddress = 2;
    private static readonly IPAddress Elsewhere = IPAddress.Parse("127.0.0.2");

    private readonly FakeLogger<ClientGateway> _log = new();
    private readonly List<SslStream> _held = [];
    private LoopbackStreamPort _port = null!;

    public async Task InitializeAsync() =>
        _port = await LoopbackStreamPort.StartAsync(["nodeA", "nodeB"], "nodeB", new ClientGateway(_log, new ClientConnections(PerCertificate, PerAddress)));

    public async Task DisposeAsync()
    {
        foreach (var held in _held)
        {
            await held.DisposeAsync();
        }
        await _port.DisposeAsync();
    }

    [Fact]
    public async Task A_request_longer_than_a_request_may_be_is_refused_before_its_body_is_read()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, ClientWire.MaxRequestBytes + 1);

        var refused = await Assert.ThrowsAsync<ClientWireException>(() => ClientWire.ReadRequestAsync(new MemoryStream(header), CancellationToken.None));

        Assert.Contains($"at most {ClientWire.MaxRequestBytes}", refused.Message);
    }

    [Fact]
    public async Task A_peer_that_claims_a_long_request_and_sends_little_costs_the_node_one_piece_not_the_claimed_length()
    {
        var frame = new byte[4 + 100];
        BinaryPrimitives.WriteInt32BigEndian(frame, ClientWire.MaxRequestBytes);
        // A MemoryStream answers at once: the whole read runs on this thread, and its allocations are counted here.
        var before = GC.GetAllocatedBytesForCurrentThread();

        await Assert.ThrowsAsync<EndOfStreamException>(() => ClientWire.ReadRequestAsync(new MemoryStream(frame), CancellationToken.None));

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < ClientWire.MaxRequestBytes / 4, $"reading 100 bytes of a claimed {ClientWire.MaxRequestBytes} allocated {allocated} bytes");
    }

    [Fact]
    public async Task One_address_holds_at_most_its_share_of_connections_and_the_next_is_told_why()
    {
        // The client's certificate, then a node's from the same address: counted by address, not by certificate.
        for (var i = 0; i < PerAddress; i++)
        {
            await HoldAsync(from: Elsewhere);
        }
        var node = ClusterTls.ForNode(_port.Config, _port.Config.GetHost("nodeA")).Certificate;

        var refusal = await RefusalAsync(certificate: node, from: Elsewhere);

        Assert.Equal(JobFailure.TooManyConnections, refusal.Code);
        Assert.Contains($"its address {Elsewhere} already holds {PerAddress} connections", refusal.Reason);
        // Another address is still answered (the gateway is not opened: it says the node is starting).
        Assert.Equal(JobFailure.NodeStarting, (await AnswerAsync(ClusterTls.ForClient(_port.Config).Certificate, IPAddress.Loopback)).Code);
    }

    [Fact]
    public async Task One_certificate_holds_at_most_its_share_of_connections_from_any_address_and_is_logged_once()
    {
        await HoldAsync(from: IPAddress.Loopback);
        await HoldAsync(from: IPAddress.Loopback);
        await HoldAsync(from: Elsewhere);

        var refusal = await RefusalAsync(certificate: null, from: Elsewhere);
        var again = await AnswerAsync(ClusterTls.ForClient(_port.Config).Certificate, IPAddress.Loopback);

        Assert.Contains($"its certificate already holds {PerCertificate} connections", refusal.Reason);
        Assert.Equal(JobFailure.TooManyConnections, again.Code);
        Assert.Single(_log.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("already holds"));

        // Once one of them closes, the certificate is welcome again.
        await _held[0].DisposeAsync();
        _held.RemoveAt(0);
        await Poll.UntilAsync("the certificate to be answered again",
            () => AnswerAsync(ClusterTls.ForClient(_port.Config).Certificate, IPAddress.Loopback), answer => answer.Code == JobFailure.NodeStarting,
            describe: answer => answer.Reason);
    }

    /// <summary>A connection that says what it is for and then nothing: it holds its place until the request's time runs out.</summary>
    private async Task HoldAsync(IPAddress from) =>
        _held.Add(await ClientChannelCalls.OpenAsync(_port.Config, "nodeB", [.. ClientWire.Magic, 0], from: from));

    /// <summary>Asks until the node refuses for too many connections: it counts a held connection once it has read its first bytes, which the client cannot see.</summary>
    private Task<CommandRejected> RefusalAsync(X509Certificate2? certificate, IPAddress from) =>
        Poll.UntilAsync("a connection refused for too many", () => AnswerAsync(certificate ?? ClusterTls.ForClient(_port.Config).Certificate, from),
            answer => answer.Code == JobFailure.TooManyConnections, describe: answer => answer.Reason);

    private async Task<CommandRejected> AnswerAsync(X509Certificate2 certificate, IPAddress from)
    {
        var request = ClientChannelCalls.Frame("""{"type":"GetNodeStatus","timeoutMs":3000,"message":{}}""");
        var answer = await ClientChannelCalls.SendAsync(_port.Config, "nodeB", [.. ClientWire.Magic, 0, .. request], certificate, from);
        return (CommandRejected)(await ClientWire.ReadAnswerAsync(new MemoryStream(answer), CancellationToken.None))!;
    }
}
