using System.Globalization;
using System.Text.RegularExpressions;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Suites;

/// <summary>
/// <c>make faults</c>: the fault suite alone (Tests/Faults: each fault 5 times on the simulated hosts,
/// real podman and CRIU), then a table: fault → runs → jobs lost → runs where two copies were seen.
/// The last line is <c>N passed, N failed</c>, counted in runs.
/// </summary>
public static partial class FaultsRun
{
    /// <returns>Whether every run passed.</returns>
    public static async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var results = Repo.Path("build", "fault-results");
        var report = Path.Combine(results, "faults.tsv");
        var consoleLog = Path.Combine(results, "console.log");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }
        Directory.CreateDirectory(results);
        var status = await TestSuite.RunAsync("Faults", consoleLog, new Dictionary<string, string?>
        {
            ["AKKA_MIGRATION_FAULT_RUNS"] = Environment.GetEnvironmentVariable("AKKA_MIGRATION_FAULT_RUNS") ?? "5",
            ["AKKA_MIGRATION_FAULT_REPORT"] = report,
        }, TimeSpan.FromHours(4), cancellationToken);

        if (!File.Exists(report) || new FileInfo(report).Length == 0)
        {
            Console.Error.WriteLine(TestSuite.Tail(consoleLog));
            Progress.Log("faults", $"the fault suite did not run (exit {status}); see {consoleLog}");
            Console.WriteLine("0 passed, 1 failed");
            return false;
        }
        foreach (var line in File.ReadLines(consoleLog).Where(l => RunLine().IsMatch(l)))
        {
            Console.WriteLine(line.TrimStart());
        }
        Console.WriteLine();
        Console.WriteLine($"{"fault",-55} {"runs",5} {"jobs lost",10} {"duplicate copies seen",22}");
        // Columns: fault, runs planned, runs done, lost, duplicates, passed.
        var rows = File.ReadLines(report).Select(l => l.Split('\t')).Where(f => f.Length >= 6).ToList();
        foreach (var row in rows)
        {
            Console.WriteLine($"{row[0],-55} {Number(row[2]),5} {Number(row[3]),10} {Number(row[4]),22}");
        }
        var passed = rows.Sum(r => Number(r[5]));
        var failed = rows.Sum(r => Number(r[1])) - passed;
        // A fault whose test broke before its row was written (its clean-up failed, as when its hosts
        // never formed one cluster again) has no row: each such test counts as at least one failed run.
        var failedTests = File.ReadLines(consoleLog).Count(l => FailedTest().IsMatch(l));
        var failedRows = rows.Count(r => Number(r[5]) < Number(r[1]));
        failed += Math.Max(failedTests - failedRows, 0);
        // A suite that broke without naming a failed test (a crash, the time limit) still fails.
        if (status != 0 && failed == 0)
        {
            failed = 1;
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0;
    }

    private static int Number(string field) => int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    [GeneratedRegex(@" #[0-9]+: ")]
    private static partial Regex RunLine();

    [GeneratedRegex(@"^  Failed AkkaMigration\.Tests\.")]
    private static partial Regex FailedTest();
}
