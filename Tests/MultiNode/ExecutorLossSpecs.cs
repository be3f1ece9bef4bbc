using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Node.Hosting;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using AkkaMigration.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Tests.MultiNode;

/// <summary>
/// Real nodes over loopback, fake runtimes: the cluster without its executor (docs/architecture.md,
/// "When the executor is lost"). The fault suite does the same with node processes and podman.
/// </summary>
public sealed class ExecutorLossSpecs : IAsyncLifetime
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    private readonly string _folder = Directory.CreateTempSubdirectory("akka-migration-executor-loss-").FullName;
    private readonly List<IHost> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(_nodes))
        {
            await node.StopAsync();
            node.Dispose();
        }
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Nodes_started_without_the_executor_form_one_cluster_which_the_executor_then_joins()
    {
        var config = Config(["nodeA", "nodeB", "nodeC"]);

        var b = await StartAsync(config, "nodeB");
        var c = await StartAsync(config, "nodeC");

        // nodeB founds (the executor's port refuses), nodeC waits and joins it: one cluster, not two.
        await UpAsync([b, c], ["nodeB", "nodeC"]);
        var members = Cluster.Get(c).State.Members;
        Assert.True(members.Single(m => m.Address == Address(config, "nodeB")).IsOlderThan(members.Single(m => m.Address == Address(config, "nodeC"))));
        var a = await StartAsync(config, "nodeA");
        await UpAsync([a, b, c], ["nodeA", "nodeB", "nodeC"]);
    }

    [Fact]
    public async Task The_survivor_of_two_downs_an_executor_whose_ports_refuse_and_stays_up()
    {
        // A node's ActorSystem that terminates without the cluster's leave: its ports close, as a SIGKILL's would.
        var config = Config(["nodeA", "nodeB"], "akka.coordinated-shutdown.run-by-actor-system-terminate = off");
        var a = await StartAsync(config, "nodeA");
        var b = await StartAsync(config, "nodeB");
        await UpAsync([a, b], ["nodeA", "nodeB"]);

        await a.Terminate();
        await _nodes[0].Services.GetServices<IHostedService>().OfType<StreamPortListener>().Single().StopAsync(CancellationToken.None);

        // keep-oldest alone would have nodeB down itself once the executor is unreachable; with nodeA
        // removed, nothing is left unreachable for it to decide on.
        await UpAsync([b], ["nodeB"]);
        Assert.Equal(MemberStatus.Up, Cluster.Get(b).SelfMember.Status);
        Assert.False(b.WhenTerminated.IsCompleted);
    }

    /// <param name="hocon">Added to the repository's node.hocon.</param>
    private MigrationConfig Config(IReadOnlyList<string> names, string hocon = "")
    {
        TestPki.Ensure(names);
        var hoconDirectory = NodeHocon.With(_folder, hocon);
        var hosts = names.Select((name, i) => new HostEntry(name, "127.0.0.1", Ports.Free(), i == 0, "", "",
            Path.Combine(_folder, name), StreamPort: Ports.Free())).ToList();
        return LoopbackCluster.ForHosts(hosts) with { HoconDirectory = hoconDirectory };
    }

    private async Task<ActorSystem> StartAsync(MigrationConfig config, string name)
    {
        var entry = config.GetHost(name);
        var node = NodeHost.Build(config, entry, ClusterTls.ForNode(config, entry), new FakeContainerRuntime(), LogLevel.Warning);
        _nodes.Add(node);
        await node.StartAsync();
        return node.Services.GetRequiredService<ActorSystem>();
    }

    private static Address Address(MigrationConfig config, string name)
    {
        var host = config.GetHost(name);
        return new Address("akka.ssl.tcp", config.SystemName, host.Address, host.Port);
    }

    /// <summary>Until each of <paramref name="systems"/> sees exactly <paramref name="names"/>' nodes as its members, all up.</summary>
    private static async Task UpAsync(IReadOnlyList<ActorSystem> systems, IReadOnlyList<string> names)
    {
        var deadline = DateTime.UtcNow + Long + FoundWithoutEarlierHosts.FoundAfter;
        while (!systems.All(s => Cluster.Get(s).State.Members.Count == names.Count
            && Cluster.Get(s).State.Members.All(m => m.Status == MemberStatus.Up)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not {string.Join(", ", names)} up: " + string.Join("; ", systems.Select(s =>
                $"{Cluster.Get(s).SelfAddress} sees {string.Join(", ", Cluster.Get(s).State.Members.Select(m => $"{m.Address.Port} {m.Status}"))}")));
            await Task.Delay(100);
        }
    }
}
