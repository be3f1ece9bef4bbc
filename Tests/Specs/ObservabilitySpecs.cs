using System.Net;
using System.Net.Sockets;
using AkkaMigration.Node;
using AkkaMigration.Node.Observability;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace AkkaMigration.Tests.Specs;

public sealed class ObservabilitySpecs
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

    [Fact]
    public async Task A_metrics_port_already_in_use_fails_the_node_s_start_naming_the_key()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var self = new HostEntry("nodeA", "127.0.0.1", 1, true, "", "", "/nonexistent", MetricsPort: port);
        await using var services = new ServiceCollection().AddHealthChecks().Services.AddLogging().BuildServiceProvider();
        using var endpoints = new HealthEndpoints(services.GetRequiredService<HealthCheckService>(), self, NullLogger<HealthEndpoints>.Instance);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => endpoints.StartAsync(CancellationToken.None));

        Assert.Contains($"cannot serve /healthz and /readyz on 127.0.0.1:{port} (config.ini metrics_port", error.Message);
    }
}
