using System.Security.Cryptography;
using Akka.Actor;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using static AkkaMigration.Tests.Support.TransferMessages;

namespace AkkaMigration.Tests.Specs;

/// <summary>The two ends of an archive transfer, each driven by hand with a fake runtime.</summary>
public sealed class TransferSpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int ChunkBytes = 1000;
    // A header of about 80 bytes plus this padding: six chunks of 1000 bytes.
    private readonly FakeContainerRuntime _runtime = new() { ArchivePaddingBytes = 5200 };
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-transfer-").FullName;
    private readonly NodeContext _node;

    public TransferSpecs()
    {
        var self = new HostEntry("nodeB", "127.0.0.1", 1, false, "", "", _state);
        // The acknowledgement timeout is as long as an ExpectMsg's default wait: a slow machine must
        // not make the sender send chunks again while a spec still counts the first ones.
        var config = LoopbackCluster.ForHosts([self], t => t with { ChunkBytes = ChunkBytes, Window = 2, AckTimeout = TimeSpan.FromSeconds(3) });
        _node = NodeContext.Create(self, config, _runtime);
    }

    [Fact]
    public void Chunks_arriving_out_of_order_and_twice_reassemble_the_exact_archive()
    {
        var archive = _runtime.ArchiveFor(ContainerNames.For("ooo"), 41, 12, 30);
        var chunks = Chunk(archive, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ChunkBytes);
        var receiver = StartReceiver("ooo", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        Assert.Equal(6, chunks.Count);

        foreach (var i in new[] { 3, 0, 5, 1, 4, 2 })
        {
            receiver.Tell(chunks[i], TestActor);
            Assert.Equal(i, ExpectMsg<ChunkAck>().Sequence);
        }
        receiver.Tell(chunks[1], TestActor);
        Assert.Equal(1, ExpectMsg<ChunkAck>().Sequence);
        receiver.Tell(End("ooo", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", chunks, archive), TestActor);

        ExpectMsg<RestoreStarted>();
        var adopted = ExpectMsg<IncomingTransfers.Restored>();
        Assert.Equal(("ooo", 1), (adopted.Record.JobId, adopted.Record.Migrations));
        // The record is on disk before the supervisor hears of the job.
        Assert.Equal((JobPhase.Running, 1), (_node.Journal.Find("ooo")!.Phase, _node.Journal.Find("ooo")!.Migrations));
        Assert.Equal(12, _runtime.TicksDoneAtRestore(ContainerNames.For("ooo")));
        Sys.Stop(receiver);
        AwaitAssert(() => Assert.Empty(Directory.GetFiles(_node.Archives.Folder)));
    }

    [Fact]
    public void A_corrupted_chunk_fails_the_checksum_and_nothing_is_restored()
    {
        var archive = _runtime.ArchiveFor(ContainerNames.For("corrupt"), 1, 3, 30);
        var chunks = Chunk(archive, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", ChunkBytes);
        var tampered = chunks[2].Data.ToArray();
        tampered[17] ^= 0xFF;
        chunks[2] = chunks[2] with { Data = tampered };
        var receiver = StartReceiver("corrupt", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");

        SendAll(receiver, chunks);
        receiver.Tell(End("corrupt", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", chunks, archive), TestActor);

        ExpectMsg<RestoreStarted>();
        Assert.Equal(TransferFailure.ChecksumMismatch, ExpectMsg<TransferFailed>().Code);
        Assert.DoesNotContain(_runtime.Calls, c => c.StartsWith("restore"));
        AwaitAssert(() => Assert.Empty(Directory.GetFiles(_node.Archives.Folder)));
    }

    [Fact]
    public void A_missing_chunk_is_reported_as_an_incomplete_archive()
    {
        var archive = _runtime.ArchiveFor(ContainerNames.For("gap"), 1, 3, 30);
        var chunks = Chunk(archive, "cccccccccccccccccccccccccccccccc", ChunkBytes);
        var receiver = StartReceiver("gap", "cccccccccccccccccccccccccccccccc");

        SendAll(receiver, chunks.Where(c => c.Sequence != 3));
        receiver.Tell(End("gap", "cccccccccccccccccccccccccccccccc", chunks, archive), TestActor);

        Assert.Equal(TransferFailure.Incomplete, ExpectMsg<TransferFailed>().Code);
        Assert.DoesNotContain(_runtime.Calls, c => c.StartsWith("restore"));
    }

    [Fact]
    public void An_oversized_chunk_is_refused()
    {
        var receiver = StartReceiver("big", "dddddddddddddddddddddddddddddddd");

        receiver.Tell(new ArchiveChunk("dddddddddddddddddddddddddddddddd", 0, 0, new byte[ChunkBytes + 1]), TestActor);

        Assert.Equal(TransferFailure.MalformedChunk, ExpectMsg<TransferFailed>().Code);
    }

    [Fact]
    public void A_chunk_of_another_transfer_is_refused()
    {
        var receiver = StartReceiver("bogus", "abababababababababababababababab");

        receiver.Tell(new ArchiveChunk("cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", 0, 0, new byte[10]), TestActor);

        Assert.Equal(TransferFailure.ForeignChunk, ExpectMsg<TransferFailed>().Code);
    }

    [Fact]
    public void A_failed_restore_is_reported_and_leaves_no_container()
    {
        var archive = _runtime.ArchiveFor(ContainerNames.For("norestore"), 1, 3, 30);
        var chunks = Chunk(archive, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", ChunkBytes);
        _runtime.FailRestoresWith = "no such image";
        var receiver = StartReceiver("norestore", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee");

        SendAll(receiver, chunks);
        receiver.Tell(End("norestore", "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", chunks, archive), TestActor);

        ExpectMsg<RestoreStarted>();
        Assert.Equal(TransferFailure.RestoreFailed, ExpectMsg<TransferFailed>().Code);
        Assert.Null(_runtime.Inspect(ContainerNames.For("norestore")));
        Assert.Contains($"remove {ContainerNames.For("norestore")}", _runtime.Calls);
        // Nothing left for a restarted node to clean up, and no record claims the job.
        Assert.Empty(_node.Journal.Restoring());
        Assert.Null(_node.Journal.Find("norestore"));
    }

    [Fact]
    public void An_aborted_transfer_deletes_what_was_received()
    {
        var chunks = Chunk(_runtime.ArchiveFor(ContainerNames.For("abort"), 1, 3, 30), "ffffffffffffffffffffffffffffffff", ChunkBytes);
        var receiver = StartReceiver("abort", "ffffffffffffffffffffffffffffffff");
        SendAll(receiver, chunks.Take(2));
        Watch(receiver);

        receiver.Tell(new AbortTransfer("ffffffffffffffffffffffffffffffff", MigrationFailure.TargetSilent, "source gave up"), TestActor);

        ExpectTerminated(receiver);
        Assert.Empty(Directory.GetFiles(_node.Archives.Folder));
    }

    [Fact]
    public void A_silent_target_makes_the_sender_give_up_in_time()
    {
        var path = _node.Archives.PathFor("silent", "22222222222222222222222222222222");
        File.WriteAllBytes(path, new byte[10]);
        ChildActorOf(ArchiveSender.Props("22222222222222222222222222222222", "silent", path, Sys.ActorSelection(TestActor.Path), _node, _node.Self, AnnouncedBytes));

        ExpectMsg<BeginTransfer>();

        // The target's supervisor is told to drop anything it may have started, then the job actor hears of it.
        Assert.Equal(MigrationFailure.TargetSilent, ExpectMsg<AbortTransfer>(TimeSpan.FromSeconds(5)).Code);
        Assert.Equal(MigrationFailure.TargetSilent, ExpectMsg<ArchiveSender.GaveUp>().Code);
    }

    [Fact]
    public void Answers_naming_another_transfer_neither_refuse_nor_fail_this_one()
    {
        var path = _node.Archives.PathFor("foreign", "33333333333333333333333333333333");
        File.WriteAllBytes(path, new byte[10]);
        ChildActorOf(ArchiveSender.Props("33333333333333333333333333333333", "foreign", path, Sys.ActorSelection(TestActor.Path), _node, _node.Self, AnnouncedBytes));
        ExpectMsg<BeginTransfer>();

        // Someone else's refusal and failure, as a peer replaying old messages or a rogue one would send them.
        LastSender.Tell(new TransferRefused("44444444444444444444444444444444", TransferFailure.NoSpace, "go away"), TestActor);
        LastSender.Tell(new TransferFailed("44444444444444444444444444444444", TransferFailure.RestoreFailed, "it broke"), TestActor);

        // Only the transfer's own silence ends it.
        var gaveUp = FishForMessage<ArchiveSender.GaveUp>(_ => true, TimeSpan.FromSeconds(5));
        Assert.Equal(MigrationFailure.TargetSilent, gaveUp.Code);
    }

    [Fact]
    public void A_starting_node_drops_archives_an_earlier_run_left_except_those_of_unsettled_migrations()
    {
        var leftover = _node.Archives.PathFor("old", "33333333333333333333333333333333");
        var unsettled = _node.Archives.PathFor("pending", "44444444444444444444444444444444");
        File.WriteAllBytes(leftover, [1, 2, 3]);
        File.WriteAllBytes(unsettled, [4, 5, 6]);

        _node.Archives.DeleteLeftoversExcept(new HashSet<string> { unsettled });

        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(unsettled));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_node.Archives.Folder));
    }

    private IActorRef StartReceiver(string jobId, string transferId)
    {
        var receiver = ChildActorOf(ArchiveReceiver.Props(new BeginTransfer(transferId, jobId, "nodeA", ChunkBytes, AnnouncedBytes), TestActor, _node));
        ExpectMsg<TransferAccepted>();
        return receiver;
    }

    private void SendAll(IActorRef receiver, IEnumerable<ArchiveChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            receiver.Tell(chunk, TestActor);
            ExpectMsg<ChunkAck>();
        }
    }

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
