using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Routing;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// Drains a node: live-migrates its running jobs one after another, each to the peer that runs
/// fewest containers counting the ones this drain has already placed, then tells whoever asked and
/// its parent (the supervisor, which leaves the cluster only if nothing is left behind). A job whose
/// move failed is looked at again: one that finished meanwhile has nothing left to move, one still
/// running is tried once more.
/// </summary>
public sealed class NodeDrainer : ReceiveActor, IWithTimers
{
    private readonly Queue<(string JobId, IActorRef Actor)> _queue;
    private readonly IReadOnlyList<string> _peers;
    private readonly Dictionary<string, int> _load;
    private readonly IActorRef _requester;
    private readonly IActorRef _progressTo;
    private readonly string _node;
    private readonly TimeSpan _perJob;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<DrainedJob> _moved = [];
    private readonly List<string> _stuck = [];
    private readonly List<string> _reasons = [];
    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(1);
    private const int Attempts = 2;
    private (string JobId, IActorRef Actor) _current;
    private int _attempt;
    private string? _lastFailure;

    /// <param name="progressTo">Who hears each move's steps (<see cref="DrainNode.Progress"/>): the requester, or <see cref="ActorRefs.Nobody"/>.</param>
    public NodeDrainer(IReadOnlyDictionary<string, IActorRef> jobs, IReadOnlyList<string> peers, IReadOnlyDictionary<string, int> load,
        IActorRef requester, IActorRef progressTo, string node, TimeSpan perJob)
    {
        _queue = new Queue<(string, IActorRef)>(jobs.OrderBy(j => j.Key, StringComparer.Ordinal).Select(j => (j.Key, j.Value)));
        _peers = peers;
        _load = peers.ToDictionary(p => p, p => load.GetValueOrDefault(p));
        _requester = requester;
        _progressTo = progressTo;
        _node = node;
        _perJob = perJob;

        // A big container on a slow link takes long, but says so: the bound counts from its last step.
        Receive<MigrationProgress>(p => p.JobId == _current.JobId, p =>
        {
            ArmTimeout();
            _progressTo.Tell(p);
        });
        Receive<MigrationProgress>(_ => { });
        Receive<MigrationSucceeded>(m => m.JobId == _current.JobId, m =>
        {
            _load[m.To] = _load.GetValueOrDefault(m.To) + 1;
            Next(moved: new DrainedJob(m.JobId, m.To));
        });
        Receive<MigrationFailed>(f => f.JobId == _current.JobId, f => LookAgain(f.Reason));
        Receive<CommandRejected>(r => r.JobId == _current.JobId, r => LookAgain(r.Reason));
        // It moved between the drain's start and its turn.
        Receive<JobMoved>(m => m.JobId == _current.JobId, m => Next(moved: new DrainedJob(m.JobId, m.Owner)));
        Receive<JobTimedOut>(t => t.JobId == _current.JobId, t => Next(reason: $"{t.JobId}: no answer and no progress for {_perJob.TotalSeconds:0} s"));
        Receive<AskAgain>(_ => _current.Actor.Tell(new QueryJob(_current.JobId)));
        Receive<JobStatus>(s => s.JobId == _current.JobId, s =>
        {
            if (s.Phase is JobPhase.Completed or JobPhase.Failed)
            {
                // It ended on its own (the container exited just as the checkpoint began): nothing to move.
                _log.Info("draining {0}: job {1} finished before it could move", _node, s.JobId);
                Next();
            }
            else if (_attempt < Attempts)
            {
                Migrate();
            }
            else
            {
                Next(reason: $"{s.JobId}: {_lastFailure}");
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IReadOnlyDictionary<string, IActorRef> jobs, IReadOnlyList<string> peers, IReadOnlyDictionary<string, int> load,
        IActorRef requester, IActorRef progressTo, string node, TimeSpan perJob) =>
        Akka.Actor.Props.Create(() => new NodeDrainer(jobs, peers, load, requester, progressTo, node, perJob));

    /// <summary>
    /// Where a drain would move each job now (drain --dry-run): the same order and choice as the
    /// drainer's, each job placed counted, as though every move succeeded.
    /// </summary>
    public static DrainedJob[] Plan(IEnumerable<string> jobIds, IReadOnlyList<string> peers, IReadOnlyDictionary<string, int> load)
    {
        var counted = peers.ToDictionary(p => p, p => load.GetValueOrDefault(p));
        return [.. jobIds.Order(StringComparer.Ordinal).Select(id =>
        {
            var to = JobDirectory.LeastLoaded(peers, counted)!;
            counted[to]++;
            return new DrainedJob(id, to);
        })];
    }

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
            _stuck.Add(_current.JobId);
            _reasons.Add(reason);
        }
        if (!_queue.TryDequeue(out var job))
        {
            Finish();
            return;
        }
        _current = job;
        _attempt = 0;
        Migrate();
    }

    private void Migrate()
    {
        _attempt++;
        var target = JobDirectory.LeastLoaded(_peers, _load)!;
        _log.Info("draining {0}: moving job {1} to {2}", _node, _current.JobId, target);
        _current.Actor.Tell(new MigrateJob(_current.JobId, target));
        ArmTimeout();
    }

    /// <summary>After a failed move, asks the job how it is once it has had a moment to settle.</summary>
    private void LookAgain(string reason)
    {
        _lastFailure = reason;
        ArmTimeout();
        Timers.StartSingleTimer(nameof(AskAgain), AskAgain.Instance, SettleDelay);
    }

    private void ArmTimeout() => Timers.StartSingleTimer(nameof(JobTimedOut), new JobTimedOut(_current.JobId), _perJob);

    private void Finish()
    {
        Timers.CancelAll();
        Context.Parent.Tell(new Finished([.. _moved], [.. _stuck]));
        _requester.Tell(_stuck.Count == 0
            ? new NodeDrained(_node, [.. _moved])
            : new DrainRefused(_node, DrainFailure.ContainersStuck, $"{_stuck.Count} container(s) could not move, so {_node} stays up: {string.Join("; ", _reasons)}", [.. _moved], [.. _stuck]));
        Context.Stop(Self);
    }

    private sealed record JobTimedOut(string JobId);
    private sealed record AskAgain
    {
        public static readonly AskAgain Instance = new();
    }
}
