using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Faults;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Nemesis;

/// <summary>
/// A randomized run on the two simulated hosts: submits, migrations, drains, and faults (a node
/// killed, alone or in the middle of a migration, paused, a link cut, a partition one way or both,
/// packets lost during a move) chosen by a seeded random, then a
/// checker over everything acknowledged. `make nemesis` runs it for 10 minutes (SEED= replays a
/// run's choices; timings differ run to run); `make test` keeps a short run. Its history is
/// written to build/nemesis/history-SEED.tsv as it goes.
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Nemesis")]
public sealed class NemesisTests(SimulatedHosts hosts, ITestOutputHelper output)
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("AKKA_MIGRATION_NEMESIS_SECONDS"), out var seconds) && seconds > 0 ? seconds : 45);

    private static readonly int Seed =
        int.TryParse(Environment.GetEnvironmentVariable("AKKA_MIGRATION_NEMESIS_SEED"), out var seed) ? seed : Random.Shared.Next(1, 1_000_000);

    [Fact]
    public async Task Random_operations_and_faults_lose_no_acknowledged_job_run_none_twice_and_leave_nothing_behind()
    {
        var random = new Random(Seed);
        await using var history = NemesisHistory.Open(Seed);
        await using var census = ProcessCensus.WatchAsTracked();
        var jobs = new List<NemesisJob>();
        var (operations, faults) = (0, 0);
        var clock = Stopwatch.StartNew();

        while (clock.Elapsed < Duration)
        {
            operations++;
            var operation = random.Next(100);
            if (operation < 30 || !jobs.Any(j => j.Running))
            {
                await SubmitAsync(random, jobs, census, history);
            }
            else if (operation < 60)
            {
                await MigrateAsync(random, jobs, history, fault: null);
            }
            else
            {
                faults++;
                await InjectAsync(random, jobs, history);
            }
        }
        history.Write("check", $"{jobs.Count} acknowledged jobs");
        await EnsureAllNodesRunAsync(history);
        var verdict = await NemesisChecker.CheckAsync(hosts, jobs, census, history);

        var line = $"nemesis seed {Seed}: {operations} operations, {faults} faults, {verdict.Lost.Count} lost, " +
                   $"{verdict.Duplicated.Count} duplicated, {verdict.LeftBehind.Count} left behind";
        output.WriteLine(line);
        history.Write("verdict", line);
        Assert.True(verdict.Clean, $"{line}\n{string.Join('\n', verdict.Problems)}\nhistory: {history.Path}");
    }

    private async Task SubmitAsync(Random random, List<NemesisJob> jobs, ProcessCensus census, NemesisHistory history)
    {
        var (work, state) = (random.Next(6, 20) * 1000, random.Next(0, 3) * 8);
        var job = new NemesisJob($"nem-{Seed}-{jobs.Count + 1}", random.NextInt64(1_000_000, 1_000_000_000), Pick(random, SimulatedHosts.Hosts),
            DateTime.UtcNow.AddMilliseconds(work));
        census.Track(job.Number);
        var run = await hosts.ClientAsync(["submit", job.Number.ToString(), "--id", job.Id, "--work-ms", work.ToString(), "--state-mb", state.ToString(), "--on", job.Host]);
        history.Write("submit", $"{job.Id} {job.Number} on {job.Host}, {work} ms, {state} MB", run);
        // Only what the cluster acknowledged must be accounted for; a refusal names its cause.
        if (run.ExitCode == 0)
        {
            jobs.Add(job);
        }
    }

    /// <param name="fault">Struck once the migration has been asked for, or null.</param>
    private async Task MigrateAsync(Random random, List<NemesisJob> jobs, NemesisHistory history, Func<string, string, Task>? fault)
    {
        // A job still at work, most of the time: moving a finished one is only refused.
        var running = jobs.Where(j => j.Running).ToList();
        var job = Pick(random, running.Count > 0 ? running : jobs);
        // Mostly away from where it was last seen; now and then to where it is, which must be refused.
        var target = random.Next(5) == 0 ? job.Host : SimulatedHosts.Hosts.First(h => h != job.Host);
        var migrate = hosts.ClientAsync(["migrate", job.Id, target]);
        if (fault is not null)
        {
            await Task.Delay(random.Next(0, 1500));
            await fault(job.Id, target);
        }
        var answer = await migrate;
        history.Write("migrate", $"{job.Id} → {target}", answer);
        if (answer.ExitCode == 0)
        {
            job.Host = target;
        }
    }

    private async Task InjectAsync(Random random, List<NemesisJob> jobs, NemesisHistory history)
    {
        // A node the split-brain resolver downed after the last fault has exited since: it is back first.
        await EnsureAllNodesRunAsync(history);
        var host = Pick(random, SimulatedHosts.Hosts);
        var other = SimulatedHosts.Hosts.First(h => h != host);
        switch (random.Next(7))
        {
            case 0:
                history.Write("fault", $"SIGKILL {host}, restarted after a pause");
                await hosts.KillNodeAsync(host);
                await Task.Delay(random.Next(500, 4000));
                await EnsureAllNodesRunAsync(history);
                break;
            case 1:
                history.Write("fault", $"link of {host} cut for a few seconds");
                await hosts.CutAsync(host);
                try
                {
                    await Task.Delay(random.Next(1000, 5000));
                }
                finally
                {
                    await hosts.MendAsync(host);
                }
                await EnsureAllNodesRunAsync(history);
                break;
            case 2 when jobs.Any(j => j.Running):
                // A node killed while a migration is under way, on either side of it.
                // Started again while the client waits, as a service manager would: a source in doubt waits for its target.
                await MigrateAsync(random, jobs, history, async (jobId, target) =>
                {
                    history.Write("fault", $"SIGKILL {host} during the move of {jobId} to {target}");
                    await hosts.KillNodeAsync(host);
                    await Task.Delay(random.Next(500, 3000));
                    await EnsureAllNodesRunAsync(history);
                });
                break;
            case 3:
                var oneWay = random.Next(2) == 0;
                history.Write("fault", $"partition {host} → {other}{(oneWay ? " one way" : " both ways")} for a few seconds");
                await using (await hosts.PartitionAsync(host, other, oneWay))
                {
                    await Task.Delay(random.Next(2000, 8000));
                }
                await EnsureAllNodesRunAsync(history);
                break;
            case 4 when jobs.Any(j => j.Running):
                var percent = random.Next(1, 11);
                await using (await hosts.LosePacketsAsync(host, percent))
                {
                    await MigrateAsync(random, jobs, history, (jobId, target) =>
                    {
                        history.Write("fault", $"{percent} % of {host}'s packets lost during the move of {jobId} to {target}");
                        return Task.CompletedTask;
                    });
                }
                break;
            case 5:
                history.Write("fault", $"SIGSTOP {host} for a few seconds");
                await using (await hosts.PauseNodeAsync(host))
                {
                    await Task.Delay(random.Next(1000, 8000));
                }
                await EnsureAllNodesRunAsync(history);
                break;
            default:
                // SIGTERM drains: the node moves its containers to its peer, leaves, and is started again.
                history.Write("fault", $"SIGTERM {host} (drain and leave), then started again");
                await hosts.TerminateNodeAsync(host);
                history.Write("drained", $"{host} exited with {await hosts.WaitForNodeExitAsync(host)}");
                await EnsureAllNodesRunAsync(history);
                break;
        }
    }

    /// <summary>Whatever a fault did, the next step starts with both nodes up, as an operator's supervisor (systemd) would see to.</summary>
    private async Task EnsureAllNodesRunAsync(NemesisHistory history)
    {
        foreach (var host in SimulatedHosts.Hosts.Where(h => !hosts.NodeRunning(h)))
        {
            await hosts.KillNodeAsync(host);
            hosts.StartNode(host);
            history.Write("start", host);
        }
        await hosts.WaitForClusterAsync();
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}

/// <summary>A job the cluster acknowledged: it must end once, with number + 1 or a failure that names its cause.</summary>
/// <param name="workEnds">When its work would end without a pause: afterwards moving it is only refused.</param>
public sealed class NemesisJob(string id, long number, string host, DateTime workEnds)
{
    public string Id { get; } = id;

    public long Number { get; } = number;

    /// <summary>Where it was last seen: submitted, or moved to.</summary>
    public string Host { get; set; } = host;

    public bool Running => DateTime.UtcNow < workEnds;
}
