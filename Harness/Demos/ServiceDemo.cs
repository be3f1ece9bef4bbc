using System.Text.Json;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Demos;

/// <summary>
/// <c>make demo-service</c>: a live service moved while its client works. On two simulated hosts, the
/// key-value service (<c>worker kv</c>, its data in a named volume) starts with <c>run --network cluster</c>;
/// from the client's host one TCP connection writes and reads without pause (<c>worker kv-load</c>);
/// halfway through, the service moves nodeA → nodeB. The last line reads like
/// <c>service moved nodeA → nodeB: 41230 writes, 0 lost, connection kept, longest pause 640 ms</c>,
/// and the demo fails unless nothing was lost and the connection was kept.
/// </summary>
public static class ServiceDemo
{
    private const string Who = "demo-service";
    private const int Port = 7000;

    /// <returns>The last line, and whether the move kept everything.</returns>
    public static async Task<(string Line, bool Kept)> RunAsync(string config, string prefix, TimeSpan load, CancellationToken cancellationToken)
    {
        var run = Repo.Path("build", "demo-service");
        var loader = Repo.Path("build", "worker", "worker");
        if (!File.Exists(loader))
        {
            throw new InvalidOperationException($"{loader} is missing: run make setup (or make image)");
        }
        var cluster = new SimulatedCluster(new SimulatedHosts(config, prefix));
        try
        {
            await cluster.UpAsync(run, cancellationToken);
            var (source, target) = (cluster.Hosts.HostNames[0], cluster.Hosts.HostNames[1]);

            Progress.Log(Who, $"starting the key-value service on {source}");
            var accepted = await cluster.CheckedClientAsync(["run", "--json", "--on", source, "--network", "cluster", "--volume", "kv-data:/data",
                "kv", cluster.Hosts.Config.Container.Image, "kv", "--port", Port.ToString(), "--data", "/data"], cancellationToken: cancellationToken);
            var address = JsonDocument.Parse(accepted).RootElement.TryGetProperty("address", out var a) && a.GetString() is { Length: > 0 } found
                ? found
                : throw new InvalidOperationException($"the service got no address: {accepted}");
            Progress.Log(Who, $"service kv at {address}:{Port}");
            await WaitAnswersAsync(cluster, address, cancellationToken);

            Progress.Log(Who, $"client writing for {load.TotalSeconds:0} s over one connection, as fast as the service answers");
            var writing = cluster.Hosts.RunAsync(SimulatedHosts.Client, [loader, "kv-load", "--target", $"{address}:{Port}", "--duration-s", $"{load.TotalSeconds:0}"],
                load + Shell.QuickLimit, cancellationToken: cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            var migrate = await cluster.ClientAsync(["migrate", "kv", target], cancellationToken: cancellationToken);
            Console.Write(migrate.StandardOutput);
            Console.Error.Write(migrate.StandardError);
            await File.WriteAllTextAsync(Path.Combine(run, "migrate.log"), migrate.StandardOutput + migrate.StandardError, cancellationToken);
            var loaded = await writing;
            await File.WriteAllTextAsync(Path.Combine(run, "load.out"), loaded.StandardOutput, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(run, "load.err"), loaded.StandardError, cancellationToken);
            var summary = KeyValueLoadSummary.Find(loaded.StandardOutput)
                ?? throw new InvalidOperationException($"the load client printed no summary (exit {loaded.ExitCode}); see {run}/load.err");
            Progress.Log(Who, loaded.StandardOutput.Trim().Split('\n')[^1]);
            var query = await cluster.ClientAsync(["query", "kv", "--json"], cancellationToken: cancellationToken);
            var owner = Owner(query.StandardOutput);
            var line = $"service moved {source} → {owner ?? "?"}: {summary.Acked} writes, {summary.Lost} lost, "
                + $"{(summary.ConnectionKept ? "connection kept" : "connection LOST")}, longest pause {summary.LongestPauseMs} ms";
            return (line, loaded.ExitCode == 0 && summary.Lost == 0 && summary.ConnectionKept && owner == target);
        }
        finally
        {
            await cluster.DownAsync(CancellationToken.None);
        }
    }

    private static string? Owner(string json)
    {
        try
        {
            return JsonDocument.Parse(json).RootElement.TryGetProperty("owner", out var owner) ? owner.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Up once it takes a connection; kv-load itself then keeps one connection for the whole run.</summary>
    private static async Task WaitAnswersAsync(SimulatedCluster cluster, string address, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var connect = await cluster.Hosts.RunAsync(SimulatedHosts.Client, ["bash", "-c", $"exec 3<>/dev/tcp/{address}/{Port}"], cancellationToken: cancellationToken);
            if (connect.ExitCode == 0)
            {
                return;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        }
    }
}
