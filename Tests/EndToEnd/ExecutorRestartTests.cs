using AkkaMigration.Tests.Integration;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>The executor's node killed and started again at once, as a service manager would, on the simulated hosts.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class ExecutorRestartTests(SimulatedHosts hosts)
{
    private const int Restarts = 10;

    [Fact]
    public async Task An_executor_killed_and_restarted_at_once_rejoins_the_running_cluster()
    {
        // A client polls meanwhile, as an operator's would. With Akka's passive connections the
        // restarted executor founded a cluster of its own in 4 of 12 such restarts.
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await hosts.ClientAsync(["status"]);
                await Task.Delay(500);
            }
        });
        try
        {
            for (var i = 0; i < Restarts; i++)
            {
                // SIGKILL, start again at once, then wait (60 s at most) until each node sees both up.
                await hosts.RestartNodeAsync("nodeA");
                await Task.Delay(1000);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await polling;
        }
    }
}
