using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;
using static AkkaMigration.Tests.Support.TransferMessages;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// Seeded random abuse of the transfer protocol at one node: its real supervisor admits the
/// transfers and makes the receivers, the runtime is fake, and each case's test probe plays a
/// careless or hostile source. Every spec ends by checking that the node still serves.
/// </summary>
public sealed class ProtocolFuzzSpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int Cases = 100;
    private const long MaxArchiveBytes = 1L << 20;
    private const string Sentinel = "sentinel";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly FakeContainerRuntime _runtime = new() { ArchivePaddingBytes = 0 };
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-fuzz-").FullName;
    private readonly NodeContext _node;
    private readonly IActorRef _supervisor;
    // For the transfers around the cases, so that their ids differ from the cases' own.
    private readonly Random _rng = new(unchecked(Fuzz.Seed - 1));

    public ProtocolFuzzSpecs(ITestOutputHelper output)
        : base(LoopbackCluster.StandaloneNodeConfig)
    {
        output.WriteLine($"FUZZ_SEED={Fuzz.Seed}");
        var self = new HostEntry("nodeB", "127.0.0.1", 1, false, "", "", _state);
        var config = LoopbackCluster.ForHosts([self], t => t with { AckTimeout = TimeSpan.FromSeconds(2), MaxArchiveBytes = MaxArchiveBytes });
        _node = NodeContext.Create(self, config, _runtime);
        _supervisor = Sys.ActorOf(ContainerSupervisor.Props(_node), ActorNames.ContainerSupervisor);
        // A job the node runs all along: if the supervisor crashed and restarted, it would forget it.
        _supervisor.Tell(Jobs.AddOne(Sentinel, 7, 3_600_000, 0), TestActor);
        ExpectMsg<JobAccepted>();
    }

    [Fact]
    public void Chunks_in_any_order_with_duplicates_reassemble_the_exact_archive_and_restore_it_once()
    {
        Fuzz.Cases(Cases, (rng, i) =>
        {
            var t = Begin(rng, $"order-{i}");

            SendAndEnd(t, Fuzz.ShuffledWithDuplicates(rng, t.Chunks), t.Chunks);

            // The receiver confirms only when the SHA-256 of what it wrote matches the original's.
            AssertOutcome<RestoreConfirmed>(t);
            Assert.Equal(1, RestoresOf(t.JobId));
            Assert.Equal(t.TicksDone, _runtime.TicksDoneAtRestore(ContainerNames.For(t.JobId)));
        });
        AssertTheNodeStillServes();
    }

    [Fact]
    public void Chunks_that_never_arrive_make_the_archive_incomplete_and_nothing_is_restored()
    {
        Fuzz.Cases(Cases, (rng, i) =>
        {
            var t = Begin(rng, $"gap-{i}");
            var missing = t.Chunks.Where(_ => rng.Next(4) == 0).Select(c => c.Sequence).ToHashSet();
            missing.Add(Fuzz.Pick(rng, t.Chunks).Sequence);
            var sent = t.Chunks.Where(c => !missing.Contains(c.Sequence)).ToList();

            SendAndEnd(t, Fuzz.ShuffledWithDuplicates(rng, sent), sent);

            Assert.Equal(TransferFailure.Incomplete, AssertOutcome<TransferFailed>(t).Code);
            Assert.Equal(0, RestoresOf(t.JobId));
        });
        AssertTheNodeStillServes();
    }

    [Fact]
    public void A_malformed_or_foreign_chunk_fails_the_transfer_and_the_node_carries_on()
    {
        Fuzz.Cases(Cases, (rng, i) =>
        {
            var t = Begin(rng, $"malformed-{i}");
            // A chunk whose sequence was written already is a duplicate and never looked at again.
            var target = Fuzz.Pick(rng, t.Chunks);
            var before = t.Chunks.Where(c => c != target && rng.Next(2) == 0).ToList();
            Send(t, before);
            AwaitAcks(t, before);
            var (bad, expected) = Malformed(rng, target, t.ChunkBytes);

            t.Receiver.Tell(bad, t.Source.Ref);

            var failed = AssertOutcome<TransferFailed>(t);
            Assert.True(failed.Code == expected, $"{bad.Sequence}@{bad.Offset}+{bad.Data.Length} of '{bad.TransferId}': expected {expected}, got {failed.Code} ({failed.Reason})");
            Assert.Equal(0, RestoresOf(t.JobId));
        });
        AssertTheNodeStillServes();
    }

    [Fact]
    public void Flipped_bytes_fail_the_checksum_and_nothing_is_restored()
    {
        Fuzz.Cases(Cases, (rng, i) =>
        {
            var t = Begin(rng, $"flip-{i}");
            var damaged = t.Archive.ToArray();
            foreach (var at in Enumerable.Range(0, damaged.Length).OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)))
            {
                damaged[at] ^= (byte)rng.Next(1, 256);
            }
            var chunks = Chunk(damaged, t.TransferId, t.ChunkBytes);

            SendAndEnd(t, Fuzz.ShuffledWithDuplicates(rng, chunks), chunks);

            Assert.Equal(TransferFailure.ChecksumMismatch, AssertOutcome<TransferFailed>(t).Code);
            Assert.Equal(0, RestoresOf(t.JobId));
        });
        AssertTheNodeStillServes();
    }

    [Fact]
    public void Bogus_transfer_requests_are_refused_without_a_file_or_a_receiver()
    {
        // One transfer in flight, so requests can also collide with its ids.
        var live = Begin(_rng, "live");
        Fuzz.Cases(2 * Cases, (rng, i) =>
        {
            var begin = BogusBegin(rng, i, live);
            var source = CreateTestProbe();

            _supervisor.Tell(begin, source.Ref);
            if (begin.TransferId != live.TransferId)
            {
                // Aborts for transfers that do not exist go nowhere and break nothing.
                _supervisor.Tell(new AbortTransfer(begin.TransferId, MigrationFailure.SourceStopped, "bogus"), source.Ref);
            }

            var refused = source.ExpectMsg<TransferRefused>(Patience);
            Assert.Equal(begin.TransferId, refused.TransferId);
            Assert.Equal([_node.Archives.PathFor(live.JobId, live.TransferId)], Directory.GetFiles(_node.Archives.Folder));
            source.ExpectNoMsg(TimeSpan.Zero);
        });
        SendAndEnd(live, live.Chunks, live.Chunks);
        AssertOutcome<RestoreConfirmed>(live);
        Sys.ActorSelection(_supervisor.Path / IncomingTransfers.Name / "incoming-*").Tell(new Identify("receivers"), TestActor);
        Assert.Null(ExpectMsg<ActorIdentity>().Subject);
        AssertTheNodeStillServes();
    }

    private Transfer Begin(Random rng, string jobId)
    {
        var transferId = Fuzz.HexId(rng);
        var chunkBytes = rng.Next(64, 4097);
        var ticksDone = rng.Next(0, 30);
        byte[] archive = [.. _runtime.ArchiveFor(ContainerNames.For(jobId), rng.Next(), ticksDone, 30), .. Fuzz.Bytes(rng, rng.Next(0, 16 * 1024))];
        var source = CreateTestProbe();
        _supervisor.Tell(new BeginTransfer(transferId, jobId, "nodeA", chunkBytes, AnnouncedBytes), source.Ref);
        Assert.Equal(transferId, source.ExpectMsg<TransferAccepted>(Patience).TransferId);
        var receiver = source.LastSender;
        source.Watch(receiver);
        return new Transfer(jobId, transferId, chunkBytes, archive, ticksDone, Chunk(archive, transferId, chunkBytes), source, receiver);
    }

    private static void Send(Transfer t, IEnumerable<ArchiveChunk> chunks)
    {
        foreach (var chunk in chunks)
        {
            t.Receiver.Tell(chunk, t.Source.Ref);
        }
    }

    /// <summary>Sends <paramref name="chunks"/>, waits until <paramref name="acknowledged"/> are, then ends the archive as the original.</summary>
    private static void SendAndEnd(Transfer t, IEnumerable<ArchiveChunk> chunks, IEnumerable<ArchiveChunk> acknowledged)
    {
        Send(t, chunks);
        AwaitAcks(t, acknowledged);
        t.Receiver.Tell(End(t.JobId, t.TransferId, t.Chunks, t.Archive), t.Source.Ref);
    }

    /// <summary>Every chunk is acknowledged at least once; a duplicate may be acknowledged again.</summary>
    private static void AwaitAcks(Transfer t, IEnumerable<ArchiveChunk> sent)
    {
        var pending = sent.Select(c => c.Sequence).ToHashSet();
        while (pending.Count > 0)
        {
            var ack = t.Source.ExpectMsg<ChunkAck>(Patience);
            Assert.Equal(t.TransferId, ack.TransferId);
            pending.Remove(ack.Sequence);
        }
    }

    /// <summary>The receiver's last word, after which it stops and leaves no archive behind.</summary>
    private T AssertOutcome<T>(Transfer t)
    {
        // The supervisor stops the receiver just before it confirms, so under load the Terminated can
        // come first; fishing must not throw it away.
        var terminated = false;
        var last = t.Source.FishForMessage(m =>
        {
            terminated |= m is Terminated dead && dead.ActorRef.Equals(t.Receiver);
            return m is RestoreConfirmed or TransferFailed or TransferRefused;
        }, Patience);
        if (!terminated)
        {
            t.Source.ExpectTerminated(t.Receiver, Patience);
        }
        Assert.Empty(Directory.GetFiles(_node.Archives.Folder));
        return Assert.IsType<T>(last);
    }

    private int RestoresOf(string jobId) =>
        _runtime.Calls.Count(c => c == $"restore {ContainerNames.For(jobId)} from archive");

    /// <summary>One chunk the receiver must not write, and its refusal's code.</summary>
    private static (ArchiveChunk Chunk, TransferFailure Code) Malformed(Random rng, ArchiveChunk good, int chunkBytes)
    {
        const TransferFailure limit = TransferFailure.MalformedChunk;
        return rng.Next(7) switch
        {
            0 => (good with { Data = Fuzz.Bytes(rng, chunkBytes + rng.Next(1, 4096)) }, limit),
            1 => (good with { Data = [] }, limit),
            2 => (good with { Offset = rng.NextInt64(long.MinValue, 0) }, limit),
            3 => (good with { Sequence = rng.NextInt64(long.MinValue, 0) }, limit),
            // Past the announced size, which the limit caps.
            4 => (good with { Offset = Fuzz.Pick<long>(rng, [
                MaxArchiveBytes - good.Data.Length + 1,
                rng.NextInt64(MaxArchiveBytes, long.MaxValue),
                // Offset plus length overflows a long: it must not wrap round under the limit.
                long.MaxValue - rng.Next(0, good.Data.Length)]) }, TransferFailure.ArchiveOutgrown),
            5 => (good with { TransferId = Fuzz.HexId(rng) }, TransferFailure.ForeignChunk),
            _ => (good with { TransferId = Fuzz.Pick(rng, BogusTransferIds(rng)) }, TransferFailure.ForeignChunk),
        };
    }

    /// <summary>A request with one field out of bounds, or colliding with the transfer in flight.</summary>
    private BeginTransfer BogusBegin(Random rng, int i, Transfer live)
    {
        var valid = new BeginTransfer(Fuzz.HexId(rng), $"bogus-{i}", "nodeA", rng.Next(1, 4 * 1024 * 1024 + 1), AnnouncedBytes);
        return (i % 4) switch
        {
            0 => valid with { JobId = Fuzz.Pick(rng, BogusJobIds(rng)) },
            1 => valid with { TransferId = Fuzz.Pick(rng, BogusTransferIds(rng)) },
            2 => valid with
            {
                ChunkBytes = Fuzz.Pick(rng, [0, -1, int.MinValue, rng.Next(int.MinValue, 0), 4 * 1024 * 1024 + 1, int.MaxValue, rng.Next(4 * 1024 * 1024 + 1, int.MaxValue)]),
            },
            _ => Fuzz.Pick(rng, [
                valid with { TransferId = live.TransferId },
                valid with { JobId = live.JobId },
                live.Begin with { SourceNode = "nodeC" },
                valid with { JobId = Sentinel }]),
        };
    }

    private static string[] BogusJobIds(Random rng) =>
    [
        "../etc", "A", "", new string('a', 200), "job;rm -rf", "job\n", "-job", "job/x", "Job", "jöb", " job", "job ",
        new string('a', Names.MaxJobIdLength + 1), null!,
        RandomString(rng, "abz09-A./;\\ \n\t\0$`'\"é", rng.Next(0, 200), s => !IsJobIdByTheRule(s)),
    ];

    private static string[] BogusTransferIds(Random rng) =>
    [
        "", "x", new string('a', 31), new string('a', 33), new string('A', 32), new string('g', 32), new string('a', 32) + "\n",
        "../../" + new string('a', 26), "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", null!,
        RandomString(rng, "0123456789abcdefABG/.-\n ", rng.Next(0, 64), s => !IsTransferIdByTheRule(s)),
    ];

    /// <summary>The id rules spelled out character by character, independently of the product's regexes.</summary>
    private static bool IsJobIdByTheRule(string s) =>
        s.Length is >= 1 and <= Names.MaxJobIdLength && s[0] != '-' && s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    private static bool IsTransferIdByTheRule(string s) => s.Length == 32 && s.All(c => c is (>= 'a' and <= 'f') or (>= '0' and <= '9'));

    private static string RandomString(Random rng, string alphabet, int length, Func<string, bool> accept)
    {
        while (true)
        {
            var s = new string([.. Enumerable.Range(0, length).Select(_ => alphabet[rng.Next(alphabet.Length)])]);
            if (accept(s))
            {
                return s;
            }
            length++;
        }
    }

    /// <summary>Nothing crashed: the supervisor still knows its job and takes a well-formed transfer.</summary>
    private void AssertTheNodeStillServes()
    {
        _supervisor.Tell(new QueryJob(Sentinel), TestActor);
        Assert.Equal(JobPhase.Running, ExpectMsg<JobStatus>(Patience).Phase);
        var t = Begin(_rng, "afterwards");
        SendAndEnd(t, t.Chunks, t.Chunks);
        AssertOutcome<RestoreConfirmed>(t);
    }

    private sealed record Transfer(
        string JobId, string TransferId, int ChunkBytes, byte[] Archive, int TicksDone, List<ArchiveChunk> Chunks, TestProbe Source, IActorRef Receiver)
    {
        public BeginTransfer Begin => new(TransferId, JobId, "nodeA", ChunkBytes, AnnouncedBytes);
    }

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}

/// <summary>
/// The same abuse end to end: two nodes over loopback, a saboteur damaging one chunk on the wire
/// or a hostile peer spraying bogus transfer traffic. The source must roll back, and each job must
/// finish with its right result on exactly one node.
/// </summary>
public sealed class ProtocolFuzzClusterSpecs : Akka.TestKit.Xunit2.TestKit, IClassFixture<ProtocolFuzzClusterSpecs.SabotagedCluster>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly SabotagedCluster _nodes;
    private readonly ITestOutputHelper _output;

    public ProtocolFuzzClusterSpecs(SabotagedCluster nodes, ITestOutputHelper output)
        : base(LoopbackCluster.DriverSetup(), "fuzz-client")
    {
        _nodes = nodes;
        _output = output;
        IgnoreMessages(m => m is MigrationProgress);
    }

    private ActorSelection NodeA => Sys.ActorSelection(_nodes.Cluster.SupervisorPath("nodeA"));
    private ActorSelection NodeB => Sys.ActorSelection(_nodes.Cluster.SupervisorPath("nodeB"));

    public enum Damage { FlippedByte, ForeignTransferId, Oversized, Empty, NegativeOffset, OffsetPastLimit, Truncated, Renumbered }

    [Fact]
    public void A_chunk_damaged_on_the_wire_rolls_the_migration_back_and_the_job_finishes_on_the_source()
    {
        _output.WriteLine($"FUZZ_SEED={Fuzz.Seed}");
        var damages = Enum.GetValues<Damage>();
        var jobs = new List<(string Id, long Number)>();
        Fuzz.Cases(2 * damages.Length, (rng, i) =>
        {
            var damage = damages[i % damages.Length];
            var id = $"wire-{i}";
            var number = rng.NextInt64(0, 1L << 40);
            // The fake's archive is about 600 kB: ten chunks of 64 KiB.
            var at = rng.Next(0, 10);
            var mangle = Mangler(damage, at, new Random(rng.Next()));
            Submit(id, number);

            _nodes.Arm(mangle);
            NodeA.Tell(new MigrateJob(id, "nodeB"), TestActor);
            var failed = ExpectMsg<MigrationFailed>(Long);
            _nodes.Disarm();

            Assert.Equal("nodeA", failed.StillOn);
            Assert.True(ExpectedCodes(damage).Contains(failed.Code), $"{damage} at chunk {at}: {failed.Code} ({failed.Reason})");
            jobs.Add((id, number));
        });

        foreach (var (id, number) in jobs)
        {
            AssertOwnedOnlyBy("nodeA", id, number, migrations: 0);
        }
        AssertNoArchiveIsLeft();
    }

    [Fact]
    public void Bogus_transfer_traffic_from_a_hostile_peer_does_not_disturb_a_real_migration()
    {
        _output.WriteLine($"FUZZ_SEED={Fuzz.Seed}");
        var rng = new Random(Fuzz.Seed);
        var hostile = CreateTestProbe();
        var supervisorPath = _nodes.Cluster.SupervisorPath("nodeB");
        var begins = 0;
        void Spray(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var transferId = Fuzz.HexId(rng);
                var receiver = Sys.ActorSelection($"{supervisorPath}/{IncomingTransfers.Name}/incoming-{transferId}");
                switch (rng.Next(4))
                {
                    case 0:
                        // Each request has one field out of bounds.
                        NodeB.Tell(Fuzz.Pick(rng, [
                            new BeginTransfer(transferId, "../etc", "nodeA", 1024, AnnouncedBytes),
                            new BeginTransfer(transferId, "job;rm -rf", "nodeA", 1024, AnnouncedBytes),
                            new BeginTransfer(transferId.ToUpperInvariant(), "bystander-twin", "nodeA", 1024, AnnouncedBytes),
                            new BeginTransfer(transferId, "bystander-twin", "nodeA", rng.Next(int.MinValue, 1), AnnouncedBytes)]), hostile.Ref);
                        begins++;
                        break;
                    case 1:
                        receiver.Tell(new ArchiveChunk(transferId, rng.Next(), rng.Next(), Fuzz.Bytes(rng, rng.Next(1, 4096))), hostile.Ref);
                        break;
                    case 2:
                        receiver.Tell(new EndOfArchive(transferId, 1, 1, Fuzz.HexId(rng), TransferMessages.Handoff("bystander")), hostile.Ref);
                        break;
                    default:
                        NodeB.Tell(new AbortTransfer(transferId, MigrationFailure.SourceStopped, "hostile"), hostile.Ref);
                        break;
                }
            }
        }
        Submit("bystander", 41);

        Spray(50);
        NodeA.Tell(new MigrateJob("bystander", "nodeB"), TestActor);
        Spray(50);

        Assert.Equal("nodeB", ExpectMsg<MigrationSucceeded>(Long).To);
        Assert.All(Enumerable.Range(0, begins), _ => hostile.ExpectMsg<TransferRefused>(Long));
        hostile.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        AssertOwnedOnlyBy("nodeB", "bystander", 41, migrations: 1);
        AssertNoArchiveIsLeft();
    }

    /// <summary>Damages chunk <paramref name="at"/> after the sender has hashed it.</summary>
    private static Func<ArchiveChunk, ArchiveChunk?> Mangler(Damage damage, long at, Random rng) => chunk =>
    {
        if (chunk.Sequence != at)
        {
            return null;
        }
        var length = chunk.Data.Length;
        return damage switch
        {
            Damage.FlippedByte => chunk with { Data = Flipped(chunk.Data, rng.Next(length), (byte)rng.Next(1, 256)) },
            Damage.ForeignTransferId => chunk with { TransferId = Fuzz.HexId(rng) },
            Damage.Oversized => chunk with { Data = Fuzz.Bytes(rng, 64 * 1024 + rng.Next(1, 1024)) },
            Damage.Empty => chunk with { Data = [] },
            Damage.NegativeOffset => chunk with { Offset = rng.NextInt64(long.MinValue, 0) },
            Damage.OffsetPastLimit => chunk with { Offset = Fuzz.Pick<long>(rng, [(1L << 30) - length + 1, long.MaxValue - rng.Next(length)]) },
            Damage.Truncated => chunk with { Data = chunk.Data[..rng.Next(1, length)] },
            _ => chunk with { Sequence = chunk.Sequence + 1_000_000 },
        };
    };

    private static byte[] Flipped(byte[] data, int at, byte mask)
    {
        var copy = data.ToArray();
        copy[at] ^= mask;
        return copy;
    }

    private static MigrationFailure[] ExpectedCodes(Damage damage) => damage switch
    {
        // The target fails the checksum, or finds the archive incomplete.
        Damage.FlippedByte or Damage.Truncated => [MigrationFailure.TargetFailed],
        // The stream names its transfer once, up front: the writer refuses a chunk of another.
        Damage.ForeignTransferId => [MigrationFailure.StreamFailed],
        // The listener closes a stream whose frame is longer than the transfer's chunks, or empty;
        // the source hears of it as a broken stream, or as acknowledgements that stop.
        Damage.Oversized or Damage.Empty => [MigrationFailure.StreamFailed, MigrationFailure.TargetSilent],
        // Its acknowledgement names a sequence the source never sent, so the source sends the chunk
        // again; the receiver then holds one chunk too many and refuses the archive.
        Damage.Renumbered => [MigrationFailure.TargetFailed],
        // The receiver refuses it and closes the stream: the source hears the refusal, or the broken stream first.
        _ => [MigrationFailure.TargetFailed, MigrationFailure.StreamFailed],
    };

    private void Submit(string id, long number)
    {
        NodeA.Tell(Jobs.AddOne(id, number, 3000, 0), TestActor);
        ExpectMsg<JobAccepted>(Long);
    }

    private void AssertOwnedOnlyBy(string owner, string id, long number, int migrations)
    {
        var (ownerNode, other, ownerRuntime, otherRuntime) = owner == "nodeA"
            ? (NodeA, NodeB, _nodes.A, _nodes.B)
            : (NodeB, NodeA, _nodes.B, _nodes.A);
        ownerNode.Tell(new QueryJob(id, WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((JobPhase.Completed, number + 1, owner, migrations), (done.Phase, done.Result!.Value, done.Result.ProducedBy, done.Migrations));
        other.Tell(new GetNodeStatus(), TestActor);
        Assert.DoesNotContain(ExpectMsg<NodeStatus>(Long).Jobs, j => j.JobId == id);
        var container = ContainerNames.For(id);
        Assert.Null(otherRuntime.Inspect(container));
        Assert.Equal(owner == "nodeA" ? 0 : 1, otherRuntime.Calls.Concat(ownerRuntime.Calls).Count(c => c == $"restore {container} from archive"));
    }

    private void AssertNoArchiveIsLeft() =>
        AwaitAssert(() => Assert.All(["nodeA", "nodeB"], host =>
            Assert.Empty(Directory.GetFiles(Path.Combine(_nodes.Cluster.Config.GetHost(host).StateDirectory, "archives")))), Long);

    /// <summary>
    /// Two nodes whose archive stream from nodeA damages chunks while armed, through the nodes' fault
    /// seam, after the sender has hashed them (TLS leaves a real link nothing to damage unseen); a
    /// source gives up after 1 s without acks.
    /// </summary>
    public sealed class SabotagedCluster : IAsyncLifetime
    {
        private Func<ArchiveChunk, ArchiveChunk?>? _mangle;

        public FakeContainerRuntime A { get; } = new();
        public FakeContainerRuntime B { get; } = new();
        public LoopbackCluster Cluster { get; private set; } = null!;

        /// <summary>Damages the first chunk <paramref name="mangle"/> returns a replacement for, then disarms: a resend goes out whole.</summary>
        public void Arm(Func<ArchiveChunk, ArchiveChunk?> mangle) => Volatile.Write(ref _mangle, mangle);

        public void Disarm() => Volatile.Write(ref _mangle, null);

        public async Task InitializeAsync() =>
            Cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => host.Name == "nodeA" ? A : B,
                t => t with { AckTimeout = TimeSpan.FromSeconds(1) },
                faults: _ => new FaultInjection { Damage = Damage });

        private ArchiveChunk? Damage(ArchiveChunk chunk)
        {
            var mangle = Volatile.Read(ref _mangle);
            if (mangle?.Invoke(chunk) is not { } damaged)
            {
                return null;
            }
            Interlocked.CompareExchange(ref _mangle, null, mangle);
            return damaged;
        }

        public async Task DisposeAsync() => await Cluster.DisposeAsync();
    }
}
