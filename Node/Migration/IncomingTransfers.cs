using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Observability;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// The target side of migrations on one node, a child of the supervisor (at <see cref="Name"/>):
/// admits transfers, gives each an <see cref="ArchiveReceiver"/>, hands a restored job to the
/// supervisor, and tells a source that lost track what became of its job.
/// <code>
/// state       on                                     next
/// Recovering  restores a restart interrupted removed Active (what came meanwhile is stashed)
///             removing them failed                   stays, silent: "absent" could mean two copies
/// Active      Admit → receiver; Restored → AdoptJob to the supervisor; OutcomeQuery → answer
/// </code>
/// Everything from a message is checked here before it can reach podman's arguments or a file path.
/// </summary>
public sealed class IncomingTransfers : StatefulActor, IWithStash
{
    public const string Name = "incoming";
    private const int MaxTransfers = 16;

    /// <summary>One source (a compromised host, say) cannot take every slot from the others.</summary>
    private const int MaxTransfersPerSource = MaxTransfers / 2;

    private readonly NodeContext _node;
    private readonly IReadOnlySet<string> _ownedAtStart;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IActorRef, BeginTransfer> _receiving = [];
    /// <summary>Ids of transfers admitted since the node started; those that completed are also in the journal, for good.</summary>
    private readonly HashSet<string> _admitted = [];
    private const int MaxRemembered = 100_000;

    /// <param name="ownedAtStart">Jobs the node's records say run here: their containers stay, whatever a restore left.</param>
    public IncomingTransfers(NodeContext node, IReadOnlySet<string> ownedAtStart)
    {
        _node = node;
        _ownedAtStart = ownedAtStart;
        Recovering();
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(NodeContext node, IReadOnlySet<string> ownedAtStart) =>
        Akka.Actor.Props.Create(() => new IncomingTransfers(node, ownedAtStart));

    /// <summary>From the supervisor: a source's request, with why this node cannot take the job (null if it can, as far as the supervisor knows).</summary>
    /// <param name="Recorded">The job's entry in the directory, for a peer's transfer: its handoff must agree with it.</param>
    public sealed record Admit(BeginTransfer Begin, string? Refusal, JobLocation? Recorded = null);

    /// <summary>From the supervisor: a source's question, and whether the job is this node's now.</summary>
    public sealed record OutcomeQuery(TransferOutcomeQuery Query, bool OwnedHere);

    /// <summary>From a receiver: the container runs here and its record says so.</summary>
    public sealed record Restored(JobRecord Record, IActorRef[] Waiting, IActorRef Source, long RestoreMs);

    /// <summary>From a receiver: the protection checkpoint is kept, and the source told so.</summary>
    public sealed record Kept;

    /// <summary>To the supervisor: take the job over, then confirm to the source.</summary>
    public sealed record AdoptJob(JobRecord Record, IActorRef[] Waiting, IActorRef Source, string TransferId, long RestoreMs);

    protected override void PreStart() =>
        RemoveInterruptedRestoresAsync().PipeTo(Self, success: () => new Recovered(null), failure: e => new Recovered(e.Message));

    /// <summary>
    /// A restore that was under way when the node stopped never became this node's job: its source
    /// is told "absent" and resumes the job, so the container must go before anyone is told so.
    /// </summary>
    private async Task RemoveInterruptedRestoresAsync()
    {
        foreach (var jobId in _node.Journal.Restoring())
        {
            if (!_ownedAtStart.Contains(jobId))
            {
                _log.Warning("removing the container of job {0}: its restore was interrupted", jobId);
                await _node.Runtime.RemoveAsync(ContainerNames.For(jobId), Stopping);
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
        Receive<Admit>(_ => Stash.Stash());
        Receive<OutcomeQuery>(_ => Stash.Stash());
        Receive<AbortTransfer>(Abort);
    }

    private void Active()
    {
        Receive<Admit>(OnAdmit);
        Receive<OutcomeQuery>(q =>
        {
            var query = q.Query;
            if (!Names.IsValidJobId(query.JobId))
            {
                return;
            }
            // A restore whose container could not be removed keeps its marker until a restart removes
            // it: until then the job may run here, and the source must not hear "absent".
            var state = q.OwnedHere || _node.Journal.IsCompleted(query.TransferId) ? TransferState.Restored
                : _receiving.Values.Any(b => b.JobId == query.JobId) || _node.Journal.IsRestoring(query.JobId) ? TransferState.InProgress
                : TransferState.Absent;
            Sender.Tell(new TransferOutcome(query.TransferId ?? "", query.JobId, state));
        });
        Receive<Restored>(r =>
        {
            if (!_receiving.Remove(Sender, out var begin))
            {
                return;
            }
            _node.Journal.ClearRestoring(begin.JobId);
            Context.Stop(Sender);
            // Counted before the source can hear of it, so that a scrape after the move's answer shows it.
            _node.Metrics.Ended(MigrationResult.Moved, MigrationDirection.In);
            _node.Metrics.Incoming(_receiving.Count);
            Context.Parent.Tell(new AdoptJob(r.Record, r.Waiting, r.Source, begin.TransferId, r.RestoreMs));
        });
        Receive<Kept>(_ =>
        {
            if (_receiving.Remove(Sender))
            {
                Context.Stop(Sender);
                _node.Metrics.Incoming(_receiving.Count);
            }
        });
        Receive<AbortTransfer>(Abort);
        Receive<Terminated>(t =>
        {
            // A receiver that stops before it restored has failed, whatever the reason (it logged it).
            if (_receiving.Remove(t.ActorRef))
            {
                _node.Metrics.Ended(MigrationResult.Failed, MigrationDirection.In);
                _node.Metrics.Incoming(_receiving.Count);
            }
        });
    }

    private void Abort(AbortTransfer abort) => Context.Child(ReceiverName(abort.TransferId ?? "")).Forward(abort);

    private void OnAdmit(Admit admit)
    {
        var begin = admit.Begin;
        (TransferFailure Code, string Reason)? problem = begin switch
        {
            _ when admit.Refusal is { } refusal => (TransferFailure.NotAdmitted, refusal),
            _ when !Names.IsValidJobId(begin.JobId) => (TransferFailure.InvalidTransfer, $"invalid job id '{begin.JobId}'"),
            _ when !Names.IsValidTransferId(begin.TransferId) => (TransferFailure.InvalidTransfer, "invalid transfer id"),
            _ when begin.ChunkBytes is <= 0 or > 4 * 1024 * 1024 => (TransferFailure.InvalidTransfer, $"chunk size {begin.ChunkBytes} is out of range"),
            // Its receiver's name is taken: ActorOf would throw and restart this actor.
            _ when !Context.Child(ReceiverName(begin.TransferId)).IsNobody() => (TransferFailure.AlreadyUnderWay, $"transfer {begin.TransferId} is already under way"),
            // A replayed BeginTransfer: an id is used once, so that "restored" answers one transfer only.
            _ when _admitted.Contains(begin.TransferId) || _node.Journal.IsCompleted(begin.TransferId) => (TransferFailure.TransferIdUsed, $"transfer {begin.TransferId} was already used"),
            _ when begin.ReplicaHosts is { } hosts && ReplicaHostsProblem(hosts, begin.SourceNode) is { } replicas => (TransferFailure.InvalidTransfer, replicas),
            _ when _receiving.Values.Any(b => b.JobId == begin.JobId) => (TransferFailure.AlreadyUnderWay, $"job {begin.JobId} is already being received"),
            _ when _receiving.Count >= MaxTransfers => (TransferFailure.TooManyTransfers, $"{_node.Name} already receives {MaxTransfers} transfers"),
            // The supervisor checked that SourceNode is the host that sent this.
            _ when _receiving.Values.Count(b => b.SourceNode == begin.SourceNode) >= MaxTransfersPerSource =>
                (TransferFailure.TooManyTransfers, $"{_node.Name} already receives {MaxTransfersPerSource} transfers from {begin.SourceNode}"),
            // Binding on the receiver: a source that announces nothing could otherwise fill the disk past the room checked here.
            _ when AnnouncedSize.Problem(begin.ExpectedBytes, _node.Config.Transfer) is { } size => (TransferFailure.SizeRefused, size),
            _ when SpaceProblem(_node, begin.ExpectedBytes) is { } space => (TransferFailure.NoSpace, space),
            _ => null,
        };
        if (problem is var (code, reason))
        {
            _log.Warning("refused transfer {0} from {1}: {2}", begin.TransferId, Sender.Path.Address, reason);
            Sender.Tell(new TransferRefused(begin.TransferId!, code, reason));
            return;
        }
        if (_admitted.Count >= MaxRemembered)
        {
            _admitted.Clear(); // Beyond the replay window: the completed ones stay in the journal.
        }
        _admitted.Add(begin.TransferId);
        var receiver = Context.ActorOf(ArchiveReceiver.Props(begin, Sender, _node, admit.Recorded), ReceiverName(begin.TransferId));
        Context.Watch(receiver);
        _receiving[receiver] = begin;
        _node.Metrics.Incoming(_receiving.Count);
    }

    /// <summary>A protection checkpoint's replica hosts: distinct hosts of config.ini, this one among them, its source not.</summary>
    private string? ReplicaHostsProblem(string[] hosts, string source) =>
        hosts.Length == 0 || hosts.Length >= _node.Config.Hosts.Count ? $"a protection checkpoint names {hosts.Length} replica hosts"
        : hosts.Any(h => _node.Config.FindHost(h) is null) ? "a protection checkpoint names a replica host that is not in config.ini"
        : hosts.Distinct().Count() != hosts.Length || !hosts.Contains(_node.Name) || hosts.Contains(source)
            ? $"a protection checkpoint's replica hosts must be distinct, include {_node.Name} and not its source {source}"
            : null;

    private static string ReceiverName(string transferId) => $"incoming-{transferId}";

    /// <summary>
    /// Whether the archive folder has room for an archive of about <paramref name="expectedBytes"/>
    /// (<see cref="ArchiveEstimate"/>), asked in the pre-flight and again at admission, since room can
    /// go in between: null if it has, or why not, with both figures. The size itself is checked first
    /// (<see cref="AnnouncedSize.Problem"/>), and the receiver takes no more than it.
    /// </summary>
    public static string? SpaceProblem(NodeContext node, long expectedBytes)
    {
        var needed = ArchiveEstimate.WithMargin(expectedBytes);
        long free;
        try
        {
            free = new DriveInfo(node.Archives.Folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not known here: a disk that fills up fails the transfer's writes instead.
            return null;
        }
        return free >= needed ? null
            : $"{node.Name} has {Mb(free)} MB free for archives ({node.Archives.Folder}), and this one needs about {Mb(needed)} MB " +
              $"({Mb(expectedBytes)} MB estimated, with a margin)";
    }

    private static long Mb(long bytes) => bytes / (1024 * 1024);

    private sealed record Recovered(string? Error);
}
