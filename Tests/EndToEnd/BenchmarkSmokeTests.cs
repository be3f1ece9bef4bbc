using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// `make bench`'s slice in `make test`: every part of the benchmark once at small size
/// (`BENCH_QUICK=1`), so a change that breaks a part shows here and not only in the long run.
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
        var run = await Shell.RunAsync(Repo.Path("scripts", "bench.sh"), [], TimeSpan.FromMinutes(20),
            environment: new Dictionary<string, string?>
            {
                ["BENCH_QUICK"] = "1", ["AKKA_MIGRATION_NETNS_PREFIX"] = prefix, ["AKKA_MIGRATION_CONFIG"] = hosts.ConfigPath,
            });

        Assert.True(run.ExitCode == 0, $"bench.sh with BENCH_QUICK=1 failed ({run.ExitCode}): {run.StandardError}\n{run.StandardOutput}");
        var figures = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        Assert.DoesNotContain(figures, f => f.Value.StartsWith("failed", StringComparison.Ordinal));
        Assert.All(["service_ok_16mb", "service_ok_16mb_1gbit", "concurrent_3_ok", "big_64mb_ok"], name => Assert.Equal("true", figures.GetValueOrDefault(name)));
        Assert.True(double.Parse(figures["small_job_ratio"], System.Globalization.CultureInfo.InvariantCulture) > 0, "small_job_ratio is not a number");
        Assert.DoesNotContain($"{prefix}-", await Shell.CheckedAsync("ip", "netns", "list"));
    }
}
