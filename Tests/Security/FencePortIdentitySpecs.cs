using Akka.Event;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A host speaks Akka on two ports, its node's and its fencing agent's: a connection dialled to
/// either must show that host's certificate, and only that host's (<see cref="ClusterTls.Validate"/>).
/// </summary>
public sealed class FencePortIdentitySpecs
{
    private static readonly string[] Names = ["nodeA", "nodeB", "nodeC"];
    private readonly MigrationConfig _config;
    private readonly ClusterTls _nodeA;

    public FencePortIdentitySpecs()
    {
        TestPki.Ensure(Names);
        _config = LoopbackCluster.ForHosts([.. Names.Select((name, i) => new HostEntry(name, "127.0.0.1", 4100 + 10 * i, i == 0, "", "", "", FencePort: 4103 + 10 * i))]);
        _nodeA = ClusterTls.ForNode(_config, _config.GetHost("nodeA"));
    }

    [Theory]
    [InlineData("nodeB", true)]
    [InlineData("nodeC", false)]
    public void A_fencing_agent_dialled_at_its_hosts_fence_port_must_show_that_hosts_certificate(string shown, bool admitted)
    {
        var certificate = ClusterTls.ForNode(_config, _config.GetHost(shown)).Certificate;
        var nodeB = _config.GetHost("nodeB");

        Assert.Equal(admitted, _nodeA.Validate(certificate, null, $"akka.ssl.tcp://akka-migration-fencing@127.0.0.1:{nodeB.FencePort}", default, NoLogger.Instance));
        Assert.Equal(admitted, _nodeA.Validate(certificate, null, $"akka.ssl.tcp://akka-migration@127.0.0.1:{nodeB.Port}", default, NoLogger.Instance));
    }
}
