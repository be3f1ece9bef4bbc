using System.Text.Json;
using AkkaMigration.Tests.Support;
using AkkaMigration.Worker;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>Draining a real host: its containers move to the other two, with their memory, and its node leaves.</summary>
[Collection(ThreeHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class DrainTests(ThreeSimulatedHosts hosts)
{
    // Three submits and a drain of three migrations come before the last job moves: twice the usual.
    private const int DrainedWorkMs = 2 * Patience.OutlastingWorkMs;

    [Fact]
    public async Task Draining_a_host_moves_its_three_containers_to_the_others_with_their_memory_intact()
    {
        // Two demo jobs and the same worker run as any other image would be, all still working during the drain.
        await hosts.SubmitAsync("drain-one", 100, DrainedWorkMs, stateMb: 16);
        await hosts.SubmitAsync("drain-two", 200, DrainedWorkMs, stateMb: 8);
        await hosts.ClientOkAsync("run", "--on", "nodeA", "drain-three", ClusterSteps.WorkerImage,
            "--number", "300", "--work-ms", DrainedWorkMs.ToString(), "--state-mb", "8");

        try
        {
            var drain = await hosts.ClientOkAsync("drain", "nodeA", "--json");
            Assert.Equal(0, await hosts.WaitForNodeExitAsync("nodeA"));

            using var answer = JsonDocument.Parse(drain.StandardOutput);
            var moved = answer.RootElement.GetProperty("moved").EnumerateArray()
                .ToDictionary(m => m.GetProperty("jobId").GetString()!, m => m.GetProperty("to").GetString()!);
            Assert.Equal(["drain-one", "drain-three", "drain-two"], moved.Keys.Order());
            Assert.All(moved.Values, to => Assert.Contains(to, new[] { "nodeB", "nodeC" }));
            foreach (var (id, number, stateMb) in new[] { ("drain-one", 100L, 16), ("drain-two", 200L, 8) })
            {
                // Asked of nodeB whichever host it went to: the request reaches the owner.
                var query = await hosts.ClientOkAsync("query", id, "--on", "nodeB", "--wait");
                Assert.Contains($"memory checksum {Workload.ExpectedChecksum(number, stateMb):x16} intact", query.StandardOutput);
                Assert.Contains($"result {number + 1} from {moved[id]}", query.StandardOutput);
            }
            await hosts.ClientOkAsync("query", "drain-three", "--on", "nodeC", "--wait");
            var logs = await hosts.ClientOkAsync("logs", "drain-three", "--on", "nodeC");
            Assert.Contains($"RESULT value=301 checksum={Workload.ExpectedChecksum(300, 8):x16} intact=true", logs.StandardOutput);
        }
        finally
        {
            // The other tests of these hosts expect all three nodes.
            if (!hosts.NodeRunning("nodeA"))
            {
                await hosts.RestartNodeAsync("nodeA");
            }
        }
    }

    [Fact]
    public async Task SIGTERM_drains_the_node_and_it_exits_cleanly_once_its_container_runs_elsewhere()
    {
        await hosts.SubmitAsync("sigterm-one", 500, Patience.OutlastingWorkMs, stateMb: 8, on: "nodeC");

        try
        {
            await hosts.TerminateNodeAsync("nodeC");
            var exitCode = await hosts.WaitForNodeExitAsync("nodeC");

            Assert.Equal(0, exitCode);
            Assert.Contains("nodeC is stopping: moving its containers to peers first", hosts.NodeLog("nodeC"));
            var query = await hosts.ClientOkAsync("query", "sigterm-one", "--on", "nodeA", "--wait");
            Assert.Contains($"memory checksum {Workload.ExpectedChecksum(500, 8):x16} intact", query.StandardOutput);
            Assert.Matches("result 501 from node[AB]", query.StandardOutput);
        }
        finally
        {
            if (!hosts.NodeRunning("nodeC"))
            {
                await hosts.RestartNodeAsync("nodeC");
            }
        }
    }
}
