using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaMigration.Client.Commands;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;
using Spectre.Console;

namespace AkkaMigration.Tests.Specs;

/// <summary>What the client shows of a migration's progress and of a job's state, without a node.</summary>
public sealed class ClientDisplaySpecs
{
    private readonly ProgressTask _checkpoint = Step(0, "checkpoint");
    private readonly ProgressTask _transfer = Step(1, "transfer");
    private readonly ProgressTask _restore = Step(2, "restore");

    private MigrationProgressView View => new(_checkpoint, _transfer, _restore);

    [Fact]
    public void A_step_is_complete_once_the_next_one_begins()
    {
        var view = View;

        view.Report(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 1000));
        var duringCheckpoint = (_checkpoint.IsStarted, _checkpoint.IsFinished, _transfer.IsStarted);
        view.Report(new MigrationProgress("job1", MigrationStep.Restore, 1000, 1000));

        Assert.Equal((true, false, false), duringCheckpoint);
        Assert.True(_checkpoint.IsFinished && _transfer.IsFinished);
        Assert.Equal(100, _transfer.Percentage);
        Assert.True(_restore.IsStarted && !_restore.IsFinished);
    }

    [Fact]
    public void The_checkpoint_runs_beside_the_transfer_until_the_node_says_it_has_ended()
    {
        var view = View;

        view.Report(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 1000));
        view.Report(new MigrationProgress("job1", MigrationStep.Transfer, 200, 1000));
        var whileWritten = (_checkpoint.IsFinished, _transfer.IsStarted);
        view.Report(new MigrationProgress("job1", MigrationStep.Transfer, 400, 900, Checkpointed: true));

        Assert.Equal((false, true), whileWritten);
        Assert.True(_checkpoint.IsFinished);
        Assert.False(_transfer.IsFinished);
    }

    [Fact]
    public void Once_the_restore_begins_the_transfer_shows_the_whole_archive_across()
    {
        var view = View;
        view.Report(new MigrationProgress("job1", MigrationStep.Transfer, 512 * 1024, 4 * 1024 * 1024));

        view.Report(new MigrationProgress("job1", MigrationStep.Restore, 3 * 1024 * 1024, 3 * 1024 * 1024, Checkpointed: true));

        Assert.Equal(("transfer 3.0 of 3.0 MB", 100.0), (_transfer.Description, _transfer.Percentage));
    }

    [Fact]
    public void The_transfer_shows_the_bytes_sent_of_the_estimate()
    {
        View.Report(new MigrationProgress("job1", MigrationStep.Transfer, 512 * 1024, 2 * 1024 * 1024));

        Assert.Equal(25, _transfer.Percentage);
        Assert.Equal("transfer 0.5 of ~2.0 MB", _transfer.Description);
    }

    [Fact]
    public void A_transfer_that_outgrows_its_estimate_is_shown_full_rather_than_past_the_end()
    {
        View.Report(new MigrationProgress("job1", MigrationStep.Transfer, 3 * 1024 * 1024, 2 * 1024 * 1024));

        Assert.Equal((3.0 * 1024 * 1024, 100.0), (_transfer.MaxValue, _transfer.Percentage));
    }

    [Fact]
    public void A_transfer_of_unknown_size_is_shown_as_busy_with_the_bytes_sent()
    {
        View.Report(new MigrationProgress("job1", MigrationStep.Transfer, 1024 * 1024, 0));

        Assert.True(_transfer.IsIndeterminate);
        Assert.Equal("transfer 1.0 MB", _transfer.Description);
    }

    [Fact]
    public void A_failed_migration_stops_the_steps_where_they_were()
    {
        var view = View;
        view.Report(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 1024));
        view.Report(new MigrationProgress("job1", MigrationStep.Transfer, 256, 1024));

        view.Finish(moved: false);

        Assert.True(_checkpoint.IsFinished && _transfer.IsFinished);
        Assert.Equal(25, _transfer.Percentage);
        Assert.False(_restore.IsStarted);
    }

    [Fact]
    public async Task The_live_display_returns_the_migration_s_outcome_with_every_step_shown_done()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(screen) });

        var outcome = await MigrationProgressView.ShowAsync(console, progress =>
        {
            progress.Report(new MigrationProgress("job1", MigrationStep.Transfer, 512 * 1024, 1024 * 1024));
            return Task.FromResult(Outcome.Ok(null, "moved"));
        });

        Assert.Equal(["moved"], outcome.Lines);
        Assert.Matches(@"checkpoint +━+ 100%", screen.ToString());
        Assert.Matches(@"transfer 0\.5 of ~1\.0 MB +━+ 100%", screen.ToString());
        Assert.Matches(@"restore +━+ 100%", screen.ToString());
    }

    [Fact]
    public async Task A_drain_s_display_has_a_line_per_job_at_its_latest_step()
    {
        var screen = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(screen) });
        console.Profile.Width = 200;

        await DrainProgressView.ShowAsync(console, progress =>
        {
            progress.Report(new MigrationProgress("web", MigrationStep.Checkpoint, 0, 1024 * 1024));
            progress.Report(new MigrationProgress("web", MigrationStep.Restore, 1024 * 1024, 1024 * 1024, Checkpointed: true));
            progress.Report(new MigrationProgress("db", MigrationStep.Transfer, 512 * 1024, 2 * 1024 * 1024, Checkpointed: true));
            return Task.FromResult(Outcome.Ok(null, "drained"));
        });

        var last = screen.ToString().Split('\n').Reverse().Take(4).ToArray();
        Assert.Contains(last, l => l.Contains("job web: restore (frozen)", StringComparison.Ordinal));
        Assert.Contains(last, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"job db: transfer 0\.5 of 2\.0 MB +━+"));
    }

    [Fact]
    public async Task Only_the_transfer_shows_its_speed_and_time_left_and_every_step_how_long_it_has_taken()
    {
        var screen = new StringWriter();
        // The display draws on a thread of its own; the spec reads what it drew under the writer's lock.
        var drawing = TextWriter.Synchronized(screen);
        string Drawn()
        {
            lock (drawing)
            {
                return screen.ToString();
            }
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.Yes, Out = new AnsiConsoleOutput(drawing) });
        console.Profile.Width = 200;
        const string halfway = @"transfer 2\.0 of 4\.0 MB[^\n]* 50% +\d+\.\d MB/s +\d+ ms left +\d+ ms ";

        var checkpointed = 0L;
        await MigrationProgressView.ShowAsync(console, async progress =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            progress.Report(new MigrationProgress("job1", MigrationStep.Checkpoint, 0, 4 * 1024 * 1024));
            progress.Report(new MigrationProgress("job1", MigrationStep.Transfer, 1024 * 1024, 4 * 1024 * 1024));
            // The speed is the transfer's own since it began, shown once a quarter of a second has passed.
            await Task.Delay(300);
            progress.Report(new MigrationProgress("job1", MigrationStep.Transfer, 2 * 1024 * 1024, 4 * 1024 * 1024, Checkpointed: true));
            checkpointed = clock.ElapsedMilliseconds;
            SpinWait.SpinUntil(() => Regex.IsMatch(Drawn(), halfway), TimeSpan.FromSeconds(5));
            // The display runs on well past the checkpoint's end: a time still counting would show it.
            await Task.Delay(400);
            return Outcome.Ok(null, "moved");
        });

        var rows = Drawn().Split('\n');
        Assert.Contains(rows, r => Regex.IsMatch(r, halfway));
        var checkpoint = rows.Last(r => r.Contains("checkpoint (frozen)"));
        Assert.DoesNotMatch("MB/s| left", checkpoint);
        // It ended with the second report, some 300 ms in (more on a busy machine), and keeps that time once everything is done.
        Assert.InRange(ShownMs(checkpoint), 250, checkpointed + 250);
        var transfer = rows.Last(r => r.Contains("transfer"));
        Assert.Matches(@"transfer 2\.0 of 4\.0 MB[^\n]* 100% +\d+\.\d MB/s ", transfer);
        Assert.InRange(ShownMs(transfer), 1, long.MaxValue);
    }

    /// <summary>The time a finished step's row shows, as <see cref="Figures.Duration"/> wrote it, to its precision.</summary>
    private static long ShownMs(string row)
    {
        var shown = Regex.Match(row, @" 100% .*?(\d+) ms |(\d+\.\d) s ");
        Assert.True(shown.Success, $"no time in: {row}");
        return shown.Groups[1].Success
            ? long.Parse(shown.Groups[1].Value)
            : (long)(double.Parse(shown.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) * 1000);
    }

    [Theory]
    [InlineData(300, 100, 500, 1240, "in 1.2 s, frozen 900 ms (checkpoint 300 ms, transfer 100 ms, restore 500 ms, 0.6 MB)")]
    [InlineData(900, 150, 620, 2040, "in 2.0 s, frozen 1.7 s (checkpoint 900 ms, transfer 150 ms, restore 620 ms, 0.6 MB)")]
    [InlineData(900, 0, 0, 2040, "in 2.0 s, frozen time unknown (the target's figures were lost) (checkpoint 900 ms, transfer 0 ms, restore 0 ms, 0.6 MB)")]
    public void A_move_s_line_says_how_long_it_took_and_first_how_long_the_container_was_frozen(long checkpoint, long transfer, long restore, long total, string expected)
    {
        var moved = new MigrationSucceeded("job1", "nodeA", "nodeB", new MigrationTimings(checkpoint, transfer, restore, 629_146, total));

        Assert.Equal($"job job1 moved nodeA → nodeB {expected}", ClientOperations.Moved(moved));
    }

    [Fact]
    public void Following_logs_prints_only_the_lines_after_those_already_printed()
    {
        Assert.Equal(Logged.Lines("d"), ClientOperations.Unseen(Logged.Lines("a", "b", "c"), Logged.Lines("b", "c", "d")));
        Assert.Empty(ClientOperations.Unseen(Logged.Lines("a", "b"), Logged.Lines("a", "b")));
        Assert.Equal(Logged.Lines("c", "d"), ClientOperations.Unseen(Logged.Lines("a", "b"), Logged.Lines("b", "c", "d")));
        // A log begun anew on the job's new owner shares nothing with what was printed.
        Assert.Equal(Logged.Lines("x", "y"), ClientOperations.Unseen(Logged.Lines("a", "b"), Logged.Lines("x", "y")));
    }

    [Fact]
    public void Following_logs_finds_the_lines_printed_first_inside_a_longer_window_of_the_log()
    {
        // The first read was the last two lines (--tail 2); each read after it asks for a thousand.
        var unseen = ClientOperations.Unseen(Logged.Lines("c", "d"), Logged.Lines("a", "b", "c", "d", "e"));

        Assert.Equal(Logged.Lines("e"), unseen);
    }

    [Fact]
    public void Following_logs_tells_a_line_repeated_word_for_word_apart_by_its_time()
    {
        var printed = Logged.Repeated("tick", 11, 30);

        var unseen = ClientOperations.Unseen(printed, Logged.Repeated("tick", 0, 32));

        Assert.Equal(Logged.Repeated("tick", 31, 32), unseen);
    }

    [Fact]
    public void Following_logs_matches_an_ended_jobs_kept_lines_by_their_text_when_they_have_no_time()
    {
        LogLine[] printed = [.. Logged.Repeated("tick", 1, 2), Logged.At(3, "done")];

        var unseen = ClientOperations.Unseen(printed, Logged.Lines("tick", "tick", "done", "exit 0"));

        Assert.Equal(Logged.Lines("exit 0"), unseen);
    }

    [Fact]
    public void A_running_job_shows_how_long_it_has_been_up_and_a_settled_one_shows_nothing()
    {
        var now = DateTimeOffset.Now;
        var running = Job(JobPhase.Running, now.AddSeconds(-3725));

        Assert.Equal("1 h 02 m", JobTable.Uptime(running, now));
        Assert.Equal("42 s", JobTable.Uptime(running with { SubmittedAt = now.AddSeconds(-42) }, now));
        Assert.Equal("", JobTable.Uptime(running with { Phase = JobPhase.Completed }, now));
    }

    [Fact]
    public void The_result_is_the_demo_s_value_another_container_s_exit_code_or_the_error()
    {
        var job = Job(JobPhase.Completed, DateTimeOffset.Now);

        Assert.Equal("42", JobTable.Result(job with { Result = new JobResult(42, "cbf2", true, "nodeB") }));
        Assert.Equal("exit 137", JobTable.Result(job with { ExitCode = 137 }));
        Assert.Equal("image not known here", JobTable.Result(job with { Phase = JobPhase.Failed, Error = "image not known here" }));
    }

    [Fact]
    public void A_protected_job_shows_where_its_last_checkpoint_is_kept_how_old_it_is_its_size_and_the_pause_it_cost()
    {
        var now = DateTimeOffset.Now;
        var job = Job(JobPhase.Running, now.AddMinutes(-1)) with { Spec = JobSpec.Container("nginx", []) with { Protection = new Protection(TimeSpan.FromSeconds(2), 1) } };

        Assert.Equal("off", JobTable.Protection(Job(JobPhase.Running, now), now));
        Assert.Equal("2s, no checkpoint yet", JobTable.Protection(job, now));
        Assert.Equal("2s → nodeC (1.4 s ago, 0.9 MB, 210 ms pause)",
            JobTable.Protection(job with { LastProtection = new ProtectionCheckpoint(now.AddMilliseconds(-1400), 943_718, 210, ["nodeC"]) }, now));
        Assert.Equal("2s", JobTable.Protection(job with { Phase = JobPhase.Completed }, now));
    }

    [Fact]
    public void A_protected_job_s_last_checkpoint_is_in_its_json()
    {
        var job = Job(JobPhase.Running, DateTimeOffset.UnixEpoch) with { LastProtection = new ProtectionCheckpoint(DateTimeOffset.UnixEpoch, 42, 7, ["nodeC"]) };

        var json = OutcomeJson.Serialize(ClientOperations.Describe(job));

        Assert.Contains(""","lastProtection":{"takenAt":"1970-01-01T00:00:00+00:00","bytes":42,"pauseMs":7,"hosts":["nodeC"]}""", json);
    }

    [Fact]
    public void A_failover_is_listed_among_the_moves_with_its_checkpoint_s_time_and_the_work_it_lost()
    {
        var taken = new DateTimeOffset(2026, 12, 7, 9, 41, 7, TimeSpan.Zero);
        var failover = new MoveRecord("nodeB", "nodeC", taken.AddMilliseconds(4100), 0, 0, 800, CheckpointTakenAt: taken);

        Assert.Equal($"resumed on nodeC from a checkpoint taken {taken.ToLocalTime():HH:mm:ss} (4.1 s of work lost) after nodeB was lost", ClientOperations.DescribeMove(failover));
        Assert.Equal("nodeB → nodeC: checkpoint 300 ms, transfer 20 ms, restore 800 ms", ClientOperations.DescribeMove(new MoveRecord("nodeB", "nodeC", taken, 300, 20, 800)));
    }

    [Fact]
    public void A_failure_in_json_keeps_the_node_s_record_apart_from_the_client_s_exit_code()
    {
        var failed = Job(JobPhase.Failed, DateTimeOffset.UnixEpoch) with { Error = "oom", ExitCode = 137 };

        var json = OutcomeJson.Serialize(ClientOperations.Describe(failed));

        Assert.StartsWith("""{"ok":false,"exitCode":1,"error":"job web failed on nodeA: oom","answer":{"jobId":"web","owner":"nodeA","phase":"failed",""", json);
        Assert.Contains(""","spec":{"image":"nginx",""", json);
        Assert.Contains("\"exitCode\":137,\"finishedAt\":null", json);
    }

    [Theory]
    [InlineData(nameof(CommandRejected), typeof(JobFailure))]
    [InlineData(nameof(MigrationFailed), typeof(MigrationFailure))]
    [InlineData(nameof(DrainRefused), typeof(DrainFailure))]
    public void The_readme_lists_every_code_a_failure_shows_in_json_as_json_spells_it(string record, Type codes)
    {
        var row = File.ReadLines(Repo.Path("README.md")).Single(l => l.StartsWith($"| `{record}` "));
        var listed = Regex.Matches(row.Split('|')[2], "`([^`]+)`").Select(m => m.Groups[1].Value);

        Assert.Equal(Enum.GetValues(codes).Cast<object>().Select(c => JsonSerializer.Serialize(c, OutcomeJson.Options).Trim('"')), listed);
    }

    private static JobStatus Job(JobPhase phase, DateTimeOffset submittedAt) =>
        new("web", "nodeA", phase, JobSpec.Container("nginx", []), null, null, 0, submittedAt);

    private static ProgressTask Step(int id, string name) => new(id, name, maxValue: 1, autoStart: false, TimeProvider.System);
}
