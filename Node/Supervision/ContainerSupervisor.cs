using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// One per node, at /user/container-supervisor: the parent of the host's job actors (one per job,
/// kept as a redirect once the job moves away) and of <see cref="IncomingTransfers"/>. It takes new
/// jobs, sends requests where its <see cref="JobRouter"/> says, keeps the replicated directory up to
/// date with the jobs it owns, and drains the node on request. On start it carries on from the job
/// records on disk.
/// </summary>
public sealed class ContainerSupervisor : ReceiveActor
{
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly JobRouter _router;
    /// <summary>Every job actor, by job id: owners and the redirects of jobs that moved away.</summary>
    private readonly Dictionary<string, IActorRef> _jobs = [];
    /// <summary>The jobs this node owns, as their actors last reported.</summary>
    private readonly Dictionary<string, JobStatus> _owned = [];
    private readonly CancellationTokenSource _stopping = new();
    private IActorRef _incoming = ActorRefs.Nobody;
    private IActorRef? _drainer;
    private int _generation;

    public ContainerSupervisor(NodeContext node)
    {
        _node = node;
        _router = new JobRouter(node.Self, node.Config, _cluster);

        Receive<RunJob>(Run);
        Receive<RoutedJobCommand>(r => Route(r.Command, r.Hops));
        Receive<IJobCommand>(c => Route(c, 0));
        Receive<DrainNode>(Drain);
        Receive<NodeDrainer.Finished>(OnDrained);
        Receive<BeginTransfer>(b => _incoming.Forward(new IncomingTransfers.Admit(b, AdmissionProblem(b))));
        Receive<TransferOutcomeQuery>(q => _incoming.Forward(new IncomingTransfers.OutcomeQuery(q, q.JobId is not null && _owned.ContainsKey(q.JobId))));
        Receive<AbortTransfer>(a => _incoming.Forward(a));
        Receive<CheckRestore>(AnswerRestoreCheck);
        Receive<FetchImage>(f => Preflight.FetchImageAsync(f, _node, _stopping.Token).PipeTo(Sender));
        Receive<IncomingTransfers.AdoptJob>(Adopt);
        Receive<JobStatus>(s => IsCurrent(s.JobId), s =>
        {
            if (_owned.TryGetValue(s.JobId, out var before) && JobRouter.IsActive(before) != JobRouter.IsActive(s))
            {
                Publish(s.JobId, new JobLocation(_node.Name, JobRouter.IsActive(s), s.Spec.Service.Address));
            }
            _owned[s.JobId] = s;
            _node.Metrics.Jobs(_owned.Values);
        });
        Receive<JobLeft>(l => IsCurrent(l.JobId), l =>
        {
            _owned.Remove(l.JobId, out var left);
            _node.Metrics.Jobs(_owned.Values);
            Publish(l.JobId, new JobLocation(l.NewOwner, true, left?.Spec.Service.Address));
        });
        Receive<Changed>(c => c.Key.Equals(JobDirectory.Key), c => _router.Learn(c.Get(JobDirectory.Key).Entries));
        Receive<IUpdateResponse>(_ => { });
        Receive<GetNodeStatus>(_ => Sender.Tell(new NodeStatus(_node.Name, [.. _owned.Values.OrderBy(s => s.SubmittedAt)], _router.UpMembers())));
    }

    /// <summary>
    /// A restarted job actor would forget its phase and who waits for it, and start the container
    /// again: a job actor that throws is resumed instead. One that cannot even start is stopped.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(e => e is ActorInitializationException ? Directive.Stop : Directive.Resume);

    public static Props Props(NodeContext node) => Akka.Actor.Props.Create(() => new ContainerSupervisor(node));

    /// <summary>
    /// A client's request on its way from a node that does not own the job to the one that does. It
    /// keeps the client as its sender, so it is no node message: it can do no more than the request.
    /// </summary>
    /// <param name="Hops">How many nodes passed it on (at most <see cref="JobRouter.MaxHops"/>).</param>
    public sealed record RoutedJobCommand(IJobCommand Command, int Hops);

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(JobDirectory.Key, Self));
        _node.Metrics.Attach(_cluster, Self);
        var (records, unreadable) = _node.Journal.Load();
        foreach (var problem in unreadable)
        {
            // Without its record nobody supervises the job: its container stops, and stays for a human.
            _log.Error("the job record {0} could not be read ({1}); moved aside{2}", problem.QuarantinedAt, problem.Reason,
                problem.JobId is null ? "" : $", and the job's container {ContainerNames.For(problem.JobId)} is stopped and kept");
            if (problem.JobId is { } jobId)
            {
                _node.Runtime.StopAsync(ContainerNames.For(jobId), _stopping.Token).ContinueWith(t =>
                {
                    if (t.IsFaulted)
                    {
                        _log.Error("stopping the container of unreadable job {0} failed: {1}", jobId, t.Exception!.GetBaseException().Message);
                    }
                }, TaskScheduler.Default);
            }
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
        var ownedHere = records.Where(r => r is { MovedTo: null, Pending: null }).Select(r => r.JobId).ToHashSet();
        _incoming = Context.ActorOf(IncomingTransfers.Props(_node, ownedHere), IncomingTransfers.Name);
        Context.ActorOf(MembershipGuard.Props(_node.Config), "membership-guard");
    }

    private void Run(RunJob run)
    {
        var problem = NewJobProblem(run.JobId) ?? JobSpecRules.Problem(run.Spec, _node.Config.ServiceNetwork);
        var spec = run.Spec;
        if (problem is null && spec.Service.Network == JobNetwork.Cluster)
        {
            (spec, problem) = WithAddress(run.JobId, spec);
        }
        if (problem is not null)
        {
            Sender.Tell(new CommandRejected(run.JobId ?? "", problem));
            return;
        }
        var job = new JobRecord(run.JobId, spec, 0, DateTimeOffset.UtcNow, JobPhase.Starting);
        StartJobActor(job, [], JobStart.Run);
        Sender.Tell(new JobAccepted(run.JobId, _node.Name, spec.Service.Address));
    }

    /// <summary>Why a new job may not take this id here, or null.</summary>
    private string? NewJobProblem(string jobId) => jobId switch
    {
        _ when !Names.IsValidJobId(jobId) => $"invalid job id '{jobId}': {Names.JobIdRule}",
        _ when _drainer is not null => $"{_node.Name} is draining: its containers are moving to other hosts; run it elsewhere",
        _ when _owned.ContainsKey(jobId) => $"job {jobId} already exists on {_node.Name}",
        _ when _jobs.ContainsKey(jobId) => $"job {jobId} ran here before and moved away; pick a new id",
        _ when _router.Directory.TryGetValue(jobId, out var where) && where.Node != _node.Name => $"job {jobId} already exists on {where.Node}",
        _ => null,
    };

    /// <summary>The service's address: the one asked for if no other job holds it, else the next free one of this node's share.</summary>
    private (JobSpec Spec, string? Problem) WithAddress(string jobId, JobSpec spec)
    {
        if (spec.Service.Address is { } asked)
        {
            return _router.AddressHolder(asked) is { } holder
                ? (spec, $"the address {asked} belongs to job {holder}")
                : (spec, null);
        }
        return _router.FreeAddress(_node.Config.ServiceNetwork!) is { } free
            ? (spec with { Service = spec.Service with { Address = free } }, null)
            : (spec, $"no free address left for job {jobId} in this node's share of {_node.Config.ServiceNetwork!.First}–{_node.Config.ServiceNetwork.Last}");
    }

    /// <summary>To the job's actor when this node owns it, else where the router says (the sender kept, so the answer goes straight back).</summary>
    private void Route(IJobCommand command, int hops)
    {
        var owned = command.JobId is not null ? _owned.GetValueOrDefault(command.JobId) : null;
        var actor = command.JobId is not null ? _jobs.GetValueOrDefault(command.JobId) : null;
        switch (_router.Decide(command, owned, actor is not null, hops))
        {
            case Routing.Route.ToJob toJob:
                actor!.Forward(toJob.Command);
                break;
            case Routing.Route.ToOwner toOwner:
                Context.ActorSelection(_node.Config.SupervisorPath(toOwner.Owner)).Tell(new RoutedJobCommand(command, hops + 1), Sender);
                break;
            case Routing.Route.Answer answer:
                Sender.Tell(answer.Reply);
                break;
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
        var jobs = _owned.Values.Where(JobRouter.IsActive).Select(s => s.JobId).Where(_jobs.ContainsKey).ToDictionary(id => id, id => _jobs[id]);
        var peers = _router.Peers();
        if (jobs.Count > 0 && peers.Count == 0)
        {
            // Whoever asked hears the refusal and reports it; here it is a fact, not a warning.
            _log.Info("asked to drain, but no other host is up to take {0} container(s); staying up", jobs.Count);
            Sender.Tell(new DrainRefused(_node.Name, "no other host is up to take its containers; staying up", [], [.. jobs.Keys]));
            return;
        }
        _log.Info(jobs.Count == 0 ? "draining: nothing to move" : $"draining: moving {jobs.Count} container(s) to {string.Join(", ", peers)}");
        _drainer = Context.ActorOf(NodeDrainer.Props(jobs, peers, JobDirectory.Load(_router.Directory), Sender, _node.Name,
            _node.Config.Transfer.MigrationLimit), "drainer");
    }

    private void OnDrained(NodeDrainer.Finished finished)
    {
        _drainer = null;
        if (finished.Stuck.Length > 0)
        {
            _log.Info("drain incomplete, staying up: {0} container(s) could not move ({1})", finished.Stuck.Length, string.Join(", ", finished.Stuck));
            return;
        }
        _log.Info("drained: every container moved; leaving the cluster");
        CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }

    /// <summary>What only the supervisor knows against an incoming transfer; the rest is checked by <see cref="IncomingTransfers"/>.</summary>
    private string? AdmissionProblem(BeginTransfer begin) => begin switch
    {
        _ when _drainer is not null => $"{_node.Name} is draining",
        _ when begin.JobId is not null && _owned.ContainsKey(begin.JobId) => $"job {begin.JobId} already runs on {_node.Name}",
        _ => null,
    };

    /// <summary>A source's pre-flight question: checked like a transfer's admission, then against this host's podman.</summary>
    private void AnswerRestoreCheck(CheckRestore check)
    {
        if ((NewJobIdProblem(check.JobId) ?? JobSpecRules.Problem(check.Spec, _node.Config.ServiceNetwork)) is { } invalid)
        {
            Sender.Tell(new RestoreCheck(check.JobId ?? "", _node.Name, [invalid]));
            return;
        }
        var admission = _drainer is not null ? $"{_node.Name} is draining"
            : _owned.ContainsKey(check.JobId) ? $"job {check.JobId} already runs on {_node.Name}"
            : null;
        var holder = check.Spec.Service.Address is { } address ? _router.AddressHolder(address) : null;
        Preflight.AnswerAsync(check, _node, admission, holder == check.JobId ? null : holder, _stopping.Token).PipeTo(Sender,
            failure: e => new RestoreCheck(check.JobId, _node.Name, [$"the check itself failed: {e.Message}"]));
    }

    private static string? NewJobIdProblem(string? jobId) =>
        Names.IsValidJobId(jobId) ? null : $"invalid job id '{jobId}': {Names.JobIdRule}";

    /// <summary>
    /// Node messages only from the cluster's nodes: a sender at an address config.ini names, or this
    /// node itself. A client's certificate opens the client protocol, not transfers, checks or routing.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is INodeMessage && !_node.Config.IsNodeAddress(Sender.Path.Address))
        {
            _log.Warning("refused {0} from {1}: not a node of this cluster", message.GetType().Name, Sender.Path.Address);
            object? refusal = message switch
            {
                BeginTransfer b => new TransferRefused(b.TransferId ?? "", "only the cluster's nodes may begin a transfer"),
                CheckRestore c => new RestoreCheck(c.JobId ?? "", _node.Name, ["only the cluster's nodes may ask"]),
                FetchImage f => new ImageFetched(f.Image ?? "", 0, 0, "only the cluster's nodes may ask"),
                _ => null,
            };
            if (refusal is not null)
            {
                Sender.Tell(refusal);
            }
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        base.PostStop();
    }

    private void Adopt(IncomingTransfers.AdoptJob adopt)
    {
        StartJobActor(adopt.Record, adopt.Waiting, JobStart.Adopt);
        // Owned before the source hears of it, so the client's next query, or the source's question, finds it here.
        adopt.Source.Tell(new RestoreConfirmed(adopt.TransferId, adopt.Record.JobId, _node.Name, adopt.RestoreMs), Self);
    }

    /// <summary>Written locally and gossiped: every node learns within a second or so; this one at once.</summary>
    private void Publish(string jobId, JobLocation location)
    {
        _router.Set(jobId, location);
        _replicator.Tell(Dsl.Update(JobDirectory.Key, LWWDictionary<string, JobLocation>.Empty, WriteLocal.Instance,
            map => map.SetItem(_cluster, jobId, location)));
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
            _node.Metrics.Jobs(_owned.Values);
            Publish(record.JobId, new JobLocation(_node.Name, !record.Settled, record.Spec.Service.Address));
        }
    }
}
