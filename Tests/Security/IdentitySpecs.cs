using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// Root on one host holds that host's node certificate. Here nodeC's own certificate is used away
/// from nodeC's address: a certificate names a host, and a host is where config.ini puts it.
/// </summary>
/// <remarks>
/// On loopback every host of the specs is at 127.0.0.1 and a host is told by its port, so what
/// a connection's far end is bound to is the address and port config.ini gives the host: checked
/// on every outbound connection (the dialled port is the host's). An inbound connection comes from
/// an ephemeral port, so only its address is checked; nodeC sits at 127.0.0.2 here to make that real.
/// </remarks>
public sealed class IdentitySpecs(IdentitySpecs.Cluster nodes) : IClassFixture<IdentitySpecs.Cluster>
{
    /// <summary>nodeA runs; nodeB is stopped (its address free for an impostor); nodeC lives at 127.0.0.2 and never starts here.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public FakeContainerRuntime A { get; } = new() { HasImages = false };

        public LoopbackCluster Nodes { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            TestPki.Ensure(["nodeC"]);
            Nodes = await LoopbackCluster.StartAsync(["nodeA", "nodeB", "nodeC"], (_, _) => A,
                host: h => h.Name == "nodeC" ? h with { Address = NodeCAddress.ToString() } : h,
                absent: ["nodeB", "nodeC"]);
        }

        public async Task DisposeAsync() => await Nodes.DisposeAsync();
    }

    private static readonly IPAddress NodeCAddress = IPAddress.Parse("127.0.0.2");

    private static readonly TimeSpan JoinWindow = TimeSpan.FromSeconds(10);

    private MigrationConfig Config => nodes.Nodes.Config;

    private X509Certificate2 CertificateOf(string host) => ClusterTls.ForNode(Config, Config.GetHost(host)).Certificate;

    [Fact]
    public async Task NodeCs_certificate_at_nodeBs_address_calling_itself_nodeB_never_joins_while_nodeBs_own_does()
    {
        var impostor = StartAt(Config.GetHost("nodeB"), CertificateOf("nodeC"));
        bool joined;
        try
        {
            joined = await UpWithinAsync(impostor, JoinWindow);
        }
        finally
        {
            await impostor.Terminate();
        }
        var control = StartAt(Config.GetHost("nodeB"), CertificateOf("nodeB"));
        try
        {
            Assert.False(joined, "nodeC's certificate joined the cluster as nodeB");
            Assert.True(await UpWithinAsync(control, JoinWindow * 3), "nodeB's own certificate at nodeB's address did not join");
        }
        finally
        {
            await control.Terminate();
        }
    }

    [Fact]
    public async Task NodeCs_certificate_from_an_address_other_than_nodeCs_gets_no_answer_on_the_Akka_port()
    {
        var config = LoopbackCluster.DriverConfig();
        var rogue = ActorSystem.Create("rogue-c", BootstrapSetup.Create().WithConfig(config)
            .And(new DotNettySslSetup(CertificateOf("nodeC"), suppressValidation: true, requireMutualAuthentication: true)));
        try
        {
            var status = rogue.ActorSelection(nodes.Nodes.SupervisorPath("nodeA")).Ask<NodeStatus>(new GetNodeStatus(), TimeSpan.FromSeconds(3));

            await Assert.ThrowsAsync<AskTimeoutException>(() => status);
        }
        finally
        {
            await rogue.Terminate();
        }
    }

    [Fact]
    public async Task NodeCs_certificate_is_answered_on_the_stream_port_only_from_nodeCs_address()
    {
        var fromElsewhere = await ImageRequests.AskAsync(Config.GetHost("nodeA"), CertificateOf("nodeC"), from: IPAddress.Loopback);
        var fromNodeC = await ImageRequests.AskAsync(Config.GetHost("nodeA"), CertificateOf("nodeC"), from: NodeCAddress);

        Assert.Empty(fromElsewhere);
        Assert.Equal(-1, BinaryPrimitives.ReadInt64BigEndian(fromNodeC));
    }

    [Fact]
    public async Task A_stream_port_at_nodeBs_address_that_shows_nodeCs_certificate_serves_no_image()
    {
        var nodeB = Config.GetHost("nodeB");
        var nodeA = Config.GetHost("nodeA");
        var scratch = Directory.CreateTempSubdirectory("identity-spec-").FullName;
        using var impostor = new TcpListener(IPAddress.Loopback, nodeB.StreamPort);
        impostor.Start();
        var serving = ImageRequests.ServeOnceAsync(impostor, CertificateOf("nodeC"), "not the image you asked for"u8.ToArray());
        try
        {
            var shipping = new ImageShipping(new ArchiveStreams(nodeA, ClusterTls.ForNode(Config, nodeA)), new FakeContainerRuntime { HasImages = false }, scratch);

            var fetched = await shipping.FetchAsync(nodeB, ClusterSteps.WorkerImage, FakeContainerRuntime.ImageIdOf(ClusterSteps.WorkerImage), TimeSpan.FromSeconds(10),
                CancellationToken.None);

            Assert.Contains("nodeC", fetched.Error);
            Assert.Empty(Directory.GetFiles(scratch));
        }
        finally
        {
            impostor.Stop();
            await serving.ContinueWith(_ => { });
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>A process that calls itself the host at <paramref name="place"/> and asks the seed to let it join.</summary>
    private ActorSystem StartAt(HostEntry place, X509Certificate2 certificate) =>
        ActorSystem.Create(Config.SystemName, BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString($$"""
                akka.actor.provider = cluster
                akka.cluster.seed-nodes = ["{{Config.SeedNodes[0]}}"]
                akka.remote.dot-netty.tcp { hostname = "{{place.Address}}", port = {{place.Port}} }
                """).WithFallback(LoopbackCluster.DriverConfig()))
            // It trusts whoever answers: only the nodes' checks stand in its way.
            .And(new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true)));

    private static async Task<bool> UpWithinAsync(ActorSystem system, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (Akka.Cluster.Cluster.Get(system).SelfMember.Status == MemberStatus.Up)
            {
                return true;
            }
            await Task.Delay(200);
        }
        return false;
    }
}
