using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaMigration.Node.HostLoss;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Placement;
using AkkaMigration.Node.Failover;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// One per node, at /user/container-supervisor: the parent of the host's job actors (one per job,
/// kept as a redirect once the job moves away) and of <see cref="IncomingTransfers"/>. It takes new
/// jobs, sends requests where its <see cref="JobRouter"/> says, keeps the replicated directory up to
/// date with the jobs it owns, drains and cordons the node (<see cref="NodeMaintenance"/>) and forgets
/// finished jobs on request (and those older than config.ini's keep_finished). On start it carries
/// on from the job records on disk.
/// </summary>
public sealed class ContainerSupervisor : ReceiveActor
{
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly JobRouter _router;
    private readonly LocalJobs _jobs;
    private readonly NodeMaintenance _maintenance;
    private readonly NewJobs _newJobs;
    private readonly IActorRef _statusFeed;
    private readonly CancellationTokenSource _stopping = new();
    private IActorRef _incoming = ActorRefs.Nobody;
    private IActorRef _hostLoss = ActorRefs.Nobody;
    private IActorRef _replicas = ActorRefs.Nobody;

    public ContainerSupervisor(NodeContext node)
    {
        _node = node;
        _router = new JobRouter(node.Self, node.Config, _cluster);
        _statusFeed = Context.ActorOf(StatusFeed.Props(), "status-feed");
        _jobs = new LocalJobs(node, _router, Context, _log, _statusFeed);
        _maintenance = new NodeMaintenance(node, _router, _jobs, Context, _log, _statusFeed);
        _newJobs = new NewJobs(node, _router, _jobs, _maintenance, Context.System, _stopping.Token);

        Receive<RunJob>(r => _newJobs.Take(r, Sender, Self));
        Receive<NewJobs.LeaseChecked>(_newJobs.Checked);
        Receive<RoutedJobCommand>(r => Route(r.Command, r.Hops));
        Receive<IJobCommand>(c => Route(c, 0));
        Receive<DrainNode>(d => !PassedOn(d.Node, d, reason => new DrainRefused(d.Node ?? "", DrainFailure.UnknownHost, reason, [], [])), d => _maintenance.Drain(d, Sender));
        Receive<PlanDrain>(d => !PassedOn(d.Node, d, reason => new DrainPlan(d.Node ?? "", [], reason)), _ => Sender.Tell(_maintenance.PlanDrain()));
        Receive<NodeDrainer.Finished>(_maintenance.Drained);
        Receive<CordonNode>(c => !PassedOn(c.Node, c, reason => new CommandRejected("", JobFailure.UnknownHost, reason)), c => Sender.Tell(_maintenance.Cordon(c)));
        Receive<PruneJobs>(_ => Sender.Tell(new JobsPruned(_node.Name, _jobs.Prune(DateTimeOffset.MaxValue))));
        Receive<FinishedJobsPruner.PruneFinishedBefore>(p => Sender.Tell(new JobsPruned(_node.Name, _jobs.Prune(p.FinishedBefore))));
        Receive<JobRemover.Forget>(f =>
        {
            // Unless a prune came first (and a new job took the id since).
            if (_jobs.IsCurrent(f.JobId, f.Job))
            {
                _jobs.Forget(f.JobId);
            }
            f.Requester.Tell(new JobRemoved(f.JobId, _node.Name));
        });
        Receive<BeginTransfer>(OnBeginTransfer);
        Receive<OwnersRead>(r => Admit(r.Begin, r.Source, r.Entries ?? _router.Directory));
        Receive<OwnerConfirmation.Confirmed>(c => _incoming.Tell(new IncomingTransfers.Admit(c.Begin, c.Problem ?? AdmissionProblem(c.Begin.JobId), c.Recorded), c.Source));
        Receive<OwnsJob>(q => Names.IsValidJobId(q.JobId), q => Sender.Tell(new JobOwnership(q.JobId, _node.Name, _jobs.Owned(q.JobId) is not null)));
        Receive<TransferOutcomeQuery>(q => _incoming.Forward(new IncomingTransfers.OutcomeQuery(q, _jobs.Owned(q.JobId) is not null)));
        Receive<AbortTransfer>(a => _incoming.Forward(a));
        Receive<CheckRestore>(AnswerRestoreCheck);
        Receive<FetchImage>(f => Preflight.FetchImageAsync(f, Sender.Path.Address, _node, _stopping.Token).PipeTo(Sender));
        Receive<IncomingTransfers.AdoptJob>(Adopt);
        Receive<JobStatus>(s => _jobs.IsCurrent(s.JobId, Sender), _jobs.Reported);
        Receive<JobLeft>(l => _jobs.IsCurrent(l.JobId, Sender), _jobs.Left);
        Receive<Changed>(c => c.Key.Equals(JobDirectory.Key), c =>
        {
            _router.Learn(c.Get(JobDirectory.Key).Entries);
            _jobs.Reassert(_router.Directory);
            // A replica host that started after the loss may hear of it before the directory's entries.
            if (_router.Lost.Count > 0)
            {
                _replicas.Tell(new ReplicaKeeper.Consider(_router.Lost, _router.Directory));
            }
        });
        Receive<Changed>(c => c.Key.Equals(NodeCordon.Key), c => _router.LearnCordons(c.Get(NodeCordon.Key).Entries));
        Receive<HostLossWatch.LostHostsProven>(p =>
        {
            _router.LearnLostHosts(p.Hosts);
            if (p.Hosts.ContainsKey(_node.Name))
            {
                _jobs.GiveUpProtected();
            }
            _replicas.Tell(new ReplicaKeeper.Consider(p.Hosts, _router.Directory));
        });
        Receive<ReplicaKeeper.Resumed>(r => _jobs.Start(r.Record, [], JobStart.Adopt));
        Receive<DropReplica>(d => _replicas.Forward(d));
        Receive<ProtectionRound.ChooseReplicaHosts>(c => Sender.Tell(new ProtectionRound.ReplicaHostsChosen(_router.ReplicaHosts(c.Count, c.Current))));
        Receive<DeclareNodeLost>(d => _hostLoss.Forward(d));
        Receive<IUpdateResponse>(_ => { });
        Receive<WatchNode>(w => _statusFeed.Forward(w));
        Receive<GetNodeStatus>(_ => Sender.Tell(new NodeStatus(_node.Name, _jobs.OwnedJobs(), _router.ReachableUpMembers(), _maintenance.IsCordoned)));
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
        _replicator.Tell(Dsl.Subscribe(NodeCordon.Key, Self));
        _maintenance.PublishCordon();
        _node.Metrics.Attach(_cluster, Self);
        var records = JobRecovery.Load(_node, _log, _stopping.Token);
        foreach (var record in records)
        {
            _jobs.Start(record, [], JobStart.Recover);
        }
        if (records.Count > 0)
        {
            _log.Info("carrying on with {0} job(s) from {1}", records.Count, _node.Journal.Folder);
        }
        var ownedHere = records.Where(r => r is { MovedTo: null, Pending: null }).Select(r => r.JobId).ToHashSet();
        _incoming = Context.ActorOf(IncomingTransfers.Props(_node, ownedHere), IncomingTransfers.Name);
        Context.ActorOf(MembershipGuard.Props(_node.Config), "membership-guard");
        _replicas = Context.ActorOf(ReplicaKeeper.Props(_node), "replicas");
        _hostLoss = Context.ActorOf(HostLossWatch.Props(_node.Self, _node.Config, _node.Seals), "host-loss");
        if (_node.Config.Jobs.KeepFinished is { } keep)
        {
            Context.ActorOf(FinishedJobsPruner.Props(keep), "pruner");
        }
    }

    /// <summary>To the job's actor when this node owns it, else where the router says (the sender kept, so the answer goes straight back).</summary>
    private void Route(IJobCommand command, int hops)
    {
        var owned = _jobs.Owned(command.JobId);
        var actor = _jobs.Actor(command.JobId);
        switch (_router.Decide(command, owned, actor is not null, hops))
        {
            case Routing.Route.ToJob { Command: RemoveJob remove }:
                Context.ActorOf(JobRemover.Props(remove, actor!, Sender));
                break;
            case Routing.Route.ToJob toJob:
                actor!.Forward(toJob.Command);
                break;
            case Routing.Route.ToOwner toOwner:
                PassOn(new RoutedJobCommand(command, hops + 1), command.GetType().Name, toOwner.Owner);
                break;
            case Routing.Route.Answer answer:
                Sender.Tell(answer.Reply);
                break;
        }
    }

    /// <summary>
    /// A request meant for another node is passed on to it, the client kept as its sender; one for an
    /// unknown host is answered with <paramref name="refusal"/>. False when it is meant for this node.
    /// </summary>
    private bool PassedOn(string? node, object request, Func<string, object> refusal)
    {
        if (node == _node.Name)
        {
            return false;
        }
        if (node is not null && _node.Config.FindHost(node) is { } host)
        {
            PassOn(request, request.GetType().Name, host);
        }
        else
        {
            Sender.Tell(refusal($"unknown host '{node}'"));
        }
        return true;
    }

    /// <summary>Through a stand-in that tells the requester if <paramref name="host"/> drops out before it answers.</summary>
    private void PassOn(object request, string what, HostEntry host) =>
        Context.ActorOf(PassedOnRequest.Props(request, what, host, _node.Config.SupervisorPath(host), Sender));

    /// <summary>
    /// What only the supervisor knows against taking <paramref name="jobId"/> in, asked by the
    /// pre-flight and again by the transfer; the rest is checked by <see cref="IncomingTransfers"/>.
    /// </summary>
    private string? AdmissionProblem(string jobId) =>
        _maintenance.TakesNoJobs() ?? (_jobs.Owned(jobId) is not null ? $"job {jobId} already runs on {_node.Name}" : null);

    /// <summary>
    /// A transfer is taken only from the job's owner (<see cref="OwnerConfirmation"/>). A directory
    /// that does not name the source (yet) is read again from a majority of the members first: a job
    /// started a moment ago may be moved before gossip brings its entry here.
    /// </summary>
    private void OnBeginTransfer(BeginTransfer begin)
    {
        var source = Sender;
        if (AdmissionProblem(begin.JobId) is not null || OwnerConfirmation.DirectoryProblem(begin, source, _router.Directory, _node.Config) is null)
        {
            Admit(begin, source, _router.Directory);
            return;
        }
        _replicator.Ask<IGetResponse>(Dsl.Get(JobDirectory.Key, new ReadMajority(OwnerReadLimit)), OwnerReadLimit * 2)
            .PipeTo(Self, success: r => new OwnersRead(begin, source, r is GetSuccess got ? got.Get(JobDirectory.Key).Entries : null),
                failure: _ => new OwnersRead(begin, source, null));
    }

    private static readonly TimeSpan OwnerReadLimit = TimeSpan.FromSeconds(3);

    /// <remarks>A peer's transfer carries the job's entry along: the handoff it ends with must agree with it.</remarks>
    private void Admit(BeginTransfer begin, IActorRef source, IReadOnlyDictionary<string, JobLocation> owners)
    {
        var problem = AdmissionProblem(begin.JobId) ?? OwnerConfirmation.DirectoryProblem(begin, source, owners, _node.Config);
        var recorded = source.Path.Address.HasGlobalScope ? owners.GetValueOrDefault(begin.JobId ?? "") : null;
        var others = _router.ReachableUpMembers().Where(h => h != _node.Name && h != begin.SourceNode).ToList();
        if (problem is null && recorded is not null && others.Count > 0)
        {
            Context.ActorOf(OwnerConfirmation.Props(begin, source, recorded, others, _node.Config));
            return;
        }
        _incoming.Tell(new IncomingTransfers.Admit(begin, problem, recorded), source);
    }

    /// <param name="Entries">The directory as a majority of the members have it; null if they did not answer.</param>
    private sealed record OwnersRead(BeginTransfer Begin, IActorRef Source, IReadOnlyDictionary<string, JobLocation>? Entries);

    /// <summary>A source's pre-flight question: checked like a transfer's admission, then against this host's podman.</summary>
    private void AnswerRestoreCheck(CheckRestore check)
    {
        if ((NewJobIdProblem(check.JobId) ?? JobSpecRules.Problem(check.Spec, _node.Config.ServiceNetwork)) is { } invalid)
        {
            Sender.Tell(new RestoreCheck(check.JobId ?? "", _node.Name, [invalid]));
            return;
        }
        var holder = check.Spec.Service.Address is { } address ? _router.AddressHolder(address) : null;
        Preflight.AnswerAsync(check, _node, AdmissionProblem(check.JobId), holder == check.JobId ? null : holder, _stopping.Token).PipeTo(Sender,
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
            if (NodeMessages.RefusalToStranger(message, _node.Name) is { } refusal)
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
        _jobs.Start(adopt.Record, adopt.Waiting, JobStart.Adopt);
        // Owned before the source hears of it, so the client's next query, or the source's question, finds it here.
        adopt.Source.Tell(new RestoreConfirmed(adopt.TransferId, adopt.Record.JobId, _node.Name, adopt.RestoreMs), Self);
    }
}
