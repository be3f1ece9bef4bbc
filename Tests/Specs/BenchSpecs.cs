using System.Net;
using AkkaMigration.Harness.Bench;
using AkkaMigration.Harness.Bench.ByHand;
using AkkaMigration.Harness.Demos;
using AkkaMigration.Harness.Bench.Report;
using AkkaMigration.Harness.Bench.Results;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// The benchmark without podman: its by-hand baseline starts and moves the node's container, and
/// its report is computed from typed results.
/// </summary>
public sealed class BenchSpecs
{
    private static readonly MigrationConfig Config = ConfigLoader.Load(Repo.Path("config.ini"));

    private static BaselineCommands Baseline => new(Config.Container, Config.ServiceNetwork);

    [Fact]
    public void By_hand_s_worker_is_started_with_the_node_s_flags_and_only_its_own_name()
    {
        var spec = BaselineCommands.Worker(Config.Container.Image, 64);

        var byHand = Baseline.Run("amb-hand-none-64-1", spec);
        var node = PodmanRuntime.RunArguments(ContainerNames.For("bench-none-64-1"), spec, Config.Container, serviceNetwork: null);

        AssertSameBut(node, byHand, (ContainerNames.For("bench-none-64-1"), "amb-hand-none-64-1"));
        Assert.Contains("--pull=never", byHand);
        Assert.Contains("no-new-privileges", byHand);
        Assert.Contains("--pids-limit", byHand);
        Assert.StartsWith(BaselineCommands.NamePrefix, byHand[byHand.ToList().IndexOf("--name") + 1], StringComparison.Ordinal);
    }

    [Fact]
    public void By_hand_s_service_is_started_on_the_node_s_network_with_the_node_s_flags()
    {
        var address = Baseline.ServiceAddress;
        var spec = BaselineCommands.KeyValueService(Config.Container.Image, 7000, address, "amb-hand-kv-none-1");

        var byHand = Baseline.Run("amb-hand-kv-none-1", spec);
        var node = PodmanRuntime.RunArguments("amig-bench-kv-none-1", spec, Config.Container, Config.ServiceNetwork!.Name);

        AssertSameBut(node, byHand, ("amig-bench-kv-none-1", "amb-hand-kv-none-1"));
        Assert.Equal(ServiceNetwork.CreateArguments(Config.ServiceNetwork), Baseline.CreateNetwork());
        Assert.True(Config.ServiceNetwork.Subnet.Contains(System.Net.IPAddress.Parse(address)), $"{address} is outside the service network");
    }

    [Fact]
    public void By_hand_checkpoints_as_the_node_does_and_restores_with_print_stats_alone_added()
    {
        Assert.Equal(PodmanRuntime.CheckpointArguments("amb-hand-x", "/a.tar", Config.Container), Baseline.Checkpoint("amb-hand-x", "/a.tar"));

        var node = PodmanRuntime.RestoreArguments("amb-hand-x", "/a.tar");
        var byHand = Baseline.Restore("amb-hand-x", "/a.tar");

        Assert.Equal([.. node, "--print-stats"], byHand);
        Assert.Equal(node, (Baseline with { RestorePrintStats = false }).Restore("amb-hand-x", "/a.tar"));
    }

    [Fact]
    public void By_hand_s_packet_rules_are_the_node_s()
    {
        var address = Baseline.ServiceAddress;
        var parent = Config.ServiceNetwork!.Parent;

        Assert.Equal(PacketGuard.HoldRule(parent, IPAddress.Parse(address)), Baseline.Hold(address));
        Assert.Equal(PacketGuard.DropRule(parent, IPAddress.Parse(address)), Baseline.Drop(address));
        Assert.Contains($"ip daddr {address} tcp flags & (syn | ack) == syn drop", Baseline.Hold(address).Script, StringComparison.Ordinal);
    }

    /// <summary>Equal lists but for the named substitutions (the node's value, by hand's).</summary>
    private static void AssertSameBut(IReadOnlyList<string> node, IReadOnlyList<string> byHand, params (string Node, string ByHand)[] named)
    {
        var expected = node.Select(a => named.FirstOrDefault(n => n.Node == a) is { ByHand: { } replaced } ? replaced : a);
        Assert.Equal(expected, byHand);
    }

    [Fact]
    public void The_report_reads_its_figures_from_typed_results_and_judges_them_against_the_targets()
    {
        var directory = Directory.CreateTempSubdirectory("bench-report-");
        try
        {
            var file = new ResultsFile(Path.Combine(directory.FullName, "results.jsonl"));
            foreach (var record in FullRun())
            {
                file.Append(record);
            }

            var lines = BenchReport.Write(ResultsFile.Read(file.Path), directory.FullName, directory.FullName, directory.FullName);

            var figures = lines.Select(l => l.Split('=', 2)).Where(p => p.Length == 2 && !p[0].Contains(' ', StringComparison.Ordinal))
                .ToDictionary(p => p[0], p => p[1]);
            // 5117 ms ours over 5301 ms by hand, as in the run of 2026-12-02.
            Assert.Equal("0.97", figures["total_ratio_256mb"]);
            Assert.Contains("  total_ratio_256mb: missed (target <= 0.9)", lines);
            Assert.Equal("1.08", figures["small_job_ratio"]);
            Assert.Contains("  small_job_ratio: met (target <= 1.1)", lines);
            Assert.Equal("true", figures["service_ok_256mb"]);
            Assert.Equal("8434", figures["service_pause_ms_256mb"]);
            Assert.Equal("true", figures["concurrent_10_ok"]);
            Assert.Equal("true", figures["big_4gb_ok"]);
            // Nothing of 1gbit was measured: its figures are skipped, not failed.
            Assert.Equal("skipped", figures["total_ratio_256mb_1gbit"]);
            Assert.Equal("lz4", figures["compression_best_compressible"]);
            Assert.Equal("precopy=unsupported", lines.Single(l => l.StartsWith("precopy=", StringComparison.Ordinal)));

            var page = File.ReadAllText(Path.Combine(directory.FullName, "benchmark.md"));
            Assert.Contains("| `total_ratio_256mb` | 0.97 | <= 0.9 | **missed** |", page, StringComparison.Ordinal);
            Assert.Contains("Machine shared: **yes**", page, StringComparison.Ordinal);
            foreach (var png in new[] { "benchmark.png", "benchmark-1gbit.png", "benchmark-big-none.png" })
            {
                var bytes = File.ReadAllBytes(Path.Combine(directory.FullName, png));
                Assert.True(bytes.Length > 1_000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', $"{png} is no plot");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_failed_part_becomes_its_figures_reason()
    {
        var records = FullRun().Where(r => r is not OursMove { Series: Series.Main, Mb: 256 })
            .Append(new PartFailed("ours", "none", 256, 1, null, null, "migrate bench-none-256-1 failed: no space left"));

        var lines = FigureLines.Of(new BenchFigures(new BenchResults([.. records])));

        Assert.Contains("total_ratio_256mb=failed reason=\"ours 256 MB #1: migrate bench-none-256-1 failed: no space left\"", lines);
    }

    [Fact]
    public void The_failover_figures_are_medians_and_a_protected_worker_s_loss_is_against_the_unprotected_one_beside_it()
    {
        var records = FullRun().Append(new FailoverTimed(1, 3, 14_000, 9_000, 2_000, "nodeA"))
            .Append(new ProtectionThroughput(1, 64, 3, [new("none", 600, 60, 0), new("5s", 570, 60, 12), new("30s", 594, 60, 2)]))
            .Append(new ProtectionPause(0, 1, 3, [200, 180, 190], 900_000))
            .Append(new ProtectionPause(256, 1, 3, [1500, 1400, 1600], 270_000_000));

        var lines = FigureLines.Of(new BenchFigures(new BenchResults([.. records])));

        Assert.Contains("failover_ms=14000", lines);
        Assert.Contains("failover_lease_ms=9000", lines);
        Assert.Contains("failover_restore_ms=2000", lines);
        Assert.Contains("protect_overhead_5s=0.050", lines);
        Assert.Contains("protect_overhead_30s=0.010", lines);
        Assert.Contains("protect_pause_ms_0mb=190", lines);
        Assert.Contains("protect_pause_ms_256mb=1500", lines);
    }

    [Fact]
    public void Failover_figures_whose_hosts_never_came_up_carry_that_reason()
    {
        var records = FullRun().Append(new PartFailed("fenced-cluster", "none", null, 1, null, null, "nodeC's agent held no lease"));

        var lines = FigureLines.Of(new BenchFigures(new BenchResults([.. records])));

        Assert.Contains("failover_ms=failed reason=\"nodeC's agent held no lease\"", lines);
        Assert.Contains("protect_overhead_5s=failed reason=\"nodeC's agent held no lease\"", lines);
    }

    private static readonly NodeMemory Memory = new(100_000, 100_000, 109_216, 104_000);

    private static IEnumerable<BenchRecord> FullRun()
    {
        var settings = BenchSettings.From(name => name switch
        {
            "BENCH_REPEATS" => "1",
            "BENCH_LINKS" => "none 1gbit",
            "BENCH_BIG" => "4096",
            "BENCH_BIG_LINKS" => "none",
            "BENCH_COMPRESSION" => "none lz4",
            _ => null,
        });
        yield return new RunFacts("2026-12-02T09:38Z", 2, "6.18", "4.2.1", "4.3.1", false, "amb", 1024, 8, 8192, 600, ["amt"], 0, 2.1, "", settings);
        var stats = new Dictionary<string, double> { ["podman_checkpoint_duration"] = 1_687_000, ["pages_written"] = 65_000 };
        yield return new HandMove(Series.Main, "none", 0, 1, 3, 690, 45, 701, 1436, 1_000_000, stats, new Dictionary<string, double>());
        yield return new OursMove(Series.Main, "none", 0, 1, 3, new OursTimings(2000, 1497, 1458, 690, 28, 711, 20, 1_000_000), Memory);
        yield return new HandMove(Series.Main, "none", 256, 1, 4, 1687, 1208, 2406, 5301, 269_000_000, stats, new Dictionary<string, double>());
        yield return new OursMove(Series.Main, "none", 256, 1, 4, new OursTimings(5600, 5117, 5000, 2641, 100, 2223, 1900, 269_000_000), Memory);
        foreach (var path in new[] { MovePath.Hand, MovePath.Ours })
        {
            var pause = path == MovePath.Hand ? 10659 : 8434;
            yield return new ServiceMove(path, "none", 256, 1, 4, 300_000,
                path == MovePath.Hand ? new HandSteps(3000, 800, 3000, 6800, 400_000_000) : null,
                path == MovePath.Ours ? new OursTimings(7000, 6500, 6400, 3000, 100, 3000, 2500, 400_000_000) : null,
                path == MovePath.Ours ? Memory : null, new KeyValueLoadSummary(9000, 0, true, 0, pause));
        }
        yield return new TenMoves(TenMode.Serial, 1, 5, 22661, 10, 10, [new SerialMoveTime(2200, 1400)]);
        yield return new TenMoves(TenMode.Concurrent, 1, 5, 24533, 10, 10, []);
        yield return new ClientStatus(1, 3, 831, 1075);
        yield return new OursMove(Series.Big, "none", 4096, 1, 6, new OursTimings(74000, 73100, 73000, 30000, 500, 40000, 29000, 4_300_000_000), Memory);
        foreach (var (compression, text) in new[] { ("none", 5090L), ("lz4", 3770L) })
        {
            yield return new CompressedMove(compression, "text", "none", 256, 1, 4, new OursTimings(text + 400, text, text - 50, 2000, 100, 1500, 1800, 100_000_000), Memory);
            yield return new CompressedMove(compression, "random", "none", 256, 1, 4, new OursTimings(5400, 4851, 4800, 2000, 100, 2000, 1900, 269_000_000), Memory);
        }
        yield return new RunEnded(0);
    }
}
