using System.Diagnostics;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Every fault the issue names, injected into real node processes on the simulated hosts with
/// real podman and CRIU, each run <see cref="Runs"/> times (5 in `make faults`, once in `make test`,
/// which keeps a slice of every suite well inside CI's time). After every run the job's correct
/// result must be readable, exactly one node must own the job, and no more than one copy of its
/// worker may ever have run at once (<see cref="ProcessCensus"/>).
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class FaultSuiteTests(SimulatedHosts hosts, ITestOutputHelper output)
{
    private static readonly int Runs = int.TryParse(Environment.GetEnvironmentVariable("AKKA_MIGRATION_FAULT_RUNS"), out var runs) && runs > 0 ? runs : 1;
    private const int StateMb = 16;

    /// <summary>
    /// Each fault strikes once the worker runs, within a client call and the start of a migration: about
    /// 5 s on a busy machine, where 8 s of work was once over before the fault. Every run then waits for
    /// the result, and 40 runs pay for each second: hence less than <see cref="Patience.OutlastingWorkMs"/>.
    /// </summary>
    private const int WorkMillis = 15_000;

    [Fact]
    public Task The_target_killed_mid_transfer_leaves_the_job_on_its_source() => SufferAsync(
        "target node SIGKILLed mid-transfer",
        before: () => hosts.RestartNodeAsync("nodeB", "die-on-chunk=8"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "goes on on nodeA");
            await hosts.WaitForNodeExitAsync("nodeB");
            hosts.StartNode("nodeB", "die-on-chunk=8");
            await hosts.WaitForClusterAsync();
            return "nodeA";
        },
        after: () => hosts.RestartNodeAsync("nodeB"));

    [Fact]
    public Task A_link_cut_mid_transfer_and_restored_loses_nothing() => SufferAsync(
        "link cut mid-transfer, then restored",
        run: async job =>
        {
            // Slow B's link so that the cut lands in the middle of the transfer.
            await hosts.InHostAsync("nodeB", ["tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", "40mbit", "burst", "256kb", "latency", "5s"]);
            try
            {
                var migrate = hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                await WaitForLogAsync("nodeB", $"receiving job {job.Id}");
                await Task.Delay(300);
                await hosts.HostsScriptAsync("cut", "nodeB");
                await Task.Delay(TimeSpan.FromSeconds(4));
                await hosts.HostsScriptAsync("mend", "nodeB");
                var answer = await migrate;
                // Either outcome is right, as long as it says where the job went on.
                Assert.True(answer.ExitCode is 0 or 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
            }
            finally
            {
                await hosts.HostsScriptAsync("mend", "nodeB");
                await hosts.InHostAsync("nodeB", ["tc", "qdisc", "del", "dev", "eth0", "root"]);
            }
            await hosts.WaitForClusterAsync();
            return null;
        });

    [Fact]
    public Task A_corrupted_chunk_is_caught_and_the_job_stays_on_its_source() => SufferAsync(
        "corrupted chunk",
        before: () => hosts.RestartNodeAsync("nodeA", "corrupt-chunk=3"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "checksum mismatch");
            return "nodeA";
        },
        after: () => hosts.RestartNodeAsync("nodeA"));

    [Fact]
    public Task A_restore_that_fails_on_the_target_leaves_the_job_on_its_source() => SufferAsync(
        "restore fails on the target",
        before: () => hosts.RestartNodeAsync("nodeB", "fail-restore"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "fail-restore");
            return "nodeA";
        },
        after: () => hosts.RestartNodeAsync("nodeB"));

    [Fact]
    public Task The_source_killed_right_after_the_target_confirmed_lets_go_of_its_copy_when_it_restarts() => SufferAsync(
        "source SIGKILLed right after the target confirmed",
        before: () => hosts.RestartNodeAsync("nodeA", "die-after-restore-confirmed"),
        run: async job =>
        {
            // The client notices that the node it asked is gone, long before its timeout. Its answer is
            // awaited first: a migration refused before the fault (say, the job had finished) then fails
            // with the client's reason rather than after a wait for a node that never dies.
            var answer = await hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            Assert.True(answer.ExitCode == 3, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Assert.Contains("lost the connection to nodeA before it answered", answer.StandardError);
            await hosts.WaitForNodeExitAsync("nodeA");
            hosts.StartNode("nodeA", "die-after-restore-confirmed");
            await hosts.WaitForClusterAsync();
            return "nodeB";
        },
        after: () => hosts.RestartNodeAsync("nodeA"));

    [Fact]
    public Task A_node_killed_while_its_container_runs_re_adopts_the_job_when_restarted() => SufferAsync(
        "node SIGKILLed while its container runs, then restarted",
        run: async job =>
        {
            await Task.Delay(Random.Shared.Next(500, 2500));
            await hosts.KillNodeAsync("nodeA");
            await Task.Delay(TimeSpan.FromSeconds(2));
            hosts.StartNode("nodeA");
            await hosts.WaitForClusterAsync();
            return "nodeA";
        });

    [Fact]
    public Task A_client_killed_mid_migration_does_not_stop_the_migration() => SufferAsync(
        "client SIGKILLed mid-migration",
        run: async job =>
        {
            using var migrate = hosts.StartClient("migrate", job.Id, "nodeB");
            await WaitForLogAsync("nodeA", $"migrating job {job.Id}");
            migrate.Kill(entireProcessTree: true);
            return "nodeB";
        });

    [Fact]
    public Task Two_migrations_asked_at_once_move_the_job_once() => SufferAsync(
        "two migrate requests at once",
        run: async job =>
        {
            var answers = await Task.WhenAll(
                hosts.ClientAsync(["migrate", job.Id, "nodeB"]),
                hosts.ClientAsync(["migrate", job.Id, "nodeB"]));
            Assert.Single(answers, a => a.ExitCode == 0);
            var loser = Assert.Single(answers, a => a.ExitCode == 1);
            Assert.Matches("already migrating to nodeB|already runs on nodeB", loser.StandardError);
            return "nodeB";
        });

    /// <summary>
    /// Runs one fault <see cref="Runs"/> times on a fresh job each and checks what must always be
    /// true; <paramref name="run"/> injects the fault and names the node that must produce the
    /// result, or null where either may.
    /// </summary>
    private async Task SufferAsync(string fault, Func<Job, Task<string?>> run, Func<Task>? before = null, Func<Task>? after = null)
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
                outcomes.Add(await RunOnceAsync(fault, i, run));
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

    private async Task<RunOutcome> RunOnceAsync(string fault, int index, Func<Job, Task<string?>> run)
    {
        var job = new Job($"fault-{Guid.NewGuid().ToString("N")[..10]}", Random.Shared.NextInt64(1_000_000, 1_000_000_000));
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        await using var census = ProcessCensus.Watch(job.Number);

        await hosts.SubmitAsync(job.Id, job.Number, WorkMillis, StateMb);
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
            await EnsureAllNodesRunAsync();
        }

        var result = await ResultAsync(job);
        var lost = result is null || result.Value != job.Number + 1 || !result.MemoryIntact;
        if (lost)
        {
            problems.Add(result is null ? "no result could be read" : $"wrong result: {result}");
        }
        else if (expectedProducer is not null && result!.ProducedBy != expectedProducer)
        {
            problems.Add($"the result came from {result.ProducedBy}, expected {expectedProducer}");
        }
        var status = await hosts.StatusAsync();
        if (status.Unreachable.Length > 0)
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
        var outcome = new RunOutcome(index, lost || owners.Count == 0, duplicates, problems);
        output.WriteLine($"{fault} #{index}: {(outcome.Passed ? "ok" : "FAILED")} in {clock.Elapsed.TotalSeconds:0.0} s; " +
            $"result {result?.Value.ToString() ?? "-"} from {result?.ProducedBy ?? "-"}; owners {string.Join(",", owners)}; " +
            $"at most {census.MostAtOnce} worker(s) at once in {census.Samples} samples{(problems.Count > 0 ? "; " + string.Join("; ", problems) : "")}");
        return outcome;
    }

    /// <summary>A migration to nodeB that must be refused for <paramref name="reason"/>, the job going on where it was.</summary>
    private async Task ExpectMigrationToFailAsync(Job job, string reason)
    {
        var migrate = await hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
        Assert.True(migrate.ExitCode == 1, $"migrate: {migrate.ExitCode} {migrate.StandardError}");
        Assert.Contains(reason, migrate.StandardError);
    }

    /// <summary>The finished job's result as the client reads it, asked through the executor (following redirects); null if none could be read.</summary>
    private async Task<ResultView?> ResultAsync(Job job)
    {
        try
        {
            return (await hosts.FinishedJobAsync(job.Id)).Result;
        }
        catch (XunitException e)
        {
            output.WriteLine(e.Message);
            return null;
        }
    }

    /// <summary>A job's containers on every host; a finished job's is removed by its owner, and no other host may hold one.</summary>
    private async Task<IReadOnlyList<string>> ContainersAsync(Job job)
    {
        var found = new List<string>();
        foreach (var host in SimulatedHosts.Hosts)
        {
            var names = await hosts.PodmanAsync(host, "ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", $"name=^amig-{job.Id}$");
            found.AddRange(names.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => $"{n} on {host}"));
        }
        return found;
    }

    private Task WaitForLogAsync(string host, string text) =>
        Poll.UntilAsync($"{host}'s log to say '{text}'", () => Task.FromResult(hosts.NodeLog(host).Contains(text)), said => said,
            interval: TimeSpan.FromMilliseconds(20));

    /// <summary>After a run went wrong: whatever happened, the next run starts with every node up.</summary>
    private async Task EnsureAllNodesRunAsync()
    {
        foreach (var host in SimulatedHosts.Hosts.Where(h => !hosts.NodeRunning(h)))
        {
            await hosts.RestartNodeAsync(host);
        }
        await hosts.WaitForClusterAsync();
    }

    private sealed record Job(string Id, long Number);
}
