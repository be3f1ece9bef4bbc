using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Node.Clients;
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
/// <remarks>
/// The senders' timers run on Akka's test clock: where the spec answers as the target, a loaded
/// machine cannot stretch its answers past the acknowledgement timeout.
/// </remarks>
public sealed class ArchiveStreamSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Transfer = "66666666666666666666666666666666";
    private const int ChunkBytes = 4096;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    // How long a sender that has caught up with podman's writing waits to look again.
    private static readonly TimeSpan Tail = ArchiveSender.TailInterval;

    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-stream-").FullName;
    private readonly MigrationConfig _config;
    private readonly ArchiveStreams _nodeA;
    private readonly ArchiveStreams _nodeB;
    private readonly ArchiveStreams _nodeC;
    private readonly StreamPortListener _listener;
    /// <summary>Where the stream reads chunks for TestActor as receiver, which keeps them and so releases each (<see cref="Kept"/>) as the receiver does.</summary>
    private readonly ChunkBuffers _buffers = new(ChunkBytes, 4);

    public ArchiveStreamSpecs() : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
    {
        TestPki.Ensure(["nodeA", "nodeB", "nodeC"]);
        var hosts = new[] { "nodeA", "nodeB", "nodeC" }
            .Select((name, i) => new HostEntry(name, "127.0.0.1", Ports.Free(), i == 0, "", "", Path.Combine(_state, name), StreamPort: Ports.Free()))
            .ToList();
        _config = LoopbackCluster.ForHosts(hosts, t => t with { ChunkBytes = ChunkBytes, Window = 2, AckTimeout = TimeSpan.FromSeconds(2) });
        (_nodeA, _nodeB, _nodeC) = (StreamsOf("nodeA"), StreamsOf("nodeB"), StreamsOf("nodeC"));
        _listener = new StreamPortListener(_nodeB, new ImageShipping(_nodeB, new FakeContainerRuntime(), Path.Combine(_state, "images")), new ClientGateway(NullLogger<ClientGateway>.Instance), NullLogger<StreamPortListener>.Instance);
        // The sender's progress reports to its parent depend on timing; no spec here is about them.
        IgnoreMessages(m => m is ArchiveSender.Progress);
    }

    private HostEntry NodeB => _config.GetHost("nodeB");

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

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

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None);
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

        await WriteQuietlyAsync(() => _nodeC.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None));

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_stream_for_a_transfer_the_node_has_not_accepted_delivers_nothing()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));

        await WriteQuietlyAsync(() => _nodeA.OpenAsync(NodeB, "77777777777777777777777777777777", TestActor, Patience, pack: false, CancellationToken.None), "77777777777777777777777777777777");

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
            await ssl.WriteAsync(ArchiveStreams.Preamble(ArchiveStreams.Magic, Transfer));
            var header = new byte[ArchiveStreams.FrameHeaderBytes];
            ArchiveStreams.WriteFrameHeader(header, 0, 0, 16, 0);
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

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None);
        stream.TryWrite(new ArchiveChunk(Transfer, 0, 0, new byte[ChunkBytes + 1]));
        stream.TryWrite(new ArchiveChunk(Transfer, 1, ChunkBytes + 1, new byte[10]));

        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task Chunks_packed_on_the_stream_reach_the_receiver_as_they_were_read()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));
        var text = Enumerable.Range(0, ChunkBytes).Select(i => (byte)('a' + i % 7)).ToArray();
        var random = RandomNumberGenerator.GetBytes(ChunkBytes);

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: true, CancellationToken.None);
        stream.TryWrite(new ArchiveChunk(Transfer, 0, 0, text));
        stream.TryWrite(new ArchiveChunk(Transfer, 1, ChunkBytes, random));

        Assert.Equal(text, receiver.ExpectMsg<ArchiveChunk>().Data);
        Assert.Equal(random, receiver.ExpectMsg<ArchiveChunk>().Data);
    }

    [Fact]
    public void Packing_shrinks_repetitive_memory_and_leaves_random_memory_as_it_is()
    {
        var packed = Array.Empty<byte>();
        var text = Enumerable.Range(0, ChunkBytes).Select(i => (byte)('a' + i % 7)).ToArray();

        var textLength = ArchiveStreams.Pack(text, ref packed);
        var randomLength = ArchiveStreams.Pack(RandomNumberGenerator.GetBytes(ChunkBytes), ref packed);

        Assert.InRange(textLength, 1, ChunkBytes / 8);
        Assert.Equal(0, randomLength);
    }

    [Fact]
    public async Task A_packed_chunk_that_does_not_unpack_to_its_length_closes_the_stream()
    {
        var receiver = CreateTestProbe();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 4)));
        var packed = Array.Empty<byte>();
        var length = ArchiveStreams.Pack(new byte[ChunkBytes], ref packed);
        var header = new byte[ArchiveStreams.FrameHeaderBytes];

        try
        {
            var (tcp, ssl) = await _nodeA.ConnectAsync(NodeB, ArchiveStreams.Preamble(ArchiveStreams.Magic, Transfer), CancellationToken.None);
            using (tcp)
            await using (ssl)
            {
                // A chunk's worth of zeros said to be a byte shorter, then the same frame told right, which must not arrive either.
                foreach (var claimed in new[] { ChunkBytes - 1, ChunkBytes })
                {
                    ArchiveStreams.WriteFrameHeader(header, 0, 0, claimed, length);
                    await ssl.WriteAsync(header);
                    await ssl.WriteAsync(packed.AsMemory(0, length));
                }
                await Task.Delay(200);
            }
        }
        catch (IOException)
        {
            // Closed under the second frame: either way nothing may arrive.
        }

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
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(TestActor, viaStream, "nodeA", ChunkBytes, _buffers));
        sender.Tell(new TransferAccepted(Transfer), TestActor);

        var (end, senders) = ReceiveAndAcknowledge(sender, archive);

        Assert.Equal([viaStream.Ref], senders);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    [Fact]
    public void An_archive_of_repetitive_and_random_memory_sent_packed_arrives_whole()
    {
        var viaStream = CreateTestProbe();
        var text = Enumerable.Range(0, 3 * ChunkBytes).Select(i => (byte)('a' + i % 7));
        byte[] archive = [.. text, .. RandomNumberGenerator.GetBytes(2 * ChunkBytes + 123)];
        var sender = StartSender("packed", archive, NodeB, pack: true);
        ExpectMsg<BeginTransfer>();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(TestActor, viaStream, "nodeA", ChunkBytes, _buffers));
        sender.Tell(new TransferAccepted(Transfer), TestActor);

        var (end, _) = ReceiveAndAcknowledge(sender, archive);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    [Fact]
    public void A_sender_whose_target_takes_no_stream_gives_up_and_tells_the_target_to_drop_the_transfer()
    {
        // A stream port nobody listens on: the connection is refused, and chunks have no other way.
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 5);
        var sender = StartSender("no-stream", archive, NodeB with { StreamPort = Ports.Free() });
        ExpectMsg<BeginTransfer>();
        sender.Tell(new TransferAccepted(Transfer), TestActor);

        Assert.Equal(Transfer, ExpectMsg<AbortTransfer>(Patience).TransferId);
        var gaveUp = ExpectMsg<ArchiveSender.GaveUp>();
        Assert.Equal(MigrationFailure.StreamFailed, gaveUp.Code);
        Assert.False(gaveUp.InDoubt);
    }

    [Fact]
    public void A_target_that_closes_the_stream_as_it_gives_up_is_heard_with_its_own_reason()
    {
        var sender = StreamingSender("full-disk");

        // The close outruns the target's message over Akka.
        sender.Tell(new ArchiveStreamWriter.Broken("Connection reset by peer"));
        sender.Tell(new TransferFailed(Transfer, TransferFailure.StorageFailed, "writing the archive failed: No space left on device"), TestActor);

        FishForMessage<AbortTransfer>(_ => true, Patience);
        var gaveUp = FishForMessage<ArchiveSender.GaveUp>(_ => true, Patience);
        Assert.Equal(MigrationFailure.TargetFailed, gaveUp.Code);
        Assert.Contains("No space left on device", gaveUp.Reason);
    }

    [Fact]
    public void A_stream_that_breaks_with_no_word_from_the_target_gives_up_as_broken_after_a_moment()
    {
        var sender = StreamingSender("cut-cable");

        sender.Tell(new ArchiveStreamWriter.Broken("Connection reset by peer"));
        var meanwhile = ReceiveWhile<object>(Quiet, m => m);
        Assert.DoesNotContain(meanwhile, m => m is AbortTransfer or ArchiveSender.GaveUp);
        Clock.Advance(ArchiveSender.WhyTimeout);

        FishForMessage<AbortTransfer>(_ => true, Patience);
        var gaveUp = FishForMessage<ArchiveSender.GaveUp>(_ => true, Patience);
        Assert.Equal(MigrationFailure.StreamFailed, gaveUp.Code);
        Assert.Contains("Connection reset by peer", gaveUp.Reason);
    }

    [Fact]
    public void An_archive_finished_while_the_stream_is_still_opening_goes_out_whole()
    {
        // Podman finishes the archive during the stream's TLS handshake: nothing is read until the stream is open.
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 5);
        var sender = StartSender("opening", archive, NodeB, written: false);
        ExpectMsg<BeginTransfer>();
        Expect(sender);
        sender.Tell(new TransferAccepted(Transfer), TestActor);
        sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, Handoff("opening")));

        var (end, _) = ReceiveAndAcknowledge(sender, archive);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
    }

    [Fact]
    public void The_sender_keeps_at_most_a_window_of_chunks_unacknowledged_and_signs_the_archive()
    {
        var archive = RandomNumberGenerator.GetBytes(5 * ChunkBytes + 123);
        var handoff = Handoff("window");
        var sender = StartSender("window", archive, NodeB, written: false);
        sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, handoff));
        ExpectMsg<BeginTransfer>();
        Expect(sender);

        sender.Tell(new TransferAccepted(Transfer), TestActor);
        var received = new List<ArchiveChunk> { Kept(ExpectMsg<ArchiveChunk>()), Kept(ExpectMsg<ArchiveChunk>()) };
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        while (received.Count < 6)
        {
            sender.Tell(new ChunkAck(Transfer, received[^2].Sequence), TestActor);
            received.Add(Kept(ExpectMsg<ArchiveChunk>()));
        }
        sender.Tell(new ChunkAck(Transfer, received[^2].Sequence), TestActor);
        sender.Tell(new ChunkAck(Transfer, received[^1].Sequence), TestActor);

        var end = ExpectMsg<EndOfArchive>();
        ExpectMsg<ArchiveSender.Restoring>();
        Assert.Equal(archive, received.OrderBy(c => c.Sequence).SelectMany(c => c.Data).ToArray());
        Assert.Equal((6L, (long)archive.Length), (end.ChunkCount, end.TotalBytes));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(archive)), end.Sha256);
        // The same job, with the transfer's time added to its last move (it has none here).
        Assert.Equal(handoff, end.Handoff);
        sender.Tell(new RestoreConfirmed(Transfer, "window", "nodeB", 5), TestActor);
        Assert.Equal("nodeB", ExpectMsg<ArchiveSender.Delivered>().NewOwner);
    }

    [Fact]
    public void The_sender_streams_an_archive_while_podman_is_still_writing_it()
    {
        var archive = RandomNumberGenerator.GetBytes(3 * ChunkBytes + 77);
        var (sender, path) = StartSenderOn("growing", NodeB);
        ExpectMsg<BeginTransfer>();
        Expect(sender);
        sender.Tell(new TransferAccepted(Transfer), TestActor);
        NothingWhileLookingAgain(); // no file yet: nothing to send

        // Shared like podman's file, which takes no lock.
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Write(archive, 0, ChunkBytes + 10);
            file.Flush();
            var received = new List<ArchiveChunk> { NextWhileLookingAgain<ArchiveChunk>() };
            // The partial second chunk waits for the rest rather than going out short.
            NothingWhileLookingAgain();
            file.Write(archive, ChunkBytes + 10, archive.Length - ChunkBytes - 10);
            file.Flush();
            received.Add(NextWhileLookingAgain<ArchiveChunk>());
            received.Add(Acknowledge(received[0]));
            // The last, short chunk goes out only once podman has finished the file.
            NothingWhileLookingAgain();
            sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, Handoff("growing")));
            received.Add(Acknowledge(received[1]));
            foreach (var chunk in received.Skip(2))
            {
                sender.Tell(new ChunkAck(Transfer, chunk.Sequence), TestActor);
            }

            var end = NextWhileLookingAgain<EndOfArchive>();
            Assert.Equal(archive, received.SelectMany(c => c.Data).ToArray());
            Assert.Equal([0L, ChunkBytes, 2L * ChunkBytes, 3L * ChunkBytes], received.Select(c => c.Offset));
            Assert.Equal(((long)archive.Length, Convert.ToHexStringLower(SHA256.HashData(archive))), (end.TotalBytes, end.Sha256));
        }

        ArchiveChunk Acknowledge(ArchiveChunk chunk)
        {
            sender.Tell(new ChunkAck(Transfer, chunk.Sequence), TestActor);
            return NextWhileLookingAgain<ArchiveChunk>();
        }
    }

    /// <summary>Nothing arrives while the test clock moves on a few tail intervals, each a chance for a sender to look at its file again.</summary>
    private void NothingWhileLookingAgain()
    {
        for (var look = 0; look < 4; look++)
        {
            Clock.Advance(Tail);
            ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>
    /// The next message, the test clock moved on a tail interval at a time until it comes: a sender
    /// that caught up with the file looks again on its timer. Steps that small keep the clock far from
    /// the acknowledgement timeout however long a loaded machine makes the sender take.
    /// </summary>
    private T NextWhileLookingAgain<T>()
    {
        for (var waited = TimeSpan.Zero; waited < Patience; waited += Tail * 20)
        {
            Clock.Advance(Tail);
            if (ReceiveOne(Tail * 20) is { } message)
            {
                return Assert.IsType<T>(message);
            }
        }
        throw new TimeoutException($"no {typeof(T).Name} within {Patience} while the clock moved on");
    }

    /// <summary>nodeB takes the transfer's stream, with TestActor as its receiver.</summary>
    private void Expect(IActorRef sender) =>
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(TestActor, sender, "nodeA", ChunkBytes, _buffers));

    /// <param name="pack">Whether nodeA's config.ini says [transfer] compression = lz4.</param>
    private IActorRef StartSender(string jobId, byte[] archive, HostEntry target, bool written = true, bool pack = false)
    {
        var (sender, path) = StartSenderOn(jobId, target, pack);
        File.WriteAllBytes(path, archive);
        if (written)
        {
            sender.Tell(new ArchiveSender.ArchiveWritten(archive.Length, Handoff(jobId)));
        }
        return sender;
    }

    /// <summary>A sender on nodeA, TestActor its parent and the target's supervisor, for an archive podman has yet to write at the path.</summary>
    /// <summary>A sender whose first chunk has arrived on the stream, unacknowledged.</summary>
    private IActorRef StreamingSender(string jobId)
    {
        var sender = StartSender(jobId, RandomNumberGenerator.GetBytes(5 * ChunkBytes), NodeB);
        ExpectMsg<BeginTransfer>();
        _nodeB.Expect(Transfer, new ArchiveStreams.Inbound(TestActor, CreateTestProbe(), "nodeA", ChunkBytes, _buffers));
        sender.Tell(new TransferAccepted(Transfer), TestActor);
        Kept(FishForMessage<ArchiveChunk>(_ => true, Patience));
        return sender;
    }

    private (IActorRef Sender, string Path) StartSenderOn(string jobId, HostEntry target, bool pack = false)
    {
        var config = pack ? _config with { Transfer = _config.Transfer with { Compression = TransferSettings.Lz4 } } : _config;
        var node = NodeContext.Create(config.GetHost("nodeA"), config, new FakeContainerRuntime(), streams: _nodeA);
        var path = node.Archives.PathFor(jobId, Transfer);
        return (ChildActorOf(ArchiveSender.Props(Transfer, jobId, path, Sys.ActorSelection(TestActor.Path), node, target, AnnouncedBytes)), path);
    }

    /// <summary>A chunk TestActor keeps: its buffer no longer counts against the stream's pool, so the stream reads on.</summary>
    private ArchiveChunk Kept(ArchiveChunk chunk)
    {
        _buffers.Release(chunk.Data);
        return chunk;
    }

    /// <summary>Acknowledges every chunk as it comes, checks they make up the archive, and returns the end of it and who sent the chunks.</summary>
    private (EndOfArchive End, IReadOnlySet<IActorRef> ChunkSenders) ReceiveAndAcknowledge(IActorRef sender, byte[] archive)
    {
        var received = new List<ArchiveChunk>();
        var senders = new HashSet<IActorRef>();
        while (true)
        {
            var message = FishForMessage(m => m is ArchiveChunk or EndOfArchive, TimeSpan.FromSeconds(10));
            if (message is EndOfArchive end)
            {
                Assert.Equal(archive, received.OrderBy(c => c.Offset).SelectMany(c => c.Data).ToArray());
                Assert.Equal(received.Count, end.ChunkCount);
                return (end, senders);
            }
            var chunk = Kept((ArchiveChunk)message);
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
