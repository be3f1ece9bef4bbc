using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

public sealed class ConfigSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-config-").FullName;

    [Fact]
    public void The_repository_config_describes_the_two_demo_hosts()
    {
        var config = ConfigLoader.Load(Repo.Path("config.ini"));

        Assert.Equal(["nodeA", "nodeB"], config.Hosts.Select(h => h.Name));
        Assert.Equal("nodeA", config.Executor.Name);
        Assert.Equal(["akka.ssl.tcp://akka-migration@10.77.0.1:4053", "akka.ssl.tcp://akka-migration@10.77.0.2:4053"], config.SeedNodes);
        Assert.Equal(["nofile=1024:1024", "nproc=1024:1024"], config.Container.Ulimits);
        Assert.Equal(Repo.Path("hocon"), config.HoconDirectory);
        Assert.Equal(2, HoconFiles.For(config, HoconFiles.Node).Count);
        Assert.Equal(Repo.Path("build", "pki", "nodeB.pfx"), config.Tls.NodeCertificate(config.GetHost("nodeB")));
        Assert.Equal(Repo.Path("build", "pki", "ca.crt"), config.Tls.Authority);
        Assert.Equal((4054, 4055), (config.Executor.StreamPort, config.Executor.MetricsPort));
    }

    [Theory]
    [InlineData("", 4055)]
    [InlineData("port=5000\n", 5002)]
    [InlineData("metrics_port=9464\n", 9464)]
    [InlineData("metrics_port=0\n", 0)]
    public void The_metrics_port_is_the_akka_port_plus_two_unless_set_and_0_turns_it_off(string line, int expected)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, "[hosts:a]\naddress=1.1.1.1\nexecutor=true\n" + line + "[container]\nimage=x" + Tls);

        Assert.Equal(expected, ConfigLoader.Load(path).Executor.MetricsPort);
    }

    private const string Tls = "\n[tls]\nca=ca.crt\nnode_certificate={host}.pfx\nclient_certificate=client.pfx";

    [Theory]
    [InlineData("", 24 * 3600)]
    [InlineData("[jobs]\nkeep_finished=90s\n", 90)]
    [InlineData("[jobs]\nkeep_finished=30m\n", 1800)]
    [InlineData("[jobs]\nkeep_finished=7d\n", 7 * 86400)]
    [InlineData("[jobs]\nkeep_finished=0\n", null)]
    public void Finished_jobs_are_kept_a_day_unless_jobs_keep_finished_says_otherwise_and_0_keeps_them(string section, int? seconds)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, "[hosts:a]\naddress=1.1.1.1\nexecutor=true\n" + section + "[container]\nimage=x" + Tls);

        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, ConfigLoader.Load(path).Jobs.KeepFinished);
    }

    [Theory]
    [InlineData("[hosts:a]\naddress=1.1.1.1\n[hosts:b]\naddress=1.1.1.2\n[container]\nimage=x", "exactly one host must have executor = true (found 0)")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=yes\n[container]\nimage=x", "[hosts:a] executor = 'yes': expected true or false")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\nport=99999\n[container]\nimage=x", "[hosts:a] port = '99999'")]
    [InlineData("[hosts:a]\nexecutor=true\n[container]\nimage=x", "[hosts:a] address is required")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\ncompression=zstd1", "[container] compression = 'zstd1': expected one of none, gzip, zstd")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\ncompression=lz4", "lz4 is the nodes' own, on the stream: [transfer] compression = lz4")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[transfer]\ncompression=zstd", "[transfer] compression = 'zstd': expected one of none, lz4")]
    [InlineData("[cluster]\nsystem=x", "no [hosts:NAME] sections")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\nmetrics_port=4054\n[container]\nimage=x", "[hosts:a] metrics_port: 4054 is the host's stream port; pick another")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\nmetrics_port=70000\n[container]\nimage=x", "[hosts:a] metrics_port = '70000': expected a whole number from 0 to 65535")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[hosts:b]\naddress=1.1.1.1\nport=4055\n[container]\nimage=x", "hosts a and b share 1.1.1.1:4055")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x", "[tls] ca is required")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[tls]\nca=ca.crt\nnode_certificate=node.pfx", "[tls] node_certificate = 'node.pfx': must contain {host}")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[tls]\nca=ca.crt\nnode_certificate={host}.pfx\nclient_certificate=client.pfx\npassword_file=password", "[tls] password_file: no longer used; each certificate's password is in NAME.password")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[service_network]\nsubnet=10.78.0.0" + Tls, "[service_network] subnet = '10.78.0.0': expected an IPv4 subnet")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[service_network]\nsubnet=10.78.0.0/24\nfirst=10.79.0.1" + Tls, "[service_network] first = '10.79.0.1': expected an address in 10.78.0.0/24")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[service_network]\nsubnet=10.78.0.0/24\nfirst=10.78.0.20\nlast=10.78.0.19" + Tls, "the range 10.78.0.20 to 10.78.0.19 is empty")]
    [InlineData("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x\n[jobs]\nkeep_finished=1 day" + Tls, "[jobs] keep_finished = '1 day': expected a whole number with s, m, h or d")]
    public void A_mistake_in_config_ini_is_reported_with_the_key_that_holds_it(string ini, string message)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, ini);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_missing_config_file_is_named()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir, "nope.ini")));

        Assert.Contains("nope.ini", error.Message);
    }

    [Fact]
    public void The_tls_paths_are_relative_to_the_config_file()
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, "[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[container]\nimage=x" + Tls);

        var config = ConfigLoader.Load(path);

        Assert.Equal(Path.Combine(_dir, "a.pfx"), config.Tls.NodeCertificate(config.GetHost("a")));
        Assert.Equal(Path.Combine(_dir, "a.password"), TlsSettings.PasswordFileOf(config.Tls.NodeCertificate(config.GetHost("a"))));
    }

    [Fact]
    public void A_missing_certificate_is_named_with_its_key()
    {
        var config = LoopbackCluster.ForHosts([]) with { Tls = TestPki.Settings with { ClientCertificate = Path.Combine(_dir, "gone.pfx") } };
        TestPki.Ensure([]);

        var error = Assert.Throws<ConfigException>(() => ClusterTls.ForClient(config));

        Assert.Contains($"[tls] client_certificate: {Path.Combine(_dir, "gone.pfx")} not found", error.Message);
    }

    [Fact]
    public void A_certificate_from_another_ca_is_refused_at_startup()
    {
        var foreign = Path.Combine(TestPki.ForeignFolder, "nodeA.pfx");
        TestPki.Foreign("nodeA");
        var config = LoopbackCluster.ForHosts([]) with
        {
            Tls = TestPki.Settings with { ClientCertificate = foreign },
        };

        var error = Assert.Throws<ConfigException>(() => ClusterTls.ForClient(config));

        Assert.Contains("[tls] client_certificate", error.Message);
        Assert.Contains("does not chain to the cluster CA", error.Message);
    }

    [Fact]
    public async Task A_node_without_its_certificate_says_which_file_and_does_not_start()
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, $"[hosts:a]\naddress=127.0.0.1\nport={Ports.Free()}\nexecutor=true\n[container]\nimage=x" + Tls);
        TestPki.Ensure([]);
        File.Copy(TestPki.Settings.Authority, Path.Combine(_dir, "ca.crt"));

        var run = await Shell.RunAsync("dotnet", [Repo.NodeDll, "--config", path, "--host", "a"], TimeSpan.FromSeconds(30));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"[tls] node_certificate: {Path.Combine(_dir, "a.pfx")} not found", run.StandardError);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
