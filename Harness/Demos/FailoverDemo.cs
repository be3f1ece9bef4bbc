using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Failover;

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
        var run = Repo.Path("build", "demo-failover");
        await using var fenced = await FencedCluster.UpAsync(config, prefix, run, cancellationToken);
        var cluster = fenced.Cluster;

        Progress.Log(Who, $"job {JobId} (41 + 1, {WorkMs / 1000} s of work) on {Burnt}, protected every 2 s");
        await cluster.CheckedClientAsync(["submit", "41", "--id", JobId, "--on", Burnt, "--work-ms", WorkMs.ToString(CultureInfo.InvariantCulture),
            "--protect", "2s"], cancellationToken: cancellationToken);
        await FencedCluster.WaitForLogAsync(fenced.NodeLog(Burnt), ProtectionLog.KeptPrefix(JobId), "a protection checkpoint to reach a replica", cancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(WorkMs / 2 - 4_000), cancellationToken);

        // A client waiting for the result, as the seed's does: it gets it from whichever host ends the job.
        var waiting = cluster.ClientAsync(["query", JobId, "--wait", "--json"], limit: TimeSpan.FromMinutes(3), cancellationToken: cancellationToken);
        Progress.Log(Who, $"burning {Burnt}: node and agent SIGKILLed, containers killed, link cut");
        var lostAt = await fenced.BurnAsync(Burnt, cancellationToken);
        var clock = Stopwatch.StartNew();

        var owner = await fenced.WaitForOwnerAsync(JobId, Burnt, "nodeA", cancellationToken);
        var resumedAfter = clock.Elapsed;
        Progress.Log(Who, $"{JobId} runs on {owner}, {resumedAfter.TotalSeconds:0.0} s after {Burnt} was lost");
        var taken = await CheckpointTakenAtAsync(cluster, cancellationToken);
        var answer = await waiting;
        if (answer.ExitCode != 0)
        {
            throw new InvalidOperationException($"the client waiting for {JobId} got no result (exit {answer.ExitCode}): {answer.StandardError}{answer.StandardOutput}");
        }
        var result = JsonDocument.Parse(answer.StandardOutput).RootElement.GetProperty("result");
        return $"job {JobId} resumed on {owner} from a checkpoint {(lostAt - taken).TotalSeconds:0.0} s old, " +
            $"{resumedAfter.TotalSeconds:0.0} s after {Burnt} was lost; result {result.GetProperty("value").GetInt64()} from {result.GetProperty("producedBy").GetString()}";
    }

    /// <summary>When the checkpoint the job resumed from was taken: its last move, the failover, says.</summary>
    private static async Task<DateTimeOffset> CheckpointTakenAtAsync(SimulatedCluster cluster, CancellationToken cancellationToken)
    {
        var inspect = JsonDocument.Parse(await cluster.CheckedClientAsync(["inspect", JobId, "--json", "--on", "nodeA"], cancellationToken: cancellationToken));
        var moves = inspect.RootElement.GetProperty("moves");
        return moves[moves.GetArrayLength() - 1].GetProperty("checkpointTakenAt").GetDateTimeOffset();
    }
}
