using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaMigration.Harness.Bench.ByHand;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Runtime;
using CliWrap;

namespace AkkaMigration.Harness.Bench;

/// <summary>The single moves: the worker by hand (podman, socat, podman) and ours (the client's migrate).</summary>
public sealed partial class BenchRun
{
    /// <summary>Inside each host this path is its own folder, the node's state dir.</summary>
    private const string Archive = "/var/lib/akka-migration/node/bench-by-hand.tar";
    private const int CopyPort = 5999;

    private string SeriesTag => _series == Series.Main ? "" : "big-";

    private async Task ByHandAsync(int mb, int rep, CancellationToken ct)
    {
        var name = $"{BaselineCommands.NamePrefix}{SeriesTag}{_link}-{mb}-{rep}";
        await PodmanA.RunAsync(a => a.Add(_baseline.Run(name, BaselineCommands.Worker(_config.Container.Image, mb))), PodmanCli.QuickLimit, ct);
        await _cluster.WaitStartedAsync("nodeA", name, ct);
        var (steps, checkpointStats, restoreStats) = await MoveByHandAsync(name, guardAddress: null, ct);
        _results.Append(new HandMove(_series, _link, mb, rep, Load(), steps.CheckpointMs, steps.CopyMs, steps.RestoreMs, steps.TotalMs, steps.Bytes,
            checkpointStats, restoreStats));
        Progress.Log("bench", $"by hand  {mb} MB #{rep}, link {_link}: checkpoint {steps.CheckpointMs} ms, copy {steps.CopyMs} ms, restore {steps.RestoreMs} ms, total {steps.TotalMs} ms");
        foreach (var host in new[] { "nodeA", "nodeB" })
        {
            await _cluster.Podman(host).ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(name), PodmanCli.QuickLimit, ct);
            await _hosts.RunAsync(host, ["rm", "-f", Archive], cancellationToken: ct);
        }
    }

    /// <summary>
    /// By hand's move of a running container A → B, each step timed around its command: the node's
    /// checkpoint on A, a socat copy to a listener on B started before the clock, the node's restore on B.
    /// A service's address is guarded with the node's nft rules, as the node guards it.
    /// </summary>
    private async Task<(HandSteps Steps, IReadOnlyDictionary<string, double> Checkpoint, IReadOnlyDictionary<string, double> Restore)> MoveByHandAsync(
        string name, string? guardAddress, CancellationToken ct)
    {
        var listener = await ListenOnBAsync(ct);
        var clock = Stopwatch.StartNew();
        var checkpointed = await GuardedAsync("nodeA", guardAddress is null ? null : _baseline.Hold(guardAddress),
            () => PodmanA.RunAsync(a => a.Add(_baseline.Checkpoint(name, Archive)), BenchClient.MoveLimit, ct), ct);
        var checkpointMs = clock.ElapsedMilliseconds;
        await _hosts.CheckedAsync("nodeA", ["socat", "-u", $"OPEN:{Archive}", $"TCP:{_config.GetHost("nodeB").Address}:{CopyPort}"], BenchClient.MoveLimit, ct);
        // The copy is done when B has written and closed the file.
        await listener;
        var copiedMs = clock.ElapsedMilliseconds;
        var restored = await GuardedAsync("nodeB", guardAddress is null ? null : _baseline.Drop(guardAddress),
            () => PodmanB.RunAsync(a => a.Add(_baseline.Restore(name, Archive)), BenchClient.MoveLimit, ct), ct);
        var totalMs = clock.ElapsedMilliseconds;
        var bytes = long.Parse((await _hosts.CheckedAsync("nodeB", ["stat", "-c", "%s", Archive], cancellationToken: ct)).Trim(), CultureInfo.InvariantCulture);
        var state = await PodmanB.RunAsync(a => a.Add("inspect").Add("-f").Add("{{.State.Status}}").Add(name), PodmanCli.QuickLimit, ct);
        if (state.Trim() != "running")
        {
            throw new InvalidOperationException($"{name} does not run on nodeB after the restore ({state.Trim()})");
        }
        return (new HandSteps(checkpointMs, copiedMs - checkpointMs, totalMs - copiedMs, totalMs, bytes), PrintStats(checkpointed), PrintStats(restored));
    }

    /// <summary>A socat listener on B, writing the archive; its task ends when the copy has been written and closed.</summary>
    private async Task<CommandTask<CommandResult>> ListenOnBAsync(CancellationToken ct)
    {
        var listener = Cli.Wrap("nsenter")
            .WithArguments([.. _hosts.NsenterArguments("nodeB"), "socat", "-u", $"TCP-LISTEN:{CopyPort},reuseaddr", $"OPEN:{Archive},creat,trunc"])
            .ExecuteAsync(_background.Token);
        Remember(listener.ProcessId);
        for (var i = 0; i < 100; i++)
        {
            var listening = await _hosts.RunAsync("nodeB", ["ss", "-ltnH", $"sport = :{CopyPort}"], cancellationToken: ct);
            if (listening.StandardOutput.Trim().Length > 0)
            {
                return listener;
            }
            await Task.Delay(50, ct);
        }
        throw new InvalidOperationException($"socat on nodeB is not listening on {CopyPort}");
    }

    /// <summary>Runs <paramref name="step"/> inside the node's nft <paramref name="rule"/> on <paramref name="host"/> (none for a worker).</summary>
    private async Task<string> GuardedAsync(string host, PacketGuard.GuardRule? rule, Func<Task<string>> step, CancellationToken ct)
    {
        if (rule is not null)
        {
            var loaded = await _hosts.RunAsync(host, ["nft", "-f", "-"], input: rule.Script, cancellationToken: ct);
            if (loaded.ExitCode != 0)
            {
                throw new InvalidOperationException($"nft on {host} failed: {loaded.StandardError.Trim()}");
            }
        }
        try
        {
            return await step();
        }
        finally
        {
            await UnguardAsync(host, rule);
        }
    }

    private async Task UnguardAsync(string host, PacketGuard.GuardRule? rule)
    {
        if (rule is not null)
        {
            await _hosts.RunAsync(host, ["nft", .. PacketGuard.RemoveArguments(rule.Table)]);
        }
    }

    /// <summary>podman's --print-stats, flattened: its top-level figures, each container's and CRIU's (µs and counts).</summary>
    public static IReadOnlyDictionary<string, double> PrintStats(string printed)
    {
        var flat = new Dictionary<string, double>();
        try
        {
            using var json = JsonDocument.Parse(printed);
            void Numbers(JsonElement element)
            {
                foreach (var p in element.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
                {
                    flat[p.Name] = p.Value.GetDouble();
                }
            }
            Numbers(json.RootElement);
            if (json.RootElement.TryGetProperty("container_statistics", out var containers) && containers.ValueKind == JsonValueKind.Array)
            {
                foreach (var container in containers.EnumerateArray())
                {
                    Numbers(container);
                    if (container.TryGetProperty("criu_statistics", out var criu))
                    {
                        Numbers(criu);
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Figures never fail a move: the table shows a dash.
        }
        return flat;
    }

    private async Task OursAsync(int mb, int rep, CancellationToken ct)
    {
        var id = $"bench-{SeriesTag}{_link}-{mb}-{rep}";
        await _client.SubmitAsync(id, mb, ct);
        var (move, memory) = await MoveOursAsync(id, ct);
        _results.Append(new OursMove(_series, _link, mb, rep, Load(), move, memory));
        Progress.Log("bench", $"ours     {mb} MB #{rep}, link {_link}: process wall {move.WallMs} ms; client {move.ClientMs} ms, node {move.NodeTotalMs} ms");
    }

    /// <summary>Moves the started job nodeA → nodeB with the client, with both nodes' RSS before and peak during the move; removes B's copy.</summary>
    private async Task<(OursTimings Move, NodeMemory Memory)> MoveOursAsync(string id, CancellationToken ct)
    {
        await _cluster.WaitStartedAsync("nodeA", ContainerNames.For(id), ct);
        var before = MarkMemory();
        var move = await _client.MigrateAsync(id, Path.Combine(_runDirectory, "client.log"), ct);
        var memory = PeakMemory(before);
        // The node marks the job failed once its container is gone; that is only our cleanup.
        await PodmanB.ExecuteAsync(a => a.Add("rm").Add("-f").Add("-t").Add("0").Add(ContainerNames.For(id)), PodmanCli.QuickLimit, ct);
        return (move, memory);
    }

    /// <summary>Resets VmHWM to the current RSS in both nodes (5 into clear_refs), so the peak read after is the move's own; the RSS before.</summary>
    private (long A, long B) MarkMemory()
    {
        var (a, b) = (_cluster.Node("nodeA").Pid, _cluster.Node("nodeB").Pid);
        File.WriteAllText($"/proc/{a}/clear_refs", "5");
        File.WriteAllText($"/proc/{b}/clear_refs", "5");
        return (StatusKb(a, "VmRSS"), StatusKb(b, "VmRSS"));
    }

    private NodeMemory PeakMemory((long A, long B) before) =>
        new(before.A, before.B, StatusKb(_cluster.Node("nodeA").Pid, "VmHWM"), StatusKb(_cluster.Node("nodeB").Pid, "VmHWM"));

    private static long StatusKb(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)).First();
}
