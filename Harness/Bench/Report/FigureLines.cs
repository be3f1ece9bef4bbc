using System.Globalization;
using AkkaMigration.Harness.Bench.Results;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>What `make bench` prints last: a summary per part, the verdicts, then the key figures as NAME=VALUE lines.</summary>
public static class FigureLines
{
    private static string F0(double v) => double.IsNaN(v) ? "nan" : v.ToString("F0", CultureInfo.InvariantCulture);

    public static IReadOnlyList<string> Of(BenchFigures figures)
    {
        var results = figures.Results;
        var lines = new List<string>
        {
            $"benchmark: medians of {results.Settings.Repeats} repeats; machine shared: {(figures.Shared ? "yes" : "no")}; "
            + $"pre-copy {Precopy(results.Facts)}",
        };
        foreach (var link in figures.Links)
        {
            foreach (var mb in figures.Workloads)
            {
                var x = figures.Moves[(link, mb)];
                lines.Add($"  {link,6} {mb,4} MB  by hand {F0(x.HandTotal)} ms | ours {F0(x.OursClient)} ms (process wall {F0(x.OursWall)}, node "
                    + $"total = downtime {F0(x.OursNodeTotal)}; checkpoint {F0(x.OursCheckpoint)}, transfer added {F0(x.OursTransfer)}, restore "
                    + $"{F0(x.OursRestore)}) | raw {F0(x.RawMbs)} MB/s, ours {F0(x.OursMbs)} MB/s | RSS growth A {F0(x.GrowthA)} MB, B {F0(x.GrowthB)} MB");
            }
            var v = figures.Service[link];
            if (v.HandCount > 0 || v.OursCount > 0)
            {
                lines.Add($"  {link,6} service {figures.ServiceMb} MB: longest pause by hand {F0(v.HandPause)} ms, ours {F0(v.OursPause)} ms "
                    + $"(kept and nothing lost: by hand {Bool(v.HandKept)}, ours {Bool(v.OursKept)})");
            }
        }
        lines.Add($"  {figures.TenCount} jobs: serial {F0(figures.SerialMs)} ms, concurrent {F0(figures.ConcurrentMs)} ms; client status {F0(figures.StatusMs)} ms");
        foreach (var link in figures.BigLinks)
        {
            foreach (var mb in figures.BigSizes)
            {
                var x = figures.BigMoves[(link, mb)];
                lines.Add($"  big {link,6} {mb,4} MB  by hand {F0(x.HandTotal)} ms | ours {F0(x.OursClient)} ms | raw {F0(x.RawMbs)} MB/s, ours "
                    + $"{F0(x.OursMbs)} MB/s | RSS growth A {F0(x.GrowthA)} MB, B {F0(x.GrowthB)} MB | moved {x.OursCount}");
            }
        }
        foreach (var link in figures.CompressionLinks)
        {
            foreach (var (kind, label) in BenchFigures.Kinds)
            {
                lines.Add($"  compression {link,6} {label,14}: " + string.Join(", ", figures.Compressions.Select(c =>
                    $"{c} {F0(figures.Compression[(link, kind, c)].Total)} ms ({figures.Compression[(link, kind, c)].ArchiveMb.ToString("F1", CultureInfo.InvariantCulture)} MB)")));
            }
        }
        foreach (var f in results.Failures)
        {
            lines.Add($"  FAILED part {f.Part} link {f.Link}{(f.Mb is { } mb ? $" {mb} MB" : "")} #{f.Rep?.ToString(CultureInfo.InvariantCulture) ?? "-"}: {f.Reason}");
        }
        foreach (var k in figures.Keys.Where(k => k.Verdict.Length > 0))
        {
            lines.Add($"  {k.Name}: {k.Verdict} (target {k.TargetText})");
        }
        lines.Add($"precopy={Precopy(results.Facts)}");
        lines.AddRange(figures.Keys.Select(k => k.Line));
        foreach (var link in figures.Links)
        {
            var v = figures.Service[link];
            if (v.OursCount > 0)
            {
                lines.Add($"service_ok_{figures.ServiceMb}mb{BenchFigures.Suffix(link)}={Bool(v.OursKept)}");
            }
            if (v.HandCount > 0)
            {
                lines.Add($"hand_service_ok_{figures.ServiceMb}mb{BenchFigures.Suffix(link)}={Bool(v.HandKept)}");
            }
        }
        var reason = figures.ConcurrentReason;
        lines.Add($"concurrent_{figures.TenCount}_ok=" + (figures.ConcurrentOk ? "true" : reason == BenchFigures.NotRun ? "skipped" : $"false reason=\"{reason}\""));
        lines.AddRange(new FailoverFigures(results).Lines());
        return lines;
    }

    private static string Precopy(RunFacts facts) => facts.PrecopySupported ? "supported" : "unsupported";

    private static string Bool(bool b) => b ? "true" : "false";
}
