using Akka.DistributedData;

namespace AkkaMigration.Node.Routing;

/// <summary>Where a job lives: its owner, whether its container still runs (settled jobs keep an owner for their result), and its service address if any.</summary>
/// <param name="Protected">A replica resumes the job if its owner's host is lost.</param>
public sealed record JobLocation(string Node, bool Active, string? Address = null, bool Protected = false);

/// <summary>
/// Who owns which job, replicated to every node with Akka.DistributedData (a last-writer-wins dictionary
/// from job id to <see cref="JobLocation"/>). Each node writes the entries of the jobs it takes or
/// hands on, so any node can send a request straight to a job's owner and count the peers' load.
/// </summary>
public static class JobDirectory
{
    public static readonly LWWDictionaryKey<string, JobLocation> Key = new("job-owners");

    /// <summary>Jobs whose containers run on each node.</summary>
    public static IReadOnlyDictionary<string, int> Load(IReadOnlyDictionary<string, JobLocation> entries) =>
        entries.Values.Where(l => l.Active).GroupBy(l => l.Node).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The candidate running fewest containers, by name among equals; null when there is none.</summary>
    public static string? LeastLoaded(IEnumerable<string> candidates, IReadOnlyDictionary<string, int> load) =>
        candidates.OrderBy(c => load.GetValueOrDefault(c)).ThenBy(c => c, StringComparer.Ordinal).FirstOrDefault();
}
