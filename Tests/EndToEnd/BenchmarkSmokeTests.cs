using System.Globalization;
using AkkaMigration.Harness.Bench;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Tests.Integration;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// `make bench`'s slice in `make test`: every part of the benchmark once at small size
/// (`BENCH_QUICK=1`) through the harness, so a change that breaks a part shows here and not only in the long run.
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Bench")]
public sealed class BenchmarkSmokeTests(SimulatedHosts hosts)
{
    [Fact]
    public async Task The_quick_benchmark_measures_every_part_and_each_move_keeps_its_service_and_its_jobs()
    {
        var prefix = $"{SimulatedHosts.NetnsPrefix}b";

        // The benchmark's clients are the bundle's: a fresh clone builds it first (a minute and a half).
        // Not `make bench`, whose set-up would build the solution these tests run from.
        var dist = await Shell.RunAsync("make", ["-s", "dist"], TimeSpan.FromMinutes(8));
        Assert.True(dist.ExitCode == 0, $"make dist failed ({dist.ExitCode}): {dist.StandardError}");

        // About five minutes.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        var settings = BenchSettings.From(name => name == "BENCH_QUICK" ? "1" : null);
        var lines = await BenchRun.RunAsync(settings, hosts.ConfigPath, prefix, limit.Token);

        var figures = lines.Select(l => l.Split('=', 2)).Where(p => p.Length == 2 && !p[0].Contains(' ', StringComparison.Ordinal))
            .ToDictionary(p => p[0], p => p[1]);
        Assert.DoesNotContain(figures, f => f.Value.StartsWith("failed", StringComparison.Ordinal));
        Assert.All(["service_ok_16mb", "service_ok_16mb_1gbit", "hand_service_ok_16mb", "concurrent_3_ok", "big_64mb_ok"],
            name => Assert.Equal("true", figures.GetValueOrDefault(name)));
        Assert.True(double.Parse(figures["small_job_ratio"], CultureInfo.InvariantCulture) > 0, "small_job_ratio is not a number");

        var run = BenchRun.RunDirectory(settings);
        var results = ResultsFile.Read(Path.Combine(run, "results.jsonl"));
        Assert.Empty(results.Failures);
        Assert.All(results.Hand, h => Assert.True(h.TotalMs > 0 && h.Bytes > h.Mb * 1024L * 1024, $"by hand's {h.Mb} MB move: {h}"));
        Assert.All(results.Ours, o => Assert.True(o.Move.ClientMs > 0 && o.Move.Bytes > o.Mb * 1024L * 1024, $"ours' {o.Mb} MB move: {o}"));
        Assert.All(results.Services, s => Assert.True(s.KeptEverything, $"the {s.Path} service move lost writes or the connection: {s.Client}"));
        Assert.Equal(2 * 2 * 2, results.Compressed.Count(c => c.Compression is "none" or "lz4"));
        Assert.True(File.Exists(Path.Combine(run, "benchmark.md")) && File.Exists(Path.Combine(run, "benchmark.png")), "the quick slice's report is missing");
        Assert.DoesNotContain($"{prefix}-", await Shell.CheckedAsync("ip", "netns", "list"));
    }
}
