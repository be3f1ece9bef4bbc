using System.Text.Json.Nodes;
using Akka.Actor;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.Support;

namespace AkkaMigration.Tests.Specs;

/// <summary>
/// A node's supervisor stopped and started again on the same state folder and the same (fake)
/// podman store, as when a node process is killed and restarted: what it knew comes back from
/// its job records.
/// </summary>
public sealed class RecoverySpecs() : SingleNodeSpec("recovery")
{
    [Fact]
    public void A_restarted_node_carries_on_with_a_running_job_and_delivers_its_result()
    {
        Submit("survivor", 41, workMillis: 1500);
        AwaitPhase("survivor", JobPhase.Running);

        Restart();
        Supervisor.Tell(new QueryJob("survivor", WaitForResult: true), TestActor);

        var done = ExpectMsg<JobStatus>(Long);
        Assert.Equal((JobPhase.Completed, 42L, "nodeA"), (done.Phase, done.Result!.Value, done.Result.ProducedBy));
        // Re-adopted, not started again.
        Assert.Single(Runtime.Calls, c => c == $"run {ContainerNames.For("survivor")}");
    }

    [Fact]
    public void A_restarted_node_still_knows_the_result_of_a_job_that_finished_before()
    {
        Submit("finished", 9, workMillis: 100);
        AwaitPhase("finished", JobPhase.Completed);
        AwaitAssert(() => Assert.Null(Runtime.Inspect(ContainerNames.For("finished"))));

        Restart();
        Supervisor.Tell(new QueryJob("finished"), TestActor);

        Assert.Equal(10, ExpectMsg<JobStatus>().Result!.Value);
    }

    [Fact]
    public void A_finished_jobs_last_lines_stay_readable_after_its_container_is_gone_and_the_node_restarted()
    {
        Submit("printed", 9, workMillis: 100);
        AwaitPhase("printed", JobPhase.Completed);
        AwaitAssert(() => Assert.Null(Runtime.Inspect(ContainerNames.For("printed"))));

        Restart();
        Supervisor.Tell(new GetLogs("printed"), TestActor);

        var logs = ExpectMsg<JobLogs>();
        Assert.True(logs.Ended);
        Assert.StartsWith("RESULT value=10 ", logs.Lines[^1].Text);
    }

    [Fact]
    public void A_job_records_kept_lines_read_back_with_their_times_and_an_older_records_lines_as_text_alone()
    {
        var journal = new JobJournal(Path.Combine(StateFolder, "journal-lines"));
        var record = new JobRecord("timed", Jobs.AddOneSpec(1, 100), 0, DateTimeOffset.UtcNow, JobPhase.Completed, ExitCode: 0,
            Output: [Logged.At(1, "tick"), Logged.At(2, "tick")]);
        journal.Save(record);
        // As a node of an earlier version wrote it: the lines as plain strings.
        var older = JsonNode.Parse(File.ReadAllText(Path.Combine(journal.Folder, "timed.json")))!;
        older["JobId"] = "older";
        older["Output"] = new JsonArray("tick", "tick");
        File.WriteAllText(Path.Combine(journal.Folder, "older.json"), older.ToJsonString());

        var (records, unreadable) = journal.Load();

        Assert.Empty(unreadable);
        Assert.Equal(record.Output, Assert.Single(records, r => r.JobId == "timed").Output);
        Assert.Equal(Logged.Lines("tick", "tick"), Assert.Single(records, r => r.JobId == "older").Output);
    }

    [Fact]
    public async Task A_job_whose_container_vanished_while_the_node_was_down_is_reported_failed_not_lost_silently()
    {
        Submit("vanished", 1, workMillis: 60_000);
        AwaitPhase("vanished", JobPhase.Running);
        Sys.Stop(Supervisor);
        await Runtime.RemoveAsync(ContainerNames.For("vanished"), CancellationToken.None);

        StartAgain();
        var status = AwaitPhase("vanished", JobPhase.Failed);

        Assert.Contains("disappeared while the node was down", status.Error);
    }

    [Fact]
    public async Task A_restore_interrupted_by_a_restart_is_removed_before_the_source_hears_absent()
    {
        Sys.Stop(Supervisor);
        var orphan = ContainerNames.For("orphan");
        await Runtime.RunAsync(orphan, Jobs.AddOneSpec(1, 60_000, 0), CancellationToken.None);
        new JobJournal(StateFolder).MarkRestoring("orphan", Transfer);

        StartAgain();
        Supervisor.Tell(new TransferOutcomeQuery(Transfer, "orphan"), TestActor);

        Assert.Equal(TransferState.Absent, ExpectMsg<TransferOutcome>().State);
        Assert.Null(Runtime.Inspect(orphan));
        Assert.Empty(new JobJournal(StateFolder).Restoring());
    }

    [Fact]
    public void A_target_says_restored_for_a_job_it_owns_and_absent_for_one_it_never_saw()
    {
        Submit("owned", 3, workMillis: 60_000);

        Supervisor.Tell(new TransferOutcomeQuery(Transfer, "owned"), TestActor);
        Assert.Equal(TransferState.Restored, ExpectMsg<TransferOutcome>().State);
        Supervisor.Tell(new TransferOutcomeQuery(Transfer, "stranger"), TestActor);
        Assert.Equal(TransferState.Absent, ExpectMsg<TransferOutcome>().State);
    }

    [Fact]
    public void A_target_that_restored_a_transfer_says_so_after_a_restart_and_after_the_job_moved_on()
    {
        // B restored A's transfer, then moved the job on to C and restarted; A, in doubt, asks only now.
        new JobJournal(StateFolder).MarkCompleted(Transfer);

        Restart();
        Supervisor.Tell(new TransferOutcomeQuery(Transfer, "moved-on"), TestActor);

        Assert.Equal(TransferState.Restored, ExpectMsg<TransferOutcome>().State);
        Supervisor.Tell(new TransferOutcomeQuery("fedcba9876543210fedcba9876543210", "moved-on"), TestActor);
        Assert.Equal(TransferState.Absent, ExpectMsg<TransferOutcome>().State);
    }

    [Fact]
    public void A_target_that_could_not_remove_a_failed_restore_never_says_absent_until_a_restart_removes_it()
    {
        var archive = Runtime.ArchiveFor(ContainerNames.For("stuck"), 5, 1, 30);
        var chunks = TransferMessages.Chunk(archive, Transfer, 64 * 1024);
        Runtime.FailRestoresWith = "criu failed";
        Runtime.FailRemovesWith = "podman hung";
        Supervisor.Tell(new BeginTransfer(Transfer, "stuck", "nodeA", 64 * 1024, TransferMessages.AnnouncedBytes), TestActor);
        ExpectMsg<TransferAccepted>();
        var receiver = LastSender;
        chunks.ForEach(c => receiver.Tell(c, TestActor));
        ExpectMsgAllOf([.. chunks.Select(c => new ChunkAck(Transfer, c.Sequence))]);
        receiver.Tell(TransferMessages.End("stuck", Transfer, chunks, archive), TestActor);
        var failed = (TransferFailed)FishForMessage(m => m is TransferFailed, Long);
        Assert.Equal(TransferFailure.RestoreFailed, failed.Code);
        // Why the leftovers could not go is the operator's to read.
        Assert.Contains("podman hung", failed.Reason);

        Supervisor.Tell(new TransferOutcomeQuery(Transfer, "stuck"), TestActor);
        Assert.Equal(TransferState.InProgress, ExpectMsg<TransferOutcome>().State);

        Runtime.FailRemovesWith = null;
        Restart();
        AwaitAssert(() =>
        {
            Supervisor.Tell(new TransferOutcomeQuery(Transfer, "stuck"), TestActor);
            Assert.Equal(TransferState.Absent, ExpectMsg<TransferOutcome>().State);
        }, Long, TimeSpan.FromMilliseconds(200));
        Assert.Contains($"remove {ContainerNames.For("stuck")}", Runtime.Calls.TakeLast(1));
    }

    [Fact]
    public void Job_records_are_private_replaced_whole_and_an_unreadable_one_is_moved_aside_for_a_human()
    {
        // A folder of its own: the node of this spec keeps its records in StateFolder and writes them as it likes.
        var journal = new JobJournal(Path.Combine(StateFolder, "journal-alone"));
        var record = new JobRecord("private", Jobs.AddOneSpec(1, 100), 0, DateTimeOffset.UtcNow, JobPhase.Running);
        journal.Save(record);
        journal.Save(record with { Phase = JobPhase.Completed });
        File.WriteAllText(Path.Combine(journal.Folder, "broken.json"), "{ not json");

        var (records, unreadable) = journal.Load();

        Assert.Equal(JobPhase.Completed, Assert.Single(records, r => r.JobId == "private").Phase);
        var broken = Assert.Single(unreadable);
        Assert.Equal(("broken", Path.Combine(journal.Folder, "broken.json.unreadable")), (broken.JobId, broken.QuarantinedAt));
        Assert.True(File.Exists(broken.QuarantinedAt));
        Assert.Empty(journal.Load().Unreadable);
        Assert.Empty(Directory.GetFiles(journal.Folder, "*.tmp"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(journal.Folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(journal.Folder, "private.json")));
    }

    [Fact]
    public async Task The_container_of_a_record_that_cannot_be_read_is_stopped_not_left_running_unsupervised()
    {
        await Runtime.RunAsync(ContainerNames.For("garbled"), Jobs.AddOneSpec(1, 60_000), CancellationToken.None);
        var journal = new JobJournal(StateFolder);
        File.WriteAllText(Path.Combine(journal.Folder, "garbled.json"), "{ half a reco");

        Restart();

        AwaitAssert(() => Assert.Contains($"stop {ContainerNames.For("garbled")}", Runtime.Calls));
        Assert.Equal(ContainerState.Exited, Runtime.Inspect(ContainerNames.For("garbled"))!.State);
    }

    [Fact]
    public void A_stopped_job_ends_and_a_second_stop_hears_that_it_has()
    {
        Submit("service", 1, workMillis: 600_000);
        AwaitPhase("service", JobPhase.Running);

        Supervisor.Tell(new StopJob("service"), TestActor);

        Assert.Equal("service", ExpectMsg<JobStopped>().JobId);
        Assert.Contains($"stop {ContainerNames.For("service")}", Runtime.Calls);
        // The demo worker stopped early has no result line: the job ends failed, saying so.
        AwaitPhase("service", JobPhase.Failed);
        Supervisor.Tell(new StopJob("service"), TestActor);
        Assert.Equal(JobFailure.JobEnded, ExpectMsg<CommandRejected>().Code);
    }

    private const string Transfer = "0123456789abcdef0123456789abcdef";
}
