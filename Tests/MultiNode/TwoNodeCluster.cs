using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>One two-node cluster with fake runtimes, shared by the specs of a class.</summary>
public sealed class TwoNodeCluster : IAsyncLifetime
{
    public FakeContainerRuntime A { get; } = new();
    public FakeContainerRuntime B { get; } = new();
    public LoopbackCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => host.Name == "nodeA" ? A : B);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
