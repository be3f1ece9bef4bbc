using System.CommandLine;
using AkkaMigration.Harness.Bench.Report;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// <c>bench</c>: `make bench`, its knobs in BENCH_* environment variables (BenchSettings), on hosts under
/// AKKA_MIGRATION_NETNS_PREFIX (amb by default, so a concurrent `make test` or `make demo` is untouched);
/// <c>bench report</c> writes a run's report again from its results.jsonl.
/// </summary>
public static class BenchCommands
{
    public static IEnumerable<Command> All() => [Bench()];

    /// <summary>
    /// Quick tuning of [transfer] chunk_kb / window: for each pair a short run on a config with that pair
    /// (BENCH_REPEATS, default 2, of the 256 MB workload on the bare link or BENCH_LINKS; no service, N jobs,
    /// big containers or compression), then one table of them all. config.ini stays as it is;
    /// build/bench-tune/CHUNK-WINDOW/ keeps each run's results.
    /// </summary>
    private static Command Tune()
    {
        var pairs = new Argument<string[]>("pairs") { Arity = ArgumentArity.OneOrMore, Description = "chunk_kb/window pairs, e.g. 256/8 1024/8" };
        var tune = new Command("tune", "Compare [transfer] chunk_kb / window pairs with short bench runs; print a markdown table") { pairs };
        Actions.Set(tune, async (parse, ct) =>
        {
            var prefix = Environment.GetEnvironmentVariable("AKKA_MIGRATION_NETNS_PREFIX") is { Length: > 0 } p ? p : "amb";
            var defaults = new Dictionary<string, string>
            {
                ["BENCH_REPEATS"] = "2", ["BENCH_WORKLOADS"] = "256", ["BENCH_LINKS"] = "none", ["BENCH_SKIP_TEN"] = "1", ["BENCH_SKIP_SERVICE"] = "1",
                ["BENCH_SKIP_BIG"] = "1", ["BENCH_SKIP_COMPRESSION"] = "1", ["BENCH_NO_DOCS"] = "1",
            };
            var settings = BenchSettings.From(name => name is "BENCH_REPEATS" or "BENCH_LINKS" && Environment.GetEnvironmentVariable(name) is { Length: > 0 } set
                ? set
                : defaults.GetValueOrDefault(name));
            var runs = new List<BenchResults>();
            foreach (var pair in parse.GetRequiredValue(pairs))
            {
                var parts = pair.Split('/');
                if (parts.Length != 2)
                {
                    throw new ArgumentException($"a pair is chunk_kb/window, not '{pair}'");
                }
                var run = Repo.Path("build", "bench-tune", $"{parts[0]}-{parts[1]}");
                try
                {
                    await BenchRun.RunAsync(settings, Repo.ConfigPath, prefix, ct, run,
                        new Dictionary<string, string> { ["transfer.chunk_kb"] = parts[0], ["transfer.window"] = parts[1] });
                    runs.Add(ResultsFile.Read(Path.Combine(run, "results.jsonl")));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
                {
                    Progress.Fail("tune", $"run {pair} failed: {e.Message}");
                }
            }
            var table = TuningTable.Of(runs);
            await File.WriteAllLinesAsync(Repo.Path("build", "bench-tune", "table.md"), table, ct);
            foreach (var line in table)
            {
                Console.WriteLine(line);
            }
        });
        return tune;
    }

    private static Command Bench()
    {
        var bench = new Command("bench", "Benchmark live migration against podman by hand on two simulated hosts (BENCH_* variables change a run); prints the key figures last");
        Actions.Set(bench, async (_, ct) =>
        {
            var prefix = Environment.GetEnvironmentVariable("AKKA_MIGRATION_NETNS_PREFIX") is { Length: > 0 } p ? p : "amb";
            foreach (var line in await BenchRun.RunAsync(BenchSettings.FromEnvironment(), Repo.ConfigPath, prefix, ct))
            {
                Console.WriteLine(line);
            }
        });
        var results = new Argument<string>("results") { Description = "A run's results.jsonl" };
        var docs = new Option<string?>("--docs") { Description = "Where benchmark.md and its plots go (default: the results' folder)" };
        var report = new Command("report", "Write benchmark.md, its plots and figures.txt from a run's typed results; print the key figures") { results, docs };
        Actions.Set(report, (parse, _) =>
        {
            var path = Path.GetFullPath(parse.GetRequiredValue(results));
            var folder = Path.GetDirectoryName(path)!;
            foreach (var line in BenchReport.Write(ResultsFile.Read(path), parse.GetValue(docs) ?? folder, folder, BenchReport.NotesDirectory(Repo.Root)))
            {
                Console.WriteLine(line);
            }
            return Task.CompletedTask;
        });
        bench.Add(report);
        bench.Add(Tune());
        return bench;
    }
}
