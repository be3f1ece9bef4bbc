using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Migration;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Jobs;

/// <summary>
/// A job's container as its actor acts on it without changing state: podman calls whose answers go
/// straight to whoever asked, and clean-ups that nobody waits for, warned about when they fail.
/// Every call takes the actor's <paramref name="stopping"/> token.
/// </summary>
public sealed class JobContainer(string jobId, JobSpec spec, NodeContext node, IActorRefFactory actors, ILoggingAdapter log, CancellationToken stopping)
{
    public string Name { get; } = ContainerNames.For(jobId);

    /// <summary>Whether the job could move now (<see cref="Preflight"/>): nothing is frozen, the container runs on.</summary>
    public void AnswerMoveCheck(MigrateJob check, IActorRef requester, int pid)
    {
        var target = actors.ActorSelection(node.Config.SupervisorPath(node.Config.GetHost(check.TargetNode!)));
        Preflight.RunAsync(check, requester, Name, spec, ArchiveEstimate.Bytes(pid, node.Config.Transfer), node, target, stopping).PipeTo(requester,
            success: d => new MigrationCheck(jobId, node.Name, check.TargetNode!, d.Problems),
            failure: e => new CommandRejected(jobId, JobFailure.PreflightFailed, $"the pre-flight check failed: {e.Message}"));
    }

    /// <summary>podman stop; the job's watch then sees the container exit and settles the job with its exit code.</summary>
    public void Stop(IActorRef requester) =>
        node.Runtime.StopAsync(Name, stopping).PipeTo(requester,
            success: () => new JobStopped(jobId, node.Name),
            failure: e => new CommandRejected(jobId, JobFailure.ContainerCommandFailed, $"could not stop job {jobId}: {e.Message}"));

    public void SendLogs(int tail, IActorRef requester) =>
        node.Runtime.LogsAsync(Name, Math.Clamp(tail, 1, 10_000), stopping).PipeTo(requester,
            success: lines => new JobLogs(jobId, node.Name, [.. lines]),
            failure: e => new CommandRejected(jobId, JobFailure.ContainerCommandFailed, $"could not read the logs of job {jobId}: {e.Message}"));

    /// <summary>After a restore, and off its path: the job runs, and answers, while this happens.</summary>
    public void EnableLoopback() =>
        StatefulActor.WarnOnFailure(node.Runtime.EnableLoopbackAsync(Name, stopping), log, $"job {jobId} runs, but its loopback is still down");

    /// <summary>Once the job has ended: what it left is in its record. podman's own rm is idempotent.</summary>
    public void Remove() =>
        StatefulActor.WarnOnFailure(node.Runtime.RemoveAsync(Name, stopping), log, $"job {jobId}: could not remove its container");

    /// <summary>Once the job has moved: its volumes too, whose data went with the archive; a move back would fail on volumes left here.</summary>
    public void RemoveWithVolumes() =>
        StatefulActor.WarnOnFailure(RemoveWithVolumesAsync(), log, $"job {jobId}: could not remove its container and volumes after the move");

    private async Task RemoveWithVolumesAsync()
    {
        await node.Runtime.RemoveAsync(Name, stopping);
        await node.Runtime.RemoveVolumesAsync(spec, stopping);
    }
}
