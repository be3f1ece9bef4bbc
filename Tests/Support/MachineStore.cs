using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Tests.Support;

/// <summary>This machine's own podman store (no simulated host's), for the integration tests that call the runtime directly.</summary>
public static class MachineStore
{
    /// <summary>Its state folder: where <see cref="PodmanRuntime"/> writes a job's environment file.</summary>
    public const string StateDirectory = "/tmp";

    private static readonly HostEntry Host = new("local", "127.0.0.1", 0, true, "", "", StateDirectory);

    public static PodmanRuntime Runtime() => new(Host, LoopbackCluster.ForHosts([]).Container, network: null);

    public static PodmanService Service() => new(new PodmanCli(Host, LoopbackCluster.ForHosts([]).Container));
}
