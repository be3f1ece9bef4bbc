using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace AkkaMigration.Tests.Faults;

/// <summary>Faults of the transfer, the processes and the client, on two hosts (see <see cref="FaultSuite"/>).</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Faults")]
public sealed class FaultSuiteTests(SimulatedHosts hosts, ITestOutputHelper output) : FaultSuite(hosts, output)
{

    [Fact]
    public Task The_target_killed_mid_transfer_leaves_the_job_on_its_source() => SufferAsync(
        "target node SIGKILLed mid-transfer",
        before: () => Hosts.RestartNodeAsync("nodeB", "die-on-chunk=8"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "goes on on nodeA");
            await Hosts.WaitForNodeExitAsync("nodeB");
            Hosts.StartNode("nodeB", "die-on-chunk=8");
            await Hosts.WaitForClusterAsync();
            return "nodeA";
        },
        after: () => Hosts.RestartNodeAsync("nodeB"));

    [Fact]
    public Task A_link_cut_mid_transfer_and_restored_loses_nothing() => SufferAsync(
        "link cut mid-transfer, then restored",
        run: async job =>
        {
            // Slow B's link so that the cut lands in the middle of the transfer.
            await Hosts.InHostAsync("nodeB", ["tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", "40mbit", "burst", "256kb", "latency", "5s"]);
            try
            {
                var migrate = Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
                await WaitForLogAsync("nodeB", $"receiving job {job.Id}");
                await Task.Delay(300);
                await Hosts.CutAsync("nodeB");
                await Task.Delay(TimeSpan.FromSeconds(4));
                await Hosts.MendAsync("nodeB");
                var answer = await migrate;
                // Either outcome is right, as long as it says where the job went on.
                Assert.True(answer.ExitCode is 0 or 1, $"migrate: {answer.ExitCode} {answer.StandardError}");
            }
            finally
            {
                await Hosts.MendAsync("nodeB");
                await Hosts.InHostAsync("nodeB", ["tc", "qdisc", "del", "dev", "eth0", "root"]);
            }
            await Hosts.WaitForClusterAsync();
            return null;
        });

    [Fact]
    public Task A_corrupted_chunk_is_caught_and_the_job_stays_on_its_source() => SufferAsync(
        "corrupted chunk",
        before: () => Hosts.RestartNodeAsync("nodeA", "corrupt-chunk=3"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "checksum mismatch");
            return "nodeA";
        },
        after: () => Hosts.RestartNodeAsync("nodeA"));

    [Fact]
    public Task A_restore_that_fails_on_the_target_leaves_the_job_on_its_source() => SufferAsync(
        "restore fails on the target",
        before: () => Hosts.RestartNodeAsync("nodeB", "fail-restore"),
        run: async job =>
        {
            await ExpectMigrationToFailAsync(job, "fail-restore");
            return "nodeA";
        },
        after: () => Hosts.RestartNodeAsync("nodeB"));

    [Fact]
    public Task The_source_killed_right_after_the_target_confirmed_lets_go_of_its_copy_when_it_restarts() => SufferAsync(
        "source SIGKILLed right after the target confirmed",
        before: () => Hosts.RestartNodeAsync("nodeA", "die-after-restore-confirmed"),
        run: async job =>
        {
            // The client notices that the node it asked is gone, long before its timeout. Its answer is
            // awaited first: a migration refused before the fault (say, the job had finished) then fails
            // with the client's reason rather than after a wait for a node that never dies.
            var answer = await Hosts.ClientAsync(["migrate", job.Id, "nodeB"]);
            Assert.True(answer.ExitCode == 3, $"migrate: {answer.ExitCode} {answer.StandardError}");
            Assert.Contains("lost the connection to nodeA before it answered", answer.StandardError);
            await Hosts.WaitForNodeExitAsync("nodeA");
            Hosts.StartNode("nodeA", "die-after-restore-confirmed");
            await Hosts.WaitForClusterAsync();
            return "nodeB";
        },
        after: () => Hosts.RestartNodeAsync("nodeA"));

    [Fact]
    public Task A_node_killed_while_its_container_runs_re_adopts_the_job_when_restarted() => SufferAsync(
        "node SIGKILLed while its container runs, then restarted",
        run: async job =>
        {
            await Task.Delay(Random.Shared.Next(500, 2500));
            await Hosts.KillNodeAsync("nodeA");
            await Task.Delay(TimeSpan.FromSeconds(2));
            Hosts.StartNode("nodeA");
            await Hosts.WaitForClusterAsync();
            return "nodeA";
        });

    [Fact]
    public Task A_client_killed_mid_migration_does_not_stop_the_migration() => SufferAsync(
        "client SIGKILLed mid-migration",
        run: async job =>
        {
            var migrate = Hosts.StartClient("migrate", job.Id, "nodeB");
            await WaitForLogAsync("nodeA", $"migrating job {job.Id}");
            await migrate.KillAsync();
            return "nodeB";
        });

    [Fact]
    public Task Two_migrations_asked_at_once_move_the_job_once() => SufferAsync(
        "two migrate requests at once",
        run: async job =>
        {
            var answers = await Task.WhenAll(
                Hosts.ClientAsync(["migrate", job.Id, "nodeB"]),
                Hosts.ClientAsync(["migrate", job.Id, "nodeB"]));
            Assert.Single(answers, a => a.ExitCode == 0);
            var loser = Assert.Single(answers, a => a.ExitCode == 1);
            Assert.Matches("already migrating to nodeB|already runs on nodeB", loser.StandardError);
            return "nodeB";
        });
}
