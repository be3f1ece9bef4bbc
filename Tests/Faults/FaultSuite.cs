using System.Diagnostics;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// The ground of every fault test: a fault is injected into real node processes on the simulated hosts
/// with real podman and CRIU, each run <see cref="Runs"/> times (5 in `make faults`, once in `make test`,
/// which keeps a slice of every suite well inside CI's time). After every run the job's correct
/// result must be readable, exactly one node must own the job, and no more than one copy of its
/// worker may ever have run at once (<see cref="ProcessCensus"/>).
/// </summary>
public abstract class FaultSuite(SimulatedHosts hosts, ITestOutputHelper output)
{
    /// <summary>The two hosts, or three where a suite needs them.</summary>
    protected SimulatedHosts Hosts { get; } = hosts;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>Hosts a run took away for good: the checks expect no answer from them; they start again before the next run.</summary>
    protected HashSet<string> LostForGood { get; } = [];

    /// <summary>The submit options beyond the job's id, number, work and memory, e.g. where it starts and its protection.</summary>
    protected virtual string[] SubmitOptions => [];

    /// <summary>What a run measured, printed on its line (e.g. how long a failover took); cleared after each run.</summary>
    protected string? RunNote { get; set; }

    protected static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("AKKA_MIGRATION_FAULT_RUNS"), out var runs) && runs > 0 ? runs : 1;
    protected const int StateMb = 16;

    /// <summary>
    /// Each fault strikes once the worker runs, within a client call and the start of a migration: about
    /// 5 s on a busy machine, where 8 s of work was once over before the fault. Every run then waits for
    /// the result, and 40 runs pay for each second: hence less than <see cref="Patience.OutlastingWorkMs"/>.
    /// </summary>
    protected const int WorkMillis = 15_000;

    /// <summary>
    /// Runs one fault <see cref="Runs"/> times on a fresh job each and checks what must always be
    /// true; <paramref name="run"/> injects the fault and names the node that must produce the
    /// result, or null where either may. Each job works <paramref name="workMs"/> and holds
    /// <paramref name="stateMb"/> MB, <see cref="WorkMillis"/> and <see cref="StateMb"/> unless a fault needs more.
    /// </summary>
    protected async Task SufferAsync(string fault, Func<Job, Task<string?>> run, Func<Task>? before = null, Func<Task>? after = null,
        int workMs = WorkMillis, int stateMb = StateMb)
    {
        var outcomes = new List<RunOutcome>();
        try
        {
            if (before is not null)
            {
                await before();
            }
            for (var i = 1; i <= Runs; i++)
            {
                outcomes.Add(await RunOnceAsync(fault, i, run, workMs, stateMb));
            }
        }
        finally
        {
            if (after is not null)
            {
                await after();
            }
            await EnsureAllNodesRunAsync();
            FaultReport.Append(fault, Runs, outcomes);
        }
        var failures = outcomes.Where(o => !o.Passed).Select(o => $"run {o.Run}: {string.Join("; ", o.Problems)}").ToList();
        Assert.True(failures.Count == 0, $"{fault}:\n{string.Join('\n', failures)}");
    }

    private async Task<RunOutcome> RunOnceAsync(string fault, int index, Func<Job, Task<string?>> run, int workMs, int stateMb)
    {
        var job = new Job($"fault-{Guid.NewGuid().ToString("N")[..10]}", Random.Shared.NextInt64(1_000_000, 1_000_000_000));
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        await using var census = ProcessCensus.Watch(job.Number);

        await Hosts.SubmitAsync(job.Id, job.Number, workMs, stateMb, options: SubmitOptions);
        // Seen in /proc within milliseconds, where a client call would take seconds of the job's work time.
        await Poll.UntilAsync($"job {job.Id}'s worker to start", () => Task.FromResult(census.MostAtOnce), seen => seen > 0,
            interval: TimeSpan.FromMilliseconds(20));

        string? expectedProducer = null;
        try
        {
            expectedProducer = await run(job);
        }
        catch (Exception e)
        {
            problems.Add($"the fault's own checks: {e.Message}");
            LostForGood.Clear();
            await EnsureAllNodesRunAsync();
        }

        var (result, unread) = await ResultAsync(job);
        var lost = result is null || result.Value != job.Number + 1 || !result.MemoryIntact;
        if (lost)
        {
            problems.Add(result is null ? $"no result could be read: {unread}" : $"wrong result: {result}");
        }
        else if (expectedProducer is not null && result!.ProducedBy != expectedProducer)
        {
            problems.Add($"the result came from {result.ProducedBy}, expected {expectedProducer}");
        }
        var status = await Hosts.StatusAsync();
        if (status.Unreachable.Length != LostForGood.Count || status.Nodes.Any(n => LostForGood.Contains(n.Node)))
        {
            problems.Add($"unreachable: {string.Join("; ", status.Unreachable)}");
        }
        var owners = status.Owners(job.Id);
        if (owners.Count != 1)
        {
            problems.Add($"{owners.Count} nodes own the job: {string.Join(", ", owners)}");
        }
        try
        {
            await Poll.UntilAsync($"job {job.Id}'s containers removed", () => ContainersAsync(job), found => found.Count == 0,
                describe: found => string.Join(", ", found));
        }
        catch (TimeoutException e)
        {
            problems.Add(e.Message);
        }
        var duplicates = census.MostAtOnce > 1 || owners.Count > 1;
        if (census.MostAtOnce > 1)
        {
            problems.Add($"{census.MostAtOnce} copies of the worker ran at once");
        }
        if (LostForGood.Count > 0)
        {
            LostForGood.Clear();
            await EnsureAllNodesRunAsync();
        }
        var outcome = new RunOutcome(index, lost || owners.Count == 0, duplicates, problems);
        Output.WriteLine($"{fault} #{index}: {(outcome.Passed ? "ok" : "FAILED")} in {clock.Elapsed.TotalSeconds:0.0} s; " +
            $"result {result?.Value.ToString() ?? "-"} from {result?.ProducedBy ?? "-"}; owners {string.Join(",", owners)}; " +
            $"at most {census.MostAtOnce} worker(s) running and {census.MostFrozenAtOnce} frozen at once in {census.Samples} samples" +
            $"{(RunNote is not null ? "; " + RunNote : "")}" +
            $"{(problems.Count > 0 ? "; " + string.Join("; ", problems) : "")}");
        RunNote = null;
        return outcome;
    }

    /// <summary>A migration to nodeB that must be refused for <paramref name="reason"/>, the job going on where it was.</summary>
    protected async Task ExpectMigrationToFailAsync(Job job, string reason)
    {
        var migrate = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
        Assert.True(migrate.ExitCode == 1, $"migrate: {migrate.ExitCode} {migrate.StandardError}");
        // Whole, where Assert.Contains would cut it short: another failure's cause is what a reader needs.
        Assert.True(migrate.StandardError.Contains(reason, StringComparison.Ordinal), $"expected '{reason}' in: {migrate.StandardError}");
    }

    /// <summary>The finished job's result as the client reads it, asked through the executor (following redirects), or why none could be read.</summary>
    private async Task<(ResultView? Result, string? Unread)> ResultAsync(Job job)
    {
        try
        {
            return ((await Hosts.FinishedJobAsync(job.Id)).Result, null);
        }
        catch (XunitException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// A job's containers on every host; a finished job's is removed by its owner, and no other host may
    /// hold one. A host lost for good is not asked: what it left is for its return to clear.
    /// </summary>
    private async Task<IReadOnlyList<string>> ContainersAsync(Job job)
    {
        var found = new List<string>();
        foreach (var host in Hosts.HostNames.Where(h => !LostForGood.Contains(h)))
        {
            var names = await Hosts.PodmanAsync(host, "ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", $"name=^amig-{job.Id}$");
            found.AddRange(names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => $"{n} on {host}"));
        }
        return found;
    }

    protected Task WaitForLogAsync(string host, string text) =>
        Poll.UntilAsync($"{host}'s log to say '{text}'", () => Task.FromResult(Hosts.NodeLog(host).Contains(text)), said => said,
            interval: TimeSpan.FromMilliseconds(20));

    /// <summary>After a run went wrong: whatever happened, the next run starts with every node up.</summary>
    protected virtual async Task EnsureAllNodesRunAsync()
    {
        foreach (var host in Hosts.HostNames.Where(h => !Hosts.NodeRunning(h)))
        {
            await Hosts.RestartNodeAsync(host);
        }
        await Hosts.WaitForClusterAsync();
    }

    protected sealed record Job(string Id, long Number);
}
