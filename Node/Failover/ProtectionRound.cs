using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Failover;

/// <summary>
/// Protects one running job, a child of its job actor: every protection interval it checkpoints the
/// container, leaving it running, and streams the archive to each replica host in turn with an
/// <see cref="ArchiveSender"/> (the host keeps it instead of restoring it). The supervisor chooses the
/// hosts each round, as it would migration targets, so a lost or drained one is replaced. Stopped
/// because the job ended or moves on, it tells its replica hosts to drop their copies.
/// <code>
/// state          on                                   next
/// Waiting        the interval is up                   Choosing (the supervisor names the hosts)
/// Choosing       hosts named / none                   Checkpointing / Waiting
/// Checkpointing  archive written / failed             Sending to the first host / Waiting
/// Checking       a new host can restore it / cannot   Sending to it / Sending to the next
/// Sending        delivered or gave up                 the next host, or Waiting
/// </code>
/// </summary>
public sealed class ProtectionRound : StatefulActor, IWithTimers
{
    private readonly JobRecord _job;
    private readonly Protection _protection;
    private readonly NodeContext _node;
    private readonly ICanTell _supervisor;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>Every host that was sent a replica since this actor started: each is told to drop it when protection ends.</summary>
    private readonly HashSet<string> _holders = [];
    /// <summary>The archive of the round under way, deleted if the actor stops before the round ends.</summary>
    private string? _archive;
    /// <summary>Hosts found able to restore the job: each new one is checked once (<see cref="Check"/>).</summary>
    private readonly HashSet<string> _ready = [];

    public ProtectionRound(JobRecord job, NodeContext node, ICanTell supervisor)
    {
        _job = job;
        _protection = job.Spec.Protection ?? throw new ArgumentException("the job is not protected", nameof(job));
        _node = node;
        _supervisor = supervisor;
        Waiting([]);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="supervisor">Who chooses the replica hosts (<see cref="ChooseReplicaHosts"/>): the node's supervisor.</param>
    public static Props Props(JobRecord job, NodeContext node, ICanTell supervisor) =>
        Akka.Actor.Props.Create(() => new ProtectionRound(job, node, supervisor));

    /// <summary>To the supervisor: up to <paramref name="Count"/> hosts to keep the job's replicas, those of <paramref name="Current"/> that still can first.</summary>
    public sealed record ChooseReplicaHosts(string JobId, int Count, string[] Current);

    /// <summary>The supervisor's answer, in the order the hosts would take the job over; empty when none can.</summary>
    public sealed record ReplicaHostsChosen(string[] Hosts) : ILateReply;

    /// <summary>To the parent after each round: what the job's protection is now.</summary>
    /// <param name="Hosts">The hosts that took this round's checkpoint.</param>
    public sealed record Protected(string JobId, DateTimeOffset TakenAt, long Bytes, long PauseMs, string[] Hosts) : ILateReply;

    protected override void PreStart() => Timers.StartSingleTimer(nameof(Due), new Due(), _protection.Every);

    protected override void PostStop()
    {
        foreach (var host in _holders.Select(_node.Config.FindHost).OfType<HostEntry>())
        {
            Context.ActorSelection(_node.Config.SupervisorPath(host)).Tell(new DropReplica(_job.JobId), Context.Parent);
        }
        if (_archive is not null)
        {
            ArchiveStore.Delete(_archive);
        }
        base.PostStop();
    }

    private void Waiting(string[] current)
    {
        Receive<Due>(_ =>
        {
            _supervisor.Tell(new ChooseReplicaHosts(_job.JobId, _protection.Replicas, current), Self);
            Become(() => Choosing(current));
        });
    }

    private void Choosing(string[] current)
    {
        Receive<ReplicaHostsChosen>(c => c.Hosts.Length == 0, _ =>
        {
            _log.Warning("job {0} is not protected this round: no host can keep its replica", _job.JobId);
            Wait(current);
        });
        Receive<ReplicaHostsChosen>(c =>
        {
            var transferId = Guid.NewGuid().ToString("N");
            var archive = _archive = _node.Archives.PathFor(_job.JobId, transferId);
            var clock = Stopwatch.StartNew();
            _node.Runtime.CheckpointLeaveRunningAsync(ContainerNames.For(_job.JobId), _job.Spec, archive, Stopping)
                .PipeTo(Self, success: s => new Checkpointed(s), failure: e => new CheckpointFailed(e.Message));
            Become(() => Checkpointing(new Round(transferId, archive, c.Hosts, DateTimeOffset.UtcNow, clock)));
        });
    }

    private void Checkpointing(Round round)
    {
        Receive<Checkpointed>(c => Send(round, c.Stats, 0, []));
        Receive<CheckpointFailed>(f =>
        {
            _log.Warning("job {0}: the protection checkpoint failed, the job runs on unprotected until the next: {1}", _job.JobId, f.Reason);
            Wait(round.Hosts);
        });
    }

    /// <summary>To the replica hosts one at a time, the first first: it would take the job over.</summary>
    private void Send(Round round, CheckpointStats stats, int next, string[] stored)
    {
        if (next == round.Hosts.Length)
        {
            var pauseMs = stats.Dump?.FrozenMs ?? stats.DurationMs;
            if (stored.Length > 0)
            {
                _log.Info(ProtectionLog.Kept, _job.JobId, stats.ArchiveBytes, pauseMs,
                    string.Join(", ", stored), round.Clock.ElapsedMilliseconds);
                Context.Parent.Tell(new Protected(_job.JobId, round.TakenAt, stats.ArchiveBytes, pauseMs, stored));
            }
            else
            {
                _log.Warning("job {0}: no replica host took the protection checkpoint; the job runs on with the replicas it had", _job.JobId);
            }
            Wait(round.Hosts);
            return;
        }
        var host = _node.Config.GetHost(round.Hosts[next]);
        if (!_ready.Contains(host.Name))
        {
            Check(round, stats, next, stored, host);
            return;
        }
        _holders.Add(host.Name);
        var sender = Context.ActorOf(ArchiveSender.Props($"{round.TransferId[..30]}{next:x2}", _job.JobId, round.Archive,
            Context.ActorSelection(_node.Config.SupervisorPath(host)), _node, host, stats.ArchiveBytes, round.Hosts));
        sender.Tell(new ArchiveSender.ArchiveWritten(stats.ArchiveBytes, _job.ToHandoff([])));
        Become(() =>
        {
            Receive<ArchiveSender.Delivered>(_ => Send(round, stats, next + 1, [.. stored, host.Name]));
            Receive<ArchiveSender.GaveUp>(g =>
            {
                _log.Warning("job {0}: {1} did not take the protection checkpoint: {2}", _job.JobId, host.Name, g.Reason);
                Send(round, stats, next + 1, stored);
            });
            Receive<ArchiveSender.Progress>(_ => { });
            Receive<ArchiveSender.Restoring>(_ => { });
        });
    }

    /// <summary>
    /// A new replica host is asked first, as a migration's target is, whether it could restore the
    /// job (image, CPU, runtime, room), and is sent the image if it lacks it: a replica it could not
    /// restore would protect nothing.
    /// </summary>
    private void Check(Round round, CheckpointStats stats, int next, string[] stored, HostEntry host)
    {
        Preflight.RunAsync(new MigrateJob(_job.JobId, host.Name), ActorRefs.Nobody, ContainerNames.For(_job.JobId), _job.Spec, stats.ArchiveBytes, _node,
                Context.ActorSelection(_node.Config.SupervisorPath(host)), Stopping)
            .PipeTo(Self, failure: e => new Preflight.Done(new MigrateJob(_job.JobId, host.Name), ActorRefs.Nobody, [$"the check failed: {e.Message}"]));
        Become(() => Receive<Preflight.Done>(d =>
        {
            if (d.Problems.Length == 0)
            {
                _ready.Add(host.Name);
                Send(round, stats, next, stored);
                return;
            }
            _log.Warning("job {0}: {1} cannot keep its replica: {2}", _job.JobId, host.Name, string.Join("; ", d.Problems));
            Send(round, stats, next + 1, stored);
        }));
    }

    private void Wait(string[] current)
    {
        if (_archive is not null)
        {
            ArchiveStore.Delete(_archive);
            _archive = null;
        }
        Timers.StartSingleTimer(nameof(Due), new Due(), _protection.Every);
        Become(() => Waiting(current));
    }

    /// <param name="TransferId">The archive's name; each host's transfer takes its own id from it.</param>
    private sealed record Round(string TransferId, string Archive, string[] Hosts, DateTimeOffset TakenAt, Stopwatch Clock);

    private sealed record Due;
    private sealed record Checkpointed(CheckpointStats Stats);
    private sealed record CheckpointFailed(string Reason);
}
