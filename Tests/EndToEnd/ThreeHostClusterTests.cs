using System.Text.Json;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>Node processes on three simulated hosts form one cluster.</summary>
[Collection(ThreeHostsCollection.Name)]
public sealed class ThreeHostClusterTests(ThreeSimulatedHosts hosts)
{
    [Fact]
    public async Task Every_node_of_three_hosts_sees_all_three_as_up_members()
    {
        var run = await hosts.ClientAsync(["status", "--json"]);

        Assert.True(run.ExitCode == 0, $"status --json failed ({run.ExitCode}): {run.StandardError}");
        using var status = JsonDocument.Parse(run.StandardOutput);
        var nodes = status.RootElement.GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.GetProperty("node").GetString()!, n => n.GetProperty("upMembers").EnumerateArray().Select(m => m.GetString()!).ToList());
        Assert.Equal(ThreeSimulatedHosts.Hosts, nodes.Keys.Order());
        Assert.All(nodes.Values, up => Assert.Equal(ThreeSimulatedHosts.Hosts, up));
        Assert.Empty(status.RootElement.GetProperty("unreachable").EnumerateArray());
    }
}
