using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// The executor (nodeA, the first seed) lost for good, and a full restart without it (see
/// docs/architecture.md, "When the executor is lost"). Each run first moves the job to nodeB, so that
/// a survivor owns it; the client, which asks the executor by default, must find it there.
/// </summary>
public abstract class ExecutorLossSuite(SimulatedHosts hosts, ITestOutputHelper output) : FaultSuite(hosts, output)
{
    private const string Executor = "nodeA";

    /// <summary>
    /// keep-oldest downed the survivor of two about 27 s after the executor's SIGKILL (the failure
    /// detector, then the resolver's 20 s stable-after); a survivor must outlast that with margin.
    /// </summary>
    private static readonly TimeSpan DowningWindow = TimeSpan.FromSeconds(40);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IReadOnlyList<string> Survivors => [.. Hosts.HostNames.Where(h => h != Executor)];

    /// <summary>
    /// The executor SIGKILLed for good: the others stay up, keep serving, and remove it from the
    /// cluster; with three hosts the job then moves on without it.
    /// </summary>
    protected async Task<string?> LoseTheExecutorAsync(Job job)
    {
        await MoveToNodeBAsync(job);
        await Hosts.KillNodeAsync(Executor);
        LostForGood.Add(Executor);
        var clock = Stopwatch.StartNew();
        ClusterView status;
        do
        {
            // Each status call asks every host: its own seconds pace the loop.
            Assert.All(Survivors, h => Assert.True(Hosts.NodeRunning(h), $"{h}'s node exited {clock.Elapsed.TotalSeconds:0} s after the executor's\n{Hosts.LogTails()}"));
            status = await Hosts.StatusAsync();
            Assert.Equal(Survivors, status.Nodes.Select(n => n.Node).Order());
        }
        while (clock.Elapsed < DowningWindow);
        Assert.All(status.Nodes, n => Assert.Equal(Survivors, n.UpMembers.Order()));
        await AssertServedByNodeBAsync(job);
        if (Survivors.Count < 2)
        {
            return "nodeB";
        }
        // migrate asks the executor by default: with it gone, the move goes through another host.
        await Hosts.ClientOkAsync("migrate", job.Id, "nodeC");
        return "nodeC";
    }

    /// <summary>Every node killed, all but the executor started again: they form one cluster, then the executor joins it.</summary>
    protected async Task<string?> RestartWithoutTheExecutorAsync(Job job)
    {
        await MoveToNodeBAsync(job);
        foreach (var host in Hosts.HostNames)
        {
            await Hosts.KillNodeAsync(host);
        }
        foreach (var host in Survivors)
        {
            Hosts.StartNode(host);
        }
        await Poll.UntilAsync($"{string.Join(", ", Survivors)} to form one cluster without the executor", Hosts.StatusAsync,
            status => status.Nodes.Select(n => n.Node).Order().SequenceEqual(Survivors)
                && status.Nodes.All(n => n.UpMembers.Order().SequenceEqual(Survivors)),
            interval: TimeSpan.FromSeconds(1), describe: status => JsonSerializer.Serialize(status, Json));
        await AssertServedByNodeBAsync(job);
        Hosts.StartNode(Executor);
        await Hosts.WaitForClusterAsync();
        return "nodeB";
    }

    /// <summary>
    /// The executor's link cut, not its process: a partition, which neither node can tell from a crash.
    /// keep-oldest keeps the oldest node (nodeA, or nodeB once nodeA has rejoined it), so the younger one
    /// downs itself. Started again while the link is still cut, as a service manager would, nodeB must
    /// wait for the silent executor rather than found a cluster of its own. An executor that downed
    /// itself is started only once the link is back: as the first seed it would found one (Akka's rule).
    /// </summary>
    protected async Task<string?> CutTheExecutorOffAsync(Job job)
    {
        await MoveToNodeBAsync(job);
        await Hosts.CutAsync(Executor);
        string exited;
        try
        {
            exited = (await Poll.UntilAsync("one side of the partition to down itself",
                () => Task.FromResult(Hosts.HostNames.Where(h => !Hosts.NodeRunning(h)).ToList()), down => down.Count > 0,
                interval: TimeSpan.FromSeconds(1), describe: down => string.Join(", ", down))).Single();
            Assert.Equal(3, await Hosts.WaitForNodeExitAsync(exited));
            if (exited == "nodeB")
            {
                Hosts.StartNode("nodeB");
                var clock = Stopwatch.StartNew();
                do
                {
                    var status = await Hosts.StatusAsync();
                    Assert.All(status.Nodes, n => Assert.DoesNotContain("nodeB", n.UpMembers));
                }
                while (clock.Elapsed < DowningWindow);
            }
            Assert.True(Hosts.HostNames.Where(h => h != exited).All(Hosts.NodeRunning), $"both sides exited\n{Hosts.LogTails()}");
        }
        finally
        {
            await Hosts.MendAsync(Executor);
        }
        if (exited == Executor)
        {
            Hosts.StartNode(Executor);
        }
        await Hosts.WaitForClusterAsync();
        return "nodeB";
    }

    /// <summary>
    /// Moves the job to nodeB, and waits until nodeA has removed its stopped copy: a SIGKILL during that
    /// `podman rm` would leave the container half removed, which a restarted node does not clean up.
    /// </summary>
    private async Task MoveToNodeBAsync(Job job)
    {
        await Hosts.ClientOkAsync("migrate", job.Id, "nodeB");
        await Poll.UntilAsync($"{Executor} to remove its copy of {job.Id} after the move",
            () => Hosts.PodmanAsync(Executor, "ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", $"name=^amig-{job.Id}$"),
            found => found.Length == 0);
    }

    /// <summary>The client, asking the executor by default, reaches the job's owner nonetheless.</summary>
    private async Task AssertServedByNodeBAsync(Job job)
    {
        var query = await Hosts.ClientOkAsync("query", job.Id, "--json");
        Assert.Equal("nodeB", JsonSerializer.Deserialize<JobView>(query.StandardOutput, Json)!.Owner);
    }
}

/// <summary>The executor lost in a cluster of two hosts.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ExecutorLossFaultTests(SimulatedHosts hosts, ITestOutputHelper output) : ExecutorLossSuite(hosts, output)
{
    [Fact]
    public Task The_survivor_of_two_stays_up_and_serves_its_job_when_the_executor_is_killed_for_good() => SufferAsync(
        "executor SIGKILLed for good, 2 hosts", LoseTheExecutorAsync);

    [Fact]
    public Task Two_hosts_cut_apart_keep_one_side_and_the_other_founds_no_cluster_of_its_own() => SufferAsync(
        "executor cut off (a partition), 2 hosts", CutTheExecutorOffAsync);

    [Fact]
    public Task The_survivor_of_two_restarted_without_the_executor_founds_a_cluster_the_executor_then_joins() => SufferAsync(
        "full restart without the executor, 2 hosts", RestartWithoutTheExecutorAsync);
}

/// <summary>The executor lost in a cluster of three hosts.</summary>
[Collection(ThreeHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ExecutorLossThreeHostFaultTests(ThreeSimulatedHosts hosts, ITestOutputHelper output) : ExecutorLossSuite(hosts, output)
{
    [Fact]
    public Task Two_survivors_of_three_stay_up_serve_their_job_and_move_it_when_the_executor_is_killed_for_good() => SufferAsync(
        "executor SIGKILLed for good, 3 hosts", LoseTheExecutorAsync, workMs: LongWorkMillis);

    /// <summary>Still at work after the executor's loss has settled (40 s) and two moves, on a busy machine.</summary>
    private const int LongWorkMillis = 90_000;

    [Fact]
    public Task Two_hosts_restarted_without_the_executor_form_one_cluster_the_executor_then_joins() => SufferAsync(
        "full restart without the executor, 3 hosts", RestartWithoutTheExecutorAsync);
}
