using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// Three simulated hosts whose fencing agents run beside their nodes (as akka-migration-fence.service
/// does), under a netns prefix of their own (amtf3 by default), each agent holding its lease before a test starts.
/// </summary>
public sealed class FencedSimulatedHosts() : SimulatedHosts(3, $"{NetnsPrefix}f3")
{
    private readonly Dictionary<string, HostProcess> _agents = [];

    /// <summary>Whether a host was burnt or cut off since the hosts were last whole (see <see cref="RebuildAsync"/>).</summary>
    public bool Struck => _struck || _agents.Count < HostNames.Count || HostNames.Any(h => !NodeRunning(h));

    private bool _struck;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await StartAgentsAsync();
    }

    /// <summary>Burns <paramref name="host"/>: node and agent SIGKILLed, its containers killed, its link cut (SimulatedCluster.BurnAsync).</summary>
    public Task BurnAsync(string host)
    {
        _struck = true;
        return Cluster.BurnAsync(host, _agents.Remove(host, out var agent) ? agent : null);
    }

    /// <summary>Cuts <paramref name="host"/> off, its node and agent running on, partitioned.</summary>
    public Task IsolateAsync(string host)
    {
        _struck = true;
        return CutAsync(host);
    }

    /// <summary>
    /// Every host whole again after burns and cut-offs. A host declared lost never gets a lease again
    /// (its voters promised) and the nodes replicate its loss among themselves, so every node and agent
    /// stops, every link mends, each host loses its containers, job records and promises, and all start again.
    /// </summary>
    public async Task RebuildAsync()
    {
        foreach (var host in HostNames)
        {
            await KillAgentAsync(host);
            await KillNodeAsync(host);
        }
        foreach (var host in HostNames)
        {
            await MendAsync(host);
            await Cluster.ResetHostAsync(host);
            StartNode(host);
        }
        await WaitForClusterAsync();
        await StartAgentsAsync();
        _struck = false;
    }

    /// <summary>Starts every host's agent and waits until each holds its lease (said after it started: the log is appended to).</summary>
    private async Task StartAgentsAsync()
    {
        var said = new Dictionary<string, int>();
        foreach (var host in HostNames)
        {
            said[host] = (await AgentLogAsync(host)).Length;
            _agents[host] = Cluster.StartFenceAgent(host, AgentLogPath(host));
        }
        foreach (var host in HostNames)
        {
            await Poll.UntilAsync($"{host}'s fencing agent to hold its lease", async () => (await AgentLogAsync(host))[said[host]..],
                log => log.Contains($"Fencing: {host} holds its lease", StringComparison.Ordinal), describe: log => string.Join("\n", log.Split("\n").TakeLast(15)));
        }
    }

    /// <summary>Everything the host's fencing agent wrote.</summary>
    public Task<string> AgentLogAsync(string host) =>
        File.Exists(AgentLogPath(host)) ? Demo.ReadSharedAsync(AgentLogPath(host)) : Task.FromResult("");

    /// <summary>SIGKILL to the host's fencing agent, as when the host itself dies.</summary>
    public async Task KillAgentAsync(string host)
    {
        if (_agents.Remove(host, out var agent))
        {
            await agent.KillAsync();
        }
    }

    public override async Task DisposeAsync()
    {
        foreach (var host in _agents.Keys.ToList())
        {
            await KillAgentAsync(host);
        }
        await base.DisposeAsync();
    }
}

/// <summary>Tests on the fenced hosts: after the parallel collections, never beside another real-hosts fixture's tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FencedHostsCollection : ICollectionFixture<FencedSimulatedHosts>
{
    public const string Name = "fenced hosts";
}
