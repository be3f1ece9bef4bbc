using Akka.Actor;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// A source node that starts with a migration on its records whose outcome it never heard (it was
/// killed after sending the archive): it asks the target before doing anything with the job.
/// </summary>
public sealed class UnsettledMigrationSpecs()
    : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IDisposable
{
    private const string Transfer = "fedcba9876543210fedcba9876543210";
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private readonly string _root = Directory.CreateTempSubdirectory("akka-migration-unsettled-").FullName;
    private readonly FakeContainerRuntime _a = new();
    private readonly FakeContainerRuntime _b = new();

    [Fact]
    public async Task A_source_whose_target_holds_nothing_resumes_the_job_from_its_own_checkpoint()
    {
        await LeaveUnsettledMigrationOnA("resume", 41);

        await using var cluster = await StartAsync();
        Sys.ActorSelection(cluster.SupervisorPath("nodeA")).Tell(new QueryJob("resume", WaitForResult: true), TestActor);

        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((42L, "nodeA"), (done.Result!.Value, done.Result.ProducedBy));
        Assert.Contains($"restore {ContainerNames.For("resume")} in place", _a.Calls);
        Assert.DoesNotContain(_b.Calls, c => c.Contains("resume"));
    }

    [Fact]
    public async Task A_source_whose_target_restored_the_job_lets_go_of_its_copy_and_points_to_the_target()
    {
        await LeaveUnsettledMigrationOnA("handed", 7);
        // B restored it and recorded it as its own before A heard back.
        await _b.RestoreAsync(ContainerNames.For("handed"), Jobs.AddOneSpec(7, 2000), Archive("nodeA", "handed"), CancellationToken.None);
        new JobJournal(State("nodeB")).Save(new JobRecord("handed", Jobs.AddOneSpec(7, 2000), 1, DateTimeOffset.UtcNow, JobPhase.Running));

        await using var cluster = await StartAsync();
        var nodeA = Sys.ActorSelection(cluster.SupervisorPath("nodeA"));

        AwaitAssert(() =>
        {
            // Once A has let go, it sends the question on to the owner, which answers.
            nodeA.Tell(new QueryJob("handed"), TestActor);
            Assert.Equal("nodeB", ExpectMsg<JobStatus>().Owner);
        }, Long, TimeSpan.FromMilliseconds(200));
        Sys.ActorSelection(cluster.SupervisorPath("nodeB")).Tell(new QueryJob("handed", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((8L, "nodeB"), (done.Result!.Value, done.Result.ProducedBy));
        AwaitAssert(() => Assert.Null(_a.Inspect(ContainerNames.For("handed"))));
        Assert.False(File.Exists(Archive("nodeA", "handed")));
    }

    [Fact]
    public async Task A_job_in_doubt_whose_target_stays_silent_resumes_on_its_source_once_the_operator_says_so()
    {
        await LeaveUnsettledMigrationOnA("silent", 20);
        await using var cluster = await StartAsync(absent: ["nodeB"]);
        var nodeA = Sys.ActorSelection(cluster.SupervisorPath("nodeA"));

        nodeA.Tell(new ResolveJob("silent", ResolveChoice.ResumeHere), TestActor);
        var tooSoon = ExpectMsg<CommandRejected>(Long);
        var resolved = ResolveOnceTargetIsSilent(nodeA, "silent", ResolveChoice.ResumeHere);

        Assert.Equal(JobFailure.TargetNotSilent, tooSoon.Code);
        Assert.Contains("runs here again", resolved.Outcome);
        nodeA.Tell(new QueryJob("silent", WaitForResult: true), TestActor);
        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((21L, "nodeA"), (done.Result!.Value, done.Result.ProducedBy));
        Assert.Contains($"restore {ContainerNames.For("silent")} in place", _a.Calls);
    }

    [Fact]
    public async Task A_job_in_doubt_that_the_operator_abandons_ends_as_failed_on_its_source_without_resuming()
    {
        await LeaveUnsettledMigrationOnA("given-up", 5);
        await using var cluster = await StartAsync(absent: ["nodeB"]);
        var nodeA = Sys.ActorSelection(cluster.SupervisorPath("nodeA"));

        var resolved = ResolveOnceTargetIsSilent(nodeA, "given-up", ResolveChoice.Abandon);

        Assert.Contains("abandoned", resolved.Outcome);
        nodeA.Tell(new QueryJob("given-up"), TestActor);
        var status = ExpectMsg<JobStatus>(Long);
        Assert.Equal(JobPhase.Failed, status.Phase);
        Assert.Contains("the operator chose to abandon it", status.Error);
        Assert.False(File.Exists(Archive("nodeA", "given-up")));
        Assert.DoesNotContain($"restore {ContainerNames.For("given-up")} in place", _a.Calls);
    }

    /// <summary>Asks until the source accepts: it refuses while its target may still answer.</summary>
    private JobResolved ResolveOnceTargetIsSilent(ActorSelection source, string jobId, ResolveChoice choice)
    {
        JobResolved? resolved = null;
        AwaitAssert(() =>
        {
            source.Tell(new ResolveJob(jobId, choice), TestActor);
            var answer = ExpectMsg<object>(Long);
            resolved = Assert.IsType<JobResolved>(answer);
        }, Long, TimeSpan.FromSeconds(1));
        return resolved!;
    }

    /// <summary>A's job was checkpointed for a move to B and its record says so; then A died.</summary>
    private async Task LeaveUnsettledMigrationOnA(string jobId, long number)
    {
        var container = ContainerNames.For(jobId);
        await _a.RunAsync(container, Jobs.AddOneSpec(number, 2000, 0), CancellationToken.None);
        await Task.Delay(300);
        Directory.CreateDirectory(Path.GetDirectoryName(Archive("nodeA", jobId))!);
        await _a.CheckpointAsync(container, Jobs.AddOneSpec(number, 2000, 0), Archive("nodeA", jobId), CancellationToken.None);
        new JobJournal(State("nodeA")).Save(new JobRecord(jobId, Jobs.AddOneSpec(number, 2000), 0, DateTimeOffset.UtcNow, JobPhase.Migrating,
            Pending: new PendingMigration(Transfer, "nodeB")));
    }

    /// <summary>Acknowledgements time out after 1 s, so a silent target is taken as such after 12 s rather than 20.</summary>
    private Task<LoopbackCluster> StartAsync(IReadOnlyCollection<string>? absent = null) =>
        LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => host.Name == "nodeA" ? _a : _b,
            transfer: t => t with { AckTimeout = TimeSpan.FromSeconds(1) },
            host: h => h with { StateDirectory = State(h.Name) }, absent: absent);

    private string State(string host) => Path.Combine(_root, host);

    private string Archive(string host, string jobId) => Path.Combine(State(host), "archives", $"{jobId}.{Transfer}.tar");

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
