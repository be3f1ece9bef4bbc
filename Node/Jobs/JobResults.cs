using System.Globalization;
using AkkaMigration.Node.Journal;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>How a job's outcome is read from its container once it has exited, as its <see cref="JobSpec.Result"/> says.</summary>
public static class JobResults
{
    /// <summary>
    /// Lines of a container's output read once it has exited: the worker prints its result line last,
    /// and every job keeps them in its record, for <c>logs</c>.
    /// </summary>
    public const int OutputTail = 20;

    /// <param name="Error">Null when the job completed.</param>
    /// <param name="Output">What the container printed last.</param>
    public sealed record Outcome(JobResult? Result, string? Error, int? ExitCode, LogLine[] Output);

    public static Outcome Read(JobSpec spec, IReadOnlyList<LogLine> lines, int exitCode, string node)
    {
        LogLine[] output = [.. lines];
        if (spec.Result == ResultSource.ExitCode)
        {
            return new Outcome(null, exitCode == 0 ? null : $"the container exited with code {exitCode}", exitCode, output);
        }
        return WorkerResult(lines.Select(l => l.Text)) is { } r
            ? new Outcome(new JobResult(r.Value, r.Checksum, r.Intact, node), null, null, output)
            : new Outcome(null, $"the worker exited with code {exitCode}: {lines.LastOrDefault()?.Text ?? "no output"}", null, output);
    }

    /// <summary>Why a settled job cannot move: what it ended with.</summary>
    public static string NothingToMigrate(JobRecord record) => record switch
    {
        { Result: { } result } => $"the job already finished with result {result.Value}; there is nothing left to migrate",
        { Error: null, ExitCode: { } code } => $"the container already exited with code {code}; there is nothing left to migrate",
        _ => $"the job failed ({record.Error}); there is nothing to migrate",
    };

    /// <summary>The "RESULT value=… checksum=… intact=…" line, if the worker got that far.</summary>
    public static (long Value, string Checksum, bool Intact)? WorkerResult(IEnumerable<string> lines)
    {
        var line = lines.LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Skip(1)
            .Select(f => f.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
        return fields.TryGetValue("value", out var value) && long.TryParse(value, CultureInfo.InvariantCulture, out var v)
            ? (v, fields.GetValueOrDefault("checksum", ""), fields.GetValueOrDefault("intact") == "true")
            : null;
    }
}
