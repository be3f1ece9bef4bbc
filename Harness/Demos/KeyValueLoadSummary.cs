using System.Text.RegularExpressions;

namespace AkkaMigration.Harness.Demos;

/// <summary>
/// The last line of <c>worker kv-load</c> (container/KeyValueLoad.cs), e.g.
/// <c>kv-load writes=41230 acked=41230 lost=0 connection_kept=true reconnects=0 longest_pause_ms=640 elapsed_ms=10012</c>.
/// </summary>
public sealed partial record KeyValueLoadSummary(long Acked, long Lost, bool ConnectionKept, long Reconnects, long LongestPauseMs)
{
    /// <summary>The summary in the load's output (its last kv-load line), or null when it printed none.</summary>
    public static KeyValueLoadSummary? Find(string output)
    {
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("kv-load ", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        var fields = Field().Matches(line).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        long Number(string key) => long.Parse(fields[key]);
        return new KeyValueLoadSummary(Number("acked"), Number("lost"), fields["connection_kept"] == "true", Number("reconnects"), Number("longest_pause_ms"));
    }

    [GeneratedRegex(@"(\w+)=(\S+)")]
    private static partial Regex Field();
}
