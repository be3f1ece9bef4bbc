using Akka.Actor;
using AkkaMigration.Node.Failover;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Routing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// How the supervisor takes a new job (<see cref="RunJob"/>): its id and spec checked, config.ini's
/// protection defaults applied, a service's address allocated, a protected job only while the host
/// holds its lease (<see cref="LeaseCheck"/>), and the record on disk before the job is accepted.
/// Used on the supervisor's thread only.
/// </summary>
public sealed class NewJobs(NodeContext node, JobRouter router, LocalJobs jobs, NodeMaintenance maintenance, ActorSystem system, CancellationToken stopping)
{
    /// <summary>To the supervisor: the lease checked for a protected job (<paramref name="Problem"/> null: it may start).</summary>
    public sealed record LeaseChecked(RunJob Run, IActorRef Requester, string? Problem);

    /// <param name="supervisor">Where the lease check's answer goes, as <see cref="LeaseChecked"/>.</param>
    public void Take(RunJob run, IActorRef requester, IActorRef supervisor)
    {
        if (run.Spec is null || JobSpecRules.WithProtectionDefaults(run.Spec, node.Config.Ha).Protection is not { IsOn: true })
        {
            Run(run, requester);
            return;
        }
        LeaseCheck.ProblemAsync(node.Self, node.Config, system, stopping)
            .PipeTo(supervisor, success: problem => new LeaseChecked(run, requester, problem), failure: e => new LeaseChecked(run, requester, e.Message));
    }

    public void Checked(LeaseChecked check)
    {
        if (check.Problem is not null)
        {
            check.Requester.Tell(new CommandRejected(check.Run.JobId ?? "", JobFailure.HostNotLeased, $"job {check.Run.JobId} was not started: {check.Problem}"));
            return;
        }
        Run(check.Run, check.Requester);
    }

    private void Run(RunJob run, IActorRef requester)
    {
        var spec = JobSpecRules.WithProtectionDefaults(run.Spec, node.Config.Ha);
        var problem = NewJobProblem(run.JobId) ?? (JobSpecRules.Problem(spec, node.Config.ServiceNetwork, node.Config.Hosts.Count) is { } invalid
            ? (JobFailure.InvalidSpec, invalid) : null);
        if (problem is null && spec.Service.Network == JobNetwork.Cluster)
        {
            (spec, problem) = router.WithAddress(run.JobId, spec, node.Config.ServiceNetwork!);
        }
        if (problem is var (code, reason))
        {
            requester.Tell(new CommandRejected(run.JobId ?? "", code, reason));
            return;
        }
        var job = new JobRecord(run.JobId, spec, 0, DateTimeOffset.UtcNow, JobPhase.Starting);
        // Acknowledged only once on disk: a node restarted from here on starts the job, or finds its container.
        if (node.Journal.TrySave(job) is { } failure)
        {
            requester.Tell(new CommandRejected(run.JobId, JobFailure.RecordNotWritten, $"job {run.JobId} was not started: {node.Name} could not write its record ({failure})"));
            return;
        }
        jobs.Start(job, [], JobStart.Run);
        requester.Tell(new JobAccepted(run.JobId, node.Name, spec.Service.Address));
    }

    /// <summary>Why a new job may not take this id here, or null.</summary>
    private (JobFailure Code, string Reason)? NewJobProblem(string jobId) => jobId switch
    {
        _ when !Names.IsValidJobId(jobId) => (JobFailure.InvalidJobId, $"invalid job id '{jobId}': {Names.JobIdRule}"),
        _ when maintenance.TakesNoJobs() is { } why => (JobFailure.NodeTakesNoJobs, $"{why}; run it elsewhere (--on another host)"),
        _ when jobs.Owned(jobId) is not null => (JobFailure.JobExists, $"job {jobId} already exists on {node.Name}"),
        _ when jobs.Actor(jobId) is not null => (JobFailure.JobExists, $"job {jobId} ran here before and moved away; pick a new id"),
        _ when router.Directory.TryGetValue(jobId, out var where) && where.Node != node.Name => (JobFailure.JobExists, $"job {jobId} already exists on {where.Node}"),
        _ => null,
    };
}
