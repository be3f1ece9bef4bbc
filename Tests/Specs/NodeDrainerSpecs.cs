using Akka.Actor;
using Akka.TestKit;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Specs;

/// <summary>How long a drain waits for each move (bounded from the move's last step, not from its start), and who hears its steps.</summary>
/// <remarks>The bound runs on virtual time, so a loaded machine cannot stretch a step past it.</remarks>
public sealed class NodeDrainerSpecs : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan PerJob = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(5);

    private readonly TestProbe _job;
    private readonly TestProbe _requester;

    public NodeDrainerSpecs() : base("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"")
    {
        _job = CreateTestProbe();
        _requester = CreateTestProbe();
    }

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    [Fact]
    public async Task A_move_that_keeps_reporting_progress_is_waited_for_past_the_per_job_bound()
    {
        var drainer = StartDraining(progress: true);

        // Three times the bound, with a step at each 0.6 of it.
        for (var bytes = 1; bytes <= 5; bytes++)
        {
            await ReportAsync(drainer, new MigrationProgress("big", MigrationStep.Transfer, bytes, 10));
            Clock.Advance(PerJob * 0.6);
        }
        drainer.Tell(new MigrationSucceeded("big", "nodeA", "nodeB", new MigrationTimings(1, 1, 1, 10, 3000)), _job.Ref);

        var drained = await _requester.ExpectMsgAsync<NodeDrained>(Long);
        Assert.Equal([new DrainedJob("big", "nodeB")], drained.Moved);
    }

    [Fact]
    public async Task A_move_that_falls_silent_is_given_up_after_the_per_job_bound_and_the_node_stays_up()
    {
        var drainer = StartDraining(progress: true);
        await ReportAsync(drainer, new MigrationProgress("big", MigrationStep.Checkpoint, 0, 10));

        Clock.Advance(PerJob);

        var refused = await _requester.ExpectMsgAsync<DrainRefused>(Long);
        Assert.Equal(["big"], refused.Stuck);
        Assert.Equal(DrainFailure.ContainersStuck, refused.Code);
        // The operator reads each stuck container's own cause.
        Assert.Contains("big: no answer and no progress for 1 s", refused.Reason);
    }

    [Fact]
    public async Task A_drain_asked_with_progress_passes_on_each_step_of_the_move_and_then_answers()
    {
        var drainer = StartDraining(progress: true);
        MigrationProgress[] steps =
        [
            new("big", MigrationStep.Checkpoint, 0, 10),
            new("big", MigrationStep.Transfer, 10, 10, Checkpointed: true),
            new("big", MigrationStep.Restore, 10, 10, Checkpointed: true),
        ];

        foreach (var step in steps)
        {
            drainer.Tell(step, _job.Ref);
        }
        drainer.Tell(new MigrationSucceeded("big", "nodeA", "nodeB", new MigrationTimings(1, 1, 1, 10, 3)), _job.Ref);

        foreach (var step in steps)
        {
            Assert.Equal(step, await _requester.ExpectMsgAsync<MigrationProgress>(Long));
        }
        Assert.Equal([new DrainedJob("big", "nodeB")], (await _requester.ExpectMsgAsync<NodeDrained>(Long)).Moved);
    }

    /// <summary>Tells the drainer a step of the move and waits until it has passed it on, so its bound is armed again.</summary>
    private async Task ReportAsync(IActorRef drainer, MigrationProgress step)
    {
        drainer.Tell(step, _job.Ref);
        Assert.Equal(step, await _requester.ExpectMsgAsync<MigrationProgress>(Long));
    }

    /// <param name="progress">Whether the requester asked to hear each move's steps.</param>
    /// <returns>The drainer, once it has asked the job to move to the only peer.</returns>
    private IActorRef StartDraining(bool progress = false)
    {
        Sys.ActorOf(NodeDrainer.Props(new Dictionary<string, IActorRef> { ["big"] = _job.Ref }, ["nodeB"], new Dictionary<string, int>(),
            _requester.Ref, progress ? _requester.Ref : ActorRefs.Nobody, "nodeA", PerJob));
        _job.ExpectMsg(new MigrateJob("big", "nodeB"), Long);
        return _job.LastSender;
    }
}
