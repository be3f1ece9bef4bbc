using System.Globalization;

namespace AkkaMigration.Node.Jobs;

/// <summary>How the demo worker is called and how its output lines are read.</summary>
public static class WorkerOutput
{
    public static string[] Arguments(long number, int workMillis, int stateMb) =>
        ["--number", number.ToString(CultureInfo.InvariantCulture),
         "--work-ms", workMillis.ToString(CultureInfo.InvariantCulture),
         "--state-mb", stateMb.ToString(CultureInfo.InvariantCulture)];

    /// <summary>The "RESULT value=… checksum=… intact=…" line, if the worker got that far.</summary>
    public static (long Value, string Checksum, bool Intact)? Result(IEnumerable<string> lines)
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

    public static string ContainerName(string jobId) => $"amig-{jobId}";
}
