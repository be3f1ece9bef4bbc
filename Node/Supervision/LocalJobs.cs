using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// The supervisor's book of its job actors: every one by job id (owners, and the redirects of jobs
/// that moved away), and what the owners last reported. Each change is written to the replicated
/// directory, the metrics and the <see cref="StatusFeed"/> as it is made. Used on the supervisor's thread only.
/// </summary>
public sealed class LocalJobs(NodeContext node, JobRouter router, IActorContext context, ILoggingAdapter log, IActorRef statusFeed)
{
    private readonly IActorRef _replicator = DistributedData.Get(context.System).Replicator;
    private readonly Cluster _cluster = Cluster.Get(context.System);
    private readonly Dictionary<string, IActorRef> _actors = [];
    private readonly Dictionary<string, JobStatus> _owned = [];
    private int _generation;

    public IActorRef? Actor(string? jobId) => jobId is null ? null : _actors.GetValueOrDefault(jobId);

    public JobStatus? Owned(string? jobId) => jobId is null ? null : _owned.GetValueOrDefault(jobId);

    /// <summary>The jobs this node owns, the oldest first.</summary>
    public JobStatus[] OwnedJobs() => [.. _owned.Values.OrderBy(s => s.SubmittedAt)];

    /// <summary>The jobs whose containers run here, with their actors: what a drain moves.</summary>
    public Dictionary<string, IActorRef> Running() =>
        _owned.Values.Where(JobRouter.IsActive).Where(s => _actors.ContainsKey(s.JobId)).ToDictionary(s => s.JobId, s => _actors[s.JobId]);

    /// <summary>Whether <paramref name="sender"/> is the job's current actor, not one it replaced.</summary>
    public bool IsCurrent(string jobId, IActorRef sender) => _actors.TryGetValue(jobId, out var actor) && actor.Equals(sender);

    public void Start(JobRecord record, IActorRef[] waiting, JobStart start)
    {
        // A job coming back (A→B→A) replaces the redirect this node kept for it.
        if (_actors.Remove(record.JobId, out var previous))
        {
            context.Stop(previous);
        }
        _actors[record.JobId] = context.ActorOf(JobActor.Props(record, waiting, start, node), $"job-{record.JobId}-{++_generation}");
        // Known as owned at once, not when the new actor first reports: the answer to a source's question depends on it.
        if (record.MovedTo is null)
        {
            _owned[record.JobId] = record.Status(node.Name);
            Changed();
            Publish(record.JobId, Location(node.Name, !record.Settled, record.Spec));
        }
    }

    /// <summary>A job actor's report of its phase.</summary>
    public void Reported(JobStatus status)
    {
        if (_owned.TryGetValue(status.JobId, out var before) && JobRouter.IsActive(before) != JobRouter.IsActive(status))
        {
            Publish(status.JobId, Location(node.Name, JobRouter.IsActive(status), status.Spec));
        }
        _owned[status.JobId] = status;
        Changed();
    }

    /// <summary>The job moved away; its actor stays as a redirect.</summary>
    public void Left(JobLeft left)
    {
        _owned.Remove(left.JobId, out var status);
        Changed();
        Publish(left.JobId, status is null ? new JobLocation(left.NewOwner, true) : Location(left.NewOwner, true, status.Spec));
    }

    /// <summary>Forgets the finished jobs this node owns that ended before <paramref name="finishedBefore"/>.</summary>
    public string[] Prune(DateTimeOffset finishedBefore)
    {
        string[] finished = [.. _owned.Values
            .Where(s => !JobRouter.IsActive(s) && (s.FinishedAt ?? s.SubmittedAt) < finishedBefore && _actors.ContainsKey(s.JobId))
            .Select(s => s.JobId)];
        foreach (var jobId in finished)
        {
            Forget(jobId);
        }
        return finished;
    }

    /// <summary>A finished job, gone for good: its record, its actor, its entry in the directory, and its container.</summary>
    public void Forget(string jobId)
    {
        Drop(jobId);
        router.Remove(jobId);
        _replicator.Tell(Dsl.Update(JobDirectory.Key, LWWDictionary<string, JobLocation>.Empty, WriteLocal.Instance, map => map.Remove(_cluster, jobId)));
    }

    /// <summary>
    /// This host was declared lost: its protected jobs were resumed, or are being resumed, on their
    /// replica hosts, and the fence killed their containers here. Each is dropped without a word to
    /// the directory, whose entry is the new owner's.
    /// </summary>
    public void GiveUpProtected()
    {
        foreach (var status in _owned.Values.Where(s => s.Spec.Protection is { IsOn: true }).ToList())
        {
            log.Warning("job {0} is given up here: {1} was declared lost, so a replica host resumes it from its last protection checkpoint",
                status.JobId, node.Name);
            Drop(status.JobId);
        }
    }

    /// <summary>
    /// Puts back the entries of jobs that run here which a lost host's write displaced: a host
    /// declared lost, back with its old records, publishes their entries as it starts, until it
    /// learns it was declared lost. Only a lost host's: any other's is a move's, or a live owner's.
    /// </summary>
    public void Reassert(IReadOnlyDictionary<string, JobLocation> entries)
    {
        foreach (var status in _owned.Values.Where(s => s.Phase == JobPhase.Running && entries.TryGetValue(s.JobId, out var e)
            && e.Node != node.Name && router.IsLost(e.Node)).ToList())
        {
            log.Warning("the directory named {0} as the owner of job {1}, which runs here: put back", entries[status.JobId].Node, status.JobId);
            Publish(status.JobId, Location(node.Name, true, status.Spec));
        }
    }

    /// <summary>Its record, its actor and its container go; the directory is the caller's business.</summary>
    private void Drop(string jobId)
    {
        node.Journal.Delete(jobId);
        if (_actors.Remove(jobId, out var actor))
        {
            context.Stop(actor);
        }
        // The job's actor removes the container as the job ends, but stopping the actor cancels that call (rm -f comes right after).
        StatefulActor.WarnOnFailure(node.Runtime.RemoveAsync(ContainerNames.For(jobId), CancellationToken.None), log,
            $"job {jobId} is forgotten, but its container could not be removed");
        _owned.Remove(jobId);
        Changed();
    }

    private static JobLocation Location(string owner, bool active, JobSpec spec) =>
        new(owner, active, spec.Service.Address, spec.Protection is { IsOn: true });

    private void Changed()
    {
        node.Metrics.Jobs(_owned.Values);
        statusFeed.Tell(StatusFeed.Changed.Instance);
    }

    /// <summary>
    /// Written here at once and pushed to a majority of the members, not left to gossip: a target
    /// admits a transfer only once a majority read names the source as the job's owner, and a
    /// majority write is what such a read is sure to meet. Not awaited: a member out of reach
    /// learns by gossip later.
    /// </summary>
    private void Publish(string jobId, JobLocation location)
    {
        router.Set(jobId, location);
        _replicator.Tell(Dsl.Update(JobDirectory.Key, LWWDictionary<string, JobLocation>.Empty, PublishWrite,
            map => map.SetItem(_cluster, jobId, location)));
    }

    private static readonly WriteMajority PublishWrite = new(TimeSpan.FromSeconds(3));
}
