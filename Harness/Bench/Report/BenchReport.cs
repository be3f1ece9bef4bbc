using AkkaMigration.Harness.Bench.Results;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>A run's report: benchmark.md and its plots into the docs folder, the printed figures into the run's figures.txt.</summary>
public static class BenchReport
{
    /// <summary>The hand-written notes the page includes after a full run.</summary>
    public static string NotesDirectory(string repository) => Path.Combine(repository, "Harness", "Bench", "Notes");

    /// <returns>The lines `make bench` prints last.</returns>
    public static IReadOnlyList<string> Write(BenchResults results, string docsDirectory, string runDirectory, string notesDirectory)
    {
        if (results.Settings.FailoverOnly)
        {
            return WriteFailoverOnly(results, runDirectory);
        }
        var figures = new BenchFigures(results);
        Directory.CreateDirectory(docsDirectory);
        File.WriteAllText(Path.Combine(docsDirectory, "benchmark.md"), new BenchmarkPage(figures, notesDirectory).Render());
        BenchmarkPlots.Write(figures, docsDirectory);
        var lines = FigureLines.Of(figures);
        File.WriteAllLines(Path.Combine(runDirectory, "figures.txt"), lines);
        return lines;
    }

    /// <summary>`make bench-failover`: its section alone, as failover.md in the run's folder; docs/ stays as it is.</summary>
    private static IReadOnlyList<string> WriteFailoverOnly(BenchResults results, string runDirectory)
    {
        var figures = new FailoverFigures(results);
        File.WriteAllLines(Path.Combine(runDirectory, "failover.md"), figures.Section());
        var lines = results.Failures.Select(f => $"  FAILED part {f.Part} #{f.Rep?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}: {f.Reason}")
            .Concat(figures.Lines()).ToList();
        File.WriteAllLines(Path.Combine(runDirectory, "figures.txt"), lines);
        return lines;
    }
}
