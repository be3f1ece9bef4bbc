using System.Text.RegularExpressions;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Demos;

/// <summary>
/// <c>make demo</c>: the seed's flow on two simulated hosts of this machine. Host A (the executor) runs
/// a job that adds one to 41 in 3 s; the client migrates it to B before it is done and reads the result
/// there. The last line printed is <c>result 42 from nodeB</c>. With N hosts (<c>make demo HOSTS=N</c>)
/// the same flow runs in a cluster of N, on a config <see cref="ClusterConfig"/> makes, and <c>status</c> shows them all up.
/// </summary>
public static partial class Demo
{
    private const string Who = "demo";

    /// <returns>The last line, <c>result 42 from nodeB</c>.</returns>
    public static async Task<string> RunAsync(string config, string prefix, int? hostCount, CancellationToken cancellationToken)
    {
        if (hostCount is not null)
        {
            config = await ClusterConfig.MakeAsync(config, hostCount.Value, cancellationToken: cancellationToken);
            Progress.Log(Who, $"{hostCount} hosts, config {config}");
        }
        var run = Repo.Path("build", "demo");
        var cluster = new SimulatedCluster(new SimulatedHosts(config, prefix));
        string? result;
        try
        {
            await cluster.UpAsync(run, cancellationToken);
            var hosts = cluster.Hosts.Config.Hosts;
            var target = hosts.First(h => !h.Executor).Name;
            // The seed's prompt flow, answered by a script: number, migration target, host to query, quit.
            var client = await cluster.ClientAsync([], input: $"41\n{target}\n{target}\n\n", cancellationToken: cancellationToken);
            Console.Write(client.StandardOutput);
            Console.Error.Write(client.StandardError);
            await File.WriteAllTextAsync(Path.Combine(run, "client.log"), client.StandardOutput, cancellationToken);
            result = client.StandardOutput.Split('\n').LastOrDefault(line => line.StartsWith("result ", StringComparison.Ordinal));
            // Beyond two hosts, show that every one of them is up and sees all the others.
            if (hosts.Count > 2)
            {
                Console.Write((await cluster.ClientAsync(["status"], cancellationToken: cancellationToken)).StandardOutput);
            }
            await ShowMetricsAsync(cluster, run, cancellationToken);
        }
        finally
        {
            await cluster.DownAsync(CancellationToken.None);
        }
        return result ?? throw new InvalidOperationException($"the client printed no result; see {run}/");
    }

    /// <summary>
    /// The move as the executor's /metrics counts it, fetched from the client's host as a scraper
    /// would (on stderr: the last line on stdout stays the result). The node logs its metrics address.
    /// </summary>
    private static async Task ShowMetricsAsync(SimulatedCluster cluster, string run, CancellationToken cancellationToken)
    {
        var executor = cluster.Hosts.Config.Executor.Name;
        var log = Path.Combine(run, $"{executor}.log");
        var metrics = MetricsAddress().Match(File.Exists(log) ? await ReadSharedAsync(log) : "");
        if (!metrics.Success)
        {
            Progress.Log(Who, $"no metrics shown: {executor} has metrics_port = 0");
            return;
        }
        var scrape = await cluster.Hosts.RunAsync(SimulatedHosts.Client, ["curl", "-fsS", "--max-time", "5", metrics.Value], cancellationToken: cancellationToken);
        if (scrape.ExitCode != 0)
        {
            Progress.Log(Who, $"{metrics.Value} did not answer");
            return;
        }
        await File.WriteAllTextAsync(Path.Combine(run, $"{executor}.metrics"), scrape.StandardOutput, cancellationToken);
        Progress.Log(Who, $"{metrics.Value} after the move:");
        foreach (var line in scrape.StandardOutput.Split('\n').Where(l => MoveFigure().IsMatch(l)))
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>A running node's log, read while the node may still write it.</summary>
    public static async Task<string> ReadSharedAsync(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return await reader.ReadToEndAsync();
    }

    [GeneratedRegex(@"http://\S*/metrics")]
    private static partial Regex MetricsAddress();

    [GeneratedRegex(@"^akkamigration_(migrations_total|migration_(duration|downtime)_milliseconds_sum)")]
    private static partial Regex MoveFigure();
}
