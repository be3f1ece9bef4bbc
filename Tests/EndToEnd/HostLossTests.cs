using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// Issue 33 on real processes: three nodes and their fencing agents over TLS on the simulated hosts'
/// network. A host counts as lost only once its agent stops renewing; a dead node alone is no lost host.
/// </summary>
[Collection(FencedHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class HostLossTests(FencedSimulatedHosts hosts)
{
    [Fact]
    public async Task A_host_whose_node_alone_died_is_not_declared_lost_and_a_burnt_host_is_with_its_jobs_answered_as_lost()
    {
        await hosts.SubmitAsync("on-burnt-host", 1, Patience.OutlastingWorkMs, on: "nodeC");

        // nodeB's node dies, its agent renews on: the voters withhold their promises and say why.
        await hosts.KillNodeAsync("nodeB");
        // Asked while nodeB still looks up and reachable, nodeA refuses at once; once it is gone, the voters answer.
        var refused = await Poll.UntilAsync("nodeB's loss put to the voters", () => hosts.ClientAsync(["node", "lost", "nodeB"]),
            answer => !answer.StandardError.Contains("up and reachable", StringComparison.Ordinal), interval: TimeSpan.FromSeconds(1),
            describe: answer => answer.StandardError + answer.StandardOutput);
        Assert.True(refused.ExitCode != 0, $"node lost nodeB: {refused.StandardOutput}");
        Assert.Contains("granted nodeB a lease", refused.StandardError);
        hosts.StartNode("nodeB");
        await hosts.WaitForClusterAsync();

        // nodeC burns: node, agent and link gone. The others declare it lost on their own after failover_after.
        await hosts.KillNodeAsync("nodeC");
        await hosts.KillAgentAsync("nodeC");
        await hosts.CutAsync("nodeC");
        var lost = await Poll.UntilAsync("the job answered as lost with nodeC", () => hosts.ClientAsync(["query", "on-burnt-host"]),
            query => query.StandardError.Contains("was lost with nodeC at", StringComparison.Ordinal),
            interval: TimeSpan.FromSeconds(1), describe: query => query.StandardError + query.StandardOutput);

        Assert.Contains("it was not protected", lost.StandardError);
        var declared = await hosts.ClientOkAsync("node", "lost", "nodeC");
        Assert.Contains("nodeA", declared.StandardOutput);
        Assert.Contains("nodeB", declared.StandardOutput);
    }
}
