using System.Net;
using Akka.Cluster;
using AkkaMigration.Node;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>What a service's spec may ask for, and how the cluster hands out service addresses.</summary>
public sealed class ServiceSpecs() : Akka.TestKit.Xunit2.TestKit(LoopbackCluster.StandaloneNodeConfig), IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("akka-migration-service-").FullName;

    private static readonly ServiceNetworkSettings Network = new("akka-migration", "eth0", IPNetwork.Parse("10.78.0.0/24"),
        IPAddress.Parse("10.78.0.1"), IPAddress.Parse("10.78.0.10"), IPAddress.Parse("10.78.0.15"));

    private static JobSpec Service(ServiceOptions options) => JobSpec.Container(ClusterSteps.WorkerImage, ["kv"]) with { Service = options };

    [Theory]
    [InlineData("/srv/data:/data", "is a host folder, which would not be on the host a move takes the container to")]
    [InlineData("data", "invalid volume 'data': expected NAME:/path or NAME:/path:ro")]
    [InlineData("data:/data:z", "invalid volume")]
    public void A_volume_that_cannot_move_with_its_container_is_refused_with_the_reason(string volume, string reason)
    {
        var problem = JobSpecRules.Problem(Service(new ServiceOptions(JobNetwork.Cluster, null, [volume], null, null)), Network);

        Assert.Contains(reason, problem);
    }

    [Theory]
    [InlineData(JobNetwork.Cluster, "10.78.0.99", null, null, "is not one the cluster hands out: pick one from 10.78.0.10 to 10.78.0.15")]
    [InlineData(JobNetwork.Cluster, "10.78.0.010", null, null, "is not one the cluster hands out")]
    [InlineData(JobNetwork.None, "10.78.0.10", null, null, "an address needs the cluster network")]
    [InlineData(JobNetwork.Cluster, null, "lots", null, "invalid memory limit 'lots'")]
    [InlineData(JobNetwork.Cluster, null, null, "-1", "invalid --cpus '-1'")]
    public void A_service_option_out_of_bounds_is_refused_with_what_is_allowed(JobNetwork network, string? address, string? memory, string? cpus, string reason)
    {
        var problem = JobSpecRules.Problem(Service(new ServiceOptions(network, address, [], memory, cpus)), Network);

        Assert.Contains(reason, problem);
    }

    [Fact]
    public void A_service_on_a_cluster_without_a_service_network_is_refused_with_what_to_add()
    {
        var problem = JobSpecRules.Problem(Service(new ServiceOptions(JobNetwork.Cluster, null, [], null, null)), network: null);

        Assert.Contains("add a [service_network] section to config.ini", problem);
    }

    [Fact]
    public void A_full_service_spec_is_accepted()
    {
        var spec = Service(new ServiceOptions(JobNetwork.Cluster, "10.78.0.12", ["kv-data:/data", "conf:/etc/kv:ro"], "512m", "1.5"));

        Assert.Null(JobSpecRules.Problem(spec, Network));
    }

    [Fact]
    public void Each_node_hands_out_addresses_from_its_own_share_and_skips_those_held()
    {
        var hosts = new[] { "nodeA", "nodeB" }.Select((h, i) => new HostEntry(h, "127.0.0.1", 4053 + 2 * i, i == 0, "", "", "/tmp")).ToList();
        var config = LoopbackCluster.ForHosts(hosts) with { ServiceNetwork = Network };
        var a = new JobRouter(hosts[0], config, Cluster.Get(Sys));
        var b = new JobRouter(hosts[1], config, Cluster.Get(Sys));

        var (firstA, firstB) = (a.FreeAddress(Network), b.FreeAddress(Network));
        a.Set("one", new JobLocation("nodeA", true, firstA));
        a.Set("moved-here", new JobLocation("nodeA", true, "10.78.0.12"));
        a.Set("finished", new JobLocation("nodeA", false, "10.78.0.14"));

        Assert.Equal(("10.78.0.10", "10.78.0.11"), (firstA, firstB));
        Assert.Equal("10.78.0.14", a.FreeAddress(Network));
        Assert.Equal("moved-here", a.AddressHolder("10.78.0.12"));
        Assert.Null(a.AddressHolder("10.78.0.14"));
    }

    [Fact]
    public void A_node_whose_share_is_used_up_has_no_address_to_give()
    {
        var hosts = new[] { "nodeA", "nodeB" }.Select((h, i) => new HostEntry(h, "127.0.0.1", 4053 + 2 * i, i == 0, "", "", "/tmp")).ToList();
        var config = LoopbackCluster.ForHosts(hosts) with { ServiceNetwork = Network };
        var a = new JobRouter(hosts[0], config, Cluster.Get(Sys));
        foreach (var (address, i) in new[] { "10.78.0.10", "10.78.0.12", "10.78.0.14" }.Select((x, i) => (x, i)))
        {
            a.Set($"job-{i}", new JobLocation("nodeB", true, address));
        }

        Assert.Null(a.FreeAddress(Network));
    }

    [Fact]
    public async Task A_target_names_a_different_runtime_and_each_CPU_feature_it_lacks_and_asks_for_a_missing_image()
    {
        var host = new HostEntry("nodeB", "127.0.0.1", 4055, false, "", "", _state);
        var runtime = new FakeContainerRuntime { RestoreProblems = ["a container named amig-kv is already here"], HasImages = false };
        var node = NodeContext.Create(host, LoopbackCluster.ForHosts([host]), runtime);
        var check = new CheckRestore("kv", Service(ServiceOptions.None), "nodeA", "crun", [.. HostFacts.CpuFlags().Take(2), "avx9000"], TransferMessages.AnnouncedBytes);

        var answer = await Preflight.AnswerAsync(check, node, admission: "nodeB is draining", addressHolder: null, CancellationToken.None);

        Assert.Equal([
            "nodeB is draining",
            "its OCI runtime is runc, the source's crun: a checkpoint restores only under the runtime that made it",
            "its CPU lacks avx9000: a restored process using them would die of SIGILL",
            "a container named amig-kv is already here",
        ], answer.Problems);
        Assert.True(answer.ImageMissing);
    }

    public new void Dispose()
    {
        base.Dispose();
        Directory.Delete(_state, recursive: true);
    }
}
