using AkkaMigration.Tests.EndToEnd;

namespace AkkaMigration.Tests.Integration;

/// <summary>
/// Tests that drive real podman and CRIU share the machine's two cores and the simulated hosts,
/// so they run one after another, never beside each other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RealHostsCollection : ICollectionFixture<SimulatedHosts>
{
    public const string Name = "real hosts";
}
