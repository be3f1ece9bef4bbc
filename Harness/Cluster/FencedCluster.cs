using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;

namespace AkkaMigration.Harness.Cluster;

/// <summary>
/// Three simulated hosts, each with its fencing agent holding its lease: what `make demo-failover` and
/// the benchmark's failover part run on. A host is burnt as a dead machine would be: its node and agent
/// SIGKILLed, every container in its podman killed, its link cut.
/// </summary>
public sealed class FencedCluster : IAsyncDisposable
{
    private readonly Dictionary<string, HostProcess> _agents = [];
    private readonly List<string> _burnt = [];

    private FencedCluster(SimulatedCluster cluster, string runDirectory)
    {
        Cluster = cluster;
        RunDirectory = runDirectory;
    }

    public SimulatedCluster Cluster { get; }
    public string RunDirectory { get; }

    public string NodeLog(string host) => Path.Combine(RunDirectory, $"{host}.log");

    public string AgentLog(string host) => Path.Combine(RunDirectory, $"{host}-fence.log");

    /// <summary>Three hosts made from <paramref name="config"/>'s, their nodes up and every agent holding its lease.</summary>
    /// <param name="configOutput">Where the three hosts' config is written (build/hosts-3/config.ini by default).</param>
    public static async Task<FencedCluster> UpAsync(string config, string prefix, string runDirectory, CancellationToken cancellationToken,
        string? configOutput = null)
    {
        config = await ClusterConfig.MakeAsync(config, 3, configOutput, cancellationToken: cancellationToken);
        var fenced = new FencedCluster(new SimulatedCluster(new SimulatedHosts(config, prefix)), runDirectory);
        try
        {
            await fenced.Cluster.UpAsync(runDirectory, cancellationToken);
            foreach (var host in fenced.Cluster.Hosts.HostNames)
            {
                // This run's log only: an earlier run's "holds its lease" must not pass for this one's.
                File.Delete(fenced.AgentLog(host));
                fenced._agents[host] = fenced.Cluster.StartFenceAgent(host, fenced.AgentLog(host));
            }
            foreach (var host in fenced.Cluster.Hosts.HostNames)
            {
                await WaitForLogAsync(fenced.AgentLog(host), $"Fencing: {host} holds its lease", $"{host}'s agent to hold its lease", cancellationToken);
            }
            return fenced;
        }
        catch
        {
            await fenced.DisposeAsync();
            throw;
        }
    }

    /// <summary>Burns <paramref name="host"/>; returns when it was gone (its link cut last).</summary>
    public async Task<DateTimeOffset> BurnAsync(string host, CancellationToken cancellationToken)
    {
        _burnt.Add(host);
        _agents.Remove(host, out var agent);
        await Cluster.BurnAsync(host, agent, cancellationToken);
        return DateTimeOffset.UtcNow;
    }

    /// <summary>The host other than <paramref name="burnt"/> that owns <paramref name="jobId"/>, as <paramref name="askOn"/> answers.</summary>
    public async Task<string> WaitForOwnerAsync(string jobId, string burnt, string askOn, CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(90);
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < limit; await Task.Delay(500, cancellationToken))
        {
            var query = await Cluster.ClientAsync(["query", jobId, "--json", "--on", askOn], cancellationToken: cancellationToken);
            if (query.ExitCode == 0 && JsonDocument.Parse(query.StandardOutput).RootElement.GetProperty("owner").GetString() is { } owner && owner != burnt)
            {
                return owner;
            }
        }
        throw new TimeoutException($"{jobId} was not resumed within {limit.TotalSeconds:0} s of {burnt}'s loss");
    }

    /// <summary>Waits up to 60 s for <paramref name="line"/> in <paramref name="log"/>.</summary>
    public static async Task WaitForLogAsync(string log, string line, string what, CancellationToken cancellationToken)
    {
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromSeconds(60); await Task.Delay(250, cancellationToken))
        {
            if (File.Exists(log) && (await Demo.ReadSharedAsync(log)).Contains(line, StringComparison.Ordinal))
            {
                return;
            }
        }
        throw new TimeoutException($"waited 60 s for {what}; see {log}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents.Values)
        {
            await agent.KillAsync();
        }
        _agents.Clear();
        foreach (var host in _burnt)
        {
            await Cluster.Hosts.MendAsync(host, CancellationToken.None);
        }
        await Cluster.DownAsync(CancellationToken.None);
    }
}
