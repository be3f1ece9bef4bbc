using System.Globalization;
using AkkaMigration.Harness.Bench.Results;
using static AkkaMigration.Harness.Bench.Report.Stat;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>
/// Quick tuning runs (`bench tune`) as one markdown table, a row per [transfer] chunk_kb / window pair;
/// runs of the same pair are pooled. Each cell: the median, then every repeat in brackets.
/// </summary>
public static class TuningTable
{
    public static IReadOnlyList<string> Of(IEnumerable<BenchResults> runs)
    {
        var lines = new List<string>
        {
            "| chunk_kb / window | moves | ours MB/s (ArchiveBytes / StreamMs) | ours total (clientMs) ms | by hand total ms | raw TCP MB/s | "
            + "RSS growth MB (larger node) | load (1-min) |",
            "|---|---|---|---|---|---|---|---|",
        };
        foreach (var pair in runs.GroupBy(r => (r.Facts.ChunkKb, r.Facts.Window)).OrderBy(g => g.Key))
        {
            var ours = pair.SelectMany(r => r.Ours).ToList();
            var hand = pair.SelectMany(r => r.Hand).ToList();
            if (ours.Count == 0)
            {
                continue;
            }
            var loads = ours.Select(o => o.Load).Concat(hand.Select(h => h.Load)).ToList();
            lines.Add($"| {pair.Key.ChunkKb} / {pair.Key.Window} | {ours.Count} | {Show(ours.Select(o => Rate(o.Move.Bytes, o.Move.StreamMs)))} | "
                + $"{Show(ours.Select(o => (double)o.Move.ClientMs))} | {Show(hand.Select(h => (double)h.TotalMs))} | "
                + $"{Show(hand.Select(h => Rate(h.Bytes, h.CopyMs)))} | {Show(ours.Select(o => o.Memory.GrowthMb))} | "
                + $"{loads.Min().ToString("F1", CultureInfo.InvariantCulture)}–{loads.Max().ToString("F1", CultureInfo.InvariantCulture)} |");
        }
        return lines;
    }

    private static string Show(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0
            ? "–"
            : $"{Median(list).ToString("F0", CultureInfo.InvariantCulture)} ({string.Join(", ", list.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))})";
    }
}
