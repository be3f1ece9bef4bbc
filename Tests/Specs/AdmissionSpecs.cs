using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Node;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using static AkkaMigration.Tests.Support.TransferMessages;

namespace AkkaMigration.Tests.Specs;

/// <summary>What a target takes in (issue 14): room for the archive, asked before anything is frozen and again at admission, and a receiver's patience.</summary>
/// <remarks>The patience runs on virtual time, so a loaded machine cannot stretch the gaps between chunks past it.</remarks>
public sealed class AdmissionSpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int ChunkBytes = 1000;
    /// <summary>More than any disk here has, and the most an archive may have here.</summary>
    private const long Huge = 1L << 40;
    private readonly FakeContainerRuntime _runtime = new() { ArchivePaddingBytes = 5200 };
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-admission-").FullName;
    private readonly NodeContext _node;

    public AdmissionSpecs() : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
    {
        var self = new HostEntry("nodeB", "127.0.0.1", 1, false, "", "", _state);
        // Idle after 4 × 250 ms of the test clock: several acknowledgement timeouts long.
        var config = LoopbackCluster.ForHosts([self], t => t with { ChunkBytes = ChunkBytes, Window = 2, AckTimeout = TimeSpan.FromMilliseconds(250), MaxArchiveBytes = Huge });
        _node = NodeContext.Create(self, config, _runtime);
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    [Fact]
    public async Task A_target_short_of_room_for_the_archive_refuses_the_move_in_the_pre_flight_naming_both_figures()
    {
        var check = new CheckRestore("big", Jobs.AddOneSpec(41), "nodeA", "runc", [], ExpectedBytes: Huge);

        var answer = await Preflight.AnswerAsync(check, _node, admission: null, addressHolder: null, CancellationToken.None);

        var problem = Assert.Single(answer.Problems);
        Assert.Matches(@"^nodeB has \d+ MB free for archives \(.+\), and this one needs about \d+ MB \(\d+ MB estimated, with a margin\)$", problem);
        Assert.Contains($"{Huge / (1024 * 1024)} MB estimated", problem);
    }

    [Fact]
    public async Task An_archive_that_fits_raises_no_problem_of_room()
    {
        var check = new CheckRestore("small", Jobs.AddOneSpec(41), "nodeA", "runc", [], ExpectedBytes: 1024 * 1024);
        Assert.Empty((await Preflight.AnswerAsync(check, _node, admission: null, addressHolder: null, CancellationToken.None)).Problems);
    }

    [Theory]
    [InlineData(0, "announces no size for the archive (0 bytes)")]
    [InlineData(-1, "announces no size for the archive (-1 bytes)")]
    [InlineData(Huge + 1, "more than the 1048576 MB an archive may have (max_archive_mb)")]
    public async Task A_source_that_announces_no_size_or_more_than_an_archive_may_have_is_refused_in_the_pre_flight(long expected, string reason)
    {
        var check = new CheckRestore("unsized", Jobs.AddOneSpec(41), "nodeA", "runc", [], ExpectedBytes: expected);

        var answer = await Preflight.AnswerAsync(check, _node, admission: null, addressHolder: null, CancellationToken.None);

        Assert.Contains(reason, Assert.Single(answer.Problems));
    }

    [Fact]
    public void A_transfer_is_refused_at_admission_when_the_room_went_since_the_pre_flight()
    {
        var incoming = ChildActorOf(IncomingTransfers.Props(_node, new HashSet<string>()));

        incoming.Tell(new IncomingTransfers.Admit(new BeginTransfer("cccccccccccccccccccccccccccccccc", "big", "nodeA", ChunkBytes, Huge), null), TestActor);
        var refused = ExpectMsg<TransferRefused>();
        Assert.Equal(TransferFailure.NoSpace, refused.Code);
        // The source's operator reads both figures.
        Assert.Contains($"{Huge / (1024 * 1024)} MB estimated", refused.Reason);
        Assert.Empty(Directory.GetFiles(_node.Archives.Folder));

        incoming.Tell(new IncomingTransfers.Admit(new BeginTransfer("dddddddddddddddddddddddddddddddd", "small", "nodeA", ChunkBytes, 4096), null), TestActor);
        ExpectMsg<TransferAccepted>();
    }

    [Fact]
    public void The_receivers_idle_timer_counts_from_the_last_chunk_not_from_its_creation()
    {
        const string transfer = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
        var idle = _node.Config.Transfer.AckTimeout * (ArchiveSender.MaxResends + 2);
        var chunks = Chunk(_runtime.ArchiveFor(ContainerNames.For("slow"), 41, 3, 30), transfer, ChunkBytes);
        var receiver = ChildActorOf(ArchiveReceiver.Props(new BeginTransfer(transfer, "slow", "nodeA", ChunkBytes, AnnouncedBytes), TestActor, _node));
        ExpectMsg<TransferAccepted>();

        // Chunks come slowly, each well within the idle time of the one before, for twice that time in all.
        foreach (var chunk in chunks.Take(4))
        {
            Clock.Advance(idle * 0.5);
            receiver.Tell(chunk, TestActor);
            ExpectMsg<ChunkAck>();
        }
        Clock.Advance(idle * 0.9);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        Clock.Advance(idle * 0.2);
        Assert.Equal(TransferFailure.SourceSilent, ExpectMsg<TransferFailed>().Code);
    }

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
