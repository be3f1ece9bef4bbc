using Akka.Actor;
using Akka.DistributedData;
using AkkaMigration.Node.HostLoss;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// A host declared lost (issue 33): its unprotected jobs are answered as lost, with the host and the
/// time, never as "ask again once it is back"; and `node lost` is refused for a host that answers.
/// The declaration itself (the voters' promises) is FencingSpecs'; here the record is written as the
/// node's host-loss watch writes it.
/// </summary>
public sealed class HostLossSpecs : ThreeNodeClusterSpec
{
    [Fact]
    public async Task A_job_of_a_host_declared_lost_is_answered_as_lost_with_the_host_and_the_time()
    {
        Submit("burnt", 1, workMillis: 60_000);
        Node("nodeA").Tell(new MigrateJob("burnt", "nodeB"), TestActor);
        ExpectMsg<MigrationSucceeded>(Long);
        await Cluster.Systems[1].Terminate();
        var at = new DateTimeOffset(2026, 12, 7, 9, 41, 12, TimeSpan.Zero);

        var replicator = DistributedData.Get(Cluster.Systems[0]).Replicator;
        replicator.Tell(Dsl.Update(LostHosts.Key, LWWDictionary<string, HostLossRecord>.Empty, WriteLocal.Instance,
            map => map.SetItem(Akka.Cluster.Cluster.Get(Cluster.Systems[0]), "nodeB",
                new HostLossRecord(at, [new LossPromised("nodeA", "nodeB", FencingSeal.None), new LossPromised("nodeC", "nodeB", FencingSeal.None)], false))));

        AwaitAssert(() =>
        {
            Node("nodeA").Tell(new QueryJob("burnt"), TestActor);
            var refused = ExpectMsg<CommandRejected>(Long);
            Assert.Equal(JobFailure.JobLostWithHost, refused.Code);
            Assert.Equal("job burnt was lost with nodeB at 09:41:12 UTC; it was not protected", refused.Reason);
        }, Long, TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_host_that_is_up_and_reachable_is_never_declared_lost()
    {
        Node("nodeA").Tell(new DeclareNodeLost("nodeB"), TestActor);

        Assert.Equal(JobFailure.HostAnswers, ExpectMsg<CommandRejected>(Long).Code);
    }

    [Fact]
    public async Task Without_a_fencing_agent_nothing_can_prove_a_host_lost()
    {
        await Cluster.Systems[2].Terminate();
        Node("nodeA").Tell(new DeclareNodeLost("nodeC"), TestActor);

        var refused = ExpectMsg<CommandRejected>(Long);
        Assert.Equal(JobFailure.FencingAgentSilent, refused.Code);
        Assert.Contains("no fencing agent", refused.Reason);
    }

    [Fact]
    public void A_node_cannot_declare_itself_lost()
    {
        Node("nodeA").Tell(new DeclareNodeLost("nodeA"), TestActor);

        Assert.Equal(JobFailure.HostAnswers, ExpectMsg<CommandRejected>(Long).Code);
    }
}
