using Akka.Actor;
using AkkaMigration.Node;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The ground of the specs of one node's supervisor: in the spec's own system, on a state folder of
/// its own and a fake podman store. <see cref="Restart"/> stops it and starts another on the same
/// folder and store, as when a node process is killed and started again.
/// </summary>
public abstract class SingleNodeSpec : Akka.TestKit.Xunit2.TestKit
{
    protected static readonly TimeSpan Long = TimeSpan.FromSeconds(15);

    /// <param name="folderName">Names the state folder, for whoever finds one left behind.</param>
    /// <param name="configure">Changes the node's config.ini before its supervisor starts.</param>
    protected SingleNodeSpec(string folderName, Func<MigrationConfig, MigrationConfig>? configure = null)
        : base(LoopbackCluster.StandaloneNodeConfig)
    {
        StateFolder = Directory.CreateTempSubdirectory($"akka-migration-{folderName}-").FullName;
        Host = new HostEntry("nodeA", "127.0.0.1", 1, true, "", "", StateFolder);
        NodeConfig = (configure ?? (c => c))(LoopbackCluster.ForHosts([Host]));
        Supervisor = StartSupervisor();
    }

    protected FakeContainerRuntime Runtime { get; } = new();

    protected string StateFolder { get; }

    protected HostEntry Host { get; }

    /// <summary>What the next <see cref="Restart"/> starts the node with.</summary>
    protected MigrationConfig NodeConfig { get; set; }

    protected IActorRef Supervisor { get; private set; }

    /// <summary>Stops the supervisor and its job actors (the containers run on) and starts a new one.</summary>
    protected void Restart()
    {
        Watch(Supervisor);
        Sys.Stop(Supervisor);
        ExpectTerminated(Supervisor);
        Supervisor = StartSupervisor();
    }

    /// <summary>Starts a new supervisor where the spec stopped the last one itself (to change the store while the node is down).</summary>
    protected void StartAgain() => Supervisor = StartSupervisor();

    protected void Submit(string id, long number, int workMillis)
    {
        Supervisor.Tell(Jobs.AddOne(id, number, workMillis), TestActor);
        ExpectMsg<JobAccepted>(Long);
    }

    protected JobStatus AwaitPhase(string id, JobPhase phase)
    {
        JobStatus? status = null;
        AwaitAssert(() =>
        {
            Supervisor.Tell(new QueryJob(id), TestActor);
            status = ExpectMsg<JobStatus>();
            Assert.Equal(phase, status.Phase);
        }, Long, TimeSpan.FromMilliseconds(100));
        return status!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Directory.Delete(StateFolder, recursive: true);
        }
    }

    private IActorRef StartSupervisor() => Sys.ActorOf(ContainerSupervisor.Props(NodeContext.Create(Host, NodeConfig, Runtime)));
}
