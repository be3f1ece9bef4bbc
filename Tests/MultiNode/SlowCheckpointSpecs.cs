using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>A dump that lasts longer than the target's patience with a silent transfer, as a large container's does.</summary>
public sealed class SlowCheckpointSpecs()
    : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client")
{
    [Fact]
    public async Task A_checkpoint_slower_than_the_targets_idle_limit_still_moves_the_job()
    {
        // An idle target gives up after 4 acknowledgement timeouts (4 s here); the dump takes 7 s.
        var runtimes = new Dictionary<string, FakeContainerRuntime> { ["nodeA"] = new() { CheckpointDelay = TimeSpan.FromSeconds(7) }, ["nodeB"] = new() };
        await using var cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (host, _) => runtimes[host.Name],
            transfer: t => t with { AckTimeout = TimeSpan.FromSeconds(1) });
        var nodeA = Sys.ActorSelection(cluster.SupervisorPath("nodeA"));
        nodeA.Tell(Jobs.AddOne("slow-dump", 41, workMillis: 60_000), TestActor);
        ExpectMsg<JobAccepted>();

        nodeA.Tell(new MigrateJob("slow-dump", "nodeB"), TestActor);

        var moved = FishForMessage(m => m is MigrationSucceeded or MigrationFailed, TimeSpan.FromSeconds(40));
        Assert.IsType<MigrationSucceeded>(moved);
    }
}
