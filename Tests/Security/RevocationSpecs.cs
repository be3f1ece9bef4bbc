using System.Security.Cryptography.X509Certificates;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Security;

/// <summary>
/// Certificates the CA issued and no longer vouches for (config.ini [tls] revoked): a decommissioned
/// host's, still in its hands, and a lost client's. Each is refused at the handshake, on the Akka
/// port, the stream port and the client port, from the place it would otherwise be admitted.
/// </summary>
public sealed class RevocationSpecs(RevocationSpecs.Cluster nodes) : IClassFixture<RevocationSpecs.Cluster>
{
    /// <summary>A client certificate of the specs' CA besides "client", issued to be revoked.</summary>
    private const string LostClient = "client-lost";

    /// <summary>nodeA runs; nodeC, decommissioned, is still in config.ini but its certificate is revoked, as is <see cref="LostClient"/>'s.</summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public LoopbackCluster Nodes { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            TestPki.Ensure(["nodeC"]);
            var issued = await Shell.RunAsync(Repo.Path("scripts", "pki.sh"), ["client", TestPki.Folder, LostClient], TimeSpan.FromMinutes(1));
            Assert.True(issued.ExitCode == 0, issued.StandardError);
            Nodes = await LoopbackCluster.StartAsync(["nodeA", "nodeC"], (_, _) => new FakeContainerRuntime { HasImages = false },
                absent: ["nodeC"], configure: c => c with { Tls = c.Tls with { Revoked = [Load("nodeC").SerialNumber, Load(LostClient).SerialNumber] } });
        }

        public async Task DisposeAsync() => await Nodes.DisposeAsync();
    }

    private MigrationConfig Config => nodes.Nodes.Config;

    [Fact]
    public async Task A_revoked_node_certificate_at_its_own_hosts_address_never_joins()
    {
        var nodeC = Config.GetHost("nodeC");
        var revoked = ActorSystem.Create(Config.SystemName, BootstrapSetup.Create()
            .WithConfig(ConfigurationFactory.ParseString($$"""
                akka.actor.provider = cluster
                akka.cluster.seed-nodes = ["{{Config.SeedNodes[0]}}"]
                akka.remote.dot-netty.tcp { hostname = "{{nodeC.Address}}", port = {{nodeC.Port}} }
                """).WithFallback(LoopbackCluster.DriverConfig()))
            .And(new DotNettySslSetup(Load("nodeC"), suppressValidation: true, requireMutualAuthentication: true)));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10));

            Assert.NotEqual(MemberStatus.Up, Akka.Cluster.Cluster.Get(revoked).SelfMember.Status);
            Assert.Single(Akka.Cluster.Cluster.Get(nodes.Nodes.Systems[0]).State.Members);
        }
        finally
        {
            await revoked.Terminate();
        }
    }

    [Fact]
    public async Task A_revoked_node_certificate_may_not_ask_for_an_image_on_the_stream_port()
    {
        var answer = await ImageRequests.AskAsync(Config.GetHost("nodeA"), Load("nodeC"));

        Assert.Empty(answer);
    }

    [Fact]
    public async Task A_revoked_client_certificate_gets_no_answer_on_the_client_port_while_another_client_does()
    {
        var request = ClientChannelCalls.Frame("""{"type":"GetNodeStatus","timeoutMs":3000,"message":{}}""");

        var lost = await ClientChannelCalls.SendAsync(Config, "nodeA", [.. "AMC1"u8, 0, .. request], Load(LostClient))
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : []);
        var kept = Encoding.UTF8.GetString(await ClientChannelCalls.SendAsync(Config, "nodeA", [.. "AMC1"u8, 0, .. request], Load("client")));

        Assert.Empty(lost);
        Assert.Contains("\"type\":\"NodeStatus\"", kept);
    }

    [Fact]
    public void A_node_refuses_to_start_with_its_own_revoked_certificate()
    {
        var error = Assert.Throws<ConfigException>(() => ClusterTls.ForNode(Config, Config.GetHost("nodeC")));

        Assert.Contains("revoked", error.Message);
    }

    [Fact]
    public async Task Pki_revoke_adds_the_certificates_serial_to_config_ini_and_issuing_again_makes_a_new_one()
    {
        var folder = Directory.CreateTempSubdirectory("akka-migration-revoke-").FullName;
        try
        {
            var admin = Path.Combine(folder, "admin");
            var ini = Path.Combine(folder, "config.ini");
            File.Copy(Repo.Path("config.ini"), ini);
            await Pki("ca", admin);
            await Pki("node", admin, "nodeB");
            var before = LoadFrom(admin, "nodeB").SerialNumber;

            await Pki("revoke", admin, "nodeB", ini);
            await Pki("node", admin, "nodeB");

            var tls = ConfigLoader.Load(ini).Tls;
            Assert.True(tls.IsRevoked(before));
            Assert.False(tls.IsRevoked(LoadFrom(admin, "nodeB").SerialNumber));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task Pki(params string[] args)
    {
        var run = await Shell.RunAsync(Repo.Path("scripts", "pki.sh"), args, TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == 0, $"pki.sh {string.Join(' ', args)}: {run.StandardError}");
    }

    private static X509Certificate2 Load(string name) => LoadFrom(TestPki.Folder, name);

    private static X509Certificate2 LoadFrom(string folder, string name) => X509CertificateLoader.LoadPkcs12FromFile(
        Path.Combine(folder, $"{name}.pfx"), File.ReadAllText(Path.Combine(folder, $"{name}.password")).Trim());
}
