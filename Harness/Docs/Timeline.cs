using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AkkaMigration.Harness.Processes;

namespace AkkaMigration.Harness.Docs;

/// <summary>
/// One migration's timeline from a real run's node logs, for the README's picture: writes
/// docs/timeline.log (the log lines it reads) and docs/timeline.tsv (one bar per row), from which
/// <c>make docs</c> draws docs/timeline.png (docs/timeline.gp). Both files are committed, so the picture
/// can be drawn again without the run.
/// </summary>
public static partial class Timeline
{
    /// <summary>From <paramref name="run"/>'s nodeA.log and nodeB.log (build/demo, where <c>make demo</c> leaves them).</summary>
    /// <returns>The rows written to docs/timeline.tsv.</returns>
    public static string Write(string run)
    {
        var (sourceLog, targetLog) = (Path.Combine(run, "nodeA.log"), Path.Combine(run, "nodeB.log"));
        if (!File.Exists(sourceLog) || !File.Exists(targetLog))
        {
            throw new InvalidOperationException($"no nodeA.log and nodeB.log in {run}: run make demo first");
        }
        var source = File.ReadAllLines(sourceLog);
        var target = File.ReadAllLines(targetLog);
        // The source's line for the move, and the lines both nodes write at its steps, of the last move.
        var moved = source.LastOrDefault(l => MovedLine().IsMatch(l)) ?? throw new InvalidOperationException($"{sourceLog} has no completed migration");
        var fields = Fields(moved);
        var transfer = fields["transfer"];
        var lines = source.Where(l => l.Contains($"(transfer {transfer}", StringComparison.Ordinal) || l.Contains($"transfer={transfer} ", StringComparison.Ordinal))
            .Concat(target.Where(l => l.Contains($"(transfer {transfer}", StringComparison.Ordinal)))
            .Concat(target.Where(l => l.Contains($"ArchiveReceiver: restored job {fields["job"]} ", StringComparison.Ordinal)).TakeLast(1))
            .Order(StringComparer.Ordinal)
            .ToList();
        File.WriteAllLines(Repo.Path("docs", "timeline.log"), lines);
        var rows = Rows(lines);
        File.WriteAllText(Repo.Path("docs", "timeline.tsv"), rows);
        return rows;
    }

    /// <summary>
    /// Log times are hh:mm:ss.mmm on one machine's clock (the hosts share its kernel); every bar is in
    /// ms from the client's request, which the source's line dates as its own time minus total_ms.
    /// </summary>
    internal static string Rows(IEnumerable<string> lines)
    {
        long begin = 0, accepted = 0, restored = 0, restore = 0, confirmed = 0;
        Dictionary<string, string> move = [];
        foreach (var line in lines)
        {
            if (line.Contains(" OutgoingMigration: migrating job ", StringComparison.Ordinal))
            {
                begin = Ms(line);
            }
            else if (line.Contains(" ArchiveReceiver: receiving job ", StringComparison.Ordinal))
            {
                accepted = Ms(line);
            }
            else if (line.Contains(" ArchiveReceiver: restored job ", StringComparison.Ordinal))
            {
                restored = Ms(line);
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                restore = long.Parse(words[^2], CultureInfo.InvariantCulture);
            }
            else if (line.Contains(" OutgoingMigration: migration transfer=", StringComparison.Ordinal))
            {
                confirmed = Ms(line);
                move = Fields(line);
            }
        }
        long Field(string key) => long.Parse(move[key], CultureInfo.InvariantCulture);
        var (total, stream) = (Field("total_ms"), Field("stream_ms"));
        var request = confirmed - total;
        var checkpointed = begin + Field("checkpoint_ms");
        // The source hears "restoring" transfer_ms after its checkpoint ended; the stream ended before.
        var streamed = checkpointed + Field("transfer_ms");
        // podman checkpoint: runc (and CRIU inside it) first, then podman exports the archive. podman
        // times runc and CRIU but not when each began: CRIU is drawn at the start of the runc span.
        var start = begin - request;
        var (freezing, dumping) = (Field("criu_freezing_ms"), Field("criu_frozen_ms"));
        var megabytes = (Field("archive_bytes") / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
        var rows = new StringBuilder("# row\thost\tstart_ms\tend_ms\tlabel\n");
        (string Host, long Start, long End, string Label)[] bars =
        [
            ("nodeA", 0, begin - request, "pre-flight checks (it runs)"),
            ("nodeA", start, start + freezing, "CRIU freezes the container (A)"),
            ("nodeA", start + freezing, start + freezing + dumping, "CRIU dumps it, frozen (A)"),
            ("nodeA", start + freezing + dumping, checkpointed - request, "runc, then podman exports the archive (A)"),
            ("nodeB", accepted - request, streamed - stream - request, "B admits the transfer, waits"),
            ("stream", streamed - stream - request, streamed - request, $"archive stream A → B, {megabytes} MB"),
            ("nodeB", restored - restore - request, restored - request, "restore on B"),
            ("stream", restored - request, total, "confirmation B → A"),
            ("frozen", start, restored - request, "container frozen"),
        ];
        for (var i = 0; i < bars.Length; i++)
        {
            rows.Append(CultureInfo.InvariantCulture, $"{i + 1}\t{bars[i].Host}\t{bars[i].Start}\t{bars[i].End}\t{bars[i].Label}\n");
        }
        return rows.ToString();
    }

    private static long Ms(string line) =>
        (long)TimeSpan.ParseExact(line.Split(' ')[0], @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture).TotalMilliseconds;

    private static Dictionary<string, string> Fields(string line) =>
        Field().Matches(line).GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.First().Groups[2].Value);

    [GeneratedRegex("OutgoingMigration: migration transfer=.* result=moved")]
    private static partial Regex MovedLine();

    [GeneratedRegex(@"(\w+)=(\S+)")]
    private static partial Regex Field();
}
