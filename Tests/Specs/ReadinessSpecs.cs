using AkkaMigration.Node;
using AkkaMigration.Node.Observability;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AkkaMigration.Tests.Specs;

public sealed class ReadinessSpecs
{
    [Fact]
    public async Task A_node_whose_supervisor_has_not_started_is_not_ready_and_says_why()
    {
        var state = Directory.CreateTempSubdirectory("akka-migration-readiness-");
        var self = new HostEntry("nodeA", "127.0.0.1", 1, true, "", "", state.FullName);
        var node = NodeContext.Create(self, LoopbackCluster.ForHosts([self]), new FakeContainerRuntime());

        var result = await new NodeReadiness(node).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("nodeA is starting: its supervisor has not started yet", result.Description);
        node.Metrics.Dispose();
        state.Delete(recursive: true);
    }
}
