using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Migration;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// One per node, at /user/container-supervisor: owns the host's jobs (a child actor each), routes
/// requests to them, admits incoming transfers and says what became of them. On start it carries
/// on from the job records on disk. Everything from a message is checked here before it can reach
/// podman's arguments or a file path.
/// </summary>
public sealed partial class ContainerSupervisor : ReceiveActor, IWithStash
{
    private const int MaxIncomingTransfers = 16;

    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _jobs = [];
    private readonly Dictionary<string, JobStatus> _owned = [];
    private readonly Dictionary<string, string> _incomingJobs = [];
    private int _generation;

    public ContainerSupervisor(NodeContext node)
    {
        _node = node;
        Recovering();
    }

    public IStash Stash { get; set; } = null!;

    protected override void PreStart()
    {
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
        Receive<IJobCommand>(RouteToJob);
        Receive<AbortTransfer>(a => Context.Child($"incoming-{a.TransferId}").Forward(a));
        Receive<AdoptJob>(Adopt);
        Receive<JobStatus>(s => IsCurrent(s.JobId), s => _owned[s.JobId] = s);
        Receive<JobLeft>(l => IsCurrent(l.JobId), l => { _owned.Remove(l.JobId); });
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

    private void Submit(SubmitJob submit)
    {
        var limits = _node.Config.Container;
        var problem = submit switch
        {
            _ when !Names.IsValidJobId(submit.JobId) => $"invalid job id '{submit.JobId}': {Names.JobIdRule}",
            _ when _owned.ContainsKey(submit.JobId) || _incomingJobs.ContainsValue(submit.JobId) => $"job {submit.JobId} already exists on {_node.Name}",
            _ when _jobs.ContainsKey(submit.JobId) => $"job {submit.JobId} ran here before and moved away; pick a new id",
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
        var ticks = Math.Max(1, work / 100);
        var state = submit.StateMb ?? limits.StateMb;
        var job = new JobRecord(submit.JobId, submit.Number, work, state, 0, ticks, 0, DateTimeOffset.UtcNow, JobPhase.Starting,
            limits.Image, WorkerOutput.Arguments(submit.Number, work, state));
        StartJobActor(job, [], JobStart.Run);
        Sender.Tell(new JobAccepted(submit.JobId, _node.Name));
    }

    private void RouteToJob(IJobCommand command)
    {
        if (_jobs.TryGetValue(command.JobId, out var job))
        {
            job.Forward(command);
        }
        else
        {
            Sender.Tell(new UnknownJob(command.JobId, _node.Name));
        }
    }

    private void Admit(BeginTransfer begin)
    {
        var problem = begin switch
        {
            _ when !Names.IsValidJobId(begin.JobId) => $"invalid job id '{begin.JobId}'",
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
}
