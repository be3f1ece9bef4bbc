using AkkaMigration.Harness.Cluster;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;
using Machines = AkkaMigration.Harness.Hosts.SimulatedHosts;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The demo's two hosts as real processes: each with its own network namespace, its own mount
/// namespace and podman store, and a node process (the executor in A); the client runs in a
/// namespace of its own. Hosts and nodes are made, started and reset by the harness's
/// SimulatedHosts and SimulatedCluster, as the demo makes them, under a netns prefix of their own,
/// so the fixture never touches a demo's hosts. <see cref="ThreeSimulatedHosts"/> is the same with three.
/// </summary>
public partial class SimulatedHosts : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("akka-migration-e2e-").FullName;
    private SimulatedCluster? _cluster;

    /// <summary>The two-host fixture's hosts.</summary>
    public static IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB"];

    /// <summary>
    /// amt unless told otherwise: two checkouts testing at once on one machine need two sets of hosts.
    /// A larger fixture adds its host count (amt3), so that it can run beside the two-host one.
    /// </summary>
    public static string NetnsPrefix { get; } = System.Environment.GetEnvironmentVariable("AKKA_MIGRATION_TEST_NETNS_PREFIX") ?? "amt";

    public SimulatedHosts()
        : this(Hosts.Count)
    {
    }

    /// <summary><paramref name="hostCount"/> hosts, nodeA (the executor), nodeB, nodeC...: config.ini's, and more after them.</summary>
    /// <param name="prefix">The netns prefix, if not the one for the host count.</param>
    protected SimulatedHosts(int hostCount, string? prefix = null)
    {
        HostNames = [.. Enumerable.Range(0, hostCount).Select(i => $"node{(char)('A' + i)}")];
        ConfigPath = Path.Combine(_dir, "config.ini");
        Prefix = prefix ?? (hostCount == Hosts.Count ? NetnsPrefix : $"{NetnsPrefix}{hostCount}");
    }

    /// <summary>This fixture's hosts, the executor first.</summary>
    public IReadOnlyList<string> HostNames { get; }

    /// <summary>
    /// config.ini with this fixture's hosts, and with jobs that work <see cref="Patience.OutlastingWorkMs"/>
    /// unless submitted with --work-ms: the interactive console's job must still be running when it
    /// migrates it on a busy machine.
    /// </summary>
    public string ConfigPath { get; }

    /// <summary>The same hosts plus one that nothing runs on (nodeC beside two), for the unreachable case.</summary>
    public string ConfigWithDeadHostPath => Path.Combine(_dir, "config-dead-host.ini");

    /// <summary>The netns prefix of this fixture's hosts.</summary>
    public string Prefix { get; }

    /// <summary>The hosts' nodes and client, as the demos run them.</summary>
    public SimulatedCluster Cluster => _cluster ?? throw new InvalidOperationException("the simulated hosts are not up yet");

    /// <summary>The hosts themselves: namespaces, links and the network's faults.</summary>
    public Machines Network => Cluster.Hosts;

    public virtual async Task InitializeAsync()
    {
        await Prerequisites.CheckAsync();
        // Both made from config.ini, with a certificate for every host.
        await ClusterConfig.MakeAsync(Repo.Path("config.ini"), HostNames.Count, ConfigPath, Patience.OutlastingWorkMs);
        await ClusterConfig.MakeAsync(Repo.Path("config.ini"), HostNames.Count + 1, ConfigWithDeadHostPath, Patience.OutlastingWorkMs);
        var machines = new Machines(ConfigPath, Prefix);
        // The tests name the hosts: the config must have them, as the node itself reads it.
        if (!machines.HostNames.SequenceEqual(HostNames))
        {
            throw new InvalidOperationException($"{ConfigPath} lists {string.Join(", ", machines.HostNames)}, not {string.Join(", ", HostNames)}");
        }
        _cluster = new SimulatedCluster(machines);
        await machines.UpAsync(CancellationToken.None);
        foreach (var host in HostNames)
        {
            await LoadImageAsync(host);
            // Nodes carry on with the jobs their records name: start from none.
            await Cluster.ResetHostAsync(host);
            StartNode(host);
        }
        await WaitForClusterAsync();
    }

    /// <summary>Runs the client from the client's namespace.</summary>
    public Task<BufferedCommandResult> ClientAsync(string[] arguments, string? input = null, string? config = null) =>
        Cluster.ClientAsync(arguments, input, config, Patience.Command);

    /// <summary>Starts the client without waiting for it, e.g. to kill it halfway.</summary>
    public HostProcess StartClient(params string[] arguments) => Cluster.StartClient(arguments);

    /// <summary>Takes a host's link down (<see cref="MendAsync"/> brings it up).</summary>
    public Task CutAsync(string host) => Network.CutAsync(host);

    public Task MendAsync(string host) => Network.MendAsync(host);

    /// <summary>Loads the worker image into a host's store if it is missing there.</summary>
    public Task LoadImageAsync(string host) => Cluster.LoadImageAsync(host);

    /// <summary>Runs a command inside a simulated host, as its processes see the world.</summary>
    /// <param name="limit">How long it may run; <see cref="Patience.Command"/> unless it outlasts a test's many steps.</param>
    public Task<BufferedCommandResult> InHostAsync(string host, string[] command, string? input = null, TimeSpan? limit = null) =>
        Network.RunAsync(host, command, limit ?? Patience.Command, input);

    /// <summary>podman on a host's store, with the node's own global flags.</summary>
    public async Task<string> PodmanAsync(string host, params string[] arguments)
    {
        var result = await Cluster.Podman(host).ExecuteAsync(a => a.Add(arguments), Patience.Command, CancellationToken.None);
        return result.ExitCode == 0
            ? result.StandardOutput.Trim()
            : throw new InvalidOperationException($"podman {string.Join(' ', arguments)} on {host} failed: {result.StandardError}");
    }

    public virtual async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            foreach (var host in Cluster.Started)
            {
                await Cluster.KillNodeAsync(host);
            }
            foreach (var host in HostNames.Where(Network.IsUp))
            {
                await Cluster.ResetHostAsync(host);
            }
            await Network.DownAsync(CancellationToken.None);
        }
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>
    /// Starts a host's node inside the host (the harness's StartNode: the process is the node's own,
    /// for signals and the exit code); <paramref name="faults"/> goes to AKKA_MIGRATION_FAULT.
    /// </summary>
    public void StartNode(string host, string? faults = null) => Cluster.StartNode(host, NodeLogPath(host), faults);

    /// <summary>SIGKILL to the node process (its containers run on under conmon, as on a real host).</summary>
    public Task KillNodeAsync(string host) => Cluster.KillNodeAsync(host);

    /// <summary>Waits until a node process has ended on its own, e.g. killed by an injected fault or drained.</summary>
    /// <returns>The node's exit code.</returns>
    public async Task<int> WaitForNodeExitAsync(string host)
    {
        try
        {
            return await Cluster.WaitForNodeExitAsync(host, Patience.Condition);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{LogTails()}");
        }
    }

    /// <summary>SIGTERM to the node: it moves its containers to peers, then leaves the cluster.</summary>
    public Task TerminateNodeAsync(string host) => Cluster.Node(host).SignalAsync("TERM");

    public bool NodeRunning(string host) => Cluster.NodeRunning(host);

    /// <summary>Stops a node however it is, starts it again (with <paramref name="faults"/>) and waits until it is back in the cluster.</summary>
    public async Task RestartNodeAsync(string host, string? faults = null)
    {
        await KillNodeAsync(host);
        StartNode(host, faults);
        await WaitForClusterAsync();
    }

    /// <summary>Everything the host's node processes wrote, across restarts.</summary>
    public string NodeLog(string host)
    {
        using var reader = new StreamReader(new FileStream(NodeLogPath(host), FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    /// <summary>The last lines of every node's log, for a failure's message.</summary>
    public string LogTails(int lines = 30) => string.Join('\n', HostNames.Where(h => File.Exists(NodeLogPath(h))).Select(h =>
        $"--- {h}'s log ends:\n{string.Join('\n', NodeLog(h).Split('\n').TakeLast(lines))}"));

    private string NodeLogPath(string host) => Path.Combine(_dir, $"{host}.log");

    /// <summary>Where a host's fencing agent writes, beside its node's log.</summary>
    protected string AgentLogPath(string host) => Path.Combine(_dir, $"{host}-fence.log");

    /// <summary>Until every node sees every host as an up member (client status --json).</summary>
    public async Task WaitForClusterAsync()
    {
        try
        {
            await Cluster.WaitForClusterAsync(Patience.Condition);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the simulated hosts' cluster did not form: {e.Message}\n{LogTails(15)}");
        }
    }
}

/// <summary>
/// Three simulated hosts, nodeA (the executor), nodeB and nodeC, every node started, on the config
/// the harness's ClusterConfig makes for three, under a netns prefix of their own (amt3 by default)
/// so that they can run beside <see cref="SimulatedHosts"/>.
/// </summary>
public sealed class ThreeSimulatedHosts() : SimulatedHosts(3)
{
    /// <summary>The three-host fixture's hosts.</summary>
    public static new IReadOnlyList<string> Hosts { get; } = ["nodeA", "nodeB", "nodeC"];
}

/// <summary>
/// Tests on the three simulated hosts share one cluster. They run after the parallel collections,
/// never beside the real-hosts tests: both use real podman and CRIU on the machine's two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreeHostsCollection : ICollectionFixture<ThreeSimulatedHosts>
{
    public const string Name = "three hosts";
}
