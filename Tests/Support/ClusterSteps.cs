using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Tests.EndToEnd;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.Support;

/// <summary>
/// How long the tests on the simulated hosts wait and how long their jobs work. They must pass on a
/// 2-core machine that is busy with something else: with two CPU hogs beside them, one client call
/// took about 3 s and a 16 MB migration about 4 s, twice the idle times.
/// </summary>
public static class Patience
{
    /// <summary>
    /// The most a condition may take to come true: a node starting or exiting, the cluster forming,
    /// a job starting or finishing, a line in a log. A passing test never waits this long.
    /// </summary>
    public static readonly TimeSpan Condition = TimeSpan.FromMinutes(2);

    /// <summary>A script or client call that may itself wait for a <see cref="Condition"/>.</summary>
    public static readonly TimeSpan Command = Condition + TimeSpan.FromMinutes(1);

    /// <summary>
    /// The work time of a job that must still be running after the test has acted on it: a client
    /// call or two and a migration or two, which on a busy machine take seconds each. A test then
    /// waits for the result, so longer costs time: this is several times the busy machine's need.
    /// </summary>
    public const int OutlastingWorkMs = 20_000;
}

/// <summary>Waits on a condition, not a clock.</summary>
public static class Poll
{
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Asks <paramref name="probe"/> until <paramref name="done"/> holds and returns that answer; after
    /// <see cref="Patience.Condition"/> it throws, naming <paramref name="what"/> and the last answer.
    /// </summary>
    public static async Task<T> UntilAsync<T>(
        string what, Func<Task<T>> probe, Func<T, bool> done, TimeSpan? interval = null, Func<T, string>? describe = null)
    {
        var patience = Patience.Condition;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var answer = await probe();
            if (done(answer))
            {
                return answer;
            }
            if (clock.Elapsed > patience)
            {
                throw new TimeoutException($"{what}: not within {patience.TotalSeconds:0} s; last seen: {describe?.Invoke(answer) ?? answer?.ToString()}");
            }
            await Task.Delay(interval ?? DefaultInterval);
        }
    }
}

/// <summary>What the end-to-end, fault and integration tests ask of the simulated hosts' cluster, through the client as a user would.</summary>
public static class ClusterSteps
{
    public const string WorkerImage = "localhost/akka-migration-worker:latest";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The client, which must exit 0; otherwise the test fails with what it printed and the nodes' last log lines.</summary>
    public static async Task<BufferedCommandResult> ClientOkAsync(this SimulatedHosts hosts, params string[] arguments)
    {
        var run = await hosts.ClientAsync(arguments);
        Assert.True(run.ExitCode == 0, $"client {string.Join(' ', arguments)} failed ({run.ExitCode}): {run.StandardOutput} {run.StandardError}\n{hosts.LogTails()}");
        return run;
    }

    /// <summary>
    /// Submits the demo job with an id, a work time and memory of its own, on the executor unless <paramref name="on"/> says
    /// otherwise, with any further <paramref name="options"/> (e.g. <c>--protect 2s</c>).
    /// </summary>
    public static Task<BufferedCommandResult> SubmitAsync(
        this SimulatedHosts hosts, string id, long number, int workMs, int stateMb = 0, string? on = null, IEnumerable<string>? options = null) =>
        hosts.ClientOkAsync(["submit", number.ToString(), "--id", id, "--work-ms", workMs.ToString(), "--state-mb", stateMb.ToString(),
            .. on is null ? Array.Empty<string>() : ["--on", on], .. options ?? []]);

    /// <summary>Every node's view, from <c>status --json</c>; it exits 3 but still answers while a node can't be reached.</summary>
    public static async Task<ClusterView> StatusAsync(this SimulatedHosts hosts)
    {
        var run = await hosts.ClientAsync(["status", "--json"]);
        Assert.True(run.ExitCode is 0 or 3, $"status failed ({run.ExitCode}): {run.StandardOutput} {run.StandardError}");
        return JsonSerializer.Deserialize<ClusterView>(run.StandardOutput, Json)!;
    }

    /// <summary>A job once it has finished, from <c>query --wait --json</c> (following redirects).</summary>
    public static async Task<JobView> FinishedJobAsync(this SimulatedHosts hosts, string id)
    {
        var run = await hosts.ClientOkAsync("query", id, "--wait", "--json", "--timeout", ((int)Patience.Condition.TotalSeconds).ToString());
        return JsonSerializer.Deserialize<JobView>(run.StandardOutput, Json)!;
    }
}

/// <summary>What <c>status --json</c> prints, as far as the tests read it.</summary>
public sealed record ClusterView(NodeView[] Nodes, string[] Unreachable)
{
    /// <summary>The nodes that list the job among their own.</summary>
    public IReadOnlyList<string> Owners(string jobId) => [.. Nodes.Where(n => n.Jobs.Any(j => j.JobId == jobId)).Select(n => n.Node)];
}

public sealed record NodeView(string Node, JobView[] Jobs, string[] UpMembers);

/// <param name="Phase">starting, running, migrating, completed or failed.</param>
public sealed record JobView(string JobId, string Owner, string Phase, int Migrations, ResultView? Result);

public sealed record ResultView(long Value, string Checksum, bool MemoryIntact, string ProducedBy);
