using System.Text;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using AkkaMigration.Client.Session;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.MultiNode;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// A two-node cluster over mutual TLS, and processes that try to use it without a certificate
/// from its CA. Each refusal is measured against a control that does the same with the
/// cluster's own certificates and gets through.
/// </summary>
public sealed class RogueSystemSpecs(TwoNodeCluster nodes)
    : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.DriverSetup(), "spec-client"), IClassFixture<TwoNodeCluster>
{
    /// <summary>How long a rogue waits for an answer; a legitimate one comes within a second.</summary>
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(3);

    /// <summary>A legitimate node joins within a few seconds (the control below).</summary>
    private static readonly TimeSpan JoinWindow = TimeSpan.FromSeconds(6);

    public enum Rogue
    {
        /// <summary>Plain TCP: it can only address the node's port as akka.tcp.</summary>
        WithoutTls,

        /// <summary>TLS with a certificate from a CA it made itself, named like a cluster host; it accepts any server.</summary>
        WithForeignCaCertificate,

        /// <summary>TLS that shows no certificate at all.</summary>
        WithTlsButNoCertificate,
    }

    public static TheoryData<Rogue> Rogues => [Rogue.WithoutTls, Rogue.WithForeignCaCertificate, Rogue.WithTlsButNoCertificate];

    [Fact]
    public async Task The_client_certificate_gets_no_answer_from_a_nodes_Akka_port()
    {
        var config = nodes.Cluster.Config;
        var client = ActorSystem.Create("client-on-akka", BootstrapSetup.Create().WithConfig(LoopbackCluster.DriverConfig())
            .And(TestPki.SetupFor(ClusterTls.ForClient(config))));
        try
        {
            var status = client.ActorSelection(nodes.Cluster.SupervisorPath("nodeB")).Ask<NodeStatus>(new GetNodeStatus(), Silence);

            await Assert.ThrowsAsync<AskTimeoutException>(() => status);
            Assert.Equal("nodeB", (await Sys.ActorSelection(nodes.Cluster.SupervisorPath("nodeB")).Ask<NodeStatus>(new GetNodeStatus(), Silence)).Node);
        }
        finally
        {
            await client.Terminate();
        }
    }

    [Fact]
    public async Task The_client_certificate_asks_over_the_client_channel_but_may_not_stream_an_archive_or_fetch_an_image()
    {
        var config = nodes.Cluster.Config;
        await using var session = await ClientSession.StartAsync(config);

        var status = Assert.IsType<ClientActor.Response>(await session.AskAsync("nodeB", new GetNodeStatus(), Silence));
        var archive = await ClientChannelCalls.SendAsync(config, "nodeB", [.. ArchiveStreams.Magic, 32, .. Encoding.ASCII.GetBytes(Guid.NewGuid().ToString("N"))]);
        var image = await ClientChannelCalls.SendAsync(config, "nodeB", [.. ArchiveStreams.ImageMagic, (byte)ClusterSteps.WorkerImage.Length, .. Encoding.ASCII.GetBytes(ClusterSteps.WorkerImage)]);

        Assert.Equal("nodeB", Assert.IsType<NodeStatus>(status.Answer).Node);
        Assert.Empty(archive);
        Assert.Empty(image);
        Assert.Empty(ArchiveFiles("nodeB"));
    }

    [Fact]
    public async Task Over_the_client_channel_a_node_message_is_refused_unread()
    {
        var config = nodes.Cluster.Config;
        var frame = ClientChannelCalls.Frame("""{"type":"BeginTransfer","timeoutMs":3000,"message":{"transferId":"t","jobId":"rogue-push","sourceNode":"nodeA","chunkBytes":65536}}""");

        var answer = Encoding.UTF8.GetString(await ClientChannelCalls.SendAsync(config, "nodeB", [.. "AMC1"u8, 0, .. frame]));

        Assert.Contains("\"type\":\"CommandRejected\"", answer);
        Assert.Contains("BeginTransfer", answer);
        Assert.Contains("is not a request a client may make", answer);
        Assert.Empty(ArchiveFiles("nodeB"));
    }

    [Fact]
    public async Task A_certificate_at_an_address_config_ini_does_not_name_gets_answers_but_may_not_act_as_a_node()
    {
        var supervisor = Sys.ActorSelection(nodes.Cluster.SupervisorPath("nodeB"));
        var transferId = Guid.NewGuid().ToString("N");

        var status = await supervisor.Ask<NodeStatus>(new GetNodeStatus(), Silence);
        supervisor.Tell(new BeginTransfer(transferId, "control-push", "nodeA", 64 * 1024, TransferMessages.AnnouncedBytes), TestActor);
        var refused = ExpectMsg<TransferRefused>(Silence);
        supervisor.Tell(new CheckRestore("control-push", Jobs.AddOneSpec(1), "nodeA", "runc", [], TransferMessages.AnnouncedBytes), TestActor);
        var check = ExpectMsg<RestoreCheck>(Silence);
        supervisor.Tell(new FetchImage(ClusterSteps.WorkerImage, "nodeA"), TestActor);
        var fetch = ExpectMsg<ImageFetched>(Silence);

        Assert.Equal("nodeB", status.Node);
        Assert.Equal((transferId, TransferFailure.NotANode), (refused.TransferId, refused.Code));
        Assert.Equal(["only the cluster's nodes may ask"], check.Problems);
        Assert.Equal("only the cluster's nodes may ask", fetch.Error);
        Assert.Empty(ArchiveFiles("nodeB"));
    }

    [Theory]
    [MemberData(nameof(Rogues))]
    public async Task A_rogue_gets_no_answer_from_a_supervisor(Rogue rogue)
    {
        var jobId = $"rogue-{rogue}".ToLowerInvariant();
        var system = StartRogue(rogue, "rogue-client", ConfigurationFactory.Empty);
        try
        {
            var supervisor = system.ActorSelection(PathAsSeenBy(rogue, nodes.Cluster.SupervisorPath("nodeA")));

            var status = supervisor.Ask<NodeStatus>(new GetNodeStatus(), Silence);
            var submit = supervisor.Ask<object>(Jobs.AddOne(jobId, 41), Silence);

            await Assert.ThrowsAsync<AskTimeoutException>(() => status);
            await Assert.ThrowsAsync<AskTimeoutException>(() => submit);
            Sys.ActorSelection(nodes.Cluster.SupervisorPath("nodeA")).Tell(new QueryJob(jobId), TestActor);
            Assert.Equal(new UnknownJob(jobId, "nodeA"), ExpectMsg<UnknownJob>());
            Assert.DoesNotContain(nodes.A.Calls, call => call.Contains(jobId));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Theory]
    [MemberData(nameof(Rogues))]
    public async Task A_rogue_cannot_push_an_archive(Rogue rogue)
    {
        var transferId = Guid.NewGuid().ToString("N");
        var system = StartRogue(rogue, "rogue-source", ConfigurationFactory.Empty);
        try
        {
            var supervisor = system.ActorSelection(PathAsSeenBy(rogue, nodes.Cluster.SupervisorPath("nodeB")));

            var answer = supervisor.Ask<object>(new BeginTransfer(transferId, "rogue-push", "nodeA", 64 * 1024, TransferMessages.AnnouncedBytes), Silence);

            await Assert.ThrowsAsync<AskTimeoutException>(() => answer);
            Assert.Empty(ArchiveFiles("nodeB"));
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Theory]
    [MemberData(nameof(Rogues))]
    public async Task A_rogue_cannot_join_the_cluster(Rogue rogue)
    {
        var system = StartRogue(rogue, nodes.Cluster.Config.SystemName, AsClusterNode(PathAsSeenBy(rogue, nodes.Cluster.Config.SeedNodes[0])));
        try
        {
            await Task.Delay(JoinWindow);

            Assert.NotEqual(MemberStatus.Up, Cluster.Get(system).SelfMember.Status);
            foreach (var node in nodes.Cluster.Systems)
            {
                Assert.Equal(ClusterPorts, UpPorts(node));
            }
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_process_with_a_cluster_certificate_at_an_address_config_ini_does_not_name_is_downed()
    {
        var config = nodes.Cluster.Config;
        TestPki.Ensure(["nodeC"]);
        var tls = ClusterTls.ForNode(config, new HostEntry("nodeC", "127.0.0.1", 0, false, "", "", ""));
        var system = ActorSystem.Create(config.SystemName, BootstrapSetup.Create()
            .WithConfig(AsClusterNode(config.SeedNodes[0]).WithFallback(LoopbackCluster.DriverConfig()))
            .And(TestPki.SetupFor(tls)));
        try
        {
            // Its TLS is the cluster's, so it may knock; it is downed as soon as it is a member, and stops.
            Assert.True(await system.WhenTerminated.WaitAsync(JoinWindow * 2).ContinueWith(t => t.IsCompletedSuccessfully),
                "the intruder was not downed");
            await AwaitAssertAsync(() => Assert.All(nodes.Cluster.Systems, node => Assert.Equal(2, Cluster.Get(node).State.Members.Count)), JoinWindow * 2);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_certificate_of_the_cluster_ca_issued_for_code_signing_is_refused_as_a_node_and_as_a_client()
    {
        var config = nodes.Cluster.Config;
        using var asNode = TestPki.ForCodeSigning("nodeC", ClusterTls.NodeRole);
        using var asClient = TestPki.ForCodeSigning("client", ClusterTls.ClientRole);
        var system = ActorSystem.Create("wrong-usage", BootstrapSetup.Create().WithConfig(LoopbackCluster.DriverConfig())
            .And(new DotNettySslSetup(asNode, suppressValidation: true, requireMutualAuthentication: true)));
        try
        {
            var status = system.ActorSelection(nodes.Cluster.SupervisorPath("nodeB")).Ask<NodeStatus>(new GetNodeStatus(), Silence);
            var request = ClientChannelCalls.Frame("""{"type":"GetNodeStatus","timeoutMs":3000,"message":{}}""");

            Assert.Empty(await ClientChannelCalls.SendAsync(config, "nodeB", [.. "AMC1"u8, 0, .. request], asClient)
                .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : []));
            await Assert.ThrowsAsync<AskTimeoutException>(() => status);
            Assert.Contains("lacks serverAuth and clientAuth", ClusterTls.ForNode(config, config.GetHost("nodeB")).Refusal(asNode, ClusterTls.NodeRole));
            Assert.Contains("lacks clientAuth", ClusterTls.ForNode(config, config.GetHost("nodeB")).Refusal(asClient, null));
            // The control: the client's own certificate, issued for TLS, is answered on the same channel.
            Assert.Contains("\"type\":\"NodeStatus\"", Encoding.UTF8.GetString(await ClientChannelCalls.SendAsync(config, "nodeB", [.. "AMC1"u8, 0, .. request])));
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static ActorSystem StartRogue(Rogue rogue, string name, Config config)
    {
        var settings = config.WithFallback(LoopbackCluster.DriverConfig());
        if (rogue == Rogue.WithoutTls)
        {
            return ActorSystem.Create(name, ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.enable-ssl = off").WithFallback(settings));
        }
        // suppressValidation: the rogue trusts any node, so only the node's own check stands in its way.
        var ssl = new DotNettySslSetup(TestPki.Foreign("nodeA"), suppressValidation: true,
            requireMutualAuthentication: rogue == Rogue.WithForeignCaCertificate);
        return ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(settings).And(ssl));
    }

    private static string PathAsSeenBy(Rogue rogue, string path) =>
        rogue == Rogue.WithoutTls ? path.Replace("akka.ssl.tcp://", "akka.tcp://", StringComparison.Ordinal) : path;

    private static Config AsClusterNode(string seed) =>
        ConfigurationFactory.ParseString($"akka.actor.provider = cluster\nakka.cluster.seed-nodes = [\"{seed}\"]");

    /// <summary>The hosts run on one address: a member is told by its port.</summary>
    private List<int> ClusterPorts => [.. nodes.Cluster.Config.Hosts.Select(h => h.Port).Order()];

    private static List<int> UpPorts(ActorSystem node) =>
        [.. Cluster.Get(node).State.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address.Port ?? 0).Order()];

    private string[] ArchiveFiles(string host) =>
        Directory.GetFiles(Path.Combine(nodes.Cluster.Config.GetHost(host).StateDirectory, "archives"));
}
