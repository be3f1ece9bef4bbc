using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Hosting;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// Several real node hosts, each its own ActorSystem on a loopback port, formed into one Akka
/// cluster in this test process over mutual TLS, with certificates from <see cref="TestPki"/>.
/// Node A is the executor (seed).
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    private readonly List<IHost> _hosts;
    private readonly string _stateRoot;

    private LoopbackCluster(MigrationConfig config, List<IHost> hosts, string stateRoot)
    {
        Config = config;
        _hosts = hosts;
        _stateRoot = stateRoot;
    }

    public MigrationConfig Config { get; }

    public string SupervisorPath(string host) => Config.SupervisorPath(Config.GetHost(host));

    /// <summary>The nodes' ActorSystems, in the order of <see cref="MigrationConfig.Hosts"/>.</summary>
    public IReadOnlyList<ActorSystem> Systems => [.. _hosts.Select(h => h.Services.GetRequiredService<ActorSystem>())];

    /// <summary>A service of <paramref name="host"/>'s node (its <see cref="ImageShipping"/>, say).</summary>
    public T Service<T>(string host) where T : notnull =>
        _hosts.Single(h => h.Services.GetRequiredService<ArchiveStreams>().Self.Name == host).Services.GetRequiredService<T>();

    /// <param name="hoconDirectory">Akka settings in place of the repository's hocon/, for nodes with test doubles wired in.</param>
    /// <param name="faults">What each node's fault seam does, e.g. damage chunks on the wire.</param>
    /// <param name="absent">Hosts the config names that never start: peers gone for good.</param>
    /// <param name="configure">Changes to the config every node reads, e.g. a service network.</param>
    public static async Task<LoopbackCluster> StartAsync(
        IReadOnlyList<string> names,
        Func<HostEntry, MigrationConfig, IContainerRuntime> runtimeFor,
        Func<TransferSettings, TransferSettings>? transfer = null,
        Func<HostEntry, HostEntry>? host = null,
        string? hoconDirectory = null,
        Func<HostEntry, FaultInjection>? faults = null,
        IReadOnlyCollection<string>? absent = null,
        Func<MigrationConfig, MigrationConfig>? configure = null)
    {
        var stateRoot = Directory.CreateTempSubdirectory("akka-migration-spec-").FullName;
        var hosts = names.Select((name, i) => (host ?? (h => h))(new HostEntry(name, "127.0.0.1", Ports.Free(), i == 0, "", "",
            System.IO.Path.Combine(stateRoot, name), StreamPort: Ports.Free()))).ToList();
        var config = (configure ?? (c => c))(ForHosts(hosts, transfer));
        if (hoconDirectory is not null)
        {
            config = config with { HoconDirectory = hoconDirectory };
        }
        TestPki.Ensure(names);

        var started = new List<IHost>();
        foreach (var entry in hosts.Where(h => absent?.Contains(h.Name) != true))
        {
            var node = NodeHost.Build(config, entry, ClusterTls.ForNode(config, entry), runtimeFor(entry, config), LogLevel.Warning,
                faults: faults?.Invoke(entry));
            await node.StartAsync();
            started.Add(node);
        }
        var cluster = new LoopbackCluster(config, started, stateRoot);
        // Generous: specs form clusters side by side, and a loaded machine slows the seed's gossip.
        await cluster.WaitUntilAllUpAsync(TimeSpan.FromSeconds(60));
        return cluster;
    }

    public static MigrationConfig ForHosts(IReadOnlyList<HostEntry> hosts, Func<TransferSettings, TransferSettings>? transfer = null) =>
        new("akka-migration-spec", hosts,
            new ContainerSettings(ClusterSteps.WorkerImage, Repo.ImageArchive, "runc",
                ["nofile=1024:1024", "nproc=1024:1024"], "none", 3000, 0),
            (transfer ?? (t => t))(new TransferSettings(64 * 1024, 4, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60), 1L << 30)),
            TestPki.Settings, Repo.Path("hocon"), Repo.Root);

    /// <summary>
    /// For a test's own ActorSystem that speaks to the nodes' actors over Akka.Remote, as a peer
    /// would: only node certificates reach a node's Akka port (the client speaks ClientWire), so it
    /// shows one, of a host config.ini does not name.
    /// </summary>
    public static ActorSystemSetup DriverSetup()
    {
        TestPki.Ensure([Driver]);
        return BootstrapSetup.Create().WithConfig(DriverConfig()).And(TestPki.SetupFor(ClusterTls.ForNode(ForHosts([]), DriverHost)));
    }

    private const string Driver = "driver";

    private static readonly HostEntry DriverHost = new(Driver, "127.0.0.1", 0, false, "", "", "");

    /// <summary>
    /// For a spec that runs one supervisor in its own TestKit system: a node needs the cluster
    /// provider (its job directory is replicated data), though this one never joins a cluster.
    /// </summary>
    public const string StandaloneNodeConfig = """
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }
        """;

    /// <summary>The processes' common HOCON with remoting (TLS on, no certificate yet), on a free loopback port.</summary>
    public static Config DriverConfig() =>
        ConfigurationFactory.ParseString("akka.actor.provider = remote").WithFallback(
            HoconFiles.For(ForHosts([]), HoconFiles.Client)
                .Aggregate(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = 0 }"),
                    (merged, next) => next.WithFallback(merged)));

    private async Task WaitUntilAllUpAsync(TimeSpan limit)
    {
        var systems = Systems;
        var deadline = DateTime.UtcNow + limit;
        while (!systems.All(s => Cluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == systems.Count))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the {systems.Count} nodes did not form a cluster within {limit}");
            }
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in Enumerable.Reverse(_hosts))
        {
            await host.StopAsync();
            host.Dispose();
        }
        Directory.Delete(_stateRoot, recursive: true);
    }
}
