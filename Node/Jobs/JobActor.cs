using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>
/// Owns one job and its container on this node. Phases: starting → running → (checkpointing →
/// transferring → moved | rolling back → running) → completed. A job that moved away stays as a
/// redirect to its new owner, so a late query never hears "unknown job".
/// </summary>
public sealed class JobActor : ReceiveActor, IWithTimers, IWithStash
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private const int LogTail = 5;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _container;
    private readonly List<IActorRef> _waiting;
    private readonly bool _adopted;
    private JobHandoff _job;
    private JobPhase _phase = JobPhase.Starting;
    private JobResult? _result;
    private string? _error;
    private bool _inspecting;
    private Migration? _migration;

    public JobActor(JobHandoff job, bool adopted, NodeContext node)
    {
        _job = job;
        _node = node;
        _container = WorkerOutput.ContainerName(job.JobId);
        _waiting = [.. job.Waiting];
        _adopted = adopted;
        if (adopted)
        {
            Running();
        }
        else
        {
            Starting();
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public static Props Props(JobHandoff job, bool adopted, NodeContext node) =>
        Akka.Actor.Props.Create(() => new JobActor(job, adopted, node));

    private IContainerRuntime Runtime => _node.Runtime;

    protected override void PreStart()
    {
        if (_adopted)
        {
            // The container was restored here before this actor was made: it is already running.
            EnterRunning();
            return;
        }
        var spec = new ContainerSpec(_container, _node.Config.Container.Image,
            WorkerOutput.Arguments(_job.Number, _job.WorkMillis, _job.StateMb));
        Runtime.RunAsync(spec, CancellationToken.None)
            .PipeTo(Self, success: () => new ContainerStarted(), failure: e => new ContainerFailed(e.Message));
        ReportPhase(JobPhase.Starting);
    }

    private void Starting()
    {
        Receive<ContainerStarted>(_ => BecomeRunning());
        Receive<ContainerFailed>(f => Fail($"container did not start: {f.Reason}"));
        Receive<QueryJob>(Answer);
        // A migration asked for right after the submit waits for the container to run.
        Receive<MigrateJob>(_ => Stash.Stash());
    }

    private void BecomeRunning()
    {
        Become(Running);
        EnterRunning();
    }

    private void EnterRunning()
    {
        ReportPhase(JobPhase.Running);
        Timers.StartPeriodicTimer(nameof(Poll), Poll.Instance, PollInterval);
        Stash.UnstashAll();
    }

    private void Running()
    {
        Receive<Poll>(_ =>
        {
            if (_inspecting)
            {
                return;
            }
            _inspecting = true;
            Runtime.InspectAsync(_container, CancellationToken.None)
                .PipeTo(Self, success: info => new Inspected(info), failure: e => new InspectFailed(e.Message));
        });
        Receive<Inspected>(OnInspected);
        Receive<InspectFailed>(f =>
        {
            _inspecting = false;
            _log.Warning("inspecting {0} failed: {1}", _container, f.Reason);
        });
        Receive<LogsRead>(OnFinished);
        Receive<QueryJob>(Answer);
        Receive<MigrateJob>(StartMigration);
    }

    private void OnInspected(Inspected inspected)
    {
        _inspecting = false;
        switch (inspected.Info)
        {
            case null:
                Fail("the container disappeared");
                break;
            case { State: ContainerState.Exited, Checkpointed: false }:
                Timers.Cancel(nameof(Poll));
                Runtime.LogsAsync(_container, LogTail, CancellationToken.None)
                    .PipeTo(Self, success: lines => new LogsRead(lines, inspected.Info.ExitCode),
                        failure: e => new LogsRead([$"could not read the logs: {e.Message}"], inspected.Info.ExitCode));
                break;
        }
    }

    private void OnFinished(LogsRead logs)
    {
        if (WorkerOutput.Result(logs.Lines) is not { } result)
        {
            Fail($"the worker exited with code {logs.ExitCode}: {logs.Lines.LastOrDefault() ?? "no output"}");
            return;
        }
        _result = new JobResult(result.Value, result.Checksum, result.Intact, _node.Name);
        _log.Info("job {0} finished on {1} with {2}", _job.JobId, _node.Name, result.Value);
        Settle(JobPhase.Completed);
        // The result is kept here; the stopped container is no longer needed.
        Runtime.RemoveAsync(_container, CancellationToken.None).PipeTo(Self, success: () => Cleaned.Instance, failure: _ => Cleaned.Instance);
    }

    private void StartMigration(MigrateJob request)
    {
        if (request.TargetNode == _node.Name)
        {
            Reject(request.JobId, $"the job already runs on {_node.Name}; pick another host");
            return;
        }
        if (_node.Config.FindHost(request.TargetNode) is not { } target)
        {
            Reject(request.JobId, $"unknown host '{request.TargetNode}'; known hosts: {string.Join(", ", _node.Config.Hosts.Select(h => h.Name))}");
            return;
        }
        var cluster = Cluster.Get(Context.System);
        if (!cluster.State.Members.Any(m => m.Status == MemberStatus.Up && m.Address.Host == target.Address && m.Address.Port == target.Port))
        {
            Reject(request.JobId, $"host {target.Name} is not an up member of the cluster; is its node running?");
            return;
        }

        var transferId = Guid.NewGuid().ToString("N");
        _migration = new Migration(Sender, target.Name, transferId, _node.Archives.PathFor(_job.JobId, transferId), Stopwatch.StartNew());
        _log.Info("migrating job {0} to {1} (transfer {2})", _job.JobId, target.Name, transferId);
        Timers.Cancel(nameof(Poll));
        _inspecting = false;
        Become(Checkpointing);
        ReportPhase(JobPhase.Migrating);
        Runtime.CheckpointAsync(_container, _migration.ArchivePath, CancellationToken.None)
            .PipeTo(Self, success: stats => new Checkpointed(stats), failure: e => new MigrationStepFailed($"checkpoint failed: {e.Message}"));
    }

    private void Checkpointing()
    {
        MigratingCommon();
        Receive<Checkpointed>(c =>
        {
            _migration = _migration! with { Checkpoint = c.Stats, TransferClock = Stopwatch.StartNew() };
            // The worker's last progress line says how much work the new owner still has to do.
            Runtime.LogsAsync(_container, LogTail, CancellationToken.None)
                .PipeTo(Self, success: lines => new ProgressRead(WorkerOutput.LastProgress(lines)), failure: _ => new ProgressRead(null));
        });
        Receive<ProgressRead>(p =>
        {
            var (done, total) = p.Progress ?? (_job.TicksDone, _job.TicksTotal);
            _job = _job with { TicksDone = done, TicksTotal = total };
            var handoff = _job with { Waiting = [.. _waiting] };
            var target = Context.ActorSelection(_node.Config.SupervisorPath(_node.Config.GetHost(_migration!.Target)));
            Context.ActorOf(ArchiveSender.Props(_migration.TransferId, _migration.ArchivePath, handoff, target, _node), "archive-sender");
            Become(Transferring);
        });
    }

    private void Transferring()
    {
        MigratingCommon();
        Receive<ArchiveSender.Delivered>(d =>
        {
            var m = _migration!;
            var timings = new MigrationTimings(m.Checkpoint!.DurationMs, m.TransferClock!.ElapsedMilliseconds - d.RestoreMs,
                d.RestoreMs, m.Checkpoint.ArchiveBytes, m.Clock.ElapsedMilliseconds);
            _log.Info("job {0} now runs on {1} ({2} bytes, {3} ms)", _job.JobId, d.NewOwner, timings.ArchiveBytes, timings.TotalMs);
            // Only now that the target confirmed the restore may the source let go of its copy.
            Runtime.RemoveAsync(_container, CancellationToken.None).PipeTo(Self, success: () => Cleaned.Instance, failure: _ => Cleaned.Instance);
            ArchiveStore.Delete(m.ArchivePath);
            m.Requester.Tell(new MigrationSucceeded(_job.JobId, _node.Name, d.NewOwner, timings));
            _migration = null;
            _waiting.Clear();
            Context.Parent.Tell(new ContainerSupervisor.JobLeft(_job.JobId, d.NewOwner));
            Become(() => Moved(d.NewOwner));
            Stash.UnstashAll();
        });
    }

    /// <summary>What every migration phase answers the same way, and how it fails back.</summary>
    private void MigratingCommon()
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<QueryJob>(Answer);
        Receive<MigrateJob>(m => Reject(m.JobId, $"the job is already migrating to {_migration!.Target}"));
        Receive<MigrationStepFailed>(f => RollBack(f.Reason));
        Receive<ArchiveSender.GaveUp>(g => RollBack(g.Reason));
        IgnoreStaleReplies();
    }

    private void RollBack(string reason)
    {
        _log.Warning("migration of job {0} failed, resuming it here: {1}", _job.JobId, reason);
        var archive = _migration!.ArchivePath;
        Become(RollingBack);
        ResumeLocallyAsync(archive)
            .PipeTo(Self, success: () => new Resumed(reason), failure: e => new ResumeFailed(reason, e.Message));
    }

    /// <summary>Back to running here: from the local checkpoint, else from the archive; untouched if never frozen.</summary>
    private async Task ResumeLocallyAsync(string archive)
    {
        var info = await Runtime.InspectAsync(_container, CancellationToken.None);
        if (info is { Checkpointed: true })
        {
            try
            {
                await Runtime.RestoreAsync(_container, null, CancellationToken.None);
            }
            catch (ContainerRuntimeException) when (File.Exists(archive))
            {
                await Runtime.RemoveAsync(_container, CancellationToken.None);
                await Runtime.RestoreAsync(_container, archive, CancellationToken.None);
            }
        }
        else if (info is null && File.Exists(archive))
        {
            await Runtime.RestoreAsync(_container, archive, CancellationToken.None);
        }
    }

    private void RollingBack()
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<QueryJob>(Answer);
        Receive<MigrateJob>(m => Reject(m.JobId, "the job is resuming after a failed migration; try again in a moment"));
        Receive<Resumed>(r =>
        {
            var m = _migration!;
            ArchiveStore.Delete(m.ArchivePath);
            m.Requester.Tell(new MigrationFailed(_job.JobId, r.Reason, _node.Name));
            _migration = null;
            BecomeRunning();
        });
        Receive<ResumeFailed>(r =>
        {
            _migration!.Requester.Tell(new MigrationFailed(_job.JobId, r.Reason, _node.Name));
            Fail($"migration failed ({r.Reason}) and resuming here failed too: {r.Error}; the archive is kept at {_migration.ArchivePath}");
        });
        IgnoreStaleReplies();
    }

    private void Moved(string owner)
    {
        Receive<QueryJob>(q => Sender.Tell(new JobMoved(q.JobId, owner)));
        Receive<MigrateJob>(m => Sender.Tell(new JobMoved(m.JobId, owner)));
        IgnoreStaleReplies();
    }

    private void Settled()
    {
        Receive<QueryJob>(Answer);
        Receive<MigrateJob>(m => Reject(m.JobId, _phase == JobPhase.Completed
            ? $"the job already finished with result {_result!.Value}; there is nothing left to migrate"
            : $"the job failed ({_error}); there is nothing to migrate"));
        IgnoreStaleReplies();
    }

    private void Fail(string reason)
    {
        _error = reason;
        _log.Error("job {0} failed: {1}", _job.JobId, reason);
        Settle(JobPhase.Failed);
    }

    private void Settle(JobPhase phase)
    {
        Timers.Cancel(nameof(Poll));
        Become(Settled);
        ReportPhase(phase);
        var status = Status();
        foreach (var waiter in _waiting)
        {
            waiter.Tell(status);
        }
        _waiting.Clear();
        Stash.UnstashAll();
    }

    private void IgnoreStaleReplies()
    {
        Receive<Poll>(_ => { });
        Receive<Inspected>(_ => _inspecting = false);
        Receive<InspectFailed>(_ => _inspecting = false);
        Receive<Cleaned>(_ => { });
    }

    private void Answer(QueryJob query)
    {
        if (query.WaitForResult && _phase is not (JobPhase.Completed or JobPhase.Failed))
        {
            _waiting.Add(Sender);
            return;
        }
        Sender.Tell(Status());
    }

    private void Reject(string jobId, string reason) => Sender.Tell(new CommandRejected(jobId, reason));

    private void ReportPhase(JobPhase phase)
    {
        _phase = phase;
        Context.Parent.Tell(Status());
    }

    private JobStatus Status() =>
        new(_job.JobId, _node.Name, _phase, _job.Number, _result, _error, _job.Migrations, _job.SubmittedAt);

    private sealed record ContainerStarted;
    private sealed record ContainerFailed(string Reason);
    private sealed record Poll
    {
        public static readonly Poll Instance = new();
    }
    private sealed record Inspected(ContainerInfo? Info);
    private sealed record InspectFailed(string Reason);
    private sealed record LogsRead(IReadOnlyList<string> Lines, int ExitCode);
    private sealed record Checkpointed(CheckpointStats Stats);
    private sealed record ProgressRead((int Done, int Total)? Progress);
    private sealed record MigrationStepFailed(string Reason);
    private sealed record Resumed(string Reason);
    private sealed record ResumeFailed(string Reason, string Error);
    private sealed record Cleaned
    {
        public static readonly Cleaned Instance = new();
    }

    /// <summary>One migration under way: who asked, where to, and its archive.</summary>
    private sealed record Migration(IActorRef Requester, string Target, string TransferId, string ArchivePath, Stopwatch Clock)
    {
        public CheckpointStats? Checkpoint { get; init; }
        public Stopwatch? TransferClock { get; init; }
    }
}
