using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Observability;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// The source side of one migration, a child of the job's actor, which it answers with exactly one
/// <see cref="IOutcome"/> before it stops. Whoever asked for the move hears its progress and its end.
/// <code>
/// state          on                              next
/// Checking       pre-flight passed               Checkpointing
///                a cause found                   → ResumedHere (never frozen; the requester hears why)
/// Checkpointing  checkpoint written              Transferring (the sender streams meanwhile)
///                checkpoint failed               RollingBack
/// Transferring   target confirmed the restore    → Moved
///                sender gave up, archive partial RollingBack
///                sender gave up, archive whole   Resolving (the target may run the job)
/// Resolving      target: restored                → Moved (InDoubtMove asks it)
///                target: absent                  RollingBack
///                silent; operator: resume here   RollingBack
///                silent; operator: abandon       → Lost
/// RollingBack    resumed here / could not        → ResumedHere / → Lost
/// </code>
/// The job's record says <see cref="PendingMigration"/> before this actor starts, so a node that
/// restarts anywhere in here starts it again in <see cref="Resolve"/>.
/// </summary>
public sealed partial class OutgoingMigration : StatefulActor
{
    /// <summary>A live target answers within a retry and an answer's way back: silent longer, it may be gone for good.</summary>
    private TimeSpan PeerSilence => InDoubtMove.LastRetry + 2 * _node.Config.Transfer.AckTimeout;

    private readonly string _jobId;
    private readonly string _container;
    private readonly JobSpec _spec;
    private readonly Start _start;
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public OutgoingMigration(string jobId, string container, JobSpec spec, Start start, NodeContext node)
    {
        _jobId = jobId;
        _container = container;
        _spec = spec;
        _start = start;
        _node = node;
    }

    public static Props Props(string jobId, string container, JobSpec spec, Start start, NodeContext node) =>
        Akka.Actor.Props.Create(() => new OutgoingMigration(jobId, container, spec, start, node));

    private IContainerRuntime Runtime => _node.Runtime;

    private string ArchiveOf(PendingMigration pending) => _node.Archives.PathFor(_jobId, pending.TransferId);

    private IActorRef Requester => _start is Move move ? move.Requester : ActorRefs.Nobody;

    protected override void PreStart()
    {
        _node.Metrics.OutgoingStarted();
        switch (_start)
        {
            case Move move:
                BeginChecking(move);
                break;
            case Resolve resolve:
                BeginResolving(resolve.Pending, MigrationFailure.NodeRestarted, resolve.Reason);
                break;
            case RollBack rollBack:
                BeginRollingBack(rollBack.Pending, MigrationFailure.NodeRestarted, rollBack.Reason);
                break;
        }
    }

    /// <summary>Before anything is frozen: can the job move (<see cref="Preflight"/>)? A refusal leaves the container untouched.</summary>
    private void BeginChecking(Move move)
    {
        var command = new MigrateJob(_jobId, move.Pending.Target);
        var target = Context.ActorSelection(_node.Config.SupervisorPath(_node.Config.GetHost(move.Pending.Target)));
        var estimate = ArchiveEstimate.Bytes(move.Pid, _node.Config.Transfer);
        Preflight.RunAsync(command, move.Requester, _container, _spec, estimate, _node, target, Stopping).PipeTo(Self,
            failure: e => new Preflight.Done(command, move.Requester, [$"the pre-flight check failed: {e.Message}"]));
        Become(() =>
        {
            Receive<Preflight.Done>(d => d.Problems.Length > 0, d =>
            {
                Requester.Tell(new CommandRejected(_jobId, JobFailure.PreflightFailed, $"job {_jobId} cannot move to {move.Pending.Target} and runs on here: {string.Join("; ", d.Problems)}"));
                Context.Parent.Tell(new ResumedHere(Restored: false));
                Context.Stop(Self);
            });
            Receive<Preflight.Done>(_ => Checkpoint(move, estimate));
            Receive<CancelJob>(_ =>
            {
                Requester.Tell(new MigrationFailed(_jobId, MigrationFailure.Cancelled, "cancelled before the container was frozen", _node.Name));
                Sender.Tell(new MigrationCancelled(_jobId, _node.Name, "nothing was frozen; the job runs on here"));
                Context.Parent.Tell(new ResumedHere(Restored: false));
                Context.Stop(Self);
            });
            RefuseMigrations($"the job is already migrating to {move.Pending.Target} (checking that it can)");
        });
    }

    /// <param name="estimate">The archive's size as far as it can be told before podman has written it.</param>
    private void Checkpoint(Move move, long estimate)
    {
        var pending = move.Pending;
        var target = _node.Config.GetHost(pending.Target);
        // The clock started with the move: until here, the pre-flight.
        _log.Info("migrating job {0} to {1} (transfer {2}, pre-flight {3} ms)", _jobId, target.Name, pending.TransferId, _clock.ElapsedMilliseconds);
        Runtime.CheckpointAsync(_container, _spec, ArchiveOf(pending), Stopping)
            .PipeTo(Self, success: stats => new Checkpointed(stats), failure: e => new CheckpointFailed($"checkpoint failed: {e.Message}"));
        // The archive streams to the target while podman writes it; the target restores only once it is whole.
        var supervisor = Context.ActorSelection(_node.Config.SupervisorPath(target));
        var sender = Context.ActorOf(ArchiveSender.Props(pending.TransferId, _jobId, ArchiveOf(pending), supervisor, _node, target, estimate), "archive-sender");
        Report(MigrationStep.Checkpoint, 0, estimate);
        Become(() => Checkpointing(move, sender, estimate));
    }

    /// <param name="estimate">The archive's size as far as it can be told before podman has written it.</param>
    private void Checkpointing(Move move, IActorRef sender, long estimate)
    {
        ArchiveSender.GaveUp? senderFailure = null;
        long acknowledged = 0;
        Receive<Checkpointed>(c =>
        {
            // The checkpoint must finish before the job can resume here, whatever the sender said meanwhile.
            if (senderFailure is not null)
            {
                BeginRollingBack(move.Pending, senderFailure.Code, senderFailure.Reason);
                return;
            }
            var handoff = move.Handoff with
            {
                Moves = MoveHistory.Checkpointed(move.Handoff.Moves, _node.Name, move.Pending.Target, c.Stats.DurationMs),
            };
            sender.Tell(new ArchiveSender.ArchiveWritten(c.Stats.ArchiveBytes, handoff));
            // The freeze's first part is over; whoever watches learns it even if no chunk is left to acknowledge.
            Report(MigrationStep.Transfer, acknowledged, c.Stats.ArchiveBytes, checkpointed: true);
            Become(() => Transferring(move.Pending, c.Stats, _clock.Elapsed));
        });
        Receive<ArchiveSender.GaveUp>(g => senderFailure ??= g);
        Receive<CheckpointFailed>(f =>
        {
            // The sender aborts the transfer at the target as it stops.
            Context.Stop(sender);
            BeginRollingBack(move.Pending, MigrationFailure.CheckpointFailed, f.Reason);
        });
        Receive<ArchiveSender.Progress>(p => Report(MigrationStep.Transfer, acknowledged = p.BytesAcknowledged, estimate));
        Receive<CancelJob>(_ =>
        {
            // As when the sender gives up: the checkpoint ends, then the job resumes here from it. The sender aborts at the target as it stops.
            senderFailure ??= new ArchiveSender.GaveUp(MigrationFailure.Cancelled, "cancelled during the checkpoint");
            Context.Stop(sender);
            Sender.Tell(new MigrationCancelled(_jobId, _node.Name,
                "the container is frozen for its checkpoint, which cannot be interrupted; once it is written the job resumes here from it"));
        });
        RefuseMigrations($"the job is already migrating to {move.Pending.Target}");
    }

    private void Transferring(PendingMigration pending, CheckpointStats checkpoint, TimeSpan checkpointedAt)
    {
        var sentAt = checkpointedAt;
        long streamMs = 0;
        Receive<ArchiveSender.Progress>(p => Report(MigrationStep.Transfer, p.BytesAcknowledged, checkpoint.ArchiveBytes, checkpointed: true));
        Receive<ArchiveSender.Restoring>(r =>
        {
            (sentAt, streamMs) = (_clock.Elapsed, r.StreamMs);
            Report(MigrationStep.Restore, checkpoint.ArchiveBytes, checkpoint.ArchiveBytes, checkpointed: true);
        });
        Receive<ArchiveSender.Delivered>(d =>
        {
            // The transfer overlaps the checkpoint; what it adds is the time from the checkpoint's end to the archive's.
            var timings = new MigrationTimings(checkpoint.DurationMs, (long)(sentAt - checkpointedAt).TotalMilliseconds, d.RestoreMs,
                checkpoint.ArchiveBytes, _clock.ElapsedMilliseconds, streamMs, checkpoint.Dump);
            Finish(pending, d.NewOwner, timings, whole: true);
        });
        Receive<ArchiveSender.GaveUp>(g =>
        {
            if (g.InDoubt)
            {
                BeginResolving(pending, g.Code, g.Reason, checkpoint);
            }
            else
            {
                BeginRollingBack(pending, g.Code, g.Reason);
            }
        });
        RefuseMigrations($"the job is already migrating to {pending.Target}",
            $"the whole checkpoint is on its way to {pending.Target}, which may be restoring it: stopped now, the job could end up running twice or nowhere. " +
            $"The move ends within {_node.Config.Transfer.MigrationLimit.TotalSeconds:0} s, on {pending.Target} or rolled back here; move it back afterwards if need be");
    }

    /// <summary>Only now may this node let go of its copy: the target owns the job.</summary>
    /// <param name="whole">Whether <paramref name="timings"/> has the target's figures too (false: its answers were lost).</param>
    private void Finish(PendingMigration pending, string owner, MigrationTimings? timings, bool whole)
    {
        // Its line says where the job runs now.
        Ended(pending, MigrationResult.Moved, timings, whole);
        ArchiveStore.Delete(ArchiveOf(pending));
        var success = timings is null ? null : new MigrationSucceeded(_jobId, _node.Name, owner, timings);
        Context.Parent.Tell(new Moved(owner, Requester, success));
        Context.Stop(Self);
    }

    /// <summary>
    /// The whole archive went out but the target's answer did not come back (or this node restarted).
    /// The job may be running there, so it must not resume here until the target says it is not
    /// (<see cref="InDoubtMove"/> asks), or the operator does for a target silent too long.
    /// </summary>
    /// <param name="checkpoint">This process's checkpoint, when it made one: whoever asked for the move hears its end too.</param>
    private void BeginResolving(PendingMigration pending, MigrationFailure code, string reason, CheckpointStats? checkpoint = null)
    {
        _log.Warning("job {0}: {1}; asking {2} whether it restored the job before going on", _jobId, reason, pending.Target);
        var target = Context.ActorSelection(_node.Config.SupervisorPath(_node.Config.GetHost(pending.Target)));
        var inDoubt = Context.ActorOf(InDoubtMove.Props(_jobId, pending.TransferId, target, pending.Target, PeerSilence), "in-doubt");
        Become(() => Resolving(pending, code, reason, inDoubt, checkpoint));
    }

    private void Resolving(PendingMigration pending, MigrationFailure code, string reason, IActorRef inDoubt, CheckpointStats? checkpoint)
    {
        // The target's restore time and the stream's were in the answers that got lost.
        Receive<InDoubtMove.TargetRestored>(_ => Finish(pending, pending.Target, checkpoint is null ? null
            : new MigrationTimings(checkpoint.DurationMs, 0, 0, checkpoint.ArchiveBytes, _clock.ElapsedMilliseconds, Dump: checkpoint.Dump), whole: false));
        Receive<InDoubtMove.TargetHoldsNothing>(_ => BeginRollingBack(pending, code, $"{reason}; {pending.Target} holds nothing of it"));
        Receive<InDoubtMove.OperatorChose>(chose =>
        {
            var settled = $"{reason}; {pending.Target} silent for {chose.Silence.TotalSeconds:0} s, the operator chose to {(chose.Choice == ResolveChoice.Abandon ? "abandon it" : "resume it here")}";
            if (chose.Choice == ResolveChoice.ResumeHere)
            {
                BeginRollingBack(pending, MigrationFailure.SettledByOperator, settled, resolver: chose.Operator);
                return;
            }
            Ended(pending, MigrationResult.Lost, null, false);
            ArchiveStore.Delete(ArchiveOf(pending));
            chose.Operator.Tell(new JobResolved(_jobId, _node.Name, $"abandoned: it ends here as failed, its archive is deleted and its stopped container stays until rm; if {pending.Target} restored it, it runs there"));
            Requester.Tell(new MigrationFailed(_jobId, MigrationFailure.SettledByOperator, settled, _node.Name));
            Context.Parent.Tell(new Lost(settled));
            Context.Stop(Self);
        });
        Receive<ResolveJob>(r => inDoubt.Forward(r));
        RefuseMigrations($"the job's move to {pending.Target} is not settled: waiting for {pending.Target} to say whether it restored it",
            $"the whole checkpoint went to {pending.Target}, which may run the job now: it stays frozen here until {pending.Target} says; nothing can be undone until then");
    }

    /// <param name="pending">The migration whose archive the job can resume from; null when none was recorded.</param>
    /// <param name="resolver">The operator who settled a move in doubt this way, who hears when the job runs again.</param>
    private void BeginRollingBack(PendingMigration? pending, MigrationFailure code, string reason, IActorRef? resolver = null)
    {
        _log.Warning("migration of job {0} failed, resuming it here: {1}", _jobId, reason);
        var archive = pending is null ? null : ArchiveOf(pending);
        Become(() => RollingBack(pending, archive, resolver ?? ActorRefs.Nobody));
        LocalResume.RunAsync(Runtime, _container, _spec, archive, Stopping)
            .PipeTo(Self, success: restored => new Resumed(code, reason, restored), failure: e => new ResumeFailed(code, reason, e.Message));
    }

    private void RollingBack(PendingMigration? pending, string? archive, IActorRef resolver)
    {
        Receive<Resumed>(r =>
        {
            Ended(pending, MigrationResult.Resumed, null, false);
            if (archive is not null)
            {
                ArchiveStore.Delete(archive);
            }
            resolver.Tell(new JobResolved(_jobId, _node.Name, "it runs here again, resumed from its checkpoint"));
            Requester.Tell(new MigrationFailed(_jobId, r.Code, r.Reason, _node.Name));
            Context.Parent.Tell(new ResumedHere(r.Restored));
            Context.Stop(Self);
        });
        Receive<ResumeFailed>(r =>
        {
            Ended(pending, MigrationResult.Lost, null, false);
            resolver.Tell(new CommandRejected(_jobId, JobFailure.ResumeFailed, $"job {_jobId} could not be resumed here: {r.Error}"));
            Requester.Tell(new MigrationFailed(_jobId, r.Code, r.Reason, _node.Name));
            Context.Parent.Tell(new Lost($"migration failed ({r.Reason}) and resuming here failed too: {r.Error}"));
            Context.Stop(Self);
        });
        RefuseMigrations("the job is resuming after a failed migration; try again in a moment",
            "the move has already failed and the job is resuming here; there is nothing left to cancel");
    }

    /// <summary>Each migration's one log line and its metrics (<see cref="MigrationLine"/>).</summary>
    private void Ended(PendingMigration? pending, MigrationResult result, MigrationTimings? timings, bool whole)
    {
        _log.Info(MigrationLine.Format(pending?.TransferId, _jobId, _node.Name, pending?.Target, result, timings, whole, _clock.ElapsedMilliseconds));
        _node.Metrics.Ended(result, MigrationDirection.Out, timings, whole);
    }

    protected override void PostStop()
    {
        _node.Metrics.OutgoingEnded();
        base.PostStop();
    }

    /// <summary>The job's actor passes on requests to move the job, or to cancel this move, while this one is under way.</summary>
    /// <param name="cancel">Why the move cannot be cancelled now; the states that can cancel handle <see cref="CancelJob"/> first.</param>
    private void RefuseMigrations(string reason, string? cancel = null)
    {
        Receive<MigrateJob>(m => Sender.Tell(new CommandRejected(m.JobId, JobFailure.JobMigrating, reason)));
        Receive<CancelJob>(c => Sender.Tell(new CommandRejected(c.JobId, JobFailure.TooLateToCancel, cancel ?? "the move is already being cancelled")));
        Receive<ResolveJob>(r => Sender.Tell(new CommandRejected(r.JobId, JobFailure.NotInDoubt, $"job {_jobId}'s move is not in doubt ({reason}); resolve settles only a move whose target fell silent")));
    }

    /// <summary>Tells whoever asked for the migration how far it got; the archive's size is known once podman has written it.</summary>
    private void Report(MigrationStep step, long bytes, long expectedBytes, bool checkpointed = false) =>
        Requester.Tell(new MigrationProgress(_jobId, step, bytes, expectedBytes, checkpointed));

    private sealed record Checkpointed(CheckpointStats Stats);
    private sealed record CheckpointFailed(string Reason);
    private sealed record Resumed(MigrationFailure Code, string Reason, bool Restored);
    private sealed record ResumeFailed(MigrationFailure Code, string Reason, string Error);
}
