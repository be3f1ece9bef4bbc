using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// Root on nodeC (issue 34) asks the other hosts for images, and serves them ones they did not
/// expect. A node sends only the image of one of its own jobs that is moving to the asker, a few
/// at once; a node keeps a fetched image only if it is the one the source named.
/// </summary>
public sealed class ImageRequestSpecs(RogueNode rogue) : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IClassFixture<RogueNode>
{
    private static readonly string Image = ClusterSteps.WorkerImage;

    private MigrationConfig Config => rogue.Cluster.Config;

    private X509Certificate2 NodeCsCertificate => ClusterTls.ForNode(Config, Config.GetHost(RogueNode.Name)).Certificate;

    private ImageShipping ImagesOf(string host) => rogue.Cluster.Service<ImageShipping>(host);

    [Fact]
    public async Task A_request_for_an_image_no_move_is_sending_is_refused_and_logged_once()
    {
        var log = new FakeLogger();
        ImagesOf("nodeA").Log = log;
        var savesBefore = Saves();
        try
        {
            var answer = await ImageRequests.AskAsync(Config.GetHost("nodeA"), NodeCsCertificate);

            Assert.Equal($"no move of a job here is sending {Image} to any host", ImageRequests.Refusal(answer));
            var logged = Assert.Single(log.Collector.GetSnapshot());
            Assert.Equal(LogLevel.Warning, logged.Level);
            Assert.Equal($"image request from nodeC for {Image} refused: no move of a job here is sending {Image} to any host", logged.Message);
            Assert.Equal(savesBefore, Saves());
        }
        finally
        {
            ImagesOf("nodeA").Log = NullLogger.Instance;
        }
    }

    [Fact]
    public async Task A_request_for_the_image_of_a_move_to_another_host_is_refused()
    {
        using var toNodeB = ImagesOf("nodeA").Offers.Offer("nodeB", Image);
        var savesBefore = Saves();

        var answer = await ImageRequests.AskAsync(Config.GetHost("nodeA"), NodeCsCertificate);

        Assert.Equal($"{Image} goes only to nodeB, where jobs from here are moving, not to nodeC", ImageRequests.Refusal(answer));
        Assert.Equal(savesBefore, Saves());
    }

    [Fact]
    public async Task More_image_requests_at_once_than_a_host_may_make_are_refused_not_queued()
    {
        var saved = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        rogue.A.SavedImage = (_, cancellation) => saved.Task.WaitAsync(cancellation);
        var savesBefore = Saves();
        using var toNodeC = ImagesOf("nodeA").Offers.Offer(RogueNode.Name, Image);
        try
        {
            var sending = Enumerable.Range(0, ImageOffers.SendsPerRequester)
                .Select(_ => ImageRequests.AskAsync(Config.GetHost("nodeA"), NodeCsCertificate)).ToArray();
            AwaitCondition(() => Saves() == savesBefore + ImageOffers.SendsPerRequester, TimeSpan.FromSeconds(10));

            var extra = await ImageRequests.AskAsync(Config.GetHost("nodeA"), NodeCsCertificate);
            saved.SetResult(ImageRequests.SavedImage(FakeContainerRuntime.ImageIdOf(Image), Image));
            var sent = await Task.WhenAll(sending);

            Assert.Equal($"it sends nodeC {ImageOffers.SendsPerRequester} images already, at most {ImageOffers.SendsPerRequester} at once", ImageRequests.Refusal(extra));
            Assert.All(sent, answer => Assert.Null(ImageRequests.Refusal(answer)));
            Assert.Equal(savesBefore + ImageOffers.SendsPerRequester, Saves());
        }
        finally
        {
            saved.TrySetCanceled();
            rogue.A.SavedImage = null;
        }
    }

    [Fact]
    public void Image_sends_to_all_hosts_together_are_bounded_too()
    {
        var offers = new ImageOffers();
        var hosts = Enumerable.Range(0, ImageOffers.SendsInAll / ImageOffers.SendsPerRequester + 1).Select(i => $"node{i}").ToArray();
        var offered = hosts.Select(host => offers.Offer(host, Image)).ToArray();

        var slots = hosts[..^1].SelectMany(host => Enumerable.Range(0, ImageOffers.SendsPerRequester).Select(_ => offers.TryStartSend(host, Image, out var _))).ToArray();
        var refused = offers.TryStartSend(hosts[^1], Image, out var refusal);
        slots[0]!.Dispose();
        using var afterOneEnded = offers.TryStartSend(hosts[^1], Image, out _);

        Assert.All(slots, Assert.NotNull);
        Assert.Null(refused);
        Assert.Equal($"it sends {ImageOffers.SendsInAll} images already, at most {ImageOffers.SendsInAll} at once", refusal);
        Assert.NotNull(afterOneEnded);
        Assert.All(offered, o => o.Dispose());
    }

    [Fact]
    public async Task A_fetched_image_whose_id_is_not_the_one_named_is_refused_before_it_is_loaded()
    {
        var named = FakeContainerRuntime.ImageIdOf(Image);
        var other = FakeContainerRuntime.ImageIdOf("something-else");
        try
        {
            var fetched = await FetchFromTheRogueAsync(ImageRequests.SavedImage(other, Image), named);

            Assert.Equal(ImageFailure.WrongImage, fetched.Code);
            Assert.Equal($"nodeC sent another image than {named[..12]}: its image is {other[..12]}; nothing of it was loaded", fetched.Error);
        }
        finally
        {
            rogue.B.HasImages = true;
        }
    }

    [Fact]
    public async Task An_image_that_loads_as_another_id_than_the_one_named_is_removed_again()
    {
        var named = FakeContainerRuntime.ImageIdOf(Image);
        var other = FakeContainerRuntime.ImageIdOf("something-else");
        rogue.B.LoadsAs = other;
        try
        {
            var fetched = await FetchFromTheRogueAsync(ImageRequests.SavedImage(named, Image), named);

            Assert.Equal(ImageFailure.WrongImage, fetched.Code);
            Assert.Equal($"nodeC sent another image than {named[..12]}: {Image} loaded as {other[..12]}, and was removed", fetched.Error);
            Assert.Equal(["load image", $"remove image {Image}"], rogue.B.Calls.Where(c => c.Contains("image", StringComparison.Ordinal)));
            Assert.Null(await rogue.B.ImageIdAsync(Image, CancellationToken.None));
        }
        finally
        {
            rogue.B.HasImages = true;
            rogue.B.LoadsAs = null;
        }
    }

    /// <summary>
    /// nodeB, made to lack the image (the caller gives it back), fetches it from the rogue's stream
    /// port, which serves <paramref name="saved"/> once.
    /// </summary>
    private async Task<ImageFetched> FetchFromTheRogueAsync(byte[] saved, string named)
    {
        var nodeC = Config.GetHost(RogueNode.Name);
        using var streamPort = new TcpListener(IPAddress.Parse(nodeC.Address), nodeC.StreamPort);
        streamPort.Start();
        try
        {
            var serving = ImageRequests.ServeOnceAsync(streamPort, NodeCsCertificate, saved);
            rogue.B.HasImages = false;
            var probe = CreateTestProbe(rogue.System);
            rogue.Supervisor("nodeB").Tell(new FetchImage(Image, RogueNode.Name, named), probe.Ref);
            var fetched = probe.ExpectMsg<ImageFetched>(TimeSpan.FromSeconds(15));
            await serving;
            return fetched;
        }
        finally
        {
            streamPort.Stop();
        }
    }

    [Fact]
    public void A_host_may_not_have_another_host_fetch_an_image_from_a_third()
    {
        var probe = CreateTestProbe(rogue.System);
        var savesBefore = Saves();

        rogue.Supervisor("nodeB").Tell(new FetchImage(Image, "nodeA", FakeContainerRuntime.ImageIdOf(Image)), probe.Ref);
        var fetched = probe.ExpectMsg<ImageFetched>(TimeSpan.FromSeconds(10));

        Assert.Equal(ImageFailure.NotFromSource, fetched.Code);
        Assert.Equal(savesBefore, Saves());
    }

    [Fact]
    public void A_request_to_fetch_that_names_no_image_id_is_refused()
    {
        var probe = CreateTestProbe(rogue.System);

        rogue.Supervisor("nodeB").Tell(new FetchImage(Image, RogueNode.Name), probe.Ref);
        var fetched = probe.ExpectMsg<ImageFetched>(TimeSpan.FromSeconds(10));

        Assert.Equal(ImageFailure.InvalidRequest, fetched.Code);
    }

    private int Saves() => rogue.A.Calls.Count(c => c == $"save image {Image}");
}
