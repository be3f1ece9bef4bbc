using System.Text.RegularExpressions;
using AkkaMigration.Harness.Processes;

namespace AkkaMigration.Harness.Suites;

/// <summary>
/// <c>make nemesis</c>: the randomized run alone (Tests/Nemesis) on the simulated hosts, real podman and
/// CRIU: random submits, migrations and drains with faults between and during them, then a checker.
/// The last line is the checker's: <c>nemesis seed S: N operations, F faults, L lost, D duplicated, B left behind</c>.
/// </summary>
public static partial class NemesisRun
{
    /// <param name="seed">Replays a run's choices (the seed is printed; timings still differ run to run).</param>
    /// <param name="minutes">How long the operations go on; the check that follows is bounded too.</param>
    /// <returns>Whether the run passed.</returns>
    public static async Task<bool> RunAsync(string? seed, int minutes, CancellationToken cancellationToken)
    {
        var results = Repo.Path("build", "nemesis");
        Directory.CreateDirectory(results);
        var consoleLog = Path.Combine(results, "console.log");
        var status = await TestSuite.RunAsync("Nemesis", consoleLog, new Dictionary<string, string?>
        {
            ["AKKA_MIGRATION_NEMESIS_SECONDS"] = (minutes * 60).ToString(),
            ["AKKA_MIGRATION_NEMESIS_SEED"] = seed ?? "",
        }, TimeSpan.FromMinutes(minutes + 60), cancellationToken);
        var lines = File.ReadAllLines(consoleLog);
        var verdict = lines.LastOrDefault(l => Verdict().IsMatch(l))?.TrimStart();
        if (verdict is null)
        {
            Console.Error.WriteLine(TestSuite.Tail(consoleLog));
            throw new InvalidOperationException($"the nemesis run ended without a verdict (exit {status}); see {consoleLog}");
        }
        if (status != 0)
        {
            // The failures' messages, without their stack traces.
            var shown = false;
            foreach (var line in lines)
            {
                shown = line.StartsWith("  Failed ", StringComparison.Ordinal) || (shown && !line.StartsWith("  Stack Trace:", StringComparison.Ordinal));
                if (shown)
                {
                    Console.WriteLine(line);
                }
            }
        }
        var history = new DirectoryInfo(results).GetFiles("history-*.tsv").OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault();
        Console.WriteLine($"history: {history?.FullName ?? "none"}");
        Console.WriteLine(verdict);
        return status == 0;
    }

    [GeneratedRegex("nemesis seed [0-9]+:")]
    private static partial Regex Verdict();
}
