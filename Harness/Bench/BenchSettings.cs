using System.Globalization;

namespace AkkaMigration.Harness.Bench;

/// <summary>
/// A run's knobs, from the environment variables the bash benchmark took (BENCH_QUICK, BENCH_REPEATS, ...),
/// so `make bench BENCH_REPEATS=1` keeps working.
/// </summary>
/// <param name="Quick">BENCH_QUICK=1: each part once at small size; everything stays in build/bench-quick/.</param>
/// <param name="NoDocs">BENCH_NO_DOCS=1: the report goes to the run's folder, docs/ stays as it is.</param>
/// <param name="FailPart">BENCH_FAIL_PART=NAME: that part fails on purpose, to see the rest of the run go on.</param>
/// <param name="SkipFailover">BENCH_SKIP_FAILOVER=1 (the quick slice's default): no failover or protection parts.</param>
/// <param name="FailoverOnly">BENCH_FAILOVER_ONLY=1 (`make bench-failover`): only the failover and protection parts, in build/bench-failover/.</param>
/// <param name="ProtectWindowSeconds">How long the unprotected and protected workers run side by side for their throughput.</param>
/// <param name="ProtectMb">The state of those workers.</param>
/// <param name="PauseMb">The states whose pause per protection checkpoint is measured.</param>
public sealed record BenchSettings(
    bool Quick, int Repeats, IReadOnlyList<int> Workloads, IReadOnlyList<string> Links, int ServiceMb, int Ten,
    bool SkipTen, bool SkipService, IReadOnlyList<int> Big, IReadOnlyList<string> BigLinks, int BigHandMax, bool SkipBig,
    IReadOnlyList<string> Compressions, int CompressionMb, bool SkipCompression, int RestoreTimeoutSeconds,
    bool NoDocs, string? FailPart, bool SkipFailover = false, bool FailoverOnly = false, int ProtectWindowSeconds = 60, int ProtectMb = 64,
    IReadOnlyList<int>? PauseMb = null)
{
    public static BenchSettings FromEnvironment() => From(Environment.GetEnvironmentVariable);

    public static BenchSettings From(Func<string, string?> variable)
    {
        var quick = variable("BENCH_QUICK") == "1";
        string Get(string name, string full, string quickValue) =>
            variable(name) is { Length: > 0 } set ? set : quick ? quickValue : full;
        int Number(string name, string full, string quickValue) => int.Parse(Get(name, full, quickValue), CultureInfo.InvariantCulture);
        IReadOnlyList<string> Words(string name, string full, string quickValue) =>
            Get(name, full, quickValue).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        IReadOnlyList<int> Numbers(string name, string full, string quickValue) =>
            [.. Words(name, full, quickValue).Select(w => int.Parse(w, CultureInfo.InvariantCulture))];
        bool Flag(string name, string quickValue = "0") => Get(name, "0", quickValue) == "1";

        return new BenchSettings(
            Quick: quick,
            Repeats: Number("BENCH_REPEATS", "3", "1"),
            Workloads: Numbers("BENCH_WORKLOADS", "0 64 256", "0 16"),
            Links: Words("BENCH_LINKS", "none 10gbit 1gbit", "none 1gbit"),
            ServiceMb: Number("BENCH_SERVICE_MB", "256", "16"),
            Ten: Number("BENCH_TEN", "10", "3"),
            SkipTen: Flag("BENCH_SKIP_TEN"),
            SkipService: Flag("BENCH_SKIP_SERVICE"),
            Big: Numbers("BENCH_BIG", "1024 2048 4096", "64"),
            BigLinks: Words("BENCH_BIG_LINKS", "1gbit none", "none 1gbit"),
            BigHandMax: Number("BENCH_BIG_HAND_MAX", "2048", "2048"),
            SkipBig: Flag("BENCH_SKIP_BIG"),
            Compressions: Words("BENCH_COMPRESSION", "none lz4 zstd gzip", "none lz4 zstd gzip"),
            CompressionMb: Number("BENCH_COMPRESSION_MB", "256", "16"),
            SkipCompression: Flag("BENCH_SKIP_COMPRESSION"),
            RestoreTimeoutSeconds: Number("BENCH_RESTORE_TIMEOUT_S", "600", "600"),
            NoDocs: Flag("BENCH_NO_DOCS", quickValue: "1"),
            FailPart: variable("BENCH_FAIL_PART") is { Length: > 0 } fail ? fail : null,
            SkipFailover: Flag("BENCH_SKIP_FAILOVER", quickValue: "1"),
            FailoverOnly: Flag("BENCH_FAILOVER_ONLY"),
            ProtectWindowSeconds: Number("BENCH_PROTECT_WINDOW_S", "60", "20"),
            ProtectMb: Number("BENCH_PROTECT_MB", "64", "16"),
            PauseMb: Numbers("BENCH_PROTECT_PAUSE_MB", "0 256", "0 16"));
    }

    /// <summary>The BENCH_ variables set for this run, as the report's command shows them.</summary>
    public static string CommandLine(IEnumerable<KeyValuePair<string, string>> environment) =>
        string.Join(' ', environment.Where(e => e.Key.StartsWith("BENCH_", StringComparison.Ordinal))
            .OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"));
}
