using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Node.Failover;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Issue 33's faults on the three fenced hosts (nodes and fencing agents, real podman and CRIU): a job
/// protected every 2 s loses its host in different ways (see <see cref="FaultSuite"/>). A host burnt
/// or cut off is lost for the run; the hosts are rebuilt whole before the next, as a lost host's
/// voters never grant it a lease again.
/// </summary>
[Collection(FencedHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class FailoverFaultTests(FencedSimulatedHosts hosts, ITestOutputHelper output) : FaultSuite(hosts, output)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Where each job starts: nodeB, so that the executor (nodeA), which the client asks, outlives the fault.</summary>
    private string _owner = "nodeB";

    protected override string[] SubmitOptions => ["--on", _owner, "--protect", "2s"];

    private IEnumerable<string> Others => Hosts.HostNames.Where(h => h != _owner);

    /// <summary>How long the voters wait before they declare a silent host lost.</summary>
    private TimeSpan FailoverAfter => hosts.Network.Config.Ha.FailoverAfter;

    [Fact]
    public Task A_burnt_host_s_protected_job_resumes_on_a_survivor_with_its_memory_intact_never_running_twice() => SufferOnFencedHostsAsync(
        "host burnt (node, agent, containers, link): failover",
        run: async job =>
        {
            await WaitForProtectionCheckpointAsync(job);
            var clock = Stopwatch.StartNew();
            await hosts.BurnAsync(_owner);
            LostForGood.Add(_owner);
            var resumedOn = await RunningElsewhereAsync(job);
            RunNote = $"running on {resumedOn} {clock.Elapsed.TotalSeconds:0.0} s after {_owner} was burnt";
            return resumedOn;
        });

    [Fact]
    public Task A_node_killed_for_good_on_a_host_whose_agent_lives_brings_no_failover_and_its_job_ends_there_once_it_is_back()
    {
        var quiet = FailoverAfter * 3;
        return SufferOnFencedHostsAsync(
            "node alone SIGKILLed, its agent alive: no failover",
            run: async job =>
            {
                await WaitForProtectionCheckpointAsync(job);
                await Hosts.KillNodeAsync(_owner);
                var container = ContainerNames.For(job.Id);
                for (var clock = Stopwatch.StartNew(); clock.Elapsed < quiet; await Task.Delay(TimeSpan.FromSeconds(2)))
                {
                    foreach (var host in Others)
                    {
                        Assert.DoesNotContain($"job {job.Id} was lost with", Hosts.NodeLog(host));
                        Assert.Equal("", await Hosts.PodmanAsync(host, "ps", "-aq", "--filter", $"name=^{container}$"));
                    }
                    Assert.Equal("running", await Hosts.PodmanAsync(_owner, "inspect", "-f", "{{.State.Status}}", container));
                }
                Hosts.StartNode(_owner);
                await Hosts.WaitForClusterAsync();
                RunNote = $"no failover in {quiet.TotalSeconds:0} s";
                return _owner;
            },
            // Still working once the node is back after the quiet time.
            workMs: (int)quiet.TotalMilliseconds + 30_000);
    }

    [Fact]
    public Task A_host_cut_off_is_fenced_by_its_agent_and_its_job_resumes_elsewhere_never_running_twice() => SufferOnFencedHostsAsync(
        "host cut off (agent alive): fenced, failover",
        run: async job =>
        {
            await WaitForProtectionCheckpointAsync(job);
            var agentSaid = (await hosts.AgentLogAsync(_owner)).Length;
            var clock = Stopwatch.StartNew();
            await hosts.IsolateAsync(_owner);
            LostForGood.Add(_owner);
            var resumedOn = await RunningElsewhereAsync(job);
            var resumedAfter = clock.Elapsed;
            // Fenced before the others could resume it (the census saw no two running): killed by its agent, as its node saw.
            // The node, cut off but alive, then removes the ended container, so its log is what tells how it ended.
            Assert.Contains($"job {job.Id} ended on {_owner}: the worker exited with code 137", Hosts.NodeLog(_owner));
            Assert.Contains("Fencing: killed", (await hosts.AgentLogAsync(_owner))[agentSaid..]);
            RunNote = $"fenced on {_owner}, running on {resumedOn} {resumedAfter.TotalSeconds:0.0} s after the cut";
            return resumedOn;
        });

    [Fact]
    public Task A_burnt_replica_host_is_replaced_while_the_owner_lives() => SufferOnFencedHostsAsync(
        "replica's host burnt, owner alive: new replica",
        run: async job =>
        {
            // Here the executor owns the job, so that either replica host may burn.
            var replica = await WaitForProtectionCheckpointAsync(job);
            var successor = Assert.Single(Others, h => h != replica);
            var said = Hosts.NodeLog(_owner).Length;
            var clock = Stopwatch.StartNew();
            await hosts.BurnAsync(replica);
            LostForGood.Add(replica);
            await Poll.UntilAsync($"a protection checkpoint of {job.Id} kept on {successor}", () => Task.FromResult(Hosts.NodeLog(_owner)[said..]),
                log => ProtectionCheckpoints(log, job).Contains(successor), interval: TimeSpan.FromMilliseconds(200),
                describe: log => string.Join('\n', log.Split('\n').Where(l => l.Contains(job.Id, StringComparison.Ordinal)).TakeLast(10)));
            RunNote = $"replica {replica} burnt, a checkpoint kept on {successor} {clock.Elapsed.TotalSeconds:0.0} s later";
            return _owner;
        },
        owner: "nodeA");

    /// <summary>The fault, from hosts whole again whatever an earlier test (e.g. HostLossTests) left burnt.</summary>
    private Task SufferOnFencedHostsAsync(string fault, Func<Job, Task<string?>> run, int workMs = 30_000, string owner = "nodeB")
    {
        _owner = owner;
        return SufferAsync(fault, run, before: RebuildIfStruckAsync, workMs: workMs);
    }

    protected override Task EnsureAllNodesRunAsync() => hosts.Struck ? hosts.RebuildAsync() : base.EnsureAllNodesRunAsync();

    private Task RebuildIfStruckAsync() => hosts.Struck ? hosts.RebuildAsync() : Task.CompletedTask;

    /// <returns>The host that kept the job's first protection checkpoint.</returns>
    private async Task<string> WaitForProtectionCheckpointAsync(Job job)
    {
        var log = await Poll.UntilAsync($"a protection checkpoint of {job.Id}", () => Task.FromResult(Hosts.NodeLog(_owner)),
            log => ProtectionCheckpoints(log, job).Count > 0, interval: TimeSpan.FromMilliseconds(100));
        return ProtectionCheckpoints(log, job)[0];
    }

    /// <summary>The hosts that kept each of the job's protection checkpoints, in the owner's log.</summary>
    private static List<string> ProtectionCheckpoints(string log, Job job) =>
        [.. ProtectionLog.KeptLine().Matches(log).Where(m => m.Groups["job"].Value == job.Id).Select(m => m.Groups["hosts"].Value.Split(", ")[0])];

    /// <summary>Until the job runs on a host other than its owner, asked of the executor; the host.</summary>
    private async Task<string> RunningElsewhereAsync(Job job)
    {
        var view = await Poll.UntilAsync($"job {job.Id} running on a host other than {_owner}", async () =>
            {
                var query = await Hosts.ClientAsync(["query", job.Id, "--json", "--on", "nodeA"]);
                return query.ExitCode == 0 ? JsonSerializer.Deserialize<JobView>(query.StandardOutput, Json) : null;
            },
            view => view is not null && view.Owner != _owner && view.Phase == "running", interval: TimeSpan.FromMilliseconds(200),
            describe: view => view is null ? "no answer" : $"{view.Owner} {view.Phase}");
        return view!.Owner;
    }

}
