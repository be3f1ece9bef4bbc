using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Placement;
using AkkaMigration.Node.Routing;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// The supervisor's part in taking its host down: the drain (one <see cref="NodeDrainer"/> at a
/// time, then leaving the cluster) and the cordon, and from both whether the node takes new jobs
/// now. Used on the supervisor's thread only.
/// </summary>
public sealed class NodeMaintenance(NodeContext node, JobRouter router, LocalJobs jobs, IActorContext context, ILoggingAdapter log, IActorRef statusFeed)
{
    private const string NoTargets = "no other host is up and uncordoned to take its containers";

    private readonly NodeCordon _cordon = new(node.Self.StateDirectory, node.Name, context.System);
    private IActorRef? _drainer;

    public bool IsCordoned => _cordon.IsCordoned;

    /// <summary>Tells the other nodes whether this one is cordoned, as read from disk at start.</summary>
    public void PublishCordon() => _cordon.Publish();

    /// <summary>Why this node takes no new job or incoming migration now, or null.</summary>
    public string? TakesNoJobs() =>
        _drainer is not null ? $"{node.Name} is draining: its containers are moving to other hosts"
        : _cordon.IsCordoned ? $"{node.Name} is cordoned: it takes no new containers (uncordon {node.Name} to let it)"
        : null;

    /// <summary>Moves every container that runs here to peers, then leaves the cluster; stays up if one cannot move.</summary>
    public void Drain(DrainNode drain, IActorRef requester)
    {
        if (_drainer is not null)
        {
            requester.Tell(new DrainRefused(node.Name, DrainFailure.AlreadyDraining, $"{node.Name} is already draining", [], []));
            return;
        }
        var running = jobs.Running();
        var peers = router.Targets();
        if (running.Count > 0 && peers.Count == 0)
        {
            // Whoever asked hears the refusal and reports it; here it is a fact, not a warning.
            log.Info("asked to drain, but no other host is up and uncordoned to take {0} container(s); staying up", running.Count);
            requester.Tell(new DrainRefused(node.Name, DrainFailure.NoTargets, $"{NoTargets}; staying up", [], [.. running.Keys]));
            return;
        }
        log.Info(running.Count == 0 ? "draining: nothing to move" : $"draining: moving {running.Count} container(s) to {string.Join(", ", peers)}");
        _drainer = context.ActorOf(NodeDrainer.Props(running, peers, JobDirectory.Load(router.Directory), requester, drain.Progress ? requester : ActorRefs.Nobody, node.Name,
            node.Config.Transfer.MigrationLimit), "drainer");
    }

    /// <summary>drain --dry-run: where each container would go now, chosen as a drain chooses; nothing moves.</summary>
    public DrainPlan PlanDrain()
    {
        var running = jobs.Running().Keys;
        var peers = router.Targets();
        return running.Count > 0 && peers.Count == 0
            ? new DrainPlan(node.Name, [], NoTargets)
            : new DrainPlan(node.Name, NodeDrainer.Plan(running, peers, JobDirectory.Load(router.Directory)), null);
    }

    public void Drained(NodeDrainer.Finished finished)
    {
        _drainer = null;
        if (finished.Stuck.Length > 0)
        {
            log.Info("drain incomplete, staying up: {0} container(s) could not move ({1})", finished.Stuck.Length, string.Join(", ", finished.Stuck));
            return;
        }
        log.Info("drained: every container moved; leaving the cluster");
        CoordinatedShutdown.Get(context.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
    }

    /// <returns>The answer for whoever asked.</returns>
    public object Cordon(CordonNode cordon)
    {
        try
        {
            _cordon.Set(cordon.Cordoned);
        }
        catch (IOException e)
        {
            return new CommandRejected("", JobFailure.RecordNotWritten, $"could not write the cordon to {node.Self.StateDirectory}: {e.Message}");
        }
        log.Info(cordon.Cordoned ? "cordoned: taking no new containers; the running ones stay" : "uncordoned: taking new containers again");
        statusFeed.Tell(StatusFeed.Changed.Instance);
        return new NodeCordoned(node.Name, cordon.Cordoned);
    }
}
