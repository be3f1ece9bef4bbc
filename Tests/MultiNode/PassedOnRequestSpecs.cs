using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>A request one node passes on to another, which then drops out before it answers.</summary>
public sealed class PassedOnRequestSpecs() : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client")
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_requester_hears_at_once_that_the_owner_it_was_passed_to_dropped_out_before_answering()
    {
        await using var cluster = await LoopbackCluster.StartAsync(["nodeA", "nodeB"], (_, _) => new FakeContainerRuntime());
        var nodeA = Sys.ActorSelection(cluster.SupervisorPath("nodeA"));
        Sys.ActorSelection(cluster.SupervisorPath("nodeB")).Tell(Jobs.AddOne("far", 1, workMillis: 600_000), TestActor);
        ExpectMsg<JobAccepted>(Long);
        // nodeA knows where the job lives once the directory has spread: then it passes a query on.
        AwaitAssert(() =>
        {
            nodeA.Tell(new QueryJob("far"), TestActor);
            Assert.Equal("nodeB", ExpectMsg<JobStatus>().Owner);
        }, Long, TimeSpan.FromMilliseconds(200));
        nodeA.Tell(new QueryJob("far", WaitForResult: true), TestActor);
        // Answered after the first is on its way to nodeB: nodeA handles one sender's messages in order.
        nodeA.Tell(new QueryJob("far"), TestActor);
        ExpectMsg<JobStatus>(Long);

        await cluster.Systems[1].Terminate();

        var lost = ExpectMsg<NodeLost>(Long);
        Assert.Equal("nodeB", lost.Node);
        Assert.Contains("before it answered QueryJob", lost.Reason);
    }
}
