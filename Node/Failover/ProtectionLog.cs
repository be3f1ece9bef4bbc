using System.Text.RegularExpressions;

namespace AkkaMigration.Node.Failover;

/// <summary>
/// The owner's log line for each protection checkpoint a replica host kept, as <see cref="ProtectionRound"/>
/// writes it: the demo, the benchmark and the fault tests read it from here, never from a copy.
/// </summary>
public static partial class ProtectionLog
{
    /// <summary>Akka's template; arguments: job, archive bytes, frozen ms, the hosts that kept it, the round's ms.</summary>
    public const string Kept = "job {0}: protection checkpoint of {1} bytes (frozen {2} ms) kept on {3} after {4} ms";

    /// <summary>What every such line of <paramref name="jobId"/> starts with.</summary>
    public static string KeptPrefix(string jobId) => $"job {jobId}: protection checkpoint of ";

    /// <summary>One kept line: groups job, bytes, frozen and hosts (comma-separated).</summary>
    [GeneratedRegex(@"job (?<job>\S+): protection checkpoint of (?<bytes>\d+) bytes \(frozen (?<frozen>\d+) ms\) kept on (?<hosts>\S+(?:, \S+)*) after \d+ ms")]
    public static partial Regex KeptLine();
}
