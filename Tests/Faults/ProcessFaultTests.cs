using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;

namespace AkkaMigration.Tests.Faults;

/// <summary>
/// Faults of the hosts' processes and disks (issue 14): a full disk, a hung podman, a node SIGKILLed
/// while CRIU works for it, every node at once, and a 2 GB container (see <see cref="FaultSuite"/>).
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ProcessFaultTests(SimulatedHosts hosts, ITestOutputHelper output) : FaultSuite(hosts, output)
{
    /// <summary>Fills the rest of a small disk, inside a host; dd ends when the disk is full.</summary>
    private static readonly string Filler = $"{SimulatedHosts.ArchivesFolder}/filler";

    /// <summary>The least a node allows, so a hung podman costs a run 10 s.</summary>
    private const string QuickLimitS = "10";

    [Fact]
    public Task A_target_whose_disk_fills_mid_transfer_keeps_nothing_and_the_job_goes_on_on_its_source() => SufferAsync(
        "target's disk full mid-transfer",
        // Room for the archive when the transfer is admitted (16 MB of state, about 90 MB asked with the margin).
        before: () => Hosts.MountSmallDiskAsync("nodeB", SimulatedHosts.ArchivesFolder, 160),
        run: async job =>
        {
            // Slow A's link, so that the disk fills while the archive is still arriving.
            await Hosts.InHostAsync("nodeA", ["tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", "40mbit", "burst", "256kb", "latency", "5s"]);
            try
            {
                var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                await WaitForLogAsync("nodeB", $"receiving job {job.Id}");
                await Hosts.InHostAsync("nodeB", ["sh", "-c", $"dd if=/dev/zero of={Filler} bs=1M 2>/dev/null; true"]);
                var answer = await migrate;
                Assert.True(answer.ExitCode == 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
                Assert.Contains("No space left on device", answer.StandardError);
                Assert.Contains("goes on on nodeA", answer.StandardError);
            }
            finally
            {
                await Hosts.InHostAsync("nodeA", ["tc", "qdisc", "del", "dev", "eth0", "root"]);
            }
            // The target keeps nothing of it: its archive is deleted, and no container was made.
            await Poll.UntilAsync("nodeB's archives gone", async () => (await Hosts.InHostAsync("nodeB", ["ls", "-A", SimulatedHosts.ArchivesFolder])).StandardOutput,
                listed => listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).All(f => f == "filler"));
            await Hosts.InHostAsync("nodeB", ["rm", "-f", Filler]);
            return "nodeA";
        },
        after: () => Hosts.UnmountSmallDiskAsync("nodeB", SimulatedHosts.ArchivesFolder));

    [Fact]
    public Task A_target_short_of_room_for_the_archive_refuses_the_move_before_anything_is_frozen() => SufferAsync(
        "target short of room for the archive",
        before: () => Hosts.MountSmallDiskAsync("nodeB", SimulatedHosts.ArchivesFolder, 32),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "MB free for archives");
            Assert.DoesNotContain($"migrating job {job.Id}", Hosts.NodeLog("nodeA"));
            return "nodeA";
        },
        after: () => Hosts.UnmountSmallDiskAsync("nodeB", SimulatedHosts.ArchivesFolder));

    [Fact]
    public Task A_podman_hung_on_checkpoint_is_killed_at_its_limit_and_the_container_thawed_in_place()
    {
        var podman = Hosts.HangingPodman("checkpoint");
        return SufferAsync(
            "podman hung on checkpoint (source), container frozen",
            before: () => Hosts.RestartNodeAsync("nodeA", Hosts.ConfigWith("quick-limit", ("checkpoint_limit_s", QuickLimitS)), podman),
            run: async job =>
            {
                var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                Assert.True(answer.ExitCode == 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
                Assert.True(SimulatedHosts.HangsSeen(podman), "podman never hung");
                Assert.Contains($"did not finish within {QuickLimitS} s", answer.StandardError);
                Assert.Contains("thawed", answer.StandardError);
                return "nodeA";
            },
            after: () => Hosts.RestartNodeAsync("nodeA"));
    }

    [Fact]
    public Task A_podman_hung_on_restore_is_killed_at_its_limit_and_the_target_removes_what_it_restored()
    {
        var podman = Hosts.HangingPodman("restore");
        return SufferAsync(
            "podman hung on restore (target), after restoring",
            before: () => Hosts.RestartNodeAsync("nodeB", Hosts.ConfigWith("quick-limit", ("checkpoint_limit_s", QuickLimitS)), podman),
            run: async job =>
            {
                var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                Assert.True(answer.ExitCode == 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
                Assert.True(SimulatedHosts.HangsSeen(podman), "podman never hung");
                Assert.Contains($"did not finish within {QuickLimitS} s", answer.StandardError);
                Assert.Contains("goes on on nodeA", answer.StandardError);
                return "nodeA";
            },
            after: () => Hosts.RestartNodeAsync("nodeB"));
    }

    [Fact]
    public Task The_source_killed_while_podman_hangs_on_its_checkpoint_thaws_the_container_when_it_restarts()
    {
        var podman = Hosts.HangingPodman("checkpoint");
        return SufferAsync(
            "source SIGKILLed while podman hangs on checkpoint (frozen)",
            before: () => Hosts.RestartNodeAsync("nodeA", null, podman),
            run: async job =>
            {
                var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                await Poll.UntilAsync("podman hung on nodeA's checkpoint", () => Task.FromResult(SimulatedHosts.HangsSeen(podman)), hung => hung);
                await Hosts.KillNodeAloneAsync("nodeA");
                var answer = await migrate;
                Assert.True(answer.ExitCode == 3, $"migrate: {answer.ExitCode} {answer.StandardError}");
                // The hung podman lives on, as on a real host; the container stays frozen until the node is back.
                Hosts.StartNode("nodeA", null, null, podman);
                await Hosts.WaitForClusterAsync();
                return "nodeA";
            },
            after: async () =>
            {
                SimulatedHosts.EndHangs(podman);
                await Hosts.RestartNodeAsync("nodeA");
            });
    }

    [Fact]
    public Task The_source_killed_mid_checkpoint_settles_the_move_when_it_restarts() => SufferAsync(
        "source SIGKILLed mid-checkpoint (podman orphaned)",
        run: async job =>
        {
            var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            await Hosts.KillNodeWhenCriuWorksAsync("nodeA", "dump", migrate);
            var answer = await migrate;
            Assert.True(answer.ExitCode == 3, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Hosts.StartNode("nodeA");
            await Hosts.WaitForClusterAsync();
            return "nodeA";
        },
        // Enough memory that the dump lasts a while: one of 16 MB was once over before a poll saw CRIU.
        stateMb: 256);

    [Fact]
    public Task The_target_killed_during_a_real_restore_holds_nothing_when_restarted_and_the_source_resumes() => SufferAsync(
        "target SIGKILLed mid-restore (512 MB), then restarted",
        // The source gives up waiting for the dead target's confirmation sooner than the default 120 s.
        before: () => Hosts.RestartNodeAsync("nodeA", Hosts.ConfigWith("short-restore-wait", ("restore_timeout_s", "30")), null),
        run: async job =>
        {
            var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            await Hosts.KillNodeWhenCriuWorksAsync("nodeB", "restore", migrate);
            Hosts.StartNode("nodeB");
            await Hosts.WaitForClusterAsync();
            var answer = await migrate;
            Assert.True(answer.ExitCode == 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Assert.Contains("goes on on nodeA", answer.StandardError);
            Assert.Contains($"removing the container of job {job.Id}: its restore was interrupted", Hosts.NodeLog("nodeB"));
            return "nodeA";
        },
        after: () => Hosts.RestartNodeAsync("nodeA"),
        stateMb: 512);

    [Fact]
    public Task Every_node_killed_at_once_and_restarted_re_adopts_the_job_which_ends_once() => SufferAsync(
        "every node SIGKILLed at once, then restarted",
        run: async job =>
        {
            await Task.Delay(Random.Shared.Next(500, 2500));
            await Hosts.KillEveryNodeAsync();
            foreach (var host in SimulatedHosts.Hosts)
            {
                Hosts.StartNode(host);
            }
            await Hosts.WaitForClusterAsync();
            return "nodeA";
        });

    [Fact]
    [Trait("Size", "Large")]
    public Task A_2_GB_container_moves_with_its_memory_intact() => SufferAsync(
        "2 GB container moved A → B",
        run: async job =>
        {
            // Moved once its 2 GB are filled, and timed.
            await Poll.UntilAsync($"job {job.Id}'s state filled", () => Hosts.PodmanAsync("nodeA", "logs", $"amig-{job.Id}"),
                logs => logs.Contains("STARTED", StringComparison.Ordinal), interval: TimeSpan.FromSeconds(1));
            var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            Assert.True(answer.ExitCode == 0, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Output.WriteLine(answer.StandardOutput.Trim());
            return "nodeB";
        },
        workMs: Patience.OutlastingWorkMs, stateMb: 2048);
}
