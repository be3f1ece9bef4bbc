using Akka.Actor;
using AkkaMigration.Node;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// What an operator does to one node's jobs and to the node itself, against its supervisor with a
/// fake podman: rm, prune, automatic pruning, a cordon that survives the node's restart, and the
/// long poll behind <c>watch</c>.
/// </summary>
public sealed class OperatorSpecs() : SingleNodeSpec("operator", c => c with { Jobs = new JobSettings(KeepFinished: null) })
{
    [Fact]
    public void Rm_refuses_a_running_job_and_says_to_stop_it_first()
    {
        Submit("busy", 1, workMillis: 60_000);
        AwaitPhase("busy", JobPhase.Running);

        Supervisor.Tell(new RemoveJob("busy"), TestActor);

        var refused = ExpectMsg<CommandRejected>(Long);
        Assert.Equal(JobFailure.JobRunning, refused.Code);
        // It tells the operator the command that would do it.
        Assert.Contains("rm -f busy", refused.Reason);
        AwaitPhase("busy", JobPhase.Running);
    }

    [Fact]
    public void Rm_force_stops_a_running_job_then_forgets_it_even_after_a_restart()
    {
        Submit("doomed", 1, workMillis: 60_000);
        AwaitPhase("doomed", JobPhase.Running);

        Supervisor.Tell(new RemoveJob("doomed", Force: true), TestActor);

        Assert.Equal(new JobRemoved("doomed", "nodeA"), ExpectMsg<JobRemoved>(Long));
        Assert.Contains($"stop {ContainerNames.For("doomed")}", Runtime.Calls);
        Restart();
        Supervisor.Tell(new QueryJob("doomed"), TestActor);
        ExpectMsg<UnknownJob>(Long);
    }

    [Fact]
    public void Rm_forgets_a_finished_job_and_its_id_can_be_used_again()
    {
        Submit("done", 1, workMillis: 50);
        AwaitPhase("done", JobPhase.Completed);

        Supervisor.Tell(new RemoveJob("done"), TestActor);

        ExpectMsg<JobRemoved>(Long);
        Supervisor.Tell(new QueryJob("done"), TestActor);
        ExpectMsg<UnknownJob>();
        Submit("done", 2, workMillis: 50);
    }

    [Fact]
    public void Prune_forgets_finished_jobs_and_keeps_running_ones()
    {
        Submit("finished", 1, workMillis: 50);
        Submit("working", 2, workMillis: 60_000);
        AwaitPhase("finished", JobPhase.Completed);
        AwaitPhase("working", JobPhase.Running);

        Supervisor.Tell(new PruneJobs(), TestActor);

        Assert.Equal(["finished"], ExpectMsg<JobsPruned>(Long).JobIds);
        Supervisor.Tell(new GetNodeStatus(), TestActor);
        Assert.Equal(["working"], ExpectMsg<NodeStatus>().Jobs.Select(j => j.JobId));
    }

    [Fact]
    public void A_node_forgets_a_finished_job_on_its_own_once_it_is_older_than_keep_finished()
    {
        NodeConfig = NodeConfig with { Jobs = new JobSettings(KeepFinished: TimeSpan.FromSeconds(1)) };
        Restart();
        Submit("old", 1, workMillis: 50);
        Submit("working", 2, workMillis: 60_000);

        AwaitAssert(() =>
        {
            Supervisor.Tell(new GetNodeStatus(), TestActor);
            Assert.Equal(["working"], ExpectMsg<NodeStatus>().Jobs.Select(j => j.JobId));
        }, Long, TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_cordoned_node_refuses_new_jobs_with_the_reason_and_stays_cordoned_after_a_restart()
    {
        Supervisor.Tell(new CordonNode("nodeA", Cordoned: true), TestActor);
        Assert.Equal(new NodeCordoned("nodeA", true), ExpectMsg<NodeCordoned>(Long));

        Restart();
        Supervisor.Tell(Jobs.AddOne("refused", 1), TestActor);

        Assert.Equal(JobFailure.NodeTakesNoJobs, ExpectMsg<CommandRejected>(Long).Code);
        Supervisor.Tell(new GetNodeStatus(), TestActor);
        Assert.True(ExpectMsg<NodeStatus>().Cordoned);
        Supervisor.Tell(new CordonNode("nodeA", Cordoned: false), TestActor);
        ExpectMsg<NodeCordoned>(Long);
        Submit("accepted", 1, workMillis: 50);
    }

    [Fact]
    public void A_watch_poll_is_held_until_the_node_s_status_changes_then_answered_with_the_new_status()
    {
        var watcher = CreateTestProbe();
        Supervisor.Tell(new WatchNode(""), watcher);
        var first = watcher.ExpectMsg<NodeStatus>(Long);
        Supervisor.Tell(new WatchNode(first.Version), watcher);
        watcher.ExpectNoMsg(TimeSpan.FromMilliseconds(500));

        Submit("fresh", 1, workMillis: 60_000);

        var changed = watcher.ExpectMsg<NodeStatus>(Long);
        Assert.NotEqual(first.Version, changed.Version);
        Assert.Empty(first.Jobs);
        Assert.Equal(["fresh"], changed.Jobs.Select(j => j.JobId));
    }

    [Fact]
    public void A_watch_poll_with_an_old_version_is_answered_at_once_and_a_cordon_is_a_change()
    {
        var watcher = CreateTestProbe();
        Supervisor.Tell(new WatchNode(""), watcher);
        var first = watcher.ExpectMsg<NodeStatus>(Long);
        Supervisor.Tell(new WatchNode(first.Version), watcher);

        Supervisor.Tell(new CordonNode("nodeA", Cordoned: true), TestActor);

        ExpectMsg<NodeCordoned>(Long);
        var cordoned = watcher.ExpectMsg<NodeStatus>(Long);
        Assert.True(cordoned.Cordoned);
        Supervisor.Tell(new WatchNode(first.Version), watcher);
        Assert.Equal(cordoned.Version, watcher.ExpectMsg<NodeStatus>(Long).Version);
    }
}
