using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Demos;

/// <summary>
/// <c>make demo-failover</c>: a job outlives its host. Three simulated hosts, each with its fencing
/// agent; the seed's job (41 + 1, <see cref="WorkMs"/> of work) starts on nodeB, protected every 2 s.
/// Halfway, nodeB is burnt: its node and agent SIGKILLed, its containers killed, its link cut. The
/// others declare it lost once their agents' majority promises never to renew its lease, and the
/// replica host resumes the job from its last protection checkpoint. The last line reads like
/// <c>job failover-demo resumed on nodeC from a checkpoint 1.6 s old, 14.2 s after nodeB was lost; result 42 from nodeC</c>.
/// </summary>
public static class FailoverDemo
{
    private const string Who = "demo-failover";
    private const string JobId = "failover-demo";
    private const int WorkMs = 20_000;
    private const string Burnt = "nodeB";

    /// <returns>The last line, naming the host that resumed the job.</returns>
    public static async Task<string> RunAsync(string config, string prefix, CancellationToken cancellationToken)
    {
        config = await ClusterConfig.MakeAsync(config, 3, cancellationToken: cancellationToken);
        var run = Repo.Path("build", "demo-failover");
        var cluster = new SimulatedCluster(new SimulatedHosts(config, prefix));
        var agents = new Dictionary<string, HostProcess>();
        try
        {
            await cluster.UpAsync(run, cancellationToken);
            foreach (var host in cluster.Hosts.HostNames)
            {
                agents[host] = cluster.StartFenceAgent(host, AgentLog(run, host));
            }
            foreach (var host in cluster.Hosts.HostNames)
            {
                await WaitForLogAsync(AgentLog(run, host), $"Fencing: {host} holds its lease", $"{host}'s agent to hold its lease", cancellationToken);
            }

            Progress.Log(Who, $"job {JobId} (41 + 1, {WorkMs / 1000} s of work) on {Burnt}, protected every 2 s");
            await cluster.CheckedClientAsync(["submit", "41", "--id", JobId, "--on", Burnt, "--work-ms", WorkMs.ToString(CultureInfo.InvariantCulture),
                "--protect", "2s"], cancellationToken: cancellationToken);
            await WaitForLogAsync(Path.Combine(run, $"{Burnt}.log"), $"job {JobId}: protection checkpoint", "a protection checkpoint to reach a replica", cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(WorkMs / 2 - 4_000), cancellationToken);

            Progress.Log(Who, $"burning {Burnt}: node and agent SIGKILLed, containers killed, link cut");
            await cluster.BurnAsync(Burnt, agents.Remove(Burnt, out var agent) ? agent : null, cancellationToken);
            var lostAt = DateTimeOffset.UtcNow;
            var clock = Stopwatch.StartNew();

            var owner = await WaitForOwnerAsync(cluster, cancellationToken);
            var resumedAfter = clock.Elapsed;
            Progress.Log(Who, $"{JobId} runs on {owner}, {resumedAfter.TotalSeconds:0.0} s after {Burnt} was lost");
            var taken = await CheckpointTakenAtAsync(cluster, cancellationToken);
            var result = await cluster.CheckedClientAsync(["query", JobId, "--wait", "--json"], cancellationToken: cancellationToken);
            var value = JsonDocument.Parse(result).RootElement.GetProperty("result").GetProperty("value").GetInt64();
            return $"job {JobId} resumed on {owner} from a checkpoint {(lostAt - taken).TotalSeconds:0.0} s old, " +
                $"{resumedAfter.TotalSeconds:0.0} s after {Burnt} was lost; result {value} from {owner}";
        }
        finally
        {
            foreach (var agent in agents.Values)
            {
                await agent.KillAsync();
            }
            await cluster.Hosts.MendAsync(Burnt, CancellationToken.None);
            await cluster.DownAsync(CancellationToken.None);
        }
    }

    private static string AgentLog(string run, string host) => Path.Combine(run, $"{host}-fence.log");

    private static async Task WaitForLogAsync(string log, string line, string what, CancellationToken cancellationToken)
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

    /// <summary>The host other than the burnt one that runs the job, asked of the hosts still up.</summary>
    private static async Task<string> WaitForOwnerAsync(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(90);
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < limit; await Task.Delay(500, cancellationToken))
        {
            var query = await cluster.ClientAsync(["query", JobId, "--json", "--on", "nodeA"], cancellationToken: cancellationToken);
            if (query.ExitCode == 0 && JsonDocument.Parse(query.StandardOutput).RootElement.GetProperty("owner").GetString() is { } owner && owner != Burnt)
            {
                return owner;
            }
        }
        throw new TimeoutException($"{JobId} was not resumed within {limit.TotalSeconds:0} s of {Burnt}'s loss");
    }

    /// <summary>When the checkpoint the job resumed from was taken: its last move, the failover, says.</summary>
    private static async Task<DateTimeOffset> CheckpointTakenAtAsync(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        var inspect = JsonDocument.Parse(await cluster.CheckedClientAsync(["inspect", JobId, "--json", "--on", "nodeA"], cancellationToken: cancellationToken));
        var moves = inspect.RootElement.GetProperty("moves");
        return moves[moves.GetArrayLength() - 1].GetProperty("checkpointTakenAt").GetDateTimeOffset();
    }
}
