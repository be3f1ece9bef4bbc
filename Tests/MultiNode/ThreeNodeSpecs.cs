using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// Three ActorSystems in one real cluster over loopback, each node with a fake container runtime:
/// requests reach a job's owner from any node, placement picks the least-loaded peer, and a
/// drained node moves its containers out and leaves, or stays up when one cannot move.
/// Each spec gets a cluster of its own, since a drain takes a node away.
/// </summary>
public sealed class ThreeNodeSpecs : ThreeNodeClusterSpec
{
    [Fact]
    public void A_request_sent_to_any_node_reaches_the_owner_and_the_owner_answers()
    {
        Submit("anywhere", 10, workMillis: 6000);
        Node("nodeA").Tell(new MigrateJob("anywhere", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);

        // nodeC never held the job: it sends the question on to the owner the directory names.
        AwaitAssert(() =>
        {
            Node("nodeC").Tell(new QueryJob("anywhere"), TestActor);
            Assert.Equal("nodeB", ExpectMsg<JobStatus>().Owner);
        }, Long, TimeSpan.FromMilliseconds(200));
        // Answered by the owner itself, not relayed by nodeC.
        Assert.Equal(Cluster.Config.GetHost("nodeB").Port, LastSender.Path.Address.Port);
        // A migration asked of nodeC moves the job from its owner.
        Node("nodeC").Tell(new MigrateJob("anywhere", "nodeC"), TestActor);
        var moved = ExpectMsg<MigrationSucceeded>(Long);
        Assert.Equal(("nodeB", "nodeC"), (moved.From, moved.To));
        // nodeA learns of that move by gossip; until then it asks nodeB, which answers JobMoved (a client follows it).
        JobStatus? done = null;
        AwaitAssert(() =>
        {
            Node("nodeA").Tell(new QueryJob("anywhere", WaitForResult: true), TestActor);
            done = ExpectMsg<JobStatus>(Long);
        }, Long, TimeSpan.FromMilliseconds(200));
        Assert.Equal((11L, "nodeC", 2), (done!.Result!.Value, done.Result.ProducedBy, done.Migrations));
    }

    [Fact]
    public void A_migration_without_a_target_goes_to_the_least_loaded_peer()
    {
        Submit("first", 1, workMillis: 20_000);
        Submit("second", 2, workMillis: 20_000);
        Node("nodeA").Tell(new MigrateJob("first", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);

        // nodeB runs one container, nodeC none.
        Node("nodeA").Tell(new MigrateJob("second"), TestActor);

        Assert.Equal("nodeC", ExpectMsg<MigrationSucceeded>(Long).To);
        // nodeB learns of that move by gossip, and its supervisor from its replicator (every 500 ms):
        // its own view must have it first, however long a loaded machine takes to spread it. A drain
        // plan is placed on that same view, so it says when nodeB would pick nodeA.
        AwaitAssert(() =>
        {
            Node("nodeB").Tell(new PlanDrain("nodeB"), TestActor);
            Assert.Equal("nodeA", Assert.Single(ExpectMsg<DrainPlan>(Long).Moves).To);
        }, Long, TimeSpan.FromMilliseconds(200));
        Node("nodeB").Tell(new MigrateJob("first"), TestActor);
        // From nodeB the peers are nodeA (no containers now) and nodeC (one).
        Assert.Equal("nodeA", ExpectMsg<MigrationSucceeded>(Long).To);
    }

    [Fact]
    public async Task Draining_a_node_moves_every_container_to_its_peers_and_the_node_leaves()
    {
        foreach (var (id, number) in new[] { ("one", 100L), ("two", 200L), ("three", 300L) })
        {
            Submit(id, number, workMillis: 8000);
        }

        Node("nodeA").Tell(new DrainNode("nodeA"), TestActor);

        var drained = ExpectMsg<NodeDrained>(Long);
        Assert.Equal(["one", "three", "two"], drained.Moved.Select(m => m.JobId).Order());
        // Spread over both peers, never onto the node that leaves.
        Assert.Equal(["nodeB", "nodeC"], drained.Moved.Select(m => m.To).Distinct().Order());
        await Cluster.Systems[0].WhenTerminated.WaitAsync(Long);
        foreach (var (id, number) in new[] { ("one", 100L), ("two", 200L), ("three", 300L) })
        {
            var owner = drained.Moved.Single(m => m.JobId == id).To;
            Node(owner).Tell(new QueryJob(id, WaitForResult: true), TestActor);
            var done = ExpectMsg<JobStatus>(Long);
            Assert.Equal((number + 1, owner, true), (done.Result!.Value, done.Result.ProducedBy, done.Result.MemoryIntact));
        }
        Assert.All(drained.Moved, m => Assert.Null(Runtimes["nodeA"].Inspect(ContainerNames.For(m.JobId))));
        AwaitAssert(() => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(Cluster.Systems[1]).State.Members,
            m => m.Address.Port == Cluster.Config.GetHost("nodeA").Port && m.Status == MemberStatus.Up), Long);
    }

    [Fact]
    public void A_node_whose_container_no_peer_can_take_stays_up_and_says_why()
    {
        Runtimes["nodeB"].FailRestoresWith = "no room on nodeB";
        Runtimes["nodeC"].FailRestoresWith = "no room on nodeC";
        Submit("pinned", 41, workMillis: 6000);

        Node("nodeA").Tell(new DrainNode("nodeA"), TestActor);

        var refused = ExpectMsg<DrainRefused>(Long);
        Assert.Equal(["pinned"], refused.Stuck);
        Assert.Equal(DrainFailure.ContainersStuck, refused.Code);
        // The stuck container's own cause reaches the operator.
        Assert.Contains("no room", refused.Reason);
        Assert.False(Cluster.Systems[0].WhenTerminated.IsCompleted);
        // Still nodeA's, and it finishes there.
        Node("nodeA").Tell(new QueryJob("pinned", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((42L, "nodeA"), (done.Result!.Value, done.Result.ProducedBy));
    }
}
