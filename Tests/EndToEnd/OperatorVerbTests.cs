using System.Text.Json;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Tests.Integration;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.EndToEnd;

/// <summary>
/// The operator's verbs on real podman: a container's moves in inspect, ps, a drain's dry run with
/// a cordon, rm and rm -f; a migration cancelled as soon as it has begun; logs -f across a move,
/// of a job with distinct lines and of one that logs the same line over and over.
/// </summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "EndToEnd")]
public sealed class OperatorVerbTests(SimulatedHosts hosts)
{
    [Fact]
    public async Task A_container_moved_there_and_back_shows_both_moves_and_rm_f_stops_and_removes_it()
    {
        // Two moves, four verbs and a wait for gossip before the rm -f that ends it: far more than one
        // outlasting work time on a busy machine, and nobody waits for its result.
        await hosts.ClientOkAsync("run", "--on", "nodeA", "ops-verbs", ClusterSteps.WorkerImage,
            "--number", "1", "--work-ms", "600000", "--state-mb", "8");
        await hosts.ClientOkAsync("migrate", "ops-verbs", "nodeB");
        await hosts.ClientOkAsync("migrate", "ops-verbs", "nodeA");

        using var inspect = JsonDocument.Parse((await hosts.ClientOkAsync("inspect", "ops-verbs", "--json")).StandardOutput);
        var moves = inspect.RootElement.GetProperty("moves").EnumerateArray().ToList();
        Assert.Equal([("nodeA", "nodeB"), ("nodeB", "nodeA")], moves.Select(m => (m.GetProperty("from").GetString(), m.GetProperty("to").GetString())));
        Assert.All(moves, m => Assert.True(m.GetProperty("checkpointMs").GetInt64() > 0 && m.GetProperty("restoreMs").GetInt64() > 0));
        var ps = await hosts.ClientOkAsync("ps", "-q", "--node", "nodeA", "--phase", "running");
        Assert.Contains("ops-verbs", ps.StandardOutput.Split('\n'));

        await hosts.ClientOkAsync("cordon", "nodeB");
        try
        {
            // nodeA hears of nodeB's cordon by gossip.
            var refused = await Poll.UntilAsync("nodeA sees nodeB cordoned", () => hosts.ClientAsync(["drain", "nodeA", "--dry-run"]),
                r => r.ExitCode == 1, describe: r => r.StandardError);
            Assert.Contains("no other host is up and uncordoned", refused.StandardError);
        }
        finally
        {
            await hosts.ClientOkAsync("uncordon", "nodeB");
        }

        var rm = await hosts.ClientAsync(["rm", "ops-verbs"]);
        Assert.Equal(1, rm.ExitCode);
        Assert.Contains("stop it first", rm.StandardError);
        await hosts.ClientOkAsync("rm", "-f", "ops-verbs");
        var query = await hosts.ClientAsync(["query", "ops-verbs"]);
        Assert.Contains("no job ops-verbs", query.StandardError);
        await Poll.UntilAsync("the container is gone from nodeA", () => hosts.PodmanAsync("nodeA", "ps", "-a", "--format", "{{.Names}}"),
            names => !names.Split('\n').Contains(ContainerNames.For("ops-verbs")));
    }

    [Fact]
    public async Task A_migration_cancelled_once_begun_leaves_the_job_where_it_was_with_its_memory_intact()
    {
        await hosts.SubmitAsync("ops-cancel", 70, Patience.OutlastingWorkMs, stateMb: 64);
        var migrate = hosts.ClientAsync(["migrate", "ops-cancel", "nodeB"]);

        // Asked until the move has begun: before the freeze or during the checkpoint it is cancelled;
        // should it already be on its way (a fast machine), the node says why not and the move ends.
        var cancel = await Poll.UntilAsync("the migration has begun", () => hosts.ClientAsync(["cancel", "ops-cancel"]),
            r => !r.StandardError.Contains("not migrating"), TimeSpan.FromMilliseconds(50), r => r.StandardError);
        var moved = await migrate;

        var done = await hosts.FinishedJobAsync("ops-cancel");
        Assert.True(done.Result!.MemoryIntact);
        if (cancel.ExitCode == 0)
        {
            Assert.Contains("its migration from nodeA is cancelled", cancel.StandardOutput);
            Assert.Equal((1, "nodeA"), (moved.ExitCode, done.Result.ProducedBy));
        }
        else
        {
            Assert.Contains("on its way to nodeB", cancel.StandardError);
        }
    }

    [Fact]
    public async Task Logs_follow_prints_each_line_once_in_order_across_a_move_until_the_job_ends()
    {
        await hosts.ClientOkAsync("run", "--on", "nodeA", "ops-follow", ClusterSteps.WorkerImage,
            "--number", "1", "--work-ms", Patience.OutlastingWorkMs.ToString());
        // Begun once the log is longer than the first read (--tail 2): each read after it goes back further than what was printed.
        await Poll.UntilAsync("the job prints its progress", () => hosts.ClientAsync(["logs", "ops-follow"]),
            r => r.StandardOutput.Split('\n').Count(l => l.StartsWith("PROGRESS ")) >= 4);
        var follow = hosts.ClientAsync(["logs", "ops-follow", "-f", "--tail", "2"]);
        // Through a client like the follower's, so that the follower has started by then too.
        await hosts.ClientOkAsync("logs", "ops-follow");
        await hosts.ClientOkAsync("migrate", "ops-follow", "nodeB");

        var followed = await follow;
        Assert.Equal(0, followed.ExitCode);
        var lines = followed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var ticks = lines.Where(l => l.StartsWith("PROGRESS ")).Select(l => int.Parse(l.Split(' ', '/')[1])).ToList();
        Assert.InRange(ticks.Count, 2, int.MaxValue);
        Assert.True(ticks[0] >= 3, $"the first read was the log's last two lines, yet it began at PROGRESS {ticks[0]}");
        Assert.Equal(ticks.Order(), ticks);
        Assert.Equal(ticks.Distinct().Count(), ticks.Count);
        Assert.StartsWith("RESULT value=2 ", lines[^1]);
        Assert.Contains("job ops-follow moved nodeA → nodeB; following it there", followed.StandardError);
        Assert.Contains("exited with code 0 on nodeB", followed.StandardError);
    }

    [Fact]
    public async Task Logs_follow_prints_a_line_repeated_word_for_word_each_time_it_is_logged_across_a_move()
    {
        await hosts.ClientOkAsync("run", "--on", "nodeA", "ops-alive", ClusterSteps.WorkerImage, "heartbeat");
        await Poll.UntilAsync("the job says it is alive three times", () => hosts.ClientAsync(["logs", "ops-alive"]), r => Alive(r.StandardOutput) >= 3);
        var follow = hosts.ClientAsync(["logs", "ops-alive", "-f", "--timestamps", "--tail", "2"]);
        var before = Alive((await hosts.ClientOkAsync("logs", "ops-alive", "--tail", "1000")).StandardOutput);
        await hosts.ClientOkAsync("migrate", "ops-alive", "nodeB");
        await Poll.UntilAsync("three more on nodeB", () => hosts.ClientAsync(["logs", "ops-alive", "--tail", "1000"]), r => Alive(r.StandardOutput) >= before + 3);
        await hosts.ClientOkAsync("stop", "ops-alive");

        var followed = await follow;
        // What the job's record kept of its log once it ended, each line with its second.
        var kept = (await hosts.ClientOkAsync("logs", "ops-alive", "--timestamps", "--tail", "1000")).StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(0, followed.ExitCode);
        var lines = followed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.EndsWith(" alive", l));
        Assert.InRange(lines.Length, 5, int.MaxValue);
        Assert.Equal(lines.Order(StringComparer.Ordinal), lines);
        // Each line the log has from the follower's first one on, once: none printed again, none missed.
        var shared = kept.Where(l => string.CompareOrdinal(l, lines[0]) >= 0).ToList();
        Assert.Equal(shared, lines.TakeLast(shared.Count));
        Assert.Contains("job ops-alive moved nodeA → nodeB; following it there", followed.StandardError);
    }

    private static int Alive(string output) => output.Split('\n').Count(l => l == "alive");
}
