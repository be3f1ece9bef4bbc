using System.Globalization;
using AkkaMigration.Harness.Bench.Results;
using static AkkaMigration.Harness.Bench.Report.Stat;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>
/// Issue 33's figures from a run's records: the failover time and its lease and restore parts, the
/// throughput a protected worker loses against an unprotected one beside it, and the pause per
/// protection checkpoint. Medians over the repeats.
/// </summary>
public sealed class FailoverFigures(BenchResults results)
{
    /// <summary>The parts whose failures these figures carry.</summary>
    private static readonly string[] Parts = ["fenced-cluster", "protect-throughput", "protect-pause", "failover"];

    /// <summary>Whether the run measured them: `make bench` does, its quick slice does not.</summary>
    public bool Ran => !results.Settings.SkipFailover || results.Settings.FailoverOnly;

    public double FailoverMs => Median(results.Failovers.Select(f => f.FailoverMs));
    public double LeaseMs => Median(results.Failovers.Select(f => f.LeaseMs));
    public double RestoreMs => Median(results.Failovers.Select(f => f.RestoreMs));

    /// <summary>1 − the protected worker's ticks per second over the unprotected one's beside it.</summary>
    public double Overhead(string every) => Median(results.Throughputs.Select(t =>
        1 - Ratio(Rate(t, every), Rate(t, "none"))));

    public double TicksPerSecond(string every) => Median(results.Throughputs.Select(t => Rate(t, every)));

    public double Checkpoints(string every) => Median(results.Throughputs.Select(t => (double)(t.Workers.FirstOrDefault(w => w.Protect == every)?.Checkpoints ?? 0)));

    public double PauseMs(int mb) => Median(results.Pauses.Where(p => p.StateMb == mb).SelectMany(p => p.FrozenMs));

    public double ArchiveMb(int mb) => Median(results.Pauses.Where(p => p.StateMb == mb).Select(p => p.Bytes / MB));

    public IReadOnlyList<int> PauseSizes => [.. (results.Settings.PauseMb ?? []).Union(results.Pauses.Select(p => p.StateMb)).Order()];

    /// <summary>The NAME=VALUE lines `make bench` prints last.</summary>
    public IReadOnlyList<string> Lines()
    {
        if (!Ran)
        {
            return [];
        }
        return
        [
            Line("failover_ms", FailoverMs, 0, "failover"),
            Line("failover_lease_ms", LeaseMs, 0, "failover"),
            Line("failover_restore_ms", RestoreMs, 0, "failover"),
            Line("protect_overhead_5s", Overhead("5s"), 3, "protect-throughput"),
            Line("protect_overhead_30s", Overhead("30s"), 3, "protect-throughput"),
            .. PauseSizes.Select(mb => Line($"protect_pause_ms_{mb}mb", PauseMs(mb), 0, "protect-pause")),
        ];
    }

    /// <summary>The page's "Failover and protection" section.</summary>
    public IReadOnlyList<string> Section()
    {
        if (!Ran)
        {
            return [];
        }
        var s = results.Settings;
        var throughput = results.Throughputs.FirstOrDefault();
        return
        [
            "## Failover and protection",
            "",
            "On three simulated hosts of their own, each with its fencing agent (the cluster `make demo-failover` runs; "
            + "`make bench-failover` runs these parts alone, its report in build/bench-failover/).",
            "",
            "| figure | value | what |",
            "|---|---|---|",
            $"| `failover_ms` | {F(FailoverMs, 0)} | a job protected every 2 s on nodeB; nodeB burnt (node and agent SIGKILLed, `podman kill --all`, link cut) → its container running on a survivor, which `query` then names the owner |",
            $"| `failover_lease_ms` | {F(LeaseMs, 0)} | burn → a survivor's `HostLoss: nodeB is declared lost` (the lease running out and the agents' promises) |",
            $"| `failover_restore_ms` | {F(RestoreMs, 0)} | the replica's `job … was lost with nodeB; resuming it here` → the container running |",
            $"| `protect_overhead_5s` | {F(Overhead("5s"), 3)} | ticks lost by a worker protected every 5 s, as a fraction of an unprotected one's beside it (checkpoints in the window: {F(Checkpoints("5s"), 0)}) |",
            $"| `protect_overhead_30s` | {F(Overhead("30s"), 3)} | the same, protected every 30 s (checkpoints in the window: {F(Checkpoints("30s"), 0)}) |",
            .. PauseSizes.Select(mb => $"| `protect_pause_ms_{mb}mb` | {F(PauseMs(mb), 0)} | frozen per protection checkpoint, `--state-mb {mb}` (archive {F(ArchiveMb(mb), 1)} MB) |"),
            "",
            $"The throughput: three workers with `--state-mb {throughput?.StateMb ?? s.ProtectMb}` on nodeB, unprotected, `--protect 5s` and "
            + $"`--protect 30s`, side by side for {s.ProtectWindowSeconds} s; each one's ticks (its last `PROGRESS` line) read in the same order at "
            + "both ends. Unprotected: " + F(TicksPerSecond("none"), 2) + " ticks/s; every 5 s: " + F(TicksPerSecond("5s"), 2)
            + "; every 30 s: " + F(TicksPerSecond("30s"), 2) + ". A tick is 100 ms of sleep, so a worker loses about the time it is frozen; "
            + "a CPU-bound worker would also lose the CPU the dumps take on a small machine. The pauses: the `frozen M ms` of the owner's "
            + $"`protection checkpoint of N bytes (frozen M ms)` lines, the first 3 of a job protected every 5 s. Medians of {s.Repeats} repeats.",
            "",
        ];
    }

    private static double Rate(ProtectionThroughput t, string every) => t.Workers.FirstOrDefault(w => w.Protect == every)?.TicksPerSecond ?? double.NaN;

    private static string F(double v, int decimals) => double.IsNaN(v) ? "–" : v.ToString($"F{decimals}", CultureInfo.InvariantCulture);

    /// <summary>NAME=VALUE, or NAME=failed with the reason of the part it needed.</summary>
    private string Line(string name, double value, int decimals, string part)
    {
        if (Measured(value))
        {
            return $"{name}={F(value, decimals)}";
        }
        var reasons = results.Failures.Where(f => f.Part == part || (f.Part == Parts[0] && part != Parts[0])).Select(f => f.Reason).Distinct().ToList();
        return reasons.Count == 0 ? $"{name}=skipped" : $"{name}=failed reason=\"{string.Join("; ", reasons)}\"";
    }
}
