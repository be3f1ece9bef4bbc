using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
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
/// Owns one job's container on this node, for its whole life here. A migration is a child
/// (<see cref="OutgoingMigration"/>) whose one outcome decides what follows.
/// <code>
/// state       on                                  next
/// Starting    container started / failed          Running / Settled
/// Recovering  record or container says where      Running, Starting, Migrating, Moved, Settled
/// Running     container exited                    Settled (its result read as its spec says)
///             MigrateJob (target checked by the   Migrating
///             supervisor's router)
/// Migrating   Moved / ResumedHere / Lost          Moved / Running / Settled
/// Moved       anything                            answers with a redirect to the new owner
/// </code>
/// Every change of phase is written to the job's record first, so a restarted node carries on from it.
/// </summary>
public sealed class JobActor : StatefulActor, IWithTimers, IWithStash
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RecoverRetry = TimeSpan.FromSeconds(1);
    private const int RecoverAttempts = 5;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _container;
    private readonly List<IActorRef> _waiting;
    private readonly JobStart _start;
    private JobRecord _record;

    public JobActor(JobRecord record, IActorRef[] waiting, JobStart start, NodeContext node)
    {
        _record = record;
        _node = node;
        _container = ContainerNames.For(record.JobId);
        _waiting = [.. waiting];
        _start = start;
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
                StartContainer();
                break;
            case JobStart.Adopt:
                // Restored here before this actor was made: it runs, and its loopback comes up off the path.
                BecomeRunning();
                EnableLoopback();
                break;
            case JobStart.Recover:
                Recover();
                break;
        }
    }

    private void StartContainer()
    {
        Record(_record with { Phase = JobPhase.Starting });
        Runtime.RunAsync(_container, _record.Spec, Stopping)
            .PipeTo(Self, success: () => new ContainerStarted(), failure: e => new ContainerFailed(e.Message));
        Become(Starting);
    }

    private void Starting()
    {
        Receive<ContainerStarted>(_ => BecomeRunning());
        Receive<ContainerFailed>(f => Fail($"container did not start: {f.Reason}"));
        AnswerQueries();
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
                Migrate(pending, new OutgoingMigration.Resolve("the node restarted during the migration"));
                break;
            default:
                Become(() => Recovering(1));
                Inspect();
                break;
        }
    }

    private void Recovering(int attempt)
    {
        Receive<Inspected>(i => i.Info is not null, _ =>
        {
            _log.Info("job {0}: re-adopted its container after a restart", JobId);
            BecomeRunning();
        });
        // The node stopped before podman created the container: start it now.
        Receive<Inspected>(_ => _record.Phase == JobPhase.Starting, _ => StartContainer());
        Receive<Inspected>(_ => Fail("the container disappeared while the node was down"));
        Receive<InspectFailed>(f =>
        {
            if (attempt >= RecoverAttempts)
            {
                Fail($"could not find the container after a restart: {f.Reason}");
                return;
            }
            Become(() => Recovering(attempt + 1));
            Timers.StartSingleTimer(nameof(Poll), Poll.Instance, RecoverRetry);
        });
        Receive<Poll>(_ => Inspect());
        AnswerQueries();
        Receive<MigrateJob>(_ => Stash.Stash());
    }

    private void BecomeRunning()
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
        Become(() => Running(new RunningData(Inspecting: false, Pid: 0)));
        Timers.StartPeriodicTimer(nameof(Poll), Poll.Instance, PollInterval);
        Stash.UnstashAll();
    }

    private void Running(RunningData data)
    {
        Receive<Poll>(_ => !data.Inspecting, _ =>
        {
            Become(() => Running(data with { Inspecting = true }));
            Inspect();
        });
        Receive<Inspected>(i =>
        {
            var pid = i.Info?.Pid ?? 0;
            Become(() => Running(new RunningData(Inspecting: false, pid)));
            switch (i.Info)
            {
                case null:
                    Fail("the container disappeared");
                    break;
                case { State: ContainerState.Exited, Checkpointed: true }:
                    // A checkpoint that outlived the node process which asked for it (killed meanwhile).
                    Migrate(_record.Pending, new OutgoingMigration.RollBack("a checkpoint finished after the node that asked for it had stopped"));
                    break;
                case { State: ContainerState.Exited } exited:
                    Timers.Cancel(nameof(Poll));
                    var tail = _record.Spec.Result == ResultSource.WorkerResultLine ? JobResults.WorkerTail : JobResults.OutputTail;
                    Runtime.LogsAsync(_container, tail, Stopping).PipeTo(Self,
                        success: lines => new LogsRead(lines, exited.ExitCode),
                        failure: e => new LogsRead([$"could not read the logs: {e.Message}"], exited.ExitCode));
                    break;
            }
        });
        Receive<InspectFailed>(f =>
        {
            Become(() => Running(data with { Inspecting = false }));
            _log.Warning("inspecting {0} failed: {1}", _container, f.Reason);
        });
        Receive<LogsRead>(OnExited);
        AnswerQueries();
        Receive<MigrateJob>(m =>
        {
            var pending = new PendingMigration(Guid.NewGuid().ToString("N"), m.TargetNode!);
            // Written before the checkpoint: a node restarted from here on must first learn the target's answer.
            Record(_record with { Phase = JobPhase.Migrating, Pending = pending });
            Migrate(pending, new OutgoingMigration.Move(Sender, _record.ToHandoff([.. _waiting]), data.Pid));
        });
    }

    private void OnExited(LogsRead logs)
    {
        var outcome = JobResults.Read(_record.Spec, logs.Lines, logs.ExitCode, _node.Name);
        _log.Info("job {0} ended on {1}: {2}", JobId, _node.Name, outcome.Error ?? outcome.Result?.Value.ToString() ?? $"exit code {logs.ExitCode}");
        Settle(outcome.Error is null ? JobPhase.Completed : JobPhase.Failed,
            _record with { Result = outcome.Result, Error = outcome.Error, ExitCode = outcome.ExitCode, Output = outcome.Output });
        // What the job left is in its record; the stopped container is no longer needed.
        RemoveContainer();
    }

    private void Migrate(PendingMigration? pending, OutgoingMigration.Start start)
    {
        Timers.Cancel(nameof(Poll));
        var migration = Context.ActorOf(OutgoingMigration.Props(JobId, _container, pending, start, _node), $"migration-{pending?.TransferId ?? "rollback"}");
        Become(() => Migrating(migration));
        ReportPhase();
    }

    private void Migrating(IActorRef migration)
    {
        Receive<QueryJob>(q => q.WaitForResult, _ => Stash.Stash());
        AnswerQueries();
        Receive<MigrateJob>(migration.Forward);
        Receive<OutgoingMigration.Moved>(m =>
        {
            RemoveContainer();
            Record(_record with { MovedTo = m.Owner, Pending = null });
            if (m.Success is not null)
            {
                m.Requester.Tell(m.Success);
            }
            // Whoever waited for the result was handed to the new owner with the job.
            _waiting.Clear();
            Context.Parent.Tell(new JobLeft(JobId, m.Owner));
            Become(() => Moved(m.Owner));
            Stash.UnstashAll();
        });
        Receive<OutgoingMigration.ResumedHere>(r =>
        {
            if (r.Restored)
            {
                EnableLoopback();
            }
            BecomeRunning();
        });
        Receive<OutgoingMigration.Lost>(l => Fail(l.Reason));
    }

    private void Moved(string owner)
    {
        Receive<QueryJob>(q => Sender.Tell(new JobMoved(q.JobId, owner)));
        Receive<MigrateJob>(m => Sender.Tell(new JobMoved(m.JobId, owner)));
        Receive<GetLogs>(l => Sender.Tell(new JobMoved(l.JobId, owner)));
    }

    private void Settled()
    {
        Receive<QueryJob>(q => Sender.Tell(Status()));
        // The container is gone; what it printed last was kept.
        Receive<GetLogs>(l => Sender.Tell(new JobLogs(JobId, _node.Name, [.. (_record.Output ?? []).TakeLast(Math.Max(0, l.Tail))])));
        Receive<MigrateJob>(m => Sender.Tell(new CommandRejected(m.JobId, _record switch
        {
            { Result: { } result } => $"the job already finished with result {result.Value}; there is nothing left to migrate",
            { Error: null, ExitCode: { } code } => $"the container already exited with code {code}; there is nothing left to migrate",
            _ => $"the job failed ({_record.Error}); there is nothing to migrate",
        })));
    }

    private void Fail(string reason)
    {
        _log.Error("job {0} failed: {1}", JobId, reason);
        Settle(JobPhase.Failed, _record with { Error = reason });
    }

    private void Settle(JobPhase phase, JobRecord record)
    {
        Timers.Cancel(nameof(Poll));
        Become(Settled);
        Record(record with { Phase = phase, Pending = null });
        var status = Status();
        foreach (var waiter in _waiting)
        {
            waiter.Tell(status);
        }
        _waiting.Clear();
        Stash.UnstashAll();
    }

    /// <summary>How a job whose container still exists answers questions about it.</summary>
    private void AnswerQueries()
    {
        Receive<QueryJob>(q =>
        {
            if (q.WaitForResult)
            {
                _waiting.Add(Sender);
                return;
            }
            Sender.Tell(Status());
        });
        Receive<GetLogs>(l =>
        {
            var replyTo = Sender;
            Runtime.LogsAsync(_container, Math.Clamp(l.Tail, 1, 10_000), Stopping).PipeTo(replyTo,
                success: lines => new JobLogs(JobId, _node.Name, [.. lines]),
                failure: e => new CommandRejected(JobId, $"could not read the logs of job {JobId}: {e.Message}"));
        });
    }

    private void Inspect() =>
        Runtime.InspectAsync(_container, Stopping)
            .PipeTo(Self, success: info => new Inspected(info), failure: e => new InspectFailed(e.Message));

    /// <summary>After a restore, and off its path: the job runs, and answers, while this happens.</summary>
    private void EnableLoopback() =>
        Runtime.EnableLoopbackAsync(_container, Stopping).PipeTo(Self, success: () => Done.Instance, failure: e => new LoopbackFailed(e.Message));

    private void RemoveContainer() =>
        Runtime.RemoveAsync(_container, Stopping).PipeTo(Self, success: () => Done.Instance, failure: _ => Done.Instance);

    protected override void Unhandled(object message)
    {
        if (message is LoopbackFailed f)
        {
            _log.Warning("job {0} runs, but its loopback is still down: {1}", JobId, f.Reason);
            return;
        }
        base.Unhandled(message);
    }

    /// <summary>The record goes to disk before anyone hears of the change.</summary>
    private void Record(JobRecord record)
    {
        _record = record;
        _node.Journal.Save(record);
        ReportPhase();
    }

    private void ReportPhase() => Context.Parent.Tell(Status());

    private JobStatus Status() => _record.Status(_node.Name);

    /// <param name="Pid">The container's process when last inspected; 0 before that.</param>
    private sealed record RunningData(bool Inspecting, int Pid);

    private sealed record ContainerStarted;
    private sealed record ContainerFailed(string Reason);
    private sealed record Poll : ILateReply
    {
        public static readonly Poll Instance = new();
    }
    private sealed record Inspected(ContainerInfo? Info) : ILateReply;
    private sealed record InspectFailed(string Reason) : ILateReply;
    private sealed record LogsRead(IReadOnlyList<string> Lines, int ExitCode);
    private sealed record LoopbackFailed(string Reason);
    private sealed record Done : ILateReply
    {
        public static readonly Done Instance = new();
    }
}

/// <summary>From a job actor to its parent: the job runs elsewhere now; its actor stays as a redirect.</summary>
public sealed record JobLeft(string JobId, string NewOwner);
