using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Ownership;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// Drains a node: live-migrates its running jobs one after another, each to the peer that runs
/// fewest containers counting the ones this drain has already placed, then tells whoever asked and
/// its parent (the supervisor, which leaves the cluster only if nothing is left behind).
/// </summary>
public sealed class NodeDrainer : ReceiveActor, IWithTimers
{
    private readonly Queue<(string JobId, IActorRef Actor)> _queue;
    private readonly IReadOnlyList<string> _peers;
    private readonly Dictionary<string, int> _load;
    private readonly IActorRef _requester;
    private readonly string _node;
    private readonly TimeSpan _perJob;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<DrainedJob> _moved = [];
    private readonly List<string> _stuck = [];
    private readonly List<string> _reasons = [];
    private string? _current;

    public NodeDrainer(IReadOnlyDictionary<string, IActorRef> jobs, IReadOnlyList<string> peers, IReadOnlyDictionary<string, int> load,
        IActorRef requester, string node, TimeSpan perJob)
    {
        _queue = new Queue<(string, IActorRef)>(jobs.OrderBy(j => j.Key, StringComparer.Ordinal).Select(j => (j.Key, j.Value)));
        _peers = peers;
        _load = peers.ToDictionary(p => p, p => load.GetValueOrDefault(p));
        _requester = requester;
        _node = node;
        _perJob = perJob;

        Receive<MigrationProgress>(_ => { });
        Receive<MigrationSucceeded>(m => m.JobId == _current, m => Next(moved: new DrainedJob(m.JobId, m.To)));
        Receive<MigrationFailed>(f => f.JobId == _current, f => Next(reason: $"{f.JobId}: {f.Reason}"));
        Receive<CommandRejected>(r => r.JobId == _current, r => Next(reason: $"{r.JobId}: {r.Reason}"));
        // It finished, or moved, between the drain's start and its turn: nothing left to move.
        Receive<JobMoved>(m => m.JobId == _current, m => Next(moved: new DrainedJob(m.JobId, m.Owner)));
        Receive<JobTimedOut>(t => t.JobId == _current, t => Next(reason: $"{t.JobId}: no answer within {_perJob.TotalSeconds:0} s"));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IReadOnlyDictionary<string, IActorRef> jobs, IReadOnlyList<string> peers, IReadOnlyDictionary<string, int> load,
        IActorRef requester, string node, TimeSpan perJob) =>
        Akka.Actor.Props.Create(() => new NodeDrainer(jobs, peers, load, requester, node, perJob));

    /// <summary>To the parent: the drain is over; <paramref name="Stuck"/> is empty when every job moved.</summary>
    public sealed record Finished(DrainedJob[] Moved, string[] Stuck);

    protected override void PreStart() => Next();

    private void Next(DrainedJob? moved = null, string? reason = null)
    {
        if (moved is not null)
        {
            _moved.Add(moved);
        }
        if (reason is not null)
        {
            _stuck.Add(_current!);
            _reasons.Add(reason);
        }
        if (!_queue.TryDequeue(out var job))
        {
            Finish();
            return;
        }
        _current = job.JobId;
        var target = JobDirectory.LeastLoaded(_peers, _load)!;
        _load[target]++;
        _log.Info("draining {0}: moving job {1} to {2}", _node, job.JobId, target);
        job.Actor.Tell(new MigrateJob(job.JobId, target));
        Timers.StartSingleTimer(nameof(JobTimedOut), new JobTimedOut(job.JobId), _perJob);
    }

    private void Finish()
    {
        Timers.CancelAll();
        Context.Parent.Tell(new Finished([.. _moved], [.. _stuck]));
        _requester.Tell(_stuck.Count == 0
            ? new NodeDrained(_node, [.. _moved])
            : new DrainRefused(_node, $"{_stuck.Count} container(s) could not move, so {_node} stays up: {string.Join("; ", _reasons)}", [.. _moved], [.. _stuck]));
        Context.Stop(Self);
    }

    private sealed record JobTimedOut(string JobId);
}
