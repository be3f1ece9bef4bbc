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

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        foreach (var host in HostNames)
        {
            _agents[host] = Cluster.StartFenceAgent(host, AgentLogPath(host));
        }
        foreach (var host in HostNames)
        {
            await Poll.UntilAsync($"{host}'s fencing agent to hold its lease", () => AgentLogAsync(host),
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
