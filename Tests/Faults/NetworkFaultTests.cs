using System.Diagnostics;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using CliWrap.Buffered;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Faults of the network between the two hosts, silent as on a real one (partitions, loss, a starved
/// link: the harness's SimulatedHosts), and nodes that stop answering without dying (SIGSTOP). See <see cref="FaultSuite"/>.
/// A node the split-brain resolver downs exits with code 3 and is started again, as systemd would.
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class NetworkFaultTests(SimulatedHosts hosts, ITestOutputHelper output) : FaultSuite(hosts, output)
{
    /// <summary>Past failure detection (about 6 s) and the split-brain resolver's stable-after (20 s): the resolver acts meanwhile.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromSeconds(30);

    /// <summary>The resolver's stable-after (20 s) and the failure detection before it.</summary>
    private static readonly TimeSpan ResolverWindow = TimeSpan.FromSeconds(25);

    /// <summary>The chunks of a transfer take seconds on a link this slow, so a fault aimed at the transfer lands in it.</summary>
    private const string SlowLink = "5mbps";

    /// <summary>
    /// Work that outlives the downed node's exit, about 35 s into the job: it comes back to a container
    /// still running. The run takes hardly longer, since it waits for the node anyway.
    /// </summary>
    private const int OutlivingTheDowningMs = 45_000;

    [Fact]
    public Task A_partition_held_until_a_side_is_downed_ends_the_job_once() => SufferAsync(
        "partition A-B both ways until a side is downed",
        workMs: OutlivingTheDowningMs,
        run: job => PartitionUntilASideIsDownedAsync(job, oneWay: false));

    [Fact]
    public Task A_one_way_partition_held_until_a_side_is_downed_ends_the_job_once() => SufferAsync(
        "partition A->B one way until a side is downed",
        workMs: OutlivingTheDowningMs,
        run: job => PartitionUntilASideIsDownedAsync(job, oneWay: true));

    [Fact]
    public Task A_partition_during_a_transfer_ends_the_job_once_where_the_client_was_told() => SufferAsync(
        "partition A-B mid-transfer for 3-12 s",
        run: async job =>
        {
            // Anywhere from the first chunks to the restore (the stream takes about 4 s), and short of the
            // resolver's 20 s: the link comes back to two live nodes, each with its view of the move.
            var strike = TimeSpan.FromMilliseconds(Random.Shared.Next(0, 4000));
            var hold = TimeSpan.FromSeconds(Random.Shared.Next(3, 13));
            Output.WriteLine($"partition {strike.TotalSeconds:0.0} s into the transfer, held {hold.TotalSeconds:0} s");
            await using var slow = await Hosts.StarveLinkAsync("nodeA", SlowLink);
            // Under load the healed link can take seconds to carry heartbeats again: then the resolver
            // sees one long partition and downs the younger node, which a service manager restarts.
            await using var systemd = Hosts.RestartNodesThatExit();
            var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            await WaitForLogAsync("nodeB", $"receiving job {job.Id}");
            // Both delays are the fault's timing and length, not waits for progress.
            await Task.Delay(strike);
            await using (await Hosts.PartitionAsync("nodeA", "nodeB"))
            {
                await Task.Delay(hold);
            }
            var healed = Stopwatch.StartNew();
            var answer = await migrate;
            await slow.UndoAsync();
            // Past any downing decision the partition led to (the resolver's 20 s), then whole again.
            await Task.Delay(ResolverWindow - healed.Elapsed is { Ticks: > 0 } rest ? rest : TimeSpan.Zero);
            await Hosts.WaitForClusterAsync();
            AssertOnlyDowned(systemd.Exits);
            return WhereTheMoveLeftIt(answer);
        });

    [Fact]
    public Task Packet_loss_on_the_link_during_a_transfer_loses_nothing() => SufferAsync(
        "1-10 % packet loss on B's link mid-transfer",
        run: async job =>
        {
            var percent = Random.Shared.Next(1, 11);
            Output.WriteLine($"{percent} % of the packets lost each way");
            await using var loss = await Hosts.LosePacketsAsync("nodeB", percent);
            var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            await loss.UndoAsync();
            return WhereTheMoveLeftIt(answer);
        });

    [Fact]
    public Task A_link_starved_to_4_MB_per_second_still_carries_a_64_MB_move() => SufferAsync(
        "link starved to 4 MB/s, 64 MB moved",
        stateMb: 64,
        run: async job =>
        {
            await using var starved = await Hosts.StarveLinkAsync("nodeA", "4mbps");
            var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            Assert.True(answer.ExitCode == 0, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Output.WriteLine(answer.StandardOutput.Trim());
            return "nodeB";
        });

    [Fact]
    public Task The_source_paused_30_s_while_its_job_runs_ends_the_job_once() => SufferAsync(
        "source node SIGSTOPped 30 s while its job runs",
        run: async job =>
        {
            await PauseAsync("nodeA", resumed: Task.CompletedTask);
            return "nodeA";
        });

    [Fact]
    public Task The_target_paused_30_s_mid_transfer_ends_the_job_once_where_the_client_was_told() => SufferAsync(
        "target node SIGSTOPped 30 s mid-transfer",
        run: async job =>
        {
            await using var slow = await Hosts.StarveLinkAsync("nodeA", SlowLink);
            var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            await WaitForLogAsync("nodeB", $"receiving job {job.Id}");
            await PauseAsync("nodeB", resumed: migrate);
            await slow.UndoAsync();
            return WhereTheMoveLeftIt(await migrate);
        });

    /// <summary>
    /// The job moves to B first: keep-oldest downs the younger side, B, so the side that holds the job
    /// is the one whose node exits and must carry on with it once restarted. The partition holds
    /// until that exit, then heals.
    /// </summary>
    private async Task<string?> PartitionUntilASideIsDownedAsync(Job job, bool oneWay)
    {
        await Hosts.ClientOkAsync("migrate", job.Id, "nodeB");
        await using var systemd = Hosts.RestartNodesThatExit();
        await using (await Hosts.PartitionAsync("nodeA", "nodeB", oneWay))
        {
            await Poll.UntilAsync("the split-brain resolver to down a node", () => Task.FromResult(systemd.Exits), exits => exits.Count > 0,
                describe: exits => $"{exits.Count} exits");
        }
        await Hosts.WaitForClusterAsync();
        AssertOnlyDowned(systemd.Exits);
        Output.WriteLine(Hosts.NodeLog("nodeB").Contains($"job {job.Id}: re-adopted its container")
            ? "nodeB re-adopted the running container" : "the job had ended before nodeB went down");
        return "nodeB";
    }

    /// <summary>
    /// SIGSTOP for <see cref="Pause"/>, the nodes that exit meanwhile restarted; after SIGCONT, until
    /// <paramref name="resumed"/> has ended and the cluster is whole again.
    /// </summary>
    private async Task PauseAsync(string host, Task resumed)
    {
        var paused = await Hosts.PauseNodeAsync(host);
        await using (paused)
        {
            await using var systemd = Hosts.RestartNodesThatExit();
            await Task.Delay(Pause); // the fault's length, not a wait for progress
            await paused.UndoAsync();
            await resumed;
            await Hosts.WaitForClusterAsync();
            AssertOnlyDowned(systemd.Exits);
        }
    }

    /// <summary>Every node that exited was downed by the resolver (code 3), the only exit these faults may cause.</summary>
    private void AssertOnlyDowned(IReadOnlyList<(string Host, int ExitCode)> exits)
    {
        Output.WriteLine(exits.Count == 0 ? "no node exited" : string.Join("; ", exits.Select(e => $"{e.Host} exited with {e.ExitCode}, restarted")));
        Assert.All(exits, e => Assert.True(e.ExitCode == 3, $"{e.Host} exited with {e.ExitCode}, not 3 (downed)"));
    }

    /// <summary>The node the client was told the job goes on from: B after a move, A after a refused or rolled back one.</summary>
    private string WhereTheMoveLeftIt(BufferedCommandResult migrate)
    {
        Output.WriteLine($"migrate: {migrate.ExitCode} {migrate.StandardOutput.Trim()} {migrate.StandardError.Trim()}");
        return migrate.ExitCode switch
        {
            0 => "nodeB",
            1 => "nodeA",
            _ => throw new InvalidOperationException($"migrate answered {migrate.ExitCode}: {migrate.StandardError}"),
        };
    }
}
