using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Failover;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>
/// Owns one job's container on this node, for its whole life here. Two children do the work that
/// takes time: a <see cref="ContainerWatch"/> while the container runs, and a migration
/// (<see cref="OutgoingMigration"/>) whose one outcome decides what follows.
/// <code>
/// state       on                                   next
/// Starting    container started / failed           Running / Settled
/// Recovering  (after a restart, from the record)   Settled, Moved, Migrating (resolve), or:
///             the watch sees it / finds it gone    Running / Starting or Settled
/// Running     the watch: exited / gone             Settled
///             MigrateJob (target checked by the    Migrating (the pre-flight first: OutgoingMigration)
///             supervisor's router); --check only   (answered; nothing changes)
/// Migrating   Moved / ResumedHere / Lost           Moved / Running / Settled
/// Moved       anything                             a redirect to the new owner
/// </code>
/// Every change of phase is written to the job's record first, so a restarted node carries on from it;
/// a move whose record cannot be written (a full disk) is refused, other changes are carried in memory.
/// </summary>
public sealed class JobActor : StatefulActor, IWithStash
{
    private const int RecoverAttempts = 5;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IActorRef> _waiting;
    private readonly JobStart _start;
    private readonly JobContainer _container;
    private JobRecord _record;
    private readonly JobProtection _protection;

    public JobActor(JobRecord record, IActorRef[] waiting, JobStart start, NodeContext node)
    {
        _record = record;
        _node = node;
        _container = new JobContainer(record.JobId, record.Spec, node, Context, _log, Stopping);
        _protection = new JobProtection(node, Context);
        _waiting = [.. waiting];
        _start = start;
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(JobRecord record, IActorRef[] waiting, JobStart start, NodeContext node) =>
        Akka.Actor.Props.Create(() => new JobActor(record, waiting, start, node));

    private string JobId => _record.JobId;

    protected override void PreStart() => (_start switch
    {
        JobStart.Run => (Action)StartContainer,
        // Restored here before this actor was made: it runs.
        JobStart.Adopt => () => BecomeRunning(restored: true),
        _ => Recover,
    })();

    private void StartContainer()
    {
        Record(_record with { Phase = JobPhase.Starting });
        _node.Runtime.RunAsync(_container.Name, _record.Spec, Stopping)
            .PipeTo(Self, success: () => new ContainerStarted(), failure: e => new ContainerFailed(e.Message));
        Become(() =>
        {
            Receive<ContainerStarted>(_ => BecomeRunning());
            Receive<ContainerFailed>(f => Fail($"container did not start: {f.Reason}"));
            AnswerQueries();
            // A migration or a stop asked for right after the submit waits for the container to run.
            Receive<IJobCommand>(c => c is MigrateJob or StopJob, _ => Stash.Stash());
        });
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
                // The node may have died during the rm that follows a move: whatever is left goes now.
                _container.RemoveWithVolumes();
                Become(() => Moved(owner));
                break;
            case { Pending: { } pending }:
                Migrate(new OutgoingMigration.Resolve(pending, "the node restarted during the migration"));
                break;
            default:
                Become(() => Recovering(Watch()));
                break;
        }
    }

    private void Recovering(IActorRef watch)
    {
        Receive<ContainerWatch.Seen>(s =>
        {
            _log.Info("job {0}: re-adopted its container after a restart", JobId);
            BecomeRunning(watch, s.Pid);
        });
        Receive<ContainerWatch.Vanished>(_ =>
        {
            Context.Stop(watch);
            if (_record.Phase == JobPhase.Starting)
            {
                // The node stopped before podman created the container: start it now.
                StartContainer();
                return;
            }
            Fail("the container disappeared while the node was down");
        });
        Receive<ContainerWatch.InspectFailing>(f => f.Attempts >= RecoverAttempts, f =>
        {
            Context.Stop(watch);
            Fail($"could not find the container after a restart: {f.Reason}");
        });
        WatchedContainer(watch, pid: 0);
        Receive<IJobCommand>(c => c is MigrateJob or StopJob, _ => Stash.Stash());
    }

    /// <summary>With the container's watch, after a restart, or a new one.</summary>
    /// <param name="restored">A restored container's loopback comes back down: it is raised off the path.</param>
    private void BecomeRunning(IActorRef? watch = null, int pid = 0, bool restored = false)
    {
        if (restored)
        {
            _container.EnableLoopback();
        }
        Record(_record with { Phase = JobPhase.Running, Pending = null });
        _protection.Start(_record);
        Become(() => Running(watch ?? Watch(), pid));
        Stash.UnstashAll();
    }

    private void Running(IActorRef watch, int pid)
    {
        Receive<ContainerWatch.Seen>(s => Become(() => Running(watch, s.Pid)));
        Receive<ContainerWatch.Vanished>(_ =>
        {
            Context.Stop(watch);
            Fail("the container disappeared");
        });
        // Only a question: the container runs on, and nothing here changes.
        Receive<MigrateJob>(m => m.CheckOnly, m => _container.AnswerMoveCheck(m, Sender, pid));
        Receive<MigrateJob>(m =>
        {
            var (running, pending) = (_record, new PendingMigration(Guid.NewGuid().ToString("N"), m.TargetNode!));
            // Written before the pre-flight and the checkpoint: a node restarted from here on must first learn the target's answer.
            if (!Record(_record with { Phase = JobPhase.Migrating, Pending = pending }))
            {
                Record(running);
                Sender.Tell(new CommandRejected(m.JobId, JobFailure.RecordNotWritten, $"job {JobId} was not moved: {_node.Name} could not write its record (is its disk full?); it runs on here"));
                return;
            }
            Context.Stop(watch);
            Migrate(new OutgoingMigration.Move(pending, Sender, _record.ToHandoff([.. _waiting]), pid));
        });
        Receive<StopJob>(_ => _container.Stop(Sender));
        Receive<ProtectionRound.Protected>(p =>
        {
            if (_protection.Took(p, Sender))
            {
                ReportPhase();
            }
        });
        WatchedContainer(watch, pid);
    }

    /// <summary>What the watch reports the same way whether the job runs or is being recovered.</summary>
    private void WatchedContainer(IActorRef watch, int pid)
    {
        Receive<ContainerWatch.Exited>(e =>
        {
            Context.Stop(watch);
            var (result, error, exitCode, output) = e.Outcome;
            _log.Info("job {0} ended on {1}: {2}", JobId, _node.Name, error ?? result?.Value.ToString() ?? $"exit code {exitCode}");
            // What the job left is in its record, and the stopped container no longer needed; kept while the record is not written.
            if (Settle(error is null ? JobPhase.Completed : JobPhase.Failed, _record with { Result = result, Error = error, ExitCode = exitCode, Output = output }))
            {
                _container.Remove();
            }
        });
        Receive<ContainerWatch.CheckpointOutlived>(_ =>
        {
            Context.Stop(watch);
            Migrate(new OutgoingMigration.RollBack(_record.Pending, "a checkpoint finished after the node that asked for it had stopped"));
        });
        Receive<ContainerWatch.InspectFailing>(_ => { });
        AnswerQueries();
    }

    private IActorRef Watch() => Context.ActorOf(ContainerWatch.Props(_container.Name, _record.Spec, _node));

    private void Migrate(OutgoingMigration.Start start)
    {
        // A protection checkpoint must not freeze the container the move checkpoints; the new owner protects it.
        _protection.Stop();
        var migration = Context.ActorOf(OutgoingMigration.Props(JobId, _container.Name, _record.Spec, start, _node));
        Become(() => Migrating(migration));
        ReportPhase();
    }

    private void Migrating(IActorRef migration)
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        Receive<IMigrationCommand>(migration.Forward);
        AnswerQueries();
        Receive<MigrateJob>(migration.Forward);
        RefuseStops(JobFailure.JobMigrating, $"job {JobId} is migrating; stop it once the move has ended");
        Receive<OutgoingMigration.Moved>(m =>
        {
            Record(_record with { MovedTo = m.Owner, Pending = null });
            if (m.Success is not null)
            {
                m.Requester.Tell(m.Success);
            }
            // After the answer: the podman process it starts and its disk writes are no part of the move.
            _container.RemoveWithVolumes();
            // Whoever waited for the result was handed to the new owner with the job.
            _waiting.Clear();
            Context.Parent.Tell(new JobLeft(JobId, m.Owner));
            Become(() => Moved(m.Owner));
            Stash.UnstashAll();
        });
        Receive<OutgoingMigration.ResumedHere>(r => BecomeRunning(restored: r.Restored));
        Receive<OutgoingMigration.Lost>(l => Fail(l.Reason));
    }

    private void Moved(string owner) => Receive<IJobCommand>(c => Sender.Tell(new JobMoved(c.JobId, owner)));

    private void Settled()
    {
        AnswerQueries();
        Receive<MigrateJob>(m => Sender.Tell(new CommandRejected(m.JobId, JobFailure.JobEnded, JobResults.NothingToMigrate(_record))));
        RefuseStops(JobFailure.JobEnded, $"job {JobId} has already ended");
    }

    private void RefuseStops(JobFailure code, string reason) => Receive<StopJob>(s => Sender.Tell(new CommandRejected(s.JobId, code, reason)));

    private void Fail(string reason)
    {
        _log.Error("job {0} failed: {1}", JobId, reason);
        Settle(JobPhase.Failed, _record with { Error = reason });
    }

    /// <returns>Whether the settled record is on disk.</returns>
    private bool Settle(JobPhase phase, JobRecord record)
    {
        _protection.Stop();
        Become(Settled);
        var written = Record(record with { Phase = phase, Pending = null, FinishedAt = DateTimeOffset.UtcNow });
        var status = Status();
        _waiting.ForEach(waiter => waiter.Tell(status));
        _waiting.Clear();
        Stash.UnstashAll();
        return written;
    }

    /// <summary>How a job whose container exists answers questions about it.</summary>
    private void AnswerQueries()
    {
        Receive<QueryJob>(q =>
        {
            if (q.WaitForResult && !_record.Settled)
            {
                _waiting.Add(Sender);
                return;
            }
            Sender.Tell(Status());
        });
        Receive<InspectJob>(_ => Sender.Tell(Details()));
        Receive<IMigrationCommand>(c => Sender.Tell(new CommandRejected(c.JobId, JobFailure.NotMigrating, $"job {JobId} is {_record.Phase.ToString().ToLowerInvariant()} on " +
            $"{_node.Name}, not migrating; there is nothing to {(c is ResolveJob ? "resolve" : "cancel")}")));
        // Once the container is gone, what it printed last was kept.
        Receive<GetLogs>(_ => _record.Settled, l => Sender.Tell(new JobLogs(JobId, _node.Name, [.. (_record.Output ?? []).TakeLast(Math.Max(0, l.Tail))], Ended: true)));
        Receive<GetLogs>(l => _container.SendLogs(l.Tail, Sender));
    }

    /// <summary>
    /// The record goes to disk before anyone hears of the change. When it cannot (a full disk) the
    /// change is logged and kept in memory, and the disk keeps the record before it: false.
    /// </summary>
    private bool Record(JobRecord record)
    {
        // Unchanged, it is on disk already: the actor starts from a record written before it (an adopted or re-adopted job's, say).
        var failure = record == _record ? null : _node.Journal.TrySave(record);
        _record = record;
        if (failure is not null)
        {
            _log.Error("job {0}: could not write its record, so a restart would find the one before: {1}", JobId, failure);
        }
        ReportPhase();
        return failure is null;
    }

    private void ReportPhase() => Context.Parent.Tell(Status());

    private JobStatus Status() => _record.Status(_node.Name) with { LastProtection = _protection.Last };

    private JobDetails Details() => new(Status(), _record.Moves ?? []);
    private sealed record ContainerStarted;
    private sealed record ContainerFailed(string Reason);
}
