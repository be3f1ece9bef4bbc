using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>How a job actor comes to be.</summary>
public enum JobStart
{
    /// <summary>A new job: start its container.</summary>
    Run,

    /// <summary>Its container was just restored here from a migration.</summary>
    Adopt,

    /// <summary>The node restarted: carry on from the job's record.</summary>
    Recover,
}

/// <summary>
/// Owns one job and its container on this node. Phases: starting → running → (checkpointing →
/// transferring → moved | rolling back → running | resolving) → completed. Every change of phase is
/// written to the job's record first, so a restarted node carries on from it. A job that moved away
/// stays as a redirect to its new owner, so a late query never hears "unknown job".
/// </summary>
public sealed class JobActor : ReceiveActor, IWithTimers, IWithStash
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan FirstResolveRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastResolveRetry = TimeSpan.FromSeconds(10);
    private const int LogTail = 5;
    /// <summary>Lines of a finished container's output kept in its record, for <c>logs</c>.</summary>
    private const int OutputTail = 20;
    private const int RecoverAttempts = 5;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _container;
    private readonly List<IActorRef> _waiting;
    private readonly JobStart _start;
    private JobRecord _record;
    private bool _inspecting;
    private int _pid;
    private Migration? _migration;
    private IActorRef? _sender;

    public JobActor(JobRecord record, IActorRef[] waiting, JobStart start, NodeContext node)
    {
        _record = record;
        _node = node;
        _container = WorkerOutput.ContainerName(record.JobId);
        _waiting = [.. waiting];
        _start = start;
        switch (start)
        {
            case JobStart.Run:
                Starting();
                break;
            case JobStart.Adopt:
                Running();
                break;
            case JobStart.Recover:
                Recovering();
                break;
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public static Props Props(JobRecord record, IActorRef[] waiting, JobStart start, NodeContext node) =>
        Akka.Actor.Props.Create(() => new JobActor(record, waiting, start, node));

    private IContainerRuntime Runtime => _node.Runtime;

    private string JobId => _record.JobId;

    protected override void PreStart()
    {
        switch (_start)
        {
            case JobStart.Run:
                Record(_record with { Phase = JobPhase.Starting });
                RunContainer();
                break;
            case JobStart.Adopt:
                // The container was restored here before this actor was made: it is already running.
                EnterRunning();
                EnableLoopback();
                break;
            case JobStart.Recover:
                Recover();
                break;
        }
    }

    private void RunContainer()
    {
        var spec = new ContainerSpec(_container, _record.Image, _record.Arguments);
        Runtime.RunAsync(spec, CancellationToken.None)
            .PipeTo(Self, success: () => new ContainerStarted(), failure: e => new ContainerFailed(e.Message));
    }

    private void Starting()
    {
        Receive<ContainerStarted>(_ => BecomeRunning());
        Receive<ContainerFailed>(f => Fail($"container did not start: {f.Reason}"));
        Receive<QueryJob>(Answer);
        Receive<GetLogs>(ReadLogs);
        // A migration asked for right after the submit waits for the container to run.
        Receive<MigrateJob>(_ => Stash.Stash());
    }

    /// <summary>After a restart: the record says where the job was; the container says whether it still is.</summary>
    private void Recover()
    {
        switch (_record)
        {
            case { Settled: true }:
                Become(Settled);
                ReportPhase();
                break;
            case { MovedTo: { } owner }:
                Become(() => Moved(owner));
                break;
            case { Pending: { } pending }:
                BeginResolving(pending, "the node restarted during the migration");
                break;
            default:
                Runtime.InspectAsync(_container, CancellationToken.None)
                    .PipeTo(Self, success: info => new Inspected(info), failure: e => new InspectFailed(e.Message));
                break;
        }
    }

    private void Recovering()
    {
        Receive<Inspected>(i =>
        {
            if (i.Info is not null)
            {
                _log.Info("job {0}: re-adopted its container after a restart", JobId);
                BecomeRunning();
            }
            else if (_record.Phase == JobPhase.Starting)
            {
                // The node stopped before podman created the container: start it now.
                Become(Starting);
                RunContainer();
            }
            else
            {
                Fail("the container disappeared while the node was down");
            }
        });
        var attempts = 0;
        Receive<InspectFailed>(f =>
        {
            if (++attempts >= RecoverAttempts)
            {
                Fail($"could not find the container after a restart: {f.Reason}");
                return;
            }
            Timers.StartSingleTimer(nameof(Recover), new RetryRecover(), TimeSpan.FromSeconds(1));
        });
        Receive<RetryRecover>(_ => Recover());
        Receive<QueryJob>(Answer);
        Receive<GetLogs>(ReadLogs);
        Receive<MigrateJob>(_ => Stash.Stash());
    }

    private void BecomeRunning()
    {
        Become(Running);
        EnterRunning();
    }

    private void EnterRunning()
    {
        // An adopted or re-adopted job's record already says so: no need to write it again.
        if (_record is { Phase: JobPhase.Running, Pending: null })
        {
            ReportPhase();
        }
        else
        {
            Record(_record with { Phase = JobPhase.Running, Pending = null });
        }
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
        Receive<GetLogs>(ReadLogs);
        Receive<MigrateJob>(StartMigration);
    }

    private void OnInspected(Inspected inspected)
    {
        _inspecting = false;
        _pid = inspected.Info?.Pid ?? 0;
        switch (inspected.Info)
        {
            case null:
                Fail("the container disappeared");
                break;
            case { State: ContainerState.Exited, Checkpointed: true }:
                // A checkpoint that outlived the node process which asked for it (killed meanwhile).
                RollBack("a checkpoint finished after the node that asked for it had stopped");
                break;
            case { State: ContainerState.Exited }:
                Timers.Cancel(nameof(Poll));
                Runtime.LogsAsync(_container, _record.IsDemo ? LogTail : OutputTail, CancellationToken.None)
                    .PipeTo(Self, success: lines => new LogsRead(lines, inspected.Info.ExitCode),
                        failure: e => new LogsRead([$"could not read the logs: {e.Message}"], inspected.Info.ExitCode));
                break;
        }
    }

    private void OnFinished(LogsRead logs)
    {
        if (!_record.IsDemo)
        {
            // Any other container: its exit code is its result, and its last lines stay readable.
            _log.Info("container of job {0} exited with code {1}", JobId, logs.ExitCode);
            _record = _record with { ExitCode = logs.ExitCode, Output = [.. logs.Lines] }; // written by Settle
            Settle(logs.ExitCode == 0 ? JobPhase.Completed : JobPhase.Failed, null, logs.ExitCode == 0 ? null : $"the container exited with code {logs.ExitCode}");
            RemoveContainer();
            return;
        }
        if (WorkerOutput.Result(logs.Lines) is not { } result)
        {
            Fail($"the worker exited with code {logs.ExitCode}: {logs.Lines.LastOrDefault() ?? "no output"}");
            return;
        }
        _log.Info("job {0} finished on {1} with {2}", JobId, _node.Name, result.Value);
        Settle(JobPhase.Completed, new JobResult(result.Value, result.Checksum, result.Intact, _node.Name), null);
        // The result is kept in the record; the stopped container is no longer needed.
        RemoveContainer();
    }

    private void StartMigration(MigrateJob request)
    {
        if (request.TargetNode == _node.Name)
        {
            Reject(request.JobId, $"the job already runs on {_node.Name}; pick another host");
            return;
        }
        if (request.TargetNode is null || _node.Config.FindHost(request.TargetNode) is not { } target)
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

        var pending = new PendingMigration(Guid.NewGuid().ToString("N"), target.Name);
        _migration = new Migration(Sender, Stopwatch.StartNew(), ResidentBytes());
        _log.Info("migrating job {0} to {1} (transfer {2})", JobId, target.Name, pending.TransferId);
        Timers.Cancel(nameof(Poll));
        _inspecting = false;
        Become(Checkpointing);
        // Written before the checkpoint: a node restarted from here on must first learn the target's answer.
        Record(_record with { Phase = JobPhase.Migrating, Pending = pending });
        Runtime.CheckpointAsync(_container, ArchivePath(pending), CancellationToken.None)
            .PipeTo(Self, success: stats => new Checkpointed(stats), failure: e => new MigrationStepFailed($"checkpoint failed: {e.Message}"));
        // The archive streams to the target while podman writes it; the target restores only once it is whole.
        var supervisor = Context.ActorSelection(_node.Config.SupervisorPath(target));
        _sender = Context.ActorOf(ArchiveSender.Props(pending.TransferId, JobId, ArchivePath(pending), supervisor, _node, target), $"archive-sender-{pending.TransferId}");
        ReportProgress(MigrationStep.Checkpoint, 0);
    }

    private void Checkpointing()
    {
        string? senderFailure = null;
        Receive<Checkpointed>(c =>
        {
            _migration = _migration! with { Checkpoint = c.Stats, CheckpointedAt = _migration.Clock.Elapsed };
            if (senderFailure is not null)
            {
                RollBack(senderFailure);
                return;
            }
            _sender!.Tell(new ArchiveSender.ArchiveWritten(c.Stats.ArchiveBytes, _record.ToHandoff([.. _waiting])));
            Become(Transferring);
        });
        // The checkpoint must finish before the job can resume here, whatever the sender says meanwhile.
        Receive<ArchiveSender.GaveUp>(g => senderFailure ??= g.Reason);
        Receive<MigrationStepFailed>(f =>
        {
            _sender!.Tell(new ArchiveSender.Abandon(f.Reason));
            RollBack(f.Reason);
        });
        MigratingCommon();
    }

    private void Transferring()
    {
        Receive<ArchiveSender.Restoring>(r =>
        {
            _migration = _migration! with { StreamMs = r.StreamMs, ArchiveSentAt = _migration.Clock.Elapsed };
            ReportProgress(MigrationStep.Restore, _migration.Checkpoint!.ArchiveBytes);
        });
        Receive<ArchiveSender.Delivered>(d => FinishMove(d.NewOwner, d.RestoreMs));
        Receive<ArchiveSender.GaveUp>(g =>
        {
            if (g.InDoubt)
            {
                BeginResolving(_record.Pending!, g.Reason);
            }
            else
            {
                RollBack(g.Reason);
            }
        });
        MigratingCommon();
    }

    /// <summary>What every migration phase answers the same way.</summary>
    private void MigratingCommon()
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<QueryJob>(Answer);
        Receive<GetLogs>(ReadLogs);
        Receive<MigrateJob>(m => Reject(m.JobId, $"the job is already migrating to {_record.Pending!.Target}"));
        Receive<ArchiveSender.Progress>(p => ReportProgress(MigrationStep.Transfer, p.BytesAcknowledged));
        IgnoreStaleReplies();
    }

    /// <summary>Tells whoever asked for the migration how far it got; the archive's size is known once podman has written it.</summary>
    private void ReportProgress(MigrationStep step, long bytes)
    {
        if (_migration is { } m)
        {
            m.Requester.Tell(new MigrationProgress(JobId, step, bytes, m.Checkpoint?.ArchiveBytes ?? m.EstimatedBytes));
        }
    }

    /// <summary>The container's resident memory, which its checkpoint archive roughly matches; 0 when unknown.</summary>
    private long ResidentBytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    /// <summary>The target owns the job now: only now may this node let go of its copy.</summary>
    private void FinishMove(string owner, long restoreMs)
    {
        _log.Info("job {0} now runs on {1}", JobId, owner);
        RemoveContainer();
        ArchiveStore.Delete(ArchivePath(_record.Pending!));
        Record(_record with { MovedTo = owner, Pending = null });
        if (_migration is { Checkpoint: { } checkpoint, CheckpointedAt: { } checkpointed, ArchiveSentAt: { } sent } m)
        {
            // The transfer overlaps the checkpoint; what it adds is the time from the checkpoint's end to the archive's.
            var timings = new MigrationTimings(checkpoint.DurationMs, (long)(sent - checkpointed).TotalMilliseconds, restoreMs,
                checkpoint.ArchiveBytes, m.Clock.ElapsedMilliseconds, m.StreamMs);
            m.Requester.Tell(new MigrationSucceeded(JobId, _node.Name, owner, timings));
        }
        _migration = null;
        // Whoever waited for the result was handed to the new owner with the job.
        _waiting.Clear();
        Context.Parent.Tell(new ContainerSupervisor.JobLeft(JobId, owner));
        Become(() => Moved(owner));
        Stash.UnstashAll();
    }

    /// <summary>
    /// The whole archive went out but the target's answer did not come back (or this node restarted).
    /// The job may be running there, so it must not resume here until the target says it is not.
    /// </summary>
    private void BeginResolving(PendingMigration pending, string reason)
    {
        _log.Warning("job {0}: {1}; asking {2} whether it restored the job before going on", JobId, reason, pending.Target);
        Become(() => Resolving(pending, reason));
        Self.Tell(new ResolveTick(1));
        ReportPhase();
    }

    private void Resolving(PendingMigration pending, string reason)
    {
        Receive<ResolveTick>(tick =>
        {
            var target = Context.ActorSelection(_node.Config.SupervisorPath(_node.Config.GetHost(pending.Target)));
            target.Tell(new TransferOutcomeQuery(pending.TransferId, JobId), Self);
            // Asked until it answers: giving up would mean losing the job or risking two copies.
            var delay = TimeSpan.FromTicks(Math.Min(LastResolveRetry.Ticks, FirstResolveRetry.Ticks << Math.Min(tick.Attempt - 1, 8)));
            Timers.StartSingleTimer(nameof(ResolveTick), new ResolveTick(tick.Attempt + 1), delay);
        });
        Receive<TransferOutcome>(o => o.TransferId == pending.TransferId && o.JobId == JobId, o =>
        {
            switch (o.State)
            {
                case TransferState.Restored:
                    Timers.Cancel(nameof(ResolveTick));
                    FinishMove(pending.Target, 0);
                    break;
                case TransferState.Absent:
                    Timers.Cancel(nameof(ResolveTick));
                    RollBack($"{reason}; {pending.Target} holds nothing of it");
                    break;
            }
        });
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<QueryJob>(Answer);
        Receive<GetLogs>(ReadLogs);
        Receive<MigrateJob>(m => Reject(m.JobId,
            $"the job's move to {pending.Target} is not settled: waiting for {pending.Target} to say whether it restored it"));
        Receive<ArchiveSender.GaveUp>(_ => { });
        IgnoreStaleReplies();
    }

    private void RollBack(string reason)
    {
        _log.Warning("migration of job {0} failed, resuming it here: {1}", JobId, reason);
        var archive = _record.Pending is { } pending ? ArchivePath(pending) : null;
        Timers.Cancel(nameof(Poll));
        Become(RollingBack);
        ResumeLocallyAsync(archive)
            .PipeTo(Self, success: restored => new Resumed(reason, restored), failure: e => new ResumeFailed(reason, e.Message));
    }

    /// <summary>Back to running here: from the local checkpoint, else from the archive; untouched if never frozen.</summary>
    /// <returns>Whether it restored the container (false: it was never frozen, or is gone with no archive).</returns>
    private async Task<bool> ResumeLocallyAsync(string? archive)
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
            return true;
        }
        if (info is null && File.Exists(archive))
        {
            await Runtime.RestoreAsync(_container, archive, CancellationToken.None);
            return true;
        }
        return false;
    }

    /// <summary>After a restore, and off its path: the job runs, and answers, while this happens.</summary>
    private void EnableLoopback() =>
        Runtime.EnableLoopbackAsync(_container, CancellationToken.None)
            .PipeTo(Self, failure: e => new LoopbackFailed(e.Message));

    protected override void Unhandled(object message)
    {
        if (message is LoopbackFailed f)
        {
            _log.Warning("job {0} runs, but its loopback is still down: {1}", JobId, f.Reason);
            return;
        }
        base.Unhandled(message);
    }

    private void RollingBack()
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<QueryJob>(Answer);
        Receive<GetLogs>(ReadLogs);
        Receive<MigrateJob>(m => Reject(m.JobId, "the job is resuming after a failed migration; try again in a moment"));
        Receive<Resumed>(r =>
        {
            if (r.Restored)
            {
                EnableLoopback();
            }
            if (_record.Pending is { } pending)
            {
                ArchiveStore.Delete(ArchivePath(pending));
            }
            _migration?.Requester.Tell(new MigrationFailed(JobId, r.Reason, _node.Name));
            _migration = null;
            BecomeRunning();
        });
        Receive<ResumeFailed>(r =>
        {
            _migration?.Requester.Tell(new MigrationFailed(JobId, r.Reason, _node.Name));
            _migration = null;
            Fail($"migration failed ({r.Reason}) and resuming here failed too: {r.Error}");
        });
        IgnoreStaleReplies();
    }

    private void Moved(string owner)
    {
        Receive<QueryJob>(q => Sender.Tell(new JobMoved(q.JobId, owner)));
        Receive<MigrateJob>(m => Sender.Tell(new JobMoved(m.JobId, owner)));
        Receive<GetLogs>(l => Sender.Tell(new JobMoved(l.JobId, owner)));
        IgnoreStaleReplies();
    }

    private void Settled()
    {
        Receive<QueryJob>(Answer);
        // The container is gone; what it printed last was kept (the demo job keeps its result instead).
        Receive<GetLogs>(l => Sender.Tell(new JobLogs(JobId, _node.Name, [.. (_record.Output ?? []).TakeLast(Math.Max(0, l.Tail))])));
        Receive<MigrateJob>(m => Reject(m.JobId, _record switch
        {
            { Result: { } result } => $"the job already finished with result {result.Value}; there is nothing left to migrate",
            { Error: null, ExitCode: { } code } => $"the container already exited with code {code}; there is nothing left to migrate",
            _ => $"the job failed ({_record.Error}); there is nothing to migrate",
        }));
        IgnoreStaleReplies();
    }

    private void Fail(string reason)
    {
        _log.Error("job {0} failed: {1}", JobId, reason);
        Settle(JobPhase.Failed, null, reason);
    }

    private void Settle(JobPhase phase, JobResult? result, string? error)
    {
        Timers.Cancel(nameof(Poll));
        Become(Settled);
        Record(_record with { Phase = phase, Result = result, Error = error, Pending = null });
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
        Receive<TransferOutcome>(_ => { });
        // A migration's sender may still report after the job moved on to another phase.
        Receive<ArchiveSender.Progress>(_ => { });
        Receive<ArchiveSender.Restoring>(_ => { });
        Receive<ArchiveSender.GaveUp>(_ => { });
    }

    private void Answer(QueryJob query)
    {
        if (query.WaitForResult && !_record.Settled)
        {
            _waiting.Add(Sender);
            return;
        }
        Sender.Tell(Status());
    }

    private void Reject(string jobId, string reason) => Sender.Tell(new CommandRejected(jobId, reason));

    private void ReadLogs(GetLogs request)
    {
        var replyTo = Sender;
        Runtime.LogsAsync(_container, Math.Clamp(request.Tail, 1, 10_000), CancellationToken.None).PipeTo(replyTo,
            success: lines => new JobLogs(JobId, _node.Name, [.. lines]),
            failure: e => new CommandRejected(JobId, $"could not read the logs of job {JobId}: {e.Message}"));
    }

    private void RemoveContainer() =>
        Runtime.RemoveAsync(_container, CancellationToken.None).PipeTo(Self, success: () => Cleaned.Instance, failure: _ => Cleaned.Instance);

    /// <summary>The record goes to disk before anyone hears of the change.</summary>
    private void Record(JobRecord record)
    {
        _record = record;
        _node.Journal.Save(record);
        ReportPhase();
    }

    private void ReportPhase() => Context.Parent.Tell(Status());

    private string ArchivePath(PendingMigration pending) => _node.Archives.PathFor(JobId, pending.TransferId);

    private JobStatus Status() => _record.Status(_node.Name);

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
    private sealed record MigrationStepFailed(string Reason);
    private sealed record RetryRecover;
    private sealed record ResolveTick(int Attempt);
    private sealed record Resumed(string Reason, bool Restored);
    private sealed record LoopbackFailed(string Reason);
    private sealed record ResumeFailed(string Reason, string Error);
    private sealed record Cleaned
    {
        public static readonly Cleaned Instance = new();
    }

    /// <summary>A migration this node process started: who asked, and its clocks.</summary>
    private sealed record Migration(IActorRef Requester, Stopwatch Clock, long EstimatedBytes)
    {
        public CheckpointStats? Checkpoint { get; init; }
        public TimeSpan? CheckpointedAt { get; init; }
        public TimeSpan? ArchiveSentAt { get; init; }
        public long StreamMs { get; init; }
    }
}
