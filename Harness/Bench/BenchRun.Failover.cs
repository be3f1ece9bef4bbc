using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Cluster;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;
using AkkaMigration.Node.Failover;
using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// Issue 33's figures, on three fenced hosts of their own (the two-host cluster of the other parts is
/// down by then): protection's cost, a worker's ticks unprotected and protected side by side and the
/// pause per protection checkpoint; then the failover time of a protected job whose host is burnt.
/// </summary>
public sealed partial class BenchRun
{
    /// <summary>The protected jobs' host, burnt last.</summary>
    private const string Owner = "nodeB";
    private static readonly string[] Survivors = ["nodeA", "nodeC"];
    private static readonly string[] ThroughputProtections = ["none", "5s", "30s"];
    private const int PauseCheckpoints = 3;

    private async Task FailoverPartsAsync(CancellationToken ct)
    {
        if (_hosts.IsUp("nodeA"))
        {
            await _cluster.DownAsync(ct);
        }
        for (var rep = 1; rep <= _settings.Repeats; rep++)
        {
            var r = rep;
            FencedCluster fenced;
            try
            {
                fenced = await FencedCluster.UpAsync(_configPath, _hosts.Prefix, Path.Combine(_runDirectory, $"fenced-{r}"), ct,
                    Path.Combine(_runDirectory, "config-fenced.ini"));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _results.Append(new PartFailed("fenced-cluster", "none", null, r, null, null, Reason(e)));
                Progress.Fail("bench", $"the three fenced hosts did not come up (#{r}): {Reason(e)}; going on");
                continue;
            }
            await using (fenced)
            {
                await FencedPartAsync("protect-throughput", _settings.ProtectMb, r, () => ThroughputAsync(fenced, r, ct));
                foreach (var mb in _settings.PauseMb ?? [])
                {
                    await FencedPartAsync("protect-pause", mb, r, () => PauseAsync(fenced, mb, r, ct));
                }
                await FencedPartAsync("failover", null, r, () => FailoverAsync(fenced, r, ct));
            }
        }
    }

    /// <summary>As <see cref="PartAsync"/>, but a failure leaves the fenced cluster as it is: the next part tries on it.</summary>
    private async Task FencedPartAsync(string name, int? mb, int rep, Func<Task> part)
    {
        try
        {
            if (_settings.FailPart == name)
            {
                throw new InvalidOperationException($"failed on purpose (BENCH_FAIL_PART={name})");
            }
            await part();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _results.Append(new PartFailed(name, "none", mb, rep, null, null, Reason(e)));
            Progress.Fail("bench", $"part {name} ({(mb is null ? "" : $"{mb} MB ")}#{rep}) failed: {Reason(e)}; going on");
        }
    }

    /// <summary>
    /// The same worker unprotected and protected every 5 s and 30 s, side by side on one host for the same
    /// wall time; each one's ticks are read in the same order at both ends, so each has its own window.
    /// The worker's tick is 100 ms of sleep: what it loses is the time it is frozen, not CPU taken from it.
    /// </summary>
    private async Task ThroughputAsync(FencedCluster fenced, int rep, CancellationToken ct)
    {
        var mb = _settings.ProtectMb;
        var jobs = ThroughputProtections.Select(p => (Protect: p, Id: $"bench-protect-{p}-{rep}")).ToList();
        foreach (var (protect, id) in jobs)
        {
            await SubmitProtectedAsync(fenced, id, mb, protect == "none" ? null : protect, ct);
        }
        var podman = fenced.Cluster.Podman(Owner);
        var clock = Stopwatch.StartNew();
        var windowStart = DateTimeOffset.UtcNow;
        var first = new List<(int Ticks, double At)>();
        foreach (var (_, id) in jobs)
        {
            first.Add((await TicksAsync(podman, id, ct), clock.Elapsed.TotalSeconds));
        }
        await Task.Delay(TimeSpan.FromSeconds(_settings.ProtectWindowSeconds), ct);
        var workers = new List<WorkerThroughput>();
        var log = await Demo.ReadSharedAsync(fenced.NodeLog(Owner));
        for (var i = 0; i < jobs.Count; i++)
        {
            var ticks = await TicksAsync(podman, jobs[i].Id, ct) - first[i].Ticks;
            var checkpoints = ProtectionCheckpoints(log, jobs[i].Id, windowStart).Count;
            workers.Add(new WorkerThroughput(jobs[i].Protect, ticks, clock.Elapsed.TotalSeconds - first[i].At, checkpoints));
        }
        foreach (var (_, id) in jobs)
        {
            await fenced.Cluster.CheckedClientAsync(["rm", id, "-f"], cancellationToken: ct);
        }
        _results.Append(new ProtectionThroughput(rep, mb, Load(), workers));
        Progress.Log("bench", $"protection throughput {mb} MB #{rep}: " + string.Join(", ", workers.Select(w =>
            $"{w.Protect} {w.TicksPerSecond.ToString("F2", CultureInfo.InvariantCulture)} ticks/s ({w.Checkpoints} checkpoints)")));
    }

    /// <summary>A job of this state protected every 5 s, until <see cref="PauseCheckpoints"/> checkpoints have reached a replica.</summary>
    private async Task PauseAsync(FencedCluster fenced, int mb, int rep, CancellationToken ct)
    {
        var id = $"bench-pause-{mb}-{rep}";
        var since = DateTimeOffset.UtcNow;
        await SubmitProtectedAsync(fenced, id, mb, "5s", ct);
        var limit = TimeSpan.FromSeconds(60 + PauseCheckpoints * 30);
        List<(long Bytes, long FrozenMs)> taken = [];
        for (var waited = Stopwatch.StartNew(); taken.Count < PauseCheckpoints; await Task.Delay(500, ct))
        {
            if (waited.Elapsed > limit)
            {
                throw new TimeoutException($"{taken.Count} of {PauseCheckpoints} protection checkpoints of {id} in {limit.TotalSeconds:0} s; see {fenced.NodeLog(Owner)}");
            }
            taken = ProtectionCheckpoints(await Demo.ReadSharedAsync(fenced.NodeLog(Owner)), id, since);
        }
        await fenced.Cluster.CheckedClientAsync(["rm", id, "-f"], cancellationToken: ct);
        var record = new ProtectionPause(mb, rep, Load(), [.. taken.Take(PauseCheckpoints).Select(t => t.FrozenMs)], taken[^1].Bytes);
        _results.Append(record);
        Progress.Log("bench", $"protection pause {mb} MB #{rep}: frozen {string.Join(", ", record.FrozenMs)} ms, {record.Bytes} bytes");
    }

    /// <summary>
    /// A job protected every 2 s on nodeB, which is burnt once a checkpoint has reached a replica; timed
    /// from the burn's first kill to the container running on a survivor, whom `query` must then name its owner.
    /// </summary>
    private async Task FailoverAsync(FencedCluster fenced, int rep, CancellationToken ct)
    {
        var id = $"bench-failover-{rep}";
        await SubmitProtectedAsync(fenced, id, 0, "2s", ct);
        await FencedCluster.WaitForLogAsync(fenced.NodeLog(Owner), ProtectionLog.KeptPrefix(id), "a protection checkpoint to reach a replica", ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);

        Progress.Log("bench", $"failover #{rep}: burning {Owner}");
        var burnt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await fenced.BurnAsync(Owner, ct);
        var (host, runningMs) = await WaitRunningOnSurvivorAsync(fenced, ContainerNames.For(id), clock, ct);
        var owner = await fenced.WaitForOwnerAsync(id, Owner, host, ct);
        if (owner != host)
        {
            throw new InvalidOperationException($"the container runs on {host}, but query names {owner} its owner");
        }
        var declared = Survivors.Select(s => LoggedAt(fenced.NodeLog(s), $"HostLoss: {Owner} is declared lost", burnt)).OfType<DateTimeOffset>().DefaultIfEmpty().Min();
        var resuming = LoggedAt(fenced.NodeLog(host), $"job {id} was lost with {Owner}", burnt);
        if (declared == default || resuming is null)
        {
            throw new InvalidOperationException($"the survivors' logs lack the declaration or the resume; see {fenced.RunDirectory}");
        }
        var leaseMs = (long)(declared - burnt).TotalMilliseconds;
        var restoreMs = runningMs - (long)(resuming.Value - burnt).TotalMilliseconds;
        _results.Append(new FailoverTimed(rep, Load(), runningMs, leaseMs, restoreMs, host));
        Progress.Log("bench", $"failover #{rep}: running on {host} {runningMs} ms after the burn (lease {leaseMs} ms, restore {restoreMs} ms)");
    }

    private static async Task SubmitProtectedAsync(FencedCluster fenced, string id, int mb, string? every, CancellationToken ct)
    {
        await fenced.Cluster.CheckedClientAsync(["submit", "41", "--id", id, "--on", Owner, "--work-ms", "600000",
            "--state-mb", mb.ToString(CultureInfo.InvariantCulture), .. every is null ? Array.Empty<string>() : ["--protect", every]], cancellationToken: ct);
        await fenced.Cluster.WaitStartedAsync(Owner, ContainerNames.For(id), ct);
    }

    /// <summary>The ticks the worker has done: its last PROGRESS line.</summary>
    private static async Task<int> TicksAsync(PodmanCli podman, string id, CancellationToken ct)
    {
        var tail = await podman.RunAsync(a => a.Add("logs").Add("--tail").Add("1").Add(ContainerNames.For(id)), PodmanCli.QuickLimit, ct);
        var progress = ProgressLine().Match(tail);
        return progress.Success ? int.Parse(progress.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{id} printed no progress: {tail.Trim()}");
    }

    /// <summary>The first survivor whose podman runs the container, and how long after the burn's start it was seen.</summary>
    private static async Task<(string Host, long Ms)> WaitRunningOnSurvivorAsync(FencedCluster fenced, string container, Stopwatch clock, CancellationToken ct)
    {
        var limit = TimeSpan.FromSeconds(120);
        while (clock.Elapsed < limit)
        {
            foreach (var host in Survivors)
            {
                var names = await fenced.Cluster.Podman(host).RunAsync(a => a.Add("ps").Add("--filter").Add($"name=^{container}$")
                    .Add("--filter").Add("status=running").Add("--format").Add("{{.Names}}"), PodmanCli.QuickLimit, ct);
                if (names.Trim().Length > 0)
                {
                    return (host, clock.ElapsedMilliseconds);
                }
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"{container} ran on no survivor within {limit.TotalSeconds:0} s of the burn");
    }

    /// <summary>The owner's log lines <c>job ID: protection checkpoint of N bytes (frozen M ms)</c> (ProtectionRound's) logged since <paramref name="since"/>.</summary>
    private static List<(long Bytes, long FrozenMs)> ProtectionCheckpoints(string log, string id, DateTimeOffset since) =>
        [.. log.Split('\n').Select(l => (Line: l, At: LineTime(l, since)))
            .Where(l => l.At >= since.AddMilliseconds(-999) && l.Line.Contains(ProtectionLog.KeptPrefix(id), StringComparison.Ordinal))
            .Select(l => ProtectionLog.KeptLine().Match(l.Line)).Where(m => m.Success)
            .Select(m => (long.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups["frozen"].Value, CultureInfo.InvariantCulture)))];

    /// <summary>When the first line holding <paramref name="text"/> was logged at or after <paramref name="since"/>.</summary>
    private static DateTimeOffset? LoggedAt(string log, string text, DateTimeOffset since) =>
        File.Exists(log)
            ? File.ReadLines(log).Where(l => l.Contains(text, StringComparison.Ordinal)).Select(l => LineTime(l, since))
                .Where(t => t >= since.AddMilliseconds(-999)).Order().Cast<DateTimeOffset?>().FirstOrDefault()
            : null;

    /// <summary>
    /// A node log line's time: it starts HH:mm:ss.fff, the node's local time of day (OneLineLogFormatter);
    /// the day is the one nearest <paramref name="near"/>. A line without a time is taken as long before.
    /// </summary>
    private static DateTimeOffset LineTime(string line, DateTimeOffset near)
    {
        if (line.Length < 12 || !TimeOnly.TryParseExact(line[..12], "HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            return DateTimeOffset.MinValue;
        }
        var local = near.ToLocalTime();
        var at = new DateTimeOffset(local.Date + time.ToTimeSpan(), local.Offset);
        return (at - local).TotalHours switch
        {
            > 12 => at.AddDays(-1),
            < -12 => at.AddDays(1),
            _ => at,
        };
    }

    [GeneratedRegex(@"PROGRESS (\d+)/")]
    private static partial Regex ProgressLine();

}
