using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Routing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// Whether a peer may move a job here. The job directory must name the source as the owner
/// (<see cref="DirectoryProblem"/>), but any member may write the directory: so for one transfer the
/// directory agrees on, this actor also asks every other reachable host whether it runs the job
/// (<see cref="OwnsJob"/>), and tells its parent (the supervisor) <see cref="Confirmed"/>, refused if
/// one says it does, and stops.
/// <code>
/// state    on                                             next
/// Asking   a host runs the job                            Confirmed, refused; stops
///          every host answered it does not / Limit        Confirmed; stops
/// </code>
/// A host silent for <see cref="Limit"/> is logged and passed over: a reachable owner answers within
/// it, and a move must not wait on a host that merely answers slowly.
/// </summary>
public sealed class OwnerConfirmation : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    /// <param name="Problem">Why the transfer is refused, or null.</param>
    public sealed record Confirmed(BeginTransfer Begin, IActorRef Source, JobLocation Recorded, string? Problem);

    private sealed record TimedOut;

    private readonly BeginTransfer _begin;
    private readonly IActorRef _source;
    private readonly JobLocation _recorded;
    private readonly IReadOnlyCollection<string> _hosts;
    private readonly MigrationConfig _config;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="hosts">The reachable hosts other than this one and the source.</param>
    public static Props Props(BeginTransfer begin, IActorRef source, JobLocation recorded, IReadOnlyCollection<string> hosts, MigrationConfig config) =>
        Akka.Actor.Props.Create(() => new OwnerConfirmation(begin, source, recorded, hosts, config));

    public OwnerConfirmation(BeginTransfer begin, IActorRef source, JobLocation recorded, IReadOnlyCollection<string> hosts, MigrationConfig config)
    {
        _begin = begin;
        _source = source;
        _recorded = recorded;
        _hosts = hosts;
        _config = config;
        Asking([.. hosts]);
    }

    protected override void PreStart()
    {
        foreach (var host in _hosts)
        {
            Context.ActorSelection(_config.SupervisorPath(_config.GetHost(host))).Tell(new OwnsJob(_begin.JobId), Self);
        }
        Timers.StartSingleTimer(nameof(TimedOut), new TimedOut(), Limit);
    }

    private void Asking(HashSet<string> waiting)
    {
        // A host vouches only for itself: an answer counts only from the address config.ini gives the host it names.
        Receive<JobOwnership>(o => o.JobId == _begin.JobId && waiting.Contains(o.Node) && SpeaksFrom(o.Node, Sender.Path.Address), o =>
        {
            waiting.Remove(o.Node);
            if (o.Owns)
            {
                Finish($"job {_begin.JobId} runs on {o.Node}, which says so itself: only its owner may move it, whatever the directory says");
            }
            else if (waiting.Count == 0)
            {
                Finish(null);
            }
        });
        Receive<TimedOut>(_ =>
        {
            _log.Warning("transfer {0}: {1} did not say within {2} s whether it runs job {3}; admitted on the others' word",
                _begin.TransferId, string.Join(", ", waiting), Limit.TotalSeconds, _begin.JobId);
            Finish(null);
        });
    }

    private bool SpeaksFrom(string host, Address address) => _config.HostAt(address)?.Name == host;

    private void Finish(string? problem)
    {
        Context.Parent.Tell(new Confirmed(_begin, _source, _recorded, problem));
        Context.Stop(Self);
    }

    /// <summary>
    /// Why <paramref name="source"/> may not move <paramref name="begin"/>'s job here by the directory
    /// <paramref name="owners"/>, or null: the sender must speak from the address config.ini gives the
    /// host it names as source, the directory must name that host as the owner, and the job's address
    /// must be no other job's.
    /// </summary>
    public static string? DirectoryProblem(BeginTransfer begin, IActorRef source, IReadOnlyDictionary<string, JobLocation> owners, MigrationConfig config)
    {
        if (!source.Path.Address.HasGlobalScope)
        {
            return null; // This node's own process: a node never moves a job to itself, and a spec's probe is no peer.
        }
        if (config.FindHost(begin.SourceNode) is not { } host || host.Address != source.Path.Address.Host || host.Port != source.Path.Address.Port)
        {
            return $"the transfer names {begin.SourceNode} as its source, but {source.Path.Address} sent it";
        }
        var owner = owners.TryGetValue(begin.JobId ?? "", out var where) ? where.Node : null;
        if (owner != begin.SourceNode)
        {
            return $"job {begin.JobId} is {(owner is null ? "not known to the cluster" : $"owned by {owner}")}, not by {begin.SourceNode}";
        }
        return where!.Address is { } address && owners.FirstOrDefault(e => e.Key != begin.JobId && e.Value.Active && e.Value.Address == address).Key is { } holder
            ? $"job {begin.JobId}'s address {address} is job {holder}'s"
            : null;
    }
}
