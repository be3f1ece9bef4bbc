using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>Node processes on three simulated hosts form one cluster.</summary>
[Collection(ThreeHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ThreeHostClusterTests(ThreeSimulatedHosts hosts)
{
    [Fact]
    public async Task Every_node_of_three_hosts_sees_all_three_as_up_members()
    {
        var status = await hosts.StatusAsync();

        Assert.Equal(ThreeSimulatedHosts.Hosts, status.Nodes.Select(n => n.Node).Order());
        Assert.All(status.Nodes, n => Assert.Equal(ThreeSimulatedHosts.Hosts, n.UpMembers));
        Assert.Empty(status.Unreachable);
    }
}
