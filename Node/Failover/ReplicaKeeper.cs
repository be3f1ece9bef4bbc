using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Failover;

/// <summary>
/// Looks after the replicas this host keeps (<see cref="ReplicaStore"/>), a child of the supervisor:
/// drops one on its owner's word, and resumes a job from its replica once the owner's host is proven
/// lost (<see cref="HostLoss.HostLossWatch"/>: a majority of voters promised never to renew its lease,
/// so its fence has killed its copy). Of the job's replica hosts, the first one not lost resumes it:
/// every host computes the same, so no two resume one job.
/// <code>
/// state   on                                          next
/// Active  DropReplica from the replica's source       Active (dropped)
///         hosts proven lost: a replica of theirs,     Active (a restore under way per job; the
///         still theirs in the directory, this host    supervisor adopts the job when it ends)
///         first among its replica hosts not lost
/// </code>
/// </summary>
public sealed class ReplicaKeeper : StatefulActor
{
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<string> _resuming = [];
    /// <summary>Jobs another replica host resumes, each logged once: the directory's every change asks again.</summary>
    private readonly HashSet<string> _leftToOthers = [];

    public ReplicaKeeper(NodeContext node)
    {
        _node = node;
        Receive<DropReplica>(Drop);
        Receive<Consider>(c => ResumeLostJobs(c.Lost, c.Directory));
        Receive<Resumed>(r =>
        {
            _resuming.Remove(r.Record.JobId);
            _node.Replicas.Release(r.Record.JobId);
            Context.Parent.Tell(r);
        });
        Receive<ResumeFailed>(f =>
        {
            _resuming.Remove(f.JobId);
            _node.Replicas.Release(f.JobId);
            _log.Error("job {0} could not be resumed from its replica: {1}", f.JobId, f.Reason);
        });
    }

    public static Props Props(NodeContext node) => Akka.Actor.Props.Create(() => new ReplicaKeeper(node));

    /// <summary>From the supervisor: the hosts proven lost and when, and the job directory as it knows it.</summary>
    public sealed record Consider(IReadOnlyDictionary<string, DateTimeOffset> Lost, IReadOnlyDictionary<string, JobLocation> Directory);

    /// <summary>To the supervisor: the job runs here from its replica, and its record says so; adopt it.</summary>
    public sealed record Resumed(JobRecord Record, string LostHost);

    private void Drop(DropReplica drop)
    {
        if (!Names.IsValidJobId(drop.JobId) || _node.Replicas.Find(drop.JobId) is not { } replica)
        {
            return;
        }
        // Only the owner that sent the replica may have it dropped: one that moved the job away sends its own.
        if (_node.Config.HostAt(Sender.Path.Address)?.Name != replica.Source)
        {
            _log.Warning("refused to drop the replica of job {0}: {1} asked, and {2} sent it", drop.JobId, Sender.Path.Address, replica.Source);
            return;
        }
        _node.Replicas.Drop(drop.JobId);
        _log.Info("dropped the replica of job {0}: {1} no longer needs it", drop.JobId, replica.Source);
    }

    private void ResumeLostJobs(IReadOnlyDictionary<string, DateTimeOffset> lost, IReadOnlyDictionary<string, JobLocation> directory)
    {
        foreach (var replica in _node.Replicas.All())
        {
            var jobId = replica.Job.JobId;
            if (!lost.TryGetValue(replica.Source, out var lostAt) || _resuming.Contains(jobId))
            {
                continue;
            }
            // Moved on, or ended, before its owner was lost: this replica is of no use any more.
            if (directory.GetValueOrDefault(jobId) is not { Active: true } entry || entry.Node != replica.Source)
            {
                continue;
            }
            var first = replica.ReplicaHosts.FirstOrDefault(h => !lost.ContainsKey(h));
            if (first != _node.Name)
            {
                if (_leftToOthers.Add(jobId))
                {
                    _log.Info("job {0} was lost with {1}; {2} resumes it from its replica", jobId, replica.Source, first ?? "no replica host left");
                }
                continue;
            }
            if (!_node.Replicas.Hold(jobId))
            {
                continue;
            }
            _resuming.Add(jobId);
            _log.Warning("job {0} was lost with {1} at {2:HH:mm:ss}; resuming it here from the checkpoint taken {3:HH:mm:ss.f}",
                jobId, replica.Source, lostAt, replica.TakenAt);
            ResumeAsync(replica).PipeTo(Self, success: r => r, failure: e => new ResumeFailed(jobId, e.Message));
        }
    }

    /// <summary>Restored as a migration's target restores; marked first, so a node restarted mid-way removes what it left.</summary>
    private async Task<Resumed> ResumeAsync(Replica replica)
    {
        var job = replica.Job;
        var container = ContainerNames.For(job.JobId);
        _node.Journal.MarkRestoring(job.JobId, replica.Archive);
        try
        {
            var stats = await _node.Runtime.RestoreAsync(container, job.Spec, _node.Replicas.ArchivePath(replica), Stopping);
            var record = job with
            {
                Phase = JobPhase.Running,
                Migrations = job.Migrations + 1,
                Moves = [.. (job.Moves ?? []).TakeLast(MoveHistory.Kept - 1),
                    new MoveRecord(replica.Source, _node.Name, DateTimeOffset.UtcNow, 0, 0, stats.DurationMs, replica.TakenAt)],
            };
            _node.Journal.Save(record);
            _node.Journal.ClearRestoring(job.JobId);
            _node.Replicas.Drop(job.JobId);
            _node.Metrics.FailedOver(stats.DurationMs);
            return new Resumed(record, replica.Source);
        }
        catch
        {
            // Not the actor's token: a half-restored copy must go even when the node stops.
            await _node.Runtime.RemoveAsync(container, CancellationToken.None);
            _node.Journal.ClearRestoring(job.JobId);
            throw;
        }
    }

    private sealed record ResumeFailed(string JobId, string Reason);
}
