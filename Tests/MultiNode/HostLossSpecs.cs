using Akka.Actor;
using Akka.DistributedData;
using AkkaMigration.Node.HostLoss;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;
using AkkaMigration.Tests.Support;

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

        WriteLossRecord("nodeB", new HostLossRecord(at, [Promise("nodeA", "nodeB"), Promise("nodeC", "nodeB")], false));

        AwaitAssert(() =>
        {
            Node("nodeA").Tell(new QueryJob("burnt"), TestActor);
            var refused = ExpectMsg<CommandRejected>(Long);
            Assert.Equal(JobFailure.JobLostWithHost, refused.Code);
            Assert.Equal("job burnt was lost with nodeB at 09:41:12 UTC; it was not protected", refused.Reason);
        }, Long, TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_record_of_a_lost_host_without_a_majority_of_genuine_voters_promises_is_not_believed()
    {
        Submit("victim", 1, workMillis: 60_000);
        // Root on nodeC writes the record itself: its own genuine promise, one unsealed and one under its seal in nodeB's name.
        var forged = new LossPromised("nodeB", "nodeA", FencingSeal.None);
        WriteLossRecord("nodeA", new HostLossRecord(DateTimeOffset.UtcNow, [
            Promise("nodeC", "nodeA"), forged, forged with { Seal = TestPki.SealsOf("nodeC").Seal(forged.SignedText()) }], false), writer: 2);

        // Long enough for the record to reach every node: the job is still nodeA's, and nodeA not lost.
        ExpectNoMsg(TimeSpan.FromSeconds(2));
        Node("nodeB").Tell(new QueryJob("victim"), TestActor);
        Assert.Equal("nodeA", ExpectMsg<JobStatus>(Long).Owner);
        Node("nodeB").Tell(new DeclareNodeLost("nodeA"), TestActor);
        Assert.Equal(JobFailure.HostAnswers, ExpectMsg<CommandRejected>(Long).Code);
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

    private static LossPromised Promise(string voter, string host)
    {
        var promise = new LossPromised(voter, host, FencingSeal.None);
        return promise with { Seal = TestPki.SealsOf(voter).Seal(promise.SignedText()) };
    }

    /// <summary>Writes a record as <paramref name="writer"/>'s node would, or any member could.</summary>
    private void WriteLossRecord(string host, HostLossRecord record, int writer = 0) =>
        DistributedData.Get(Cluster.Systems[writer]).Replicator.Tell(Dsl.Update(LostHosts.Key, LWWDictionary<string, HostLossRecord>.Empty,
            WriteLocal.Instance, map => map.SetItem(Akka.Cluster.Cluster.Get(Cluster.Systems[writer]), host, record)), ActorRefs.NoSender);

    [Fact]
    public void A_node_cannot_declare_itself_lost()
    {
        Node("nodeA").Tell(new DeclareNodeLost("nodeA"), TestActor);

        Assert.Equal(JobFailure.HostAnswers, ExpectMsg<CommandRejected>(Long).Code);
    }
}
