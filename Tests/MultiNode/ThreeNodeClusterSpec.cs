using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// The ground of the three-node specs: a real cluster over loopback, each node with a fake
/// container runtime, and a cluster of its own per spec, since some take a node away.
/// </summary>
public abstract class ThreeNodeClusterSpec : Akka.TestKit.Xunit2.TestKit, IAsyncLifetime
{
    protected static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    protected ThreeNodeClusterSpec()
        : base(LoopbackCluster.DriverSetup(), "spec-client") =>
        IgnoreMessages(m => m is MigrationProgress);

    protected Dictionary<string, FakeContainerRuntime> Runtimes { get; } = new()
    {
        ["nodeA"] = new(), ["nodeB"] = new(), ["nodeC"] = new(),
    };

    protected LoopbackCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB", "nodeC"], (host, _) => Runtimes[host.Name]);

    Task IAsyncLifetime.DisposeAsync() => Cluster.DisposeAsync().AsTask();

    protected ActorSelection Node(string name) => Sys.ActorSelection(Cluster.SupervisorPath(name));

    /// <summary>Runs the +1 worker on the executor and waits until it is accepted.</summary>
    protected void Submit(string id, long number, int workMillis)
    {
        Node("nodeA").Tell(Jobs.AddOne(id, number, workMillis), TestActor);
        ExpectMsg<JobAccepted>(Long);
    }
}
