using System.Security.Cryptography;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using static AkkaMigration.Tests.Support.TransferMessages;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// What a source's archive stream can cost its target: buffers, streams, and a connection left
/// open. nodeB listens on loopback; nodeA, the transfer's source, connects with its own
/// certificate; a test probe stands in for nodeB's receiver and keeps every buffer it is given.
/// </summary>
public sealed class ArchiveStreamBoundsSpecs : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    private const string Transfer = "88888888888888888888888888888888";
    private const int ChunkBytes = 4096, Pool = 2;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly ChunkBuffers _buffers = new(ChunkBytes, Pool);
    private LoopbackStreamPort _port = null!;
    private ArchiveStreams _nodeA = null!;

    private HostEntry NodeB => _port.Config.GetHost("nodeB");

    public async Task InitializeAsync()
    {
        _port = await LoopbackStreamPort.StartAsync(["nodeA", "nodeB"], "nodeB", transfer: t => t with { ChunkBytes = ChunkBytes });
        _nodeA = _port.StreamsOf("nodeA");
    }

    public async Task DisposeAsync() => await _port.DisposeAsync();

    [Fact]
    public async Task A_source_faster_than_the_disk_waits_for_a_buffer_instead_of_growing_the_targets_heap()
    {
        var receiver = CreateTestProbe();
        _port.Listening.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, _buffers));
        var archive = RandomNumberGenerator.GetBytes(5 * ChunkBytes);

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None);
        Chunk(archive, Transfer, ChunkBytes).ForEach(c => Assert.True(stream.TryWrite(c)));

        // The pool's buffers are out, none written yet: the stream reads no further.
        var first = receiver.ExpectMsg<ArchiveChunk>(Patience);
        receiver.ExpectMsg<ArchiveChunk>(Patience);
        receiver.ExpectNoMsg(Quiet);
        // The receiver gives one back once its chunk is on disk: the next chunk comes into it.
        _buffers.Return(first.Data);
        Assert.Equal(2, receiver.ExpectMsg<ArchiveChunk>(Patience).Sequence);
        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_buffer_the_receiver_keeps_still_makes_room_once_released()
    {
        var held = await _buffers.RentAsync(ChunkBytes, CancellationToken.None);
        await _buffers.RentAsync(ChunkBytes, CancellationToken.None);
        var third = _buffers.RentAsync(ChunkBytes, CancellationToken.None);
        Assert.False(third.IsCompleted);

        _buffers.Release(held);

        Assert.Equal(ChunkBytes, (await third.WaitAsync(Patience)).Length);
        // Released, not returned: the kept buffer is not lent again.
        Assert.NotSame(held, await third);
    }

    [Fact]
    public async Task A_chunk_claimed_larger_than_the_transfers_chunk_size_is_refused_before_anything_is_allocated()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _buffers.RentAsync(ChunkBytes + 1, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _buffers.RentAsync(0, CancellationToken.None));
    }

    [Fact]
    public async Task A_transfer_has_one_stream_and_a_second_one_delivers_nothing()
    {
        var receiver = CreateTestProbe();
        _port.Listening.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, new ChunkBuffers(ChunkBytes, 8)));
        var chunks = Chunk(RandomNumberGenerator.GetBytes(2 * ChunkBytes), Transfer, ChunkBytes);

        await using var stream = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None);
        Assert.True(stream.TryWrite(chunks[0]));
        receiver.ExpectMsg<ArchiveChunk>(Patience);
        try
        {
            await using var second = await _nodeA.OpenAsync(NodeB, Transfer, TestActor, Patience, pack: false, CancellationToken.None);
            second.TryWrite(chunks[1]);
            receiver.ExpectNoMsg(Quiet);
        }
        catch (IOException)
        {
            // Closed as soon as it named the transfer: either way nothing may arrive.
        }
        receiver.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task A_silent_sources_stream_is_closed_once_its_transfer_ends()
    {
        var receiver = CreateTestProbe();
        _port.Listening.Expect(Transfer, new ArchiveStreams.Inbound(receiver, TestActor, "nodeA", ChunkBytes, _buffers));
        var (tcp, ssl) = await _nodeA.ConnectAsync(NodeB, ArchiveStreams.Preamble(ArchiveStreams.Magic, Transfer), CancellationToken.None);
        using (tcp)
        await using (ssl)
        {
            var header = new byte[ArchiveStreams.FrameHeaderBytes];
            ArchiveStreams.WriteFrameHeader(header, 0, 0, 16, 0);
            await ssl.WriteAsync(header);
            await ssl.WriteAsync(new byte[16]);
            receiver.ExpectMsg<ArchiveChunk>(Patience);

            // The source says nothing more; its receiver gives up on it (its idle timeout) and forgets the transfer.
            _port.Listening.Forget(Transfer);

            using var wait = new CancellationTokenSource(Patience);
            Assert.Equal(0, await ReadOrClosedAsync(ssl, wait.Token));
        }
    }

    private static async Task<int> ReadOrClosedAsync(System.Net.Security.SslStream ssl, CancellationToken cancellation)
    {
        try
        {
            return await ssl.ReadAsync(new byte[1], cancellation);
        }
        catch (IOException)
        {
            return 0;
        }
    }

}
