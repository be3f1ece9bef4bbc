using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// A member stays Up while the failure detector flags it: a move named to it is refused at once,
/// as a move with no target never picks it, rather than waiting out the pre-flight's limit.
/// </summary>
public sealed class UnreachableTargetSpecs() : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private readonly string _folder = Directory.CreateTempSubdirectory("akka-migration-unreachable-").FullName;
    private LoopbackCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        IgnoreMessages(m => m is MigrationProgress);
        // A node's ActorSystem that terminates without leaving the cluster: to its peer it falls silent, as behind a cut link.
        var hocon = NodeHocon.With(_folder, "akka.coordinated-shutdown.run-by-actor-system-terminate = off");
        _cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (_, _) => new FakeContainerRuntime(), hoconDirectory: hocon);
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_move_to_a_member_that_is_up_but_out_of_reach_is_refused_at_once_and_the_job_runs_on()
    {
        var nodeA = Sys.ActorSelection(_cluster.SupervisorPath("nodeA"));
        nodeA.Tell(Jobs.AddOne("held", 1, workMillis: 120_000), TestActor);
        ExpectMsg<JobAccepted>(Long);
        var a = Cluster.Get(_cluster.Systems[0]);
        await _cluster.Systems[1].Terminate();
        AwaitCondition(() => a.State.Unreachable.Any(m => m.Status == MemberStatus.Up), Long);

        nodeA.Tell(new MigrateJob("held", "nodeB"), TestActor);

        var refused = ExpectMsg<CommandRejected>(TimeSpan.FromSeconds(3));
        Assert.Equal(JobFailure.TargetUnreachable, refused.Code);
        nodeA.Tell(new GetNodeStatus(), TestActor);
        var job = Assert.Single(ExpectMsg<NodeStatus>(Long).Jobs);
        Assert.Equal(("held", JobPhase.Running, "nodeA"), (job.JobId, job.Phase, job.Owner));
    }
}
