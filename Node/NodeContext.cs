using AkkaMigration.Node.Fencing;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Observability;
using AkkaMigration.Node.Failover;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node;

/// <summary>What every actor of a node shares: who it is, the cluster's config, its runtime, archive folder and job records.</summary>
/// <param name="Streams">The archive streams beside Akka.Remote; null only in specs of a node that sends no archive.</param>
public sealed record NodeContext(
    HostEntry Self,
    MigrationConfig Config,
    IContainerRuntime Runtime,
    ArchiveStore Archives,
    JobJournal Journal,
    ArchiveStreams? Streams)
{
    public string Name => Self.Name;

    /// <summary>Images fetched from, and served to, peers over the archive streams' port; null where <see cref="Streams"/> is.</summary>
    public ImageShipping? Images { get; } = Streams is null ? null : new ImageShipping(Streams, Runtime, Path.Combine(Self.StateDirectory, "images"));

    /// <summary>Checks the voters' seals on what peers say of lost hosts; null where <see cref="Streams"/> is.</summary>
    public FencingSeals? Seals { get; } = Streams is null ? null : FencingSeals.Of(Streams.Tls);

    /// <summary>The latest protection checkpoints this host keeps for other hosts' jobs.</summary>
    public ReplicaStore Replicas { get; } = new(Self.StateDirectory);

    /// <summary>What the node's actors count and measure, exported on its metrics port (see <see cref="NodeObservability"/>).</summary>
    public NodeMetrics Metrics { get; } = new();

    public static NodeContext Create(HostEntry self, MigrationConfig config, IContainerRuntime runtime, ArchiveStreams? streams = null) =>
        new(self, config, runtime, new ArchiveStore(self.StateDirectory), new JobJournal(self.StateDirectory), streams);
}
