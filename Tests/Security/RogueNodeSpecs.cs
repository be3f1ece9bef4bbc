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
        Assert.Empty(rogue.ArchiveFiles("nodeB"));
        Assert.NotEqual("nodeB", (await rogue.LocationAsync("nodeB", jobId))?.Node);
    }
}
