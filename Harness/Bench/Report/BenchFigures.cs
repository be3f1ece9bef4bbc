using AkkaMigration.Harness.Bench.Results;
using static AkkaMigration.Harness.Bench.Report.Stat;

namespace AkkaMigration.Harness.Bench.Report;

/// <summary>
/// A run's figures, computed from its typed results: per link and workload, the service, the N jobs,
/// the client's start-up, the big containers and compression, and the key figures with their targets.
/// </summary>
public sealed class BenchFigures
{
    public static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>
    {
        ["random"] = "incompressible",
        ["text"] = "compressible",
    };

    public BenchFigures(BenchResults results)
    {
        Results = results;
        var settings = results.Settings;
        Links = [.. settings.Links.Union(results.Hand.Concat<BenchRecord>(results.Ours).Concat(results.Services).Select(LinkOf).OfType<string>())];
        Workloads = [.. settings.Workloads.Union(results.Hand.Where(r => r.Series == Series.Main).Select(r => r.Mb))
            .Union(results.Ours.Where(r => r.Series == Series.Main).Select(r => r.Mb)).Order()];
        foreach (var link in Links)
        {
            foreach (var mb in Workloads)
            {
                Moves[(link, mb)] = MovesOf(Series.Main, link, mb);
            }
            Service[link] = new ServiceFigures([.. results.Services.Where(s => s.Link == link)]);
        }
        BigLinks = settings.SkipBig ? [] : [.. settings.BigLinks];
        BigLinks = [.. BigLinks.Union(results.Hand.Concat<BenchRecord>(results.Ours).Where(r => r is HandMove { Series: Series.Big } or OursMove { Series: Series.Big })
            .Select(LinkOf).OfType<string>())];
        BigSizes = [.. (BigLinks.Count > 0 ? settings.Big : []).Union(results.Hand.Where(r => r.Series == Series.Big).Select(r => r.Mb))
            .Union(results.Ours.Where(r => r.Series == Series.Big).Select(r => r.Mb)).Order()];
        foreach (var link in BigLinks)
        {
            foreach (var mb in BigSizes)
            {
                BigMoves[(link, mb)] = MovesOf(Series.Big, link, mb);
            }
        }
        Compressions = [.. (settings.SkipCompression ? [] : settings.Compressions).Union(results.Compressed.Select(c => c.Compression))];
        CompressionLinks = [.. (Compressions.Count > 0 ? Links : []).Union(results.Compressed.Select(c => c.Link))];
        foreach (var link in CompressionLinks)
        {
            foreach (var kind in Kinds.Keys)
            {
                foreach (var compression in Compressions)
                {
                    Compression[(link, kind, compression)] = new CompressionFigures(
                        [.. results.Compressed.Where(c => c.Link == link && c.State == kind && c.Compression == compression)],
                        results.Failures.Count(f => f.Part == "comp" && f.Link == link && f.State == kind && f.Compression == compression));
                }
            }
        }
        Keys = KeyFigures();
    }

    public BenchResults Results { get; }
    public IReadOnlyList<string> Links { get; }
    public IReadOnlyList<int> Workloads { get; }
    public IReadOnlyList<string> BigLinks { get; }
    public IReadOnlyList<int> BigSizes { get; }
    public IReadOnlyList<string> Compressions { get; }
    public IReadOnlyList<string> CompressionLinks { get; }
    public Dictionary<(string Link, int Mb), MoveFigures> Moves { get; } = [];
    public Dictionary<string, ServiceFigures> Service { get; } = [];
    public Dictionary<(string Link, int Mb), MoveFigures> BigMoves { get; } = [];
    public Dictionary<(string Link, string Kind, string Compression), CompressionFigures> Compression { get; } = [];
    public IReadOnlyList<KeyFigure> Keys { get; }

    public int LargestWorkload => Workloads.Count > 0 ? Workloads[^1] : 256;
    public int SmallestWorkload => Workloads.Count > 0 ? Workloads[0] : 0;
    public int ServiceMb => Results.Settings.ServiceMb;
    public int TenCount => Results.Settings.Ten;

    /// <summary>The workloads the targets are written for.</summary>
    public bool Full => LargestWorkload == 256 && SmallestWorkload == 0;

    public IReadOnlyList<TenMoves> Serial => [.. Results.Ten.Where(t => t.Mode == TenMode.Serial)];
    public IReadOnlyList<TenMoves> Concurrent => [.. Results.Ten.Where(t => t.Mode == TenMode.Concurrent)];
    public double SerialMs => Median(Serial.Select(t => t.WallMs));
    public double ConcurrentMs => Median(Concurrent.Select(t => t.WallMs));
    public bool SerialOk => Serial.Count > 0 && Serial.All(t => t.Ok == t.Of);
    public bool ConcurrentOk => Concurrent.Count > 0 && !Results.Failures.Any(f => f.Part == "ten-concurrent") && Concurrent.All(t => t.Ok == t.Of);
    public double StatusMs => Median(Results.Status.Select(s => s.WallMs));
    public double StatusDllMs => Median(Results.Status.Select(s => s.DllMs));

    /// <summary>Whether anything else ran on the machine at the start or the end.</summary>
    public bool Shared => Results.Facts.OtherNetns.Count > 0 || Results.Facts.TestProcesses > 0 || Results.TestProcessesAtEnd > 0;

    /// <summary>Why the concurrent moves are not all ok, or "not run".</summary>
    public string ConcurrentReason =>
        Results.Failures.Any(f => f.Part == "ten-concurrent") ? Why(["ten-concurrent"])
        : Concurrent.Count == 0 ? NotRun
        : string.Join("; ", Concurrent.Where(t => t.Ok != t.Of).Select(t => $"#{t.Rep}: {t.Ok} of {t.Of} moved"));

    public const string NotRun = "not run";

    /// <summary>2048 is 2gb, 64 is 64mb: the big keys' names.</summary>
    public static string SizeLabel(int mb) => mb != 0 && mb % 1024 == 0 ? $"{mb / 1024}gb" : $"{mb}mb";

    /// <summary>A figure of a shaped link carries the link's name.</summary>
    public static string Suffix(string link) => link == "none" ? "" : $"_{link}";

    /// <summary>The reasons of the failed parts a figure needs, or "not run".</summary>
    public string Why(IReadOnlyCollection<string> parts, string? link = null, int? mb = null)
    {
        var found = Results.Failures.Where(f => parts.Contains(f.Part) && (link is null || f.Link == link) && (mb is null || f.Mb == mb))
            .Concat(Results.Failures.Where(f => f.Part == "link" && link is not null && f.Link == link)).ToList();
        return found.Count == 0
            ? NotRun
            : string.Join("; ", found.Select(f => $"{f.Part}{(f.Mb is { } m ? $" {m} MB" : "")} #{f.Rep?.ToString() ?? "-"}: {f.Reason}").Distinct());
    }

    /// <summary>The setting with the shortest median total for a link and kind, and that total over none's.</summary>
    public (string? Best, double Gain) CompressionBest(string link, string kind)
    {
        var measured = Compressions.Select(c => (Total: Compression[(link, kind, c)].Total, Setting: c)).Where(m => Measured(m.Total)).ToList();
        if (measured.Count == 0)
        {
            return (null, double.NaN);
        }
        var best = measured.MinBy(m => m.Total);
        return (best.Setting, Compression.TryGetValue((link, kind, "none"), out var none) ? Ratio(best.Total, none.Total) : double.NaN);
    }

    private MoveFigures MovesOf(Series series, string link, int mb) => new(
        [.. Results.Hand.Where(r => r.Series == series && r.Link == link && r.Mb == mb)],
        [.. Results.Ours.Where(r => r.Series == series && r.Link == link && r.Mb == mb)]);

    private static string? LinkOf(BenchRecord record) => record switch
    {
        HandMove h => h.Link,
        OursMove o => o.Link,
        ServiceMove s => s.Link,
        _ => null,
    };

    private List<KeyFigure> KeyFigures()
    {
        var keys = new List<KeyFigure>();
        void Key(string name, double value, int decimals, string[] parts, string? link = null, int? mb = null, string? op = null, double? target = null) =>
            keys.Add(new KeyFigure(name, KeyValue.Of(value, decimals), Measured(value) ? null : Why(parts, link, mb), op, target));

        var big = LargestWorkload;
        var small = SmallestWorkload;
        foreach (var link in Links)
        {
            var b = Moves[(link, big)];
            var s = Moves[(link, small)];
            var v = Service[link];
            var bare = link == "none";
            var sfx = Suffix(link);
            Key($"total_ratio_{big}mb{sfx}", Ratio(b.OursClient, b.HandTotal), 2, ["hand", "ours"], link, big, "<=",
                Full ? bare ? 0.9 : link == "1gbit" ? 0.75 : null : null);
            Key($"throughput_ratio{sfx}", Ratio(b.OursMbs, b.RawMbs), 2, ["hand", "ours"], link, big, ">=", Full && bare ? 0.5 : null);
            Key($"rss_growth_mb_{big}mb{sfx}", b.GrowthMax, 0, ["ours"], link, big, "<=", Full ? 64 : null);
            Key($"small_job_ratio{sfx}", Ratio(s.OursClient, s.HandCheckpointRestore), 2, ["hand", "ours"], link, small, "<=", Full && bare ? 1.1 : null);
            Key($"service_pause_ms_{ServiceMb}mb{sfx}", v.OursPause, 0, ["svc-ours"], link, null, "<", Measured(v.HandPause) ? v.HandPause : null);
            Key($"hand_service_pause_ms_{ServiceMb}mb{sfx}", v.HandPause, 0, ["svc-hand"], link);
            if (bare)
            {
                // The first benchmark's secondary figures, kept: the client process's wall time instead of
                // clientMs, and the node's TotalMs over by hand's total.
                Key($"total_ratio_{big}mb_wall", Ratio(b.OursWall, b.HandTotal), 2, ["hand", "ours"], link, big);
                Key("small_job_ratio_wall", Ratio(s.OursWall, s.HandCheckpointRestore), 2, ["hand", "ours"], link, small);
                Key($"downtime_ratio_{big}mb", Ratio(b.OursNodeTotal, b.HandTotal), 2, ["hand", "ours"], link, big);
            }
        }
        Key($"serial_{TenCount}_ms", SerialMs, 0, ["ten-serial"]);
        Key($"concurrent_{TenCount}_ms", ConcurrentMs, 0, ["ten-concurrent"]);
        Key("concurrent_ratio", Ratio(ConcurrentMs, SerialMs), 2, ["ten-serial", "ten-concurrent"], op: "<=", target: TenCount == 10 ? 0.5 : null);
        Key("client_status_wall_ms", StatusMs, 0, ["status"]);
        Key("client_status_wall_ms_dll", StatusDllMs, 0, ["status"]);
        // Issue 16's big containers, beside the figures above: the 2 GB ones carry its targets.
        var handMax = Results.Settings.BigHandMax;
        foreach (var link in BigLinks)
        {
            var bare = link == "none";
            foreach (var mb in BigSizes)
            {
                var x = BigMoves[(link, mb)];
                var label = SizeLabel(mb);
                var two = mb == 2048;
                if (mb <= handMax)
                {
                    Key($"total_ratio_{label}{Suffix(link)}", Ratio(x.OursClient, x.HandTotal), 2, ["big-hand", "big-ours"], link, mb, "<=",
                        two && link == "1gbit" ? 0.75 : null);
                    Key($"throughput_ratio_{label}{Suffix(link)}", Ratio(x.OursMbs, x.RawMbs), 2, ["big-hand", "big-ours"], link, mb, ">=",
                        two && bare ? 0.8 : null);
                }
                Key($"rss_growth_mb_{label}{Suffix(link)}", x.GrowthMax, 0, ["big-ours"], link, mb, "<=", two && bare ? 96 : null);
            }
        }
        foreach (var mb in BigSizes)
        {
            // true: moved on every big link, and no move of this size failed; false: the reasons.
            var failed = Results.Failures.Any(f => f.Part == "big-ours" && f.Mb == mb);
            var problems = (failed ? [Why(["big-ours"], null, mb)] : new List<string>())
                .Concat(BigLinks.Where(l => BigMoves[(l, mb)].OursCount == 0 && !Results.Failures.Any(f => f.Part == "big-ours" && f.Mb == mb && f.Link == l))
                    .Select(l => $"no move on link {l}")).ToList();
            keys.Add(new KeyFigure($"big_{SizeLabel(mb)}_ok", KeyValue.Word(problems.Count > 0 ? "false" : "true"),
                problems.Count > 0 ? string.Join("; ", problems) : null, "==", mb == 4096 ? 1 : null));
        }
        // Compression: the setting that moved each kind of memory fastest on each link, and its total over none's.
        foreach (var link in CompressionLinks)
        {
            foreach (var (kind, label) in Kinds)
            {
                var (best, gain) = CompressionBest(link, kind);
                keys.Add(new KeyFigure($"compression_best{Suffix(link)}_{label}", best is null ? KeyValue.Missing : KeyValue.Word(best),
                    best is null ? Why(["comp", "comp-nodes"], link) : null, null, null));
                Key($"compression_gain{Suffix(link)}_{label}", gain, 2, ["comp", "comp-nodes"], link);
            }
        }
        return keys;
    }
}
