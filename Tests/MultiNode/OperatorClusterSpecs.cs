using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// Three nodes with fake runtimes: a cordoned node is no migration's or drain's target, a drain's
/// dry run says where each container would go and moves none, a job's moves travel with it, and a
/// move cancelled during its checkpoint ends with the job resumed where it was.
/// </summary>
public sealed class OperatorClusterSpecs : ThreeNodeClusterSpec
{
    [Fact]
    public void A_cordoned_node_is_never_picked_and_a_move_to_it_is_refused_with_the_reason()
    {
        Submit("one", 1);
        Submit("two", 2);
        // Asked of nodeA, passed on to nodeB.
        Node("nodeA").Tell(new CordonNode("nodeB", Cordoned: true), TestActor);
        Assert.Equal(new NodeCordoned("nodeB", true), ExpectMsg<NodeCordoned>(Long));

        // Gossip brings nodeB's cordon to nodeA within a second or so.
        AwaitAssert(() =>
        {
            Node("nodeA").Tell(new MigrateJob("one", "nodeB"), TestActor);
            Assert.Equal(JobFailure.TargetCordoned, ExpectMsg<CommandRejected>().Code);
        }, Long, TimeSpan.FromMilliseconds(300));
        Node("nodeA").Tell(new PlanDrain("nodeA"), TestActor);
        var plan = ExpectMsg<DrainPlan>(Long);
        Node("nodeA").Tell(new MigrateJob("one"), TestActor);
        var moved = ExpectMsg<MigrationSucceeded>(Long);

        Assert.Equal([new DrainedJob("one", "nodeC"), new DrainedJob("two", "nodeC")], plan.Moves);
        Assert.Null(plan.Problem);
        Assert.Equal("nodeC", moved.To);
        Node("nodeB").Tell(new GetNodeStatus(), TestActor);
        Assert.True(ExpectMsg<NodeStatus>(Long).Cordoned);
    }

    [Fact]
    public void A_drain_s_dry_run_spreads_the_containers_over_the_peers_and_moves_none()
    {
        Submit("one", 1);
        Submit("two", 2);
        Submit("three", 3);

        Node("nodeB").Tell(new PlanDrain("nodeA"), TestActor);

        var plan = ExpectMsg<DrainPlan>(Long);
        Assert.Equal([("one", "nodeB"), ("three", "nodeC"), ("two", "nodeB")], plan.Moves.Select(m => (m.JobId, m.To)));
        Node("nodeA").Tell(new GetNodeStatus(), TestActor);
        Assert.All(ExpectMsg<NodeStatus>(Long).Jobs, j => Assert.Equal((JobPhase.Running, "nodeA"), (j.Phase, j.Owner)));
    }

    [Fact]
    public void Inspect_shows_each_move_of_a_job_moved_twice_with_its_timings()
    {
        Submit("traveller", 7);
        Node("nodeA").Tell(new MigrateJob("traveller", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);
        Node("nodeB").Tell(new MigrateJob("traveller", "nodeC"), TestActor);
        var second = ExpectMsg<MigrationSucceeded>(Long);

        Node("nodeC").Tell(new InspectJob("traveller"), TestActor);

        var details = ExpectMsg<JobDetails>(Long);
        Assert.Equal(("nodeC", JobPhase.Running, 2), (details.Status.Owner, details.Status.Phase, details.Status.Migrations));
        Assert.Equal([("nodeA", "nodeB"), ("nodeB", "nodeC")], details.Moves.Select(m => (m.From, m.To)));
        Assert.Equal(second.Timings.RestoreMs, details.Moves[1].RestoreMs);
        Assert.True(details.Moves[0].At <= details.Moves[1].At);
        Assert.All(details.Moves, m => Assert.True(m.CheckpointMs >= 0 && m.TransferMs >= 0));
    }

    [Fact]
    public void A_move_cancelled_during_its_checkpoint_resumes_the_job_where_it_was_and_says_so()
    {
        Runtimes["nodeA"].CheckpointDelay = TimeSpan.FromSeconds(5);
        Submit("held", 5);
        Node("nodeA").Tell(new MigrateJob("held", "nodeB"), TestActor);
        AwaitCondition(() => Runtimes["nodeA"].Calls.Any(c => c.StartsWith("checkpoint ")), Long);
        var canceller = CreateTestProbe();

        Node("nodeA").Tell(new CancelJob("held"), canceller);

        Assert.Contains("once it is written the job resumes here", canceller.ExpectMsg<MigrationCancelled>(Long).Outcome);
        var failed = ExpectMsg<MigrationFailed>(Long);
        Assert.Equal(("nodeA", MigrationFailure.Cancelled), (failed.StillOn, failed.Code));
        Node("nodeA").Tell(new QueryJob("held"), TestActor);
        var status = ExpectMsg<JobStatus>(Long);
        Assert.Equal((JobPhase.Running, "nodeA"), (status.Phase, status.Owner));
        Node("nodeA").Tell(new CancelJob("held"), canceller);
        Assert.Equal(JobFailure.NotMigrating, canceller.ExpectMsg<CommandRejected>(Long).Code);
    }

    private void Submit(string id, long number) => Submit(id, number, workMillis: 30_000);
}
