using System.Text.Json;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Faults;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Nemesis;

/// <summary>
/// After a nemesis run: every acknowledged job ended exactly once, with its number + 1 from one
/// owner or with a failure that names its cause; no two copies of a worker ever ran at once; and no
/// job left a container behind once it ended.
/// </summary>
public static class NemesisChecker
{
    public sealed record Verdict(List<string> Lost, List<string> Duplicated, List<string> LeftBehind, List<string> Failed)
    {
        public bool Clean => Lost.Count == 0 && Duplicated.Count == 0 && LeftBehind.Count == 0;

        public IEnumerable<string> Problems => [.. Lost, .. Duplicated, .. LeftBehind];
    }

    public static async Task<Verdict> CheckAsync(SimulatedHosts hosts, IReadOnlyList<NemesisJob> jobs, ProcessCensus census, NemesisHistory history)
    {
        var verdict = new Verdict([], [], [], []);
        foreach (var job in jobs)
        {
            var ended = await EndAsync(hosts, job);
            history.Write("ended", $"{job.Id}: {ended}");
            if (ended.StartsWith("failed", StringComparison.Ordinal))
            {
                verdict.Failed.Add($"{job.Id}: {ended}");
            }
            else if (ended != $"result {job.Number + 1}")
            {
                verdict.Lost.Add($"{job.Id} lost: {ended}");
            }
            if (census.MostAtOnceOf(job.Number) > 1)
            {
                verdict.Duplicated.Add($"{job.Id}: {census.MostAtOnceOf(job.Number)} copies of its worker ran at once " +
                    $"({census.MostFrozenAtOnceOf(job.Number)} frozen at most)");
            }
        }
        var status = await hosts.StatusAsync();
        foreach (var job in jobs.Where(j => status.Owners(j.Id).Count > 1))
        {
            verdict.Duplicated.Add($"{job.Id} is owned by {string.Join(" and ", status.Owners(job.Id))}");
        }
        foreach (var host in SimulatedHosts.Hosts)
        {
            var names = await hosts.PodmanAsync(host, "ps", "-a", "--format", "{{.Names}}");
            verdict.LeftBehind.AddRange(names.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(name => jobs.Any(j => name == $"amig-{j.Id}")).Select(name => $"{name} still on {host}"));
        }
        return verdict;
    }

    /// <summary>How the job ended, as the client reads it (following it to its owner): "result N", "failed: why", or what went wrong asking.</summary>
    private static async Task<string> EndAsync(SimulatedHosts hosts, NemesisJob job)
    {
        var run = await hosts.ClientAsync(["query", job.Id, "--wait", "--json", "--timeout", ((int)Patience.Condition.TotalSeconds).ToString()]);
        try
        {
            var answer = JsonDocument.Parse(run.StandardOutput).RootElement;
            if (answer.TryGetProperty("phase", out var phase) && phase.GetString() == "Failed")
            {
                return $"failed: {answer.GetProperty("error").GetString()}";
            }
            if (answer.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.Object)
            {
                return result.GetProperty("memoryIntact").GetBoolean()
                    ? $"result {result.GetProperty("value").GetInt64()}"
                    : $"result {result.GetProperty("value").GetInt64()} with its memory damaged";
            }
        }
        catch (JsonException)
        {
        }
        return $"no answer ({run.ExitCode}): {run.StandardError.Trim()}";
    }
}
