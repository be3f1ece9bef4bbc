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

    private Task<LoopbackCluster> StartAsync() =>
        LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => host.Name == "nodeA" ? _a : _b,
            host: h => h with { StateDirectory = State(h.Name) });

    private string State(string host) => Path.Combine(_root, host);

    private string Archive(string host, string jobId) => Path.Combine(State(host), "archives", $"{jobId}.{Transfer}.tar");

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
