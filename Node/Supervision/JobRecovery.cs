using Akka.Event;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Runtime;

namespace AkkaMigration.Node.Supervision;

/// <summary>What a starting node carries on with: its job records, read back, and what it does about those it cannot read.</summary>
public static class JobRecovery
{
    /// <summary>
    /// The readable records. The container of a job whose record is unreadable is stopped (without
    /// its record nobody supervises it) and kept for a human; leftover archives no record needs are deleted.
    /// </summary>
    public static IReadOnlyList<JobRecord> Load(NodeContext node, ILoggingAdapter log, CancellationToken stopping)
    {
        // A record is this node's own writing, but its spec reaches podman's arguments: checked as any spec entering the node.
        var (records, unreadable) = node.Journal.Load(r => JobSpecRules.Problem(r.Spec, node.Config.ServiceNetwork));
        foreach (var problem in unreadable)
        {
            log.Error("the job record {0} could not be read ({1}); moved aside{2}", problem.QuarantinedAt, problem.Reason,
                problem.JobId is null ? "" : $", and the job's container {ContainerNames.For(problem.JobId)} is stopped and kept");
            if (problem.JobId is { } jobId)
            {
                node.Runtime.StopAsync(ContainerNames.For(jobId), stopping).ContinueWith(t =>
                {
                    if (t.IsFaulted)
                    {
                        log.Error("stopping the container of unreadable job {0} failed: {1}", jobId, t.Exception!.GetBaseException().Message);
                    }
                }, TaskScheduler.Default);
            }
        }
        node.Archives.DeleteLeftoversExcept(records
            .Where(r => r.Pending is not null)
            .Select(r => node.Archives.PathFor(r.JobId, r.Pending!.TransferId))
            .ToHashSet());
        return records;
    }
}
