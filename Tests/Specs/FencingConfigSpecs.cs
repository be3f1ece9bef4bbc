using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// config.ini's [ha] and each host's fence_port: timers that could let two copies run are refused,
/// with the bound; so is a default protection the cluster cannot give.
/// </summary>
public sealed class FencingConfigSpecs : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-ha-config-").FullName;

    private const string ThreeHosts = "[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[hosts:b]\naddress=1.1.1.2\n[hosts:c]\naddress=1.1.1.3\n";

    private const string Rest = "[container]\nimage=x\n[tls]\nca=ca.crt\nnode_certificate={host}.pfx\nclient_certificate=client.pfx\n";

    [Fact]
    public void Without_an_ha_section_the_defaults_hold_and_each_agent_listens_on_its_hosts_port_plus_three()
    {
        var config = Load("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[hosts:b]\naddress=1.1.1.2\nport=5000\n");

        Assert.Equal(HaSettings.Default, config.Ha);
        Assert.Equal([4056, 5003], config.Hosts.Select(h => h.FencePort));
        Assert.Null(HaSettings.Problem(HaSettings.Default.FenceAfter, HaSettings.Default.FailoverAfter, HaSettings.Default.RenewEvery));
    }

    [Fact]
    public void The_ha_section_sets_the_timers_and_the_witness()
    {
        var config = Load("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[ha]\nfence_after=3s\nfailover_after=9s\nrenew_every=500ms\nwitness=10.77.0.9:4060\n");

        Assert.Equal(new HaSettings(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9), TimeSpan.FromMilliseconds(500), new WitnessEntry("10.77.0.9", 4060)), config.Ha);
    }

    [Theory]
    [InlineData("fence_after=10s\nfailover_after=12s\n", "failover_after = 12s must exceed (fence_after / 0.99 + kill limit 4s) × 1.01 = 14.24s")]
    [InlineData("fence_after=5s\nfailover_after=9s\n", "failover_after = 9s must exceed")]
    [InlineData("renew_every=2s\n", "renew_every = 2s leaves fewer than three renewals within fence_after = 5s")]
    [InlineData("fence_after=5\n", "[ha] fence_after = '5': expected a whole number with ms, s or m")]
    [InlineData("witness=10.77.0.9\n", "[ha] witness = '10.77.0.9': expected ADDRESS:PORT")]
    public void Timers_that_could_let_two_copies_run_are_refused_with_the_reason(string section, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load("[hosts:a]\naddress=1.1.1.1\nexecutor=true\n[ha]\n" + section));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_fence_port_that_is_another_of_the_hosts_ports_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() => Load("[hosts:a]\naddress=1.1.1.1\nexecutor=true\nfence_port=4054\n"));

        Assert.Contains("[hosts:a] fence_port: 4054 is already another of the host's ports", e.Message);
    }

    [Fact]
    public void The_repository_config_keeps_the_timers_safe()
    {
        var ha = ConfigLoader.Load(Repo.Path("config.ini")).Ha;

        Assert.Null(HaSettings.Problem(ha.FenceAfter, ha.FailoverAfter, ha.RenewEvery));
    }

    [Fact]
    public void Without_protect_every_the_ha_section_protects_nothing()
    {
        Assert.Equal(Protection.Off, Load(ThreeHosts).Ha.DefaultProtection);
        Assert.Equal(Protection.Off, Load(ThreeHosts + "[ha]\nprotect_every=off\n").Ha.DefaultProtection);
        Assert.Equal(Protection.Off, ConfigLoader.Load(Repo.Path("config.ini")).Ha.DefaultProtection);
    }

    [Theory]
    [InlineData("protect_every=5s\n", 5, 1)]
    [InlineData("protect_every=1m\nreplicas=2\n", 60, 2)]
    public void Protect_every_and_replicas_in_the_ha_section_set_the_default_protection(string keys, int seconds, int replicas)
    {
        Assert.Equal(new Protection(TimeSpan.FromSeconds(seconds), replicas), Load(ThreeHosts + "[ha]\n" + keys).Ha.DefaultProtection);
    }

    [Theory]
    [InlineData("replicas=2\n", "[ha] replicas = '2' means nothing without protect_every")]
    [InlineData("protect_every=5\n", "[ha] protect_every = '5': expected a whole number with ms, s or m (e.g. 5s)")]
    [InlineData("protect_every=5s\nreplicas=none\n", "[ha] replicas = 'none': expected a whole number of hosts of at least 1")]
    [InlineData("protect_every=500ms\n", "[ha]: protect_every = 500ms, replicas = 1: protection every 500ms is out of bounds: from 1s to 1h")]
    [InlineData("protect_every=61m\n", "protection every 3660s is out of bounds")]
    [InlineData("protect_every=5s\nreplicas=3\n", "3 replica(s) need as many hosts besides the owner; config.ini has 3 host(s), so at most 2")]
    public void A_default_protection_the_cluster_cannot_give_is_refused_with_the_reason(string keys, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Load(ThreeHosts + "[ha]\n" + keys));

        Assert.Contains(expected, e.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private MigrationConfig Load(string hosts)
    {
        var path = Path.Combine(_dir, "config.ini");
        File.WriteAllText(path, hosts + Rest);
        return ConfigLoader.Load(path);
    }
}
