using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Ownership;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// One per node, at /user/container-supervisor: owns the host's jobs (a child actor each), routes
/// requests to them or, through the replicated <see cref="JobDirectory"/>, to the node that owns
/// them, picks the least-loaded peer for a migration without a target, drains the node on request,
/// admits incoming transfers and says what became of them. On start it carries on from the job
/// records on disk. Everything from a message is checked here before it can reach podman's
/// arguments or a file path.
/// </summary>
public sealed partial class ContainerSupervisor : ReceiveActor, IWithStash
{
    private const int MaxIncomingTransfers = 16;
    private const int MaxRouteHops = 3;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly Dictionary<string, IActorRef> _jobs = [];
    private readonly Dictionary<string, JobStatus> _owned = [];
    private readonly Dictionary<string, string> _incomingJobs = [];
    private IReadOnlyDictionary<string, JobLocation> _directory = new Dictionary<string, JobLocation>();
    private IActorRef? _drainer;
    private int _generation;

    public ContainerSupervisor(NodeContext node)
    {
        _node = node;
        Recovering();
    }

    public IStash Stash { get; set; } = null!;

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(JobDirectory.Key, Self));
        var (records, unreadable) = _node.Journal.Load();
        foreach (var problem in unreadable)
        {
            _log.Error("a job record could not be read and is left alone: {0}", problem);
        }
        _node.Archives.DeleteLeftoversExcept(records
            .Where(r => r.Pending is not null)
            .Select(r => _node.Archives.PathFor(r.JobId, r.Pending!.TransferId))
            .ToHashSet());
        foreach (var record in records)
        {
            StartJobActor(record, [], JobStart.Recover);
        }
        if (records.Count > 0)
        {
            _log.Info("carrying on with {0} job(s) from {1}", records.Count, _node.Journal.Folder);
        }
        RemoveInterruptedRestoresAsync(records).PipeTo(Self, success: () => new Recovered(null), failure: e => new Recovered(e.Message));
    }

    /// <summary>
    /// A restore that was under way when the node stopped never became this node's job: its source
    /// is told "absent" and resumes the job, so the container must go before anyone is told so.
    /// </summary>
    private async Task RemoveInterruptedRestoresAsync(IReadOnlyList<JobRecord> records)
    {
        foreach (var jobId in _node.Journal.Restoring())
        {
            if (records.FirstOrDefault(r => r.JobId == jobId) is not { MovedTo: null, Pending: null })
            {
                _log.Warning("removing the container of job {0}: its restore was interrupted", jobId);
                await _node.Runtime.RemoveAsync(WorkerOutput.ContainerName(jobId), CancellationToken.None);
            }
            _node.Journal.ClearRestoring(jobId);
        }
    }

    private void Recovering()
    {
        Receive<Recovered>(r =>
        {
            if (r.Error is not null)
            {
                // Saying "absent" now could let a source resume a job that runs here: stay silent instead.
                _log.Error("could not remove interrupted restores ({0}); transfers and questions about them go unanswered until the node restarts", r.Error);
                return;
            }
            Become(Active);
            Stash.UnstashAll();
        });
        Receive<BeginTransfer>(_ => Stash.Stash());
        Receive<TransferOutcomeQuery>(_ => Stash.Stash());
        Common();
    }

    private void Active()
    {
        Receive<BeginTransfer>(Admit);
        Receive<TransferOutcomeQuery>(Answer);
        Common();
    }

    private void Common()
    {
        Receive<SubmitJob>(Submit);
        Receive<RunContainer>(Run);
        Receive<RoutedJobCommand>(r => Route(r.Command, r.Hops));
        Receive<IJobCommand>(c => Route(c, 0));
        Receive<DrainNode>(Drain);
        Receive<NodeDrainer.Finished>(OnDrained);
        Receive<AbortTransfer>(a => Context.Child($"incoming-{a.TransferId}").Forward(a));
        Receive<AdoptJob>(Adopt);
        Receive<JobStatus>(s => IsCurrent(s.JobId), s =>
        {
            if (_owned.TryGetValue(s.JobId, out var before) && Active(before) != Active(s))
            {
                Publish(s.JobId, new JobLocation(_node.Name, Active(s)));
            }
            _owned[s.JobId] = s;
        });
        Receive<JobLeft>(l => IsCurrent(l.JobId), l =>
        {
            _owned.Remove(l.JobId);
            Publish(l.JobId, new JobLocation(l.NewOwner, true));
        });
        Receive<Changed>(c => c.Key.Equals(JobDirectory.Key), c => _directory = c.Get(JobDirectory.Key).Entries);
        Receive<IUpdateResponse>(_ => { });
        Receive<GetNodeStatus>(_ => Sender.Tell(new NodeStatus(_node.Name, [.. _owned.Values.OrderBy(s => s.SubmittedAt)], UpMembers())));
        Receive<Terminated>(t => { _incomingJobs.Remove(t.ActorRef.Path.Name); });
    }

    /// <summary>
    /// A restarted job actor would forget its phase and who waits for it, and start the container
    /// again: a job actor that throws is resumed instead. One that cannot even start is stopped.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(e => e is ActorInitializationException ? Directive.Stop : Directive.Resume);

    public static Props Props(NodeContext node) => Akka.Actor.Props.Create(() => new ContainerSupervisor(node));

    /// <summary>From an archive receiver: the container runs here now and its record says so; take the job over and tell the source.</summary>
    public sealed record AdoptJob(JobRecord Record, IActorRef[] Waiting, IActorRef Source, string TransferId, long RestoreMs);

    /// <summary>From a job actor: the job runs elsewhere now; its actor stays as a redirect.</summary>
    public sealed record JobLeft(string JobId, string NewOwner);

    /// <summary>A client's request on its way from a node that does not own the job to the one that does.</summary>
    /// <param name="Hops">How many nodes passed it on; bounded, so directories that disagree for a moment cannot bounce it forever.</param>
    public sealed record RoutedJobCommand(IJobCommand Command, int Hops);

    private void Submit(SubmitJob submit)
    {
        var limits = _node.Config.Container;
        var problem = NewJobProblem(submit.JobId) ?? submit switch
        {
            { Number: long.MaxValue } => $"{submit.Number} + 1 overflows a 64-bit number",
            { WorkMillis: < 0 or > 3_600_000 } => "the work time must be from 0 to 3600000 ms",
            { StateMb: < 0 or > 4096 } => "the state size must be from 0 to 4096 MB",
            _ => null,
        };
        if (problem is not null)
        {
            Sender.Tell(new CommandRejected(submit.JobId, problem));
            return;
        }
        var work = submit.WorkMillis ?? limits.WorkMillis;
        var state = submit.StateMb ?? limits.StateMb;
        var job = new JobRecord(submit.JobId, submit.Number, work, state, 0, DateTimeOffset.UtcNow, JobPhase.Starting,
            limits.Image, WorkerOutput.Arguments(submit.Number, work, state));
        StartJobActor(job, [], JobStart.Run);
        Sender.Tell(new JobAccepted(submit.JobId, _node.Name));
    }

    private void Run(RunContainer run)
    {
        var problem = NewJobProblem(run.JobId) ?? run switch
        {
            _ when run.Image is null || !ImageName().IsMatch(run.Image) => $"invalid image name '{run.Image}'",
            _ when run.Arguments is null || run.Arguments.Length > 256 || run.Arguments.Any(a => a is null || a.Length > 4096 || a.Contains('\0')) =>
                "the container's arguments must be at most 256 strings of at most 4096 characters, without NUL",
            _ => null,
        };
        if (problem is not null)
        {
            Sender.Tell(new CommandRejected(run.JobId, problem));
            return;
        }
        var job = new JobRecord(run.JobId, null, 0, 0, 0, DateTimeOffset.UtcNow, JobPhase.Starting, run.Image!, run.Arguments!);
        StartJobActor(job, [], JobStart.Run);
        Sender.Tell(new JobAccepted(run.JobId, _node.Name));
    }

    /// <summary>Why a new job may not take this id here, or null.</summary>
    private string? NewJobProblem(string jobId) => jobId switch
    {
        _ when !Names.IsValidJobId(jobId) => $"invalid job id '{jobId}': {Names.JobIdRule}",
        _ when _drainer is not null => $"{_node.Name} is draining: its containers are moving to other hosts; run it elsewhere",
        _ when _owned.ContainsKey(jobId) || _incomingJobs.ContainsValue(jobId) => $"job {jobId} already exists on {_node.Name}",
        _ when _jobs.ContainsKey(jobId) => $"job {jobId} ran here before and moved away; pick a new id",
        _ when _directory.TryGetValue(jobId, out var where) && where.Node != _node.Name => $"job {jobId} already exists on {where.Node}",
        _ => null,
    };

    /// <summary>
    /// To the job's actor when this node owns it, else on to the owner the directory names (the
    /// sender kept, so the answer goes straight back); a job that moved away and is not in the
    /// directory yet answers with a redirect from its old actor.
    /// </summary>
    private void Route(IJobCommand command, int hops)
    {
        if (!Names.IsValidJobId(command.JobId))
        {
            Sender.Tell(new UnknownJob(command.JobId ?? "", _node.Name));
            return;
        }
        if (_owned.ContainsKey(command.JobId) && _jobs.TryGetValue(command.JobId, out var job))
        {
            if (command is MigrateJob { TargetNode: null } migrate)
            {
                if (JobDirectory.LeastLoaded(Peers(), JobDirectory.Load(_directory)) is not { } target)
                {
                    Sender.Tell(new CommandRejected(migrate.JobId, $"no other host is up to take job {migrate.JobId}"));
                    return;
                }
                command = migrate with { TargetNode = target };
            }
            job.Forward(command);
        }
        else if (_directory.TryGetValue(command.JobId, out var where) && where.Node != _node.Name
            && hops < MaxRouteHops && _node.Config.FindHost(where.Node) is { } owner)
        {
            if (UpMembers().Contains(owner.Name))
            {
                Context.ActorSelection(_node.Config.SupervisorPath(owner)).Tell(new RoutedJobCommand(command, hops + 1), Sender);
            }
            else
            {
                // Sent on, it would wait out the client's timeout; its node keeps it and carries on when back.
                Sender.Tell(new CommandRejected(command.JobId, $"job {command.JobId} belongs to {owner.Name}, which is not up now; ask again once it is back"));
            }
        }
        else if (_jobs.TryGetValue(command.JobId, out var moved))
        {
            moved.Forward(command);
        }
        else
        {
            Sender.Tell(new UnknownJob(command.JobId, _node.Name));
        }
    }

    /// <summary>Moves every container that runs here to peers, then leaves the cluster; stays up if one cannot move.</summary>
    private void Drain(DrainNode drain)
    {
        if (drain.Node != _node.Name)
        {
            if (_node.Config.FindHost(drain.Node) is { } host)
            {
                Context.ActorSelection(_node.Config.SupervisorPath(host)).Tell(drain, Sender);
            }
            else
            {
                Sender.Tell(new DrainRefused(drain.Node ?? "", $"unknown host '{drain.Node}'", [], []));
            }
            return;
        }
        if (_drainer is not null)
        {
            Sender.Tell(new DrainRefused(_node.Name, $"{_node.Name} is already draining", [], []));
            return;
        }
        var jobs = _owned.Values.Where(Active).Select(s => s.JobId).Where(_jobs.ContainsKey).ToDictionary(id => id, id => _jobs[id]);
        var peers = Peers();
        if (jobs.Count > 0 && peers.Count == 0)
        {
            _log.Warning("asked to drain, but no other host is up to take {0} container(s); staying up", jobs.Count);
            Sender.Tell(new DrainRefused(_node.Name, "no other host is up to take its containers; staying up", [], [.. jobs.Keys]));
            return;
        }
        _log.Info("draining: moving {0} container(s) to {1}", jobs.Count, string.Join(", ", peers));
        _drainer = Context.ActorOf(NodeDrainer.Props(jobs, peers, JobDirectory.Load(_directory), Sender, _node.Name,
            _node.Config.Transfer.MigrationLimit), "drainer");
    }

    private void OnDrained(NodeDrainer.Finished finished)
    {
        _drainer = null;
        if (finished.Stuck.Length > 0)
        {
            _log.Warning("drain incomplete, staying up: {0} container(s) could not move ({1})", finished.Stuck.Length, string.Join(", ", finished.Stuck));
            return;
        }
        _log.Info("drained: every container moved; leaving the cluster");
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }

    /// <summary>Up members of the cluster that config.ini names, other than this node.</summary>
    private List<string> Peers() => [.. UpMembers().Where(h => h != _node.Name)];

    private static bool Active(JobStatus status) => status.Phase is not (JobPhase.Completed or JobPhase.Failed);

    /// <summary>Written locally and gossiped: every node learns within a second or so; this one at once.</summary>
    private void Publish(string jobId, JobLocation location)
    {
        _directory = new Dictionary<string, JobLocation>(_directory) { [jobId] = location };
        _replicator.Tell(Dsl.Update(JobDirectory.Key, LWWDictionary<string, JobLocation>.Empty, WriteLocal.Instance,
            map => map.SetItem(_cluster, jobId, location)));
    }

    private void Admit(BeginTransfer begin)
    {
        var problem = begin switch
        {
            _ when !Names.IsValidJobId(begin.JobId) => $"invalid job id '{begin.JobId}'",
            _ when _drainer is not null => $"{_node.Name} is draining",
            _ when !IsTransferId(begin.TransferId) => "invalid transfer id",
            _ when begin.ChunkBytes is <= 0 or > 4 * 1024 * 1024 => $"chunk size {begin.ChunkBytes} is out of range",
            // Its receiver's name is taken: ActorOf would throw and restart this supervisor, dropping every job.
            _ when _incomingJobs.ContainsKey($"incoming-{begin.TransferId}") => $"transfer {begin.TransferId} is already under way",
            _ when _owned.ContainsKey(begin.JobId) => $"job {begin.JobId} already runs on {_node.Name}",
            _ when _incomingJobs.ContainsValue(begin.JobId) => $"job {begin.JobId} is already being received",
            _ when _incomingJobs.Count >= MaxIncomingTransfers => $"{_node.Name} already receives {MaxIncomingTransfers} transfers",
            _ => null,
        };
        if (problem is not null)
        {
            _log.Warning("refused transfer {0} from {1}: {2}", begin.TransferId, Sender.Path.Address, problem);
            Sender.Tell(new TransferRefused(begin.TransferId, problem));
            return;
        }
        var name = $"incoming-{begin.TransferId}";
        Context.Watch(Context.ActorOf(ArchiveReceiver.Props(begin, Sender, _node), name));
        _incomingJobs[name] = begin.JobId;
    }

    private void Adopt(AdoptJob adopt)
    {
        var jobId = adopt.Record.JobId;
        StartJobActor(adopt.Record, adopt.Waiting, JobStart.Adopt);
        _node.Journal.ClearRestoring(jobId);
        _incomingJobs.Remove(Sender.Path.Name);
        Context.Stop(Sender);
        // Owned before the source hears of it, so the client's next query, or the source's question, finds it here.
        adopt.Source.Tell(new RestoreConfirmed(adopt.TransferId, jobId, _node.Name, adopt.RestoreMs), Self);
    }

    /// <summary>For a source that does not know whether this node restored its job.</summary>
    private void Answer(TransferOutcomeQuery query)
    {
        if (!Names.IsValidJobId(query.JobId))
        {
            return;
        }
        var state = _owned.ContainsKey(query.JobId) ? TransferState.Restored
            : _incomingJobs.ContainsValue(query.JobId) ? TransferState.InProgress
            : TransferState.Absent;
        Sender.Tell(new TransferOutcome(query.TransferId, query.JobId, state));
    }

    /// <summary>Whether the sender is the job's current actor, not one it replaced.</summary>
    private bool IsCurrent(string jobId) => _jobs.TryGetValue(jobId, out var actor) && actor.Equals(Sender);

    private void StartJobActor(JobRecord record, IActorRef[] waiting, JobStart start)
    {
        // A job coming back (A→B→A) replaces the redirect this node kept for it.
        if (_jobs.Remove(record.JobId, out var previous))
        {
            Context.Stop(previous);
        }
        _jobs[record.JobId] = Context.ActorOf(JobActor.Props(record, waiting, start, _node), $"job-{record.JobId}-{++_generation}");
        // Known as owned at once, not when the new actor first reports: the answer to a source's question depends on it.
        if (record.MovedTo is null)
        {
            _owned[record.JobId] = record.Status(_node.Name);
            Publish(record.JobId, new JobLocation(_node.Name, !record.Settled));
        }
    }

    private string[] UpMembers()
    {
        var up = Cluster.Get(Context.System).State.Members.Where(m => m.Status == MemberStatus.Up).Select(m => m.Address).ToList();
        return [.. _node.Config.Hosts.Where(h => up.Any(a => a.Host == h.Address && a.Port == h.Port)).Select(h => h.Name)];
    }

    private sealed record Recovered(string? Error);

    /// <summary>A peer's JSON may carry a null id: IsMatch(null) would throw and restart this supervisor.</summary>
    private static bool IsTransferId(string? id) => id is not null && TransferId().IsMatch(id);

    // \z, not $: $ also matches before a final newline, which no actor name or file name should carry.
    [GeneratedRegex(@"^[a-f0-9]{32}\z")]
    private static partial Regex TransferId();

    /// <summary>A podman image reference: it becomes one argument, and must not read as an option.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}\z")]
    private static partial Regex ImageName();
}
