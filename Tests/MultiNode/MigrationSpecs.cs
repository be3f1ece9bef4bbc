using Akka.Actor;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// Two ActorSystems forming a real Akka cluster over loopback, each node with its own fake
/// container runtime; the specs talk to the nodes' supervisors over remoting like the client.
/// </summary>
public sealed class MigrationSpecs : Akka.TestKit.Xunit2.TestKit, IClassFixture<TwoNodeCluster>
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);
    private readonly TwoNodeCluster _nodes;

    public MigrationSpecs(TwoNodeCluster nodes)
        : base(LoopbackCluster.DriverSetup(), "spec-client")
    {
        _nodes = nodes;
        // Only the spec about progress looks at progress reports; it uses a probe of its own.
        IgnoreMessages(m => m is MigrationProgress);
    }

    private ActorSelection NodeA => Sys.ActorSelection(_nodes.Cluster.SupervisorPath("nodeA"));
    private ActorSelection NodeB => Sys.ActorSelection(_nodes.Cluster.SupervisorPath("nodeB"));

    [Fact]
    public void Migration_hands_the_pending_result_to_the_new_owner()
    {
        var waiter = CreateTestProbe();
        // Still running when its checkpoint comes, however slow the machine (a loaded one took more
        // than 2 s from here to the checkpoint); half a second of work done first, for B to resume.
        Submit("handoff", 41, workMillis: 6000);
        NodeA.Tell(new QueryJob("handoff", WaitForResult: true), waiter.Ref);
        Thread.Sleep(500);

        NodeA.Tell(new MigrateJob("handoff", "nodeB"), TestActor);

        var moved = ExpectMsg<MigrationSucceeded>(Long);
        Assert.Equal(("nodeA", "nodeB"), (moved.From, moved.To));
        // The waiter asked node A before the move; the answer comes from B, where the job finished.
        var done = waiter.ExpectMsg<JobStatus>(Long);
        Assert.Equal(JobPhase.Completed, done.Phase);
        Assert.Equal(42, done.Result!.Value);
        Assert.Equal("nodeB", done.Result.ProducedBy);
        Assert.Equal(1, done.Migrations);
        // B resumed the work where A froze it instead of starting over.
        Assert.True(_nodes.B.TicksDoneAtRestore(ContainerNames.For("handoff")) > 0);
    }

    [Fact]
    public void Whoever_asked_for_a_migration_hears_its_steps_in_order_before_the_answer()
    {
        var requester = CreateTestProbe();
        Submit("steps", 5, workMillis: 3000);

        NodeA.Tell(new MigrateJob("steps", "nodeB"), requester.Ref);

        var reports = new List<MigrationProgress>();
        var answer = requester.FishForMessage(m =>
        {
            if (m is MigrationProgress p)
            {
                reports.Add(p);
            }
            return m is MigrationSucceeded;
        }, Long);
        var archiveBytes = ((MigrationSucceeded)answer).Timings.ArchiveBytes;
        Assert.Equal(MigrationStep.Checkpoint, reports[0].Step);
        Assert.Equal(MigrationStep.Restore, reports[^1].Step);
        Assert.Equal(archiveBytes, reports[^1].Bytes);
        // Steps never go backwards, and bytes acknowledged only grow.
        Assert.Equal(reports.Select(r => r.Step).Order(), reports.Select(r => r.Step));
        Assert.Equal(reports.Select(r => r.Bytes).Order(), reports.Select(r => r.Bytes));
        Assert.Equal("steps", Assert.Single(reports.Select(r => r.JobId).Distinct()));
        // Once the checkpoint has ended, every later report says so.
        Assert.Contains(reports, r => r.Checkpointed);
        Assert.All(reports.SkipWhile(r => !r.Checkpointed), r => Assert.True(r.Checkpointed));
    }

    [Fact]
    public void A_query_to_the_old_owner_is_answered_by_the_new_one_without_a_redirect()
    {
        Submit("redirect", 1, workMillis: 3000);
        NodeA.Tell(new MigrateJob("redirect", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);

        NodeA.Tell(new QueryJob("redirect"), TestActor);

        var status = ExpectMsg<JobStatus>();
        Assert.Equal(("nodeB", JobPhase.Running), (status.Owner, status.Phase));
        Assert.Equal(_nodes.Cluster.SupervisorPath("nodeB").Split('/')[2], LastSender.Path.Address.ToString().Split('/')[2]);
    }

    [Fact]
    public void The_source_keeps_no_copy_once_the_target_confirmed()
    {
        Submit("single-copy", 5, workMillis: 3000);

        NodeA.Tell(new MigrateJob("single-copy", "nodeB"), TestActor);

        ExpectMsg<MigrationSucceeded>(Long);
        var container = ContainerNames.For("single-copy");
        AwaitAssert(() => Assert.Null(_nodes.A.Inspect(container)), Long);
        Assert.Equal(Node.Runtime.ContainerState.Running, _nodes.B.Inspect(container)?.State);
    }

    [Fact]
    public void A_failed_restore_rolls_the_job_back_to_the_source()
    {
        Submit("rollback", 10, workMillis: 2000);
        _nodes.B.FailRestoresWith = "image not known here";
        try
        {
            NodeA.Tell(new MigrateJob("rollback", "nodeB"), TestActor);

            var failed = ExpectMsg<MigrationFailed>(Long);
            Assert.Equal(MigrationFailure.TargetFailed, failed.Code);
            Assert.Equal("nodeA", failed.StillOn);
        }
        finally
        {
            _nodes.B.FailRestoresWith = null;
        }
        NodeA.Tell(new QueryJob("rollback", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((11L, "nodeA"), (done.Result!.Value, done.Result.ProducedBy));
        Assert.Null(_nodes.B.Inspect(ContainerNames.For("rollback")));
        Assert.Contains($"restore {ContainerNames.For("rollback")} in place", _nodes.A.Calls);
    }

    [Fact]
    public void A_job_can_go_there_and_back()
    {
        Submit("round-trip", 99, workMillis: 3000);

        NodeA.Tell(new MigrateJob("round-trip", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);
        NodeB.Tell(new MigrateJob("round-trip", "nodeA"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);

        NodeA.Tell(new QueryJob("round-trip", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((100L, "nodeA", 2), (done.Result!.Value, done.Result.ProducedBy, done.Migrations));
    }

    [Theory]
    [InlineData("nodeA", JobFailure.AlreadyOnTarget)]
    [InlineData("nodeZ", JobFailure.UnknownHost)]
    public void Migrating_to_the_same_or_an_unknown_host_is_refused(string target, JobFailure code)
    {
        var id = $"refuse-{target.ToLowerInvariant()}";
        Submit(id, 3, workMillis: 2000);

        NodeA.Tell(new MigrateJob(id, target), TestActor);

        Assert.Equal(code, ExpectMsg<CommandRejected>(Long).Code);
        NodeA.Tell(new QueryJob(id, WaitForResult: true), TestActor);
        Assert.Equal(4, ExpectMsg<JobStatus>(Long).Result!.Value);
    }

    [Fact]
    public void Migrating_a_finished_job_is_refused()
    {
        Submit("finished", 7, workMillis: 200);
        NodeA.Tell(new QueryJob("finished", WaitForResult: true), TestActor);
        ExpectMsg<JobStatus>(Long);

        NodeA.Tell(new MigrateJob("finished", "nodeB"), TestActor);

        Assert.Equal(JobFailure.JobEnded, ExpectMsg<CommandRejected>().Code);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("Job With Spaces")]
    [InlineData("")]
    public void A_job_id_that_could_reach_a_path_or_podman_argument_is_refused(string id)
    {
        NodeA.Tell(Jobs.AddOne(id, 1), TestActor);

        Assert.Equal(JobFailure.InvalidJobId, ExpectMsg<CommandRejected>().Code);
        Assert.DoesNotContain(_nodes.A.Calls, c => c.StartsWith("run") && c.Contains(id.Length > 0 ? id : "amig- "));
    }

    [Fact]
    public void A_question_about_an_unknown_job_says_so()
    {
        NodeB.Tell(new QueryJob("never-submitted"), TestActor);

        Assert.Equal(new UnknownJob("never-submitted", "nodeB"), ExpectMsg<UnknownJob>());
    }

    [Fact]
    public void A_move_whose_record_cannot_be_written_is_refused_and_the_job_runs_on_and_ends_where_it_was()
    {
        Submit("unwritable", 9, workMillis: 3000);
        // A folder where the record's file was: each replacement of it fails, as on a full disk.
        var record = Path.Combine(_nodes.Cluster.Config.GetHost("nodeA").StateDirectory, "jobs", "unwritable.json");
        File.Delete(record);
        Directory.CreateDirectory(record);

        NodeA.Tell(new MigrateJob("unwritable", "nodeB"), TestActor);

        var refused = ExpectMsg<CommandRejected>(Long);
        Assert.Equal(JobFailure.RecordNotWritten, refused.Code);
        Assert.DoesNotContain(_nodes.A.Calls, c => c.StartsWith($"checkpoint {ContainerNames.For("unwritable")}", StringComparison.Ordinal));
        NodeA.Tell(new QueryJob("unwritable", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((JobPhase.Completed, 10L, "nodeA"), (done.Phase, done.Result!.Value, done.Result.ProducedBy));
        // Its container stays: its end is in memory only, and a restarted node would read it from the container.
        Assert.NotNull(_nodes.A.Inspect(ContainerNames.For("unwritable")));
    }

    private void Submit(string id, long number, int workMillis)
    {
        NodeA.Tell(Jobs.AddOne(id, number, workMillis, 0), TestActor);
        ExpectMsg<JobAccepted>(Long);
    }
}
