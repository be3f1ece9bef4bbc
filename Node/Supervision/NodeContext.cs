using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Supervision;

/// <summary>What every actor of a node shares: who it is, the cluster's config, its runtime and archive folder.</summary>
public sealed record NodeContext(HostEntry Self, MigrationConfig Config, IContainerRuntime Runtime, ArchiveStore Archives)
{
    public string Name => Self.Name;
}
