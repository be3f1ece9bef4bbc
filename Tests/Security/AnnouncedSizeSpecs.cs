using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// The size a source announces for its archive is required and binding (issue 34, bounds): the
/// target checks its room for that size, so a rogue that announced nothing, or sends more than it
/// announced, could otherwise fill the target's disk.
/// </summary>
public sealed class AnnouncedSizeSpecs(RogueNode rogue) : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IClassFixture<RogueNode>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task A_transfer_that_announces_no_size_is_refused_and_nothing_is_written(long announced)
    {
        var jobId = $"rogue-unsized-{-announced}";
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync(jobId);
        var source = CreateTestProbe(rogue.System);

        var receiver = RogueNode.Begin(source, rogue.Supervisor("nodeB"), jobId, transferId, expectedBytes: announced);

        Assert.Null(receiver);
        var refused = Assert.IsType<TransferRefused>(source.LastMessage);
        Assert.Equal(TransferFailure.SizeRefused, refused.Code);
        Assert.Contains($"announces no size for the archive ({announced} bytes)", refused.Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), Patience);
        Assert.Empty(rogue.ArchiveFiles("nodeB", jobId));
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For(jobId)));
    }

    [Fact]
    public async Task A_source_that_sends_more_than_it_announced_is_cut_off_and_its_archive_deleted()
    {
        const string jobId = "rogue-outgrown";
        const long announced = 1;
        var transferId = Guid.NewGuid().ToString("N");
        await rogue.ClaimAsync(jobId);
        var source = CreateTestProbe(rogue.System);
        var receiver = RogueNode.Begin(source, rogue.Supervisor("nodeB"), jobId, transferId, expectedBytes: announced);
        Assert.NotNull(receiver);
        var chunk = new byte[64 * 1024];
        source.Send(receiver, new ArchiveChunk(transferId, 0, 0, chunk));
        source.ExpectMsg<ChunkAck>(Patience);
        Assert.Single(rogue.ArchiveFiles("nodeB", jobId));

        // The next chunk would take the archive past what the target checked its room for.
        var limit = ArchiveEstimate.WithMargin(announced);
        source.Send(receiver, new ArchiveChunk(transferId, 1, limit - chunk.Length + 1, chunk));

        var failed = Assert.IsType<TransferFailed>(source.ExpectMsg<ITransferMessage>(Patience));
        Assert.Equal(TransferFailure.ArchiveOutgrown, failed.Code);
        Assert.Contains($"outgrows the size its source announced: 0 MB, {limit / (1024 * 1024)} MB with the margin", failed.Reason);
        await AwaitAssertAsync(() => Assert.Single(rogue.Warnings("nodeB", transferId)), Patience);
        await AwaitAssertAsync(() => Assert.Empty(rogue.ArchiveFiles("nodeB", jobId)), Patience);
        Assert.DoesNotContain(rogue.B.Calls, call => call.Contains(ContainerNames.For(jobId)));
    }
}
