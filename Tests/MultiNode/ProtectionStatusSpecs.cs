using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>What a protected job's status says of its protection, on three nodes with fake runtimes (issue 33).</summary>
public sealed class ProtectionStatusSpecs : ThreeNodeClusterSpec
{
    private const string JobId = "shown";

    [Fact]
    public void A_protected_job_s_status_and_its_node_s_job_list_show_its_last_checkpoint_and_the_host_keeping_it()
    {
        var spec = Jobs.AddOneSpec(41, 600_000) with { Protection = new Protection(TimeSpan.FromSeconds(1), 1) };
        Node("nodeB").Tell(new RunJob(JobId, spec), TestActor);
        ExpectMsg<JobAccepted>(Long);

        var last = AwaitProtected();
        Assert.Single(last.Hosts);
        Assert.Contains(last.Hosts[0], new[] { "nodeA", "nodeC" });
        Assert.True(last.Bytes > 0, $"{last.Bytes} bytes");
        AwaitAssert(() =>
        {
            Node("nodeB").Tell(new GetNodeStatus(), TestActor);
            var listed = ExpectMsg<NodeStatus>().Jobs.Single(j => j.JobId == JobId);
            Assert.Equal(last.Hosts, listed.LastProtection?.Hosts);
        }, Long);
    }

    [Fact]
    public void An_unprotected_job_s_status_has_no_protection_checkpoint()
    {
        Node("nodeB").Tell(new RunJob(JobId, Jobs.AddOneSpec(41, 600_000)), TestActor);
        ExpectMsg<JobAccepted>(Long);

        Node("nodeB").Tell(new QueryJob(JobId), TestActor);
        Assert.Null(ExpectMsg<JobStatus>(Long).LastProtection);
    }

    private ProtectionCheckpoint AwaitProtected()
    {
        ProtectionCheckpoint? last = null;
        AwaitAssert(() =>
        {
            Node("nodeB").Tell(new QueryJob(JobId), TestActor);
            last = ExpectMsg<JobStatus>().LastProtection;
            Assert.NotNull(last);
        }, Long);
        return last!;
    }
}
