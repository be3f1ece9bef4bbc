using AkkaMigration.Node.HostLoss;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// Issue 33's protection on three nodes with fake runtimes: replicas reach a host other than the
/// owner, and that host resumes the job from its replica once the owner's host is proven lost.
/// Real podman, agents and burnt hosts: Tests/EndToEnd/MakeDemoTests (make demo-failover).
/// </summary>
public sealed class FailoverSpecs : ThreeNodeClusterSpec
{
    private const string JobId = "guarded";

    [Fact]
    public void A_protected_job_is_resumed_from_its_replica_once_its_owners_host_is_proven_lost()
    {
        var spec = Jobs.AddOneSpec(41, 600_000) with { Protection = new Protection(TimeSpan.FromSeconds(1), 1) };
        Node("nodeB").Tell(new RunJob(JobId, spec), TestActor);
        ExpectMsg<JobAccepted>(Long);
        var holder = AwaitReplicaHost();
        var container = ContainerNames.For(JobId);
        Assert.Contains($"protect {container}", Runtimes["nodeB"].Calls);

        // What nodeB's loss, proven by a majority of the voters' promises, tells the holder's supervisor.
        Sys.ActorSelection(Cluster.SupervisorPath(holder)).Tell(new HostLossWatch.LostHostsProven(
            new Dictionary<string, DateTimeOffset> { ["nodeB"] = DateTimeOffset.UtcNow }));

        AwaitAssert(() => Assert.Contains($"restore {container} from archive", Runtimes[holder].Calls), Long);
        AwaitAssert(() =>
        {
            Node(holder).Tell(new InspectJob(JobId), TestActor);
            var details = ExpectMsg<JobDetails>();
            Assert.Equal(holder, details.Status.Owner);
            Assert.Equal(JobPhase.Running, details.Status.Phase);
            Assert.Equal(("nodeB", holder), (details.Moves[^1].From, details.Moves[^1].To));
            Assert.NotNull(details.Moves[^1].CheckpointTakenAt);
        }, Long);
        var other = holder == "nodeA" ? "nodeC" : "nodeA";
        Assert.DoesNotContain($"restore {container} from archive", Runtimes[other].Calls);
    }

    [Fact]
    public void A_host_that_learns_it_was_declared_lost_gives_up_its_protected_job_and_requests_reach_the_new_owner()
    {
        var spec = Jobs.AddOneSpec(41, 600_000) with { Protection = new Protection(TimeSpan.FromSeconds(1), 1) };
        Node("nodeB").Tell(new RunJob(JobId, spec), TestActor);
        ExpectMsg<JobAccepted>(Long);
        var holder = AwaitReplicaHost();
        var lost = new HostLossWatch.LostHostsProven(new Dictionary<string, DateTimeOffset> { ["nodeB"] = DateTimeOffset.UtcNow });
        Sys.ActorSelection(Cluster.SupervisorPath(holder)).Tell(lost);
        AwaitAssert(() => Assert.Contains($"restore {ContainerNames.For(JobId)} from archive", Runtimes[holder].Calls), Long);

        // nodeB back in touch (its fence would have killed the container): the record of lost hosts reaches it.
        Sys.ActorSelection(Cluster.SupervisorPath("nodeB")).Tell(lost);

        AwaitAssert(() => Assert.Null(Runtimes["nodeB"].Inspect(ContainerNames.For(JobId))), Long);
        Assert.False(File.Exists(Path.Combine(Cluster.Config.GetHost("nodeB").StateDirectory, "jobs", $"{JobId}.json")));
        AwaitAssert(() =>
        {
            Node("nodeB").Tell(new QueryJob(JobId), TestActor);
            Assert.Equal(holder, ExpectMsg<JobStatus>().Owner);
        }, Long);
    }

    /// <summary>The host (other than the owner) whose replica store has the job's checkpoint.</summary>
    private string AwaitReplicaHost()
    {
        string? holder = null;
        AwaitCondition(() => (holder = new[] { "nodeA", "nodeC" }.FirstOrDefault(h =>
            File.Exists(Path.Combine(Cluster.Config.GetHost(h).StateDirectory, "replicas", $"{JobId}.json")))) is not null, Long);
        return holder!;
    }
}
