using Akka.Actor;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// What root on one host (nodeC, with its own node certificate, speaking the real protocol) tries
/// against the other hosts (issue 34). Every attempt is refused where it enters, logged once with
/// its reason, and leaves nothing behind: no container, no file, no directory entry.
/// </summary>
public sealed class RogueNodeSpecs(RogueNode rogue) : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IClassFixture<RogueNode>
{
    private static readonly ServiceOptions Service = new(JobNetwork.Cluster, "10.89.0.50", [], null, null);

    /// <summary>A handoff's spec with one field that would reach nft, podman's arguments or a path, and what the refusal names.</summary>
    public static TheoryData<string, JobSpec, string> HostileSpecs => new()
    {
        { "nft", Jobs.AddOneSpec(1) with { Service = Service with { Address = "1\ninclude \"/etc/shadow\"\n#" } }, "is not one the cluster hands out" },
        { "transport", Jobs.AddOneSpec(1) with { Image = "oci-archive:/etc/shadow" }, "invalid image name" },
        { "dir-transport", Jobs.AddOneSpec(1) with { Image = "dir:root" }, "invalid image name" },
        { "host-folder", Jobs.AddOneSpec(1) with { Service = Service with { Volumes = ["/etc:/host"] } }, "is a host folder" },
        { "environment", Jobs.AddOneSpec(1) with { Environment = ["LD_PRELOAD\0=/tmp/x.so"] }, "each environment entry" },
        { "option", Jobs.AddOneSpec(1) with { Service = Service with { Memory = "1g --privileged" } }, "invalid memory limit" },
    };

    [Theory]
    [MemberData(nameof(HostileSpecs))]
    public async Task A_handoff_whose_spec_would_reach_a_command_line_is_refused_where_it_enters_and_nothing_is_restored(string field, JobSpec spec, string reason)
    {
        var jobId = $"rogue-spec-{field}";
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync(jobId);
        var source = CreateTestProbe(rogue.System);

        Assert.NotNull(RogueNode.Push(source, rogue.Supervisor("nodeB"), jobId, transferId, spec));
        var failed = source.FishForMessage<ITransferMessage>(m => m is TransferFailed or RestoreConfirmed, TimeSpan.FromSeconds(10));

        Assert.Contains(reason, Assert.IsType<TransferFailed>(failed).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.Contains(reason, rogue.Warnings("nodeB", transferId)[0]);
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For(jobId)));
        await AwaitAssertAsync(() => Assert.Empty(rogue.ArchiveFiles("nodeB", jobId)), TimeSpan.FromSeconds(5));
        Assert.NotEqual("nodeB", (await rogue.LocationAsync("nodeB", jobId))?.Node);
    }

    [Theory]
    [InlineData(RogueNode.Name)]
    [InlineData("nodeA")]
    public async Task A_node_cannot_move_a_job_another_host_owns_whoever_it_claims_to_be(string claimedSource)
    {
        var jobId = $"victim-of-{claimedSource}".ToLowerInvariant();
        var transferId = Guid.NewGuid().ToString("N");
        Assert.IsType<JobAccepted>(await Sys.ActorSelection(rogue.Cluster.SupervisorPath("nodeA")).Ask<object>(Jobs.AddOne(jobId, 41, 60_000), TimeSpan.FromSeconds(10)));
        await AwaitAssertAsync(async () => Assert.Equal("nodeA", (await rogue.LocationAsync("nodeB", jobId))?.Node), TimeSpan.FromSeconds(10));
        var source = CreateTestProbe(rogue.System);

        var receiver = RogueNode.Push(source, rogue.Supervisor("nodeB"), jobId, transferId, Jobs.AddOneSpec(41), claimedSource);

        Assert.Null(receiver);
        Assert.Contains("nodeA", Assert.IsType<TransferRefused>(source.LastMessage).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For(jobId)));
        Assert.Empty(rogue.ArchiveFiles("nodeB", jobId));
        Assert.Equal("nodeA", (await rogue.LocationAsync("nodeB", jobId))?.Node);
    }

    [Fact]
    public async Task A_node_that_writes_itself_into_the_directory_as_owner_still_cannot_move_in_a_job_another_host_runs()
    {
        const string jobId = "victim-of-a-forged-entry";
        var transferId = Guid.NewGuid().ToString("N");
        Assert.IsType<JobAccepted>(await Sys.ActorSelection(rogue.Cluster.SupervisorPath("nodeA")).Ask<object>(Jobs.AddOne(jobId, 41, 60_000), TimeSpan.FromSeconds(10)));
        await AwaitAssertAsync(async () => Assert.Equal("nodeA", (await rogue.LocationAsync("nodeB", jobId))?.Node), TimeSpan.FromSeconds(10));
        await rogue.ClaimAsync(jobId);
        var source = CreateTestProbe(rogue.System);

        var receiver = RogueNode.Push(source, rogue.Supervisor("nodeB"), jobId, transferId, Jobs.AddOneSpec(41));

        Assert.Null(receiver);
        Assert.Contains("runs on nodeA, which says so itself", Assert.IsType<TransferRefused>(source.LastMessage).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For(jobId)));
        Assert.Empty(rogue.ArchiveFiles("nodeB", jobId));
    }

    [Fact]
    public async Task A_node_cannot_have_another_host_keep_a_replica_of_a_job_it_does_not_own()
    {
        const string jobId = "victim-of-a-forged-replica";
        var transferId = Guid.NewGuid().ToString("N");
        Assert.IsType<JobAccepted>(await Sys.ActorSelection(rogue.Cluster.SupervisorPath("nodeA")).Ask<object>(Jobs.AddOne(jobId, 41, 60_000), TimeSpan.FromSeconds(10)));
        await AwaitAssertAsync(async () => Assert.Equal("nodeA", (await rogue.LocationAsync("nodeB", jobId))?.Node), TimeSpan.FromSeconds(10));
        var source = CreateTestProbe(rogue.System);

        // A replica kept on nodeB would let nodeB resume the rogue's version of the job if nodeA were ever lost.
        var receiver = RogueNode.Begin(source, rogue.Supervisor("nodeB"), jobId, transferId, replicaHosts: ["nodeB"]);

        Assert.Null(receiver);
        Assert.Contains("nodeA", Assert.IsType<TransferRefused>(source.LastMessage).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(Path.Combine(rogue.Cluster.Config.GetHost("nodeB").StateDirectory, "replicas", $"{jobId}.json")));
    }

    [Fact]
    public async Task A_transfer_id_once_used_is_refused_when_replayed()
    {
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync("rogue-first");
        await rogue.ClaimAsync("rogue-replayed");
        var source = CreateTestProbe(rogue.System);
        Assert.NotNull(RogueNode.Push(source, rogue.Supervisor("nodeB"), "rogue-first", transferId, Jobs.AddOneSpec(1)));
        source.FishForMessage<ITransferMessage>(m => m is RestoreConfirmed, TimeSpan.FromSeconds(10));

        var replayed = RogueNode.Begin(source, rogue.Supervisor("nodeB"), "rogue-replayed", transferId);

        Assert.Null(replayed);
        Assert.Contains("already", Assert.IsType<TransferRefused>(source.LastMessage).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", $"refused transfer {transferId}")), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For("rogue-replayed")));
    }

    [Fact]
    public async Task Messages_from_a_third_party_into_a_live_transfer_are_refused_and_logged_and_the_transfer_carries_on()
    {
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync("rogue-owned");
        var source = CreateTestProbe(rogue.System);
        var receiver = RogueNode.Begin(source, rogue.Supervisor("nodeB"), "rogue-owned", transferId);
        Assert.NotNull(receiver);
        var intruder = Sys.ActorSelection(receiver.Path);

        intruder.Tell(new ArchiveChunk(transferId, 0, 0, new byte[1024]), TestActor);
        intruder.Tell(new AbortTransfer(transferId, MigrationFailure.Cancelled, "a third party says so"), TestActor);

        ExpectNoMsg(TimeSpan.FromSeconds(1));
        await AwaitAssertAsync(() => Assert.Equal(2, rogue.Warnings("nodeB", transferId).Count(w => w.Contains("not its source"))), TimeSpan.FromSeconds(5));
        RogueNode.Finish(source, receiver, "rogue-owned", transferId, Jobs.AddOneSpec(1));
        source.FishForMessage<ITransferMessage>(m => m is RestoreConfirmed, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_handoff_is_compared_with_the_address_the_cluster_records_for_the_job_not_only_with_itself()
    {
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync("rogue-address", "10.89.0.70");
        var source = CreateTestProbe(rogue.System);

        Assert.NotNull(RogueNode.Push(source, rogue.Supervisor("nodeB"), "rogue-address", transferId, Jobs.AddOneSpec(1) with { Service = Service with { Address = "10.89.0.71" } }));
        var failed = source.FishForMessage<ITransferMessage>(m => m is TransferFailed or RestoreConfirmed, TimeSpan.FromSeconds(10));

        Assert.Contains("not the one the cluster records", Assert.IsType<TransferFailed>(failed).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For("rogue-address")));
        await AwaitAssertAsync(() => Assert.Empty(rogue.ArchiveFiles("nodeB", "rogue-address")), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_node_cannot_move_in_a_job_of_its_own_with_another_jobs_service_address()
    {
        var transferId = Guid.NewGuid().ToString("N");
        var victim = new RunJob("address-victim", Jobs.AddOneSpec(41, 60_000) with { Service = Service with { Address = null } });
        var address = Assert.IsType<JobAccepted>(await Sys.ActorSelection(rogue.Cluster.SupervisorPath("nodeA")).Ask<object>(victim, TimeSpan.FromSeconds(10))).Address;
        await AwaitAssertAsync(async () => Assert.Equal(address, (await rogue.LocationAsync("nodeB", victim.JobId))?.Address), TimeSpan.FromSeconds(10));
        await rogue.ClaimAsync("address-thief", address);
        var source = CreateTestProbe(rogue.System);

        var receiver = RogueNode.Push(source, rogue.Supervisor("nodeB"), "address-thief", transferId, Jobs.AddOneSpec(1) with { Service = Service with { Address = address } });

        Assert.Null(receiver);
        Assert.Contains("address-victim", Assert.IsType<TransferRefused>(source.LastMessage).Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For("address-thief")));
    }
}
