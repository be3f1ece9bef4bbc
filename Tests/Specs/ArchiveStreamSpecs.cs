using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Node;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using static AkkaMigration.Tests.Support.TransferMessages;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The archive stream beside Akka.Remote, over real TLS on loopback: nodeB listens, nodeA and
/// nodeC connect with their certificates from the specs' CA. A test probe stands in for nodeB's receiver.
/// </summary>
public sealed class ArchiveStreamSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Transfer = "66666666666666666666666666666666";
    private const int ChunkBytes = 4096;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-stream-").FullName;
    private readonly MigrationConfig _config;
    private readonly ArchiveStreams _nodeA;
    private readonly ArchiveStreams _nodeB;
    private readonly ArchiveStreams _nodeC;
    private readonly ArchiveStreamListener _listener;

    public ArchiveStreamSpecs()
    {
        TestPki.Ensure(["nodeA", "nodeB", "nodeC"]);
        var hosts = new[] { "nodeA", "nodeB", "nodeC" }
            .Select((name, i) => new HostEntry(name, "127.0.0.1", Ports.Free(), i == 0, "", "", Path.Combine(_state, name), StreamPort: Ports.Free()))
            .ToList();
        _config = LoopbackCluster.ForHosts(hosts, t => t with { ChunkBytes = ChunkBytes, Window = 2, AckTimeout = TimeSpan.FromSeconds(2) });
        (_nodeA, _nodeB, _nodeC) = (StreamsOf("nodeA"), StreamsOf("nodeB"), StreamsOf("nodeC"));
        _listener = new ArchiveStreamListener(_nodeB, NullLogger<ArchiveStreamListener>.Instance);
    }

    private HostEntry NodeB => _config.GetHost("nodeB");

    public async Task InitializeAsync() => await _listener.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _listener.StopAsync(CancellationToken.None);
        _listener.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Chunks_on_the_stream_reach_the_receiver_in_order_as_if_the_source_had_sent_them()
    {
        var receiver = CreateTestProbe();
        var source = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, source, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 10);

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, CancellationToken.None);
        foreach (var chunk in Chunk(archive, Transfer, ChunkBytes))
        {
            Assert.True(stream.TryWrite(chunk));
        }

        var received = Enumerable.Range(0, 4).Select(_ => receiver.ExpectMsg<ArchiveChunk>()).ToList();
        Assert.Equal([0L, 1, 2, 3], received.Select(c => c.Sequence));
        Assert.Equal([0L, ChunkBytes, 2 * ChunkBytes, 3 * ChunkBytes], received.Select(c => c.Offset));
        Assert.Equal(archive, received.SelectMany(c => c.Data).ToArray());
        // The receiver acknowledges whoever sent a chunk: for the stream's chunks, that is the source over Akka.
        Assert.Equal(source.Ref, receiver.LastSender);
    }

    [Fact]
    public async Task A_node_that_is_not_the_transfers_source_cannot_feed_it()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));

        await WriteQuietlyAsync(() => _nodeC.OpenAsync(NodeB, Transfer, TestActor, CancellationToken.None));

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_stream_for_a_transfer_the_node_has_not_accepted_delivers_nothing()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));

        await WriteQuietlyAsync(() => _nodeA.OpenAsync(NodeB, "77777777777777777777777777777777", TestActor, CancellationToken.None), "77777777777777777777777777777777");

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_certificate_from_another_ca_cannot_open_a_stream()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));
        var foreign = TestPki.Foreign("nodeA");

        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(NodeB.Address, NodeB.StreamPort);
            await using var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "nodeB",
                ClientCertificates = [foreign],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            });
            await ssl.WriteAsync(ArchiveStreams.Preamble(Transfer));
            var header = new byte[ArchiveStreams.FrameHeaderBytes];
            ArchiveStreams.WriteFrameHeader(header, 0, 0, 16);
            await ssl.WriteAsync(header);
            await ssl.WriteAsync(new byte[16]);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            // Refused during or right after the handshake: either way nothing may arrive.
        }

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_frame_longer_than_the_transfers_chunks_closes_the_stream()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, CancellationToken.None);
        stream.TryWrite(new ArchiveChunk(Transfer, 0, 0, new byte[ChunkBytes + 1]));
        stream.TryWrite(new ArchiveChunk(Transfer, 1, ChunkBytes + 1, new byte[10]));

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void An_archive_sent_on_the_stream_arrives_whole_and_ends_over_akka()
    {
        // TestActor plays nodeB's supervisor and its receiver. The listener names the probe as the
        // chunks' sender, so a chunk that came as an Akka message would show the archive sender instead.
        var viaStream = CreateTestProbe();
        var archive = RandomNumberGenerator.GetBytes(5 * ChunkBytes + 123);
        var sender = StartSender("streamed", archive, NodeB);
        ExpectMsg<BeginTransfer>();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(TestActor, viaStream, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));
        sender.Tell(new TransferAccepted(Transfer), TestActor);

        var (end, senders) = ReceiveAndAcknowledge(sender, archive.Length);

        Assert.Equal([viaStream.Ref], senders);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    [Fact]
    public void A_sender_whose_target_takes_no_stream_sends_the_archive_as_akka_messages()
    {
        // A stream port nobody listens on: the connection is refused, and the chunks take Akka instead.
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 5);
        var sender = StartSender("fallback", archive, NodeB with { StreamPort = Ports.Free() });
        ExpectMsg<BeginTransfer>();
        sender.Tell(new TransferAccepted(Transfer), TestActor);

        var (end, senders) = ReceiveAndAcknowledge(sender, archive.Length);

        Assert.Equal([sender], senders);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    /// <param name="written">Whether podman has already finished the archive when the sender starts.</param>
    [Fact]
    public void An_archive_finished_while_the_stream_is_still_opening_goes_out_whole()
    {
        // A port that takes connections and never answers the TLS handshake: the stream stays
        // opening until its limit, and podman finishes the archive meanwhile.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 5);
        var sender = StartSender("opening", archive, NodeB with { StreamPort = ((IPEndPoint)silent.LocalEndpoint).Port }, written: false);
        ExpectMsg<BeginTransfer>();
        sender.Tell(new TransferAccepted(Transfer), TestActor);
        sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, Handoff("opening")));

        var (end, senders) = ReceiveAndAcknowledge(sender, archive.Length);

        Assert.Equal([sender], senders);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    private IActorRef StartSender(string jobId, byte[] archive, HostEntry target, bool written = true)
    {
        var nodeA = _config.GetHost("nodeA");
        var node = NodeContext.Create(nodeA, _config, new FakeContainerRuntime(), streams: _nodeA);
        var path = node.Archives.PathFor(jobId, Transfer);
        File.WriteAllBytes(path, archive);
        var sender = ChildActorOf(ArchiveSender.Props(Transfer, jobId, path, Sys.ActorSelection(TestActor.Path), node, target));
        if (written)
        {
            sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, Handoff(jobId)));
        }
        return sender;
    }

    /// <summary>Acknowledges every chunk as it comes, checks they make up the archive, and returns the end of it and who sent the chunks.</summary>
    private (EndOfArchive End, IReadOnlySet<IActorRef> ChunkSenders) ReceiveAndAcknowledge(IActorRef sender, int length)
    {
        var received = new List<ArchiveChunk>();
        var senders = new HashSet<IActorRef>();
        while (true)
        {
            var message = FishForMessage(m => m is ArchiveChunk or EndOfArchive, TimeSpan.FromSeconds(10));
            if (message is EndOfArchive end)
            {
                Assert.Equal(length, received.Sum(c => c.Data.Length));
                Assert.Equal(received.Count, end.ChunkCount);
                return (end, senders);
            }
            var chunk = (ArchiveChunk)message;
            received.Add(chunk);
            senders.Add(LastSender);
            sender.Tell(new ChunkAck(Transfer, chunk.Sequence), TestActor);
        }
    }

    /// <summary>Opens a stream the listener should refuse and writes a chunk on it; a refusal seen by the writer is no failure.</summary>
    private static async Task WriteQuietlyAsync(Func<Task<ArchiveStreamWriter>> open, string transfer = Transfer)
    {
        try
        {
            await using var stream = await open();
            stream.TryWrite(new ArchiveChunk(transfer, 0, 0, new byte[100]));
            await Task.Delay(200);
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
        }
    }

    private ArchiveStreams StreamsOf(string host)
    {
        var entry = _config.GetHost(host);
        return new ArchiveStreams(entry, Shared.Security.ClusterTls.ForNode(_config, entry));
    }
}
