namespace AkkaMigration.Shared.Protocol;

// What an operator asks of jobs and nodes beyond running and moving them: inspect, rm, prune,
// cordon and a drain's dry run. Collections are arrays, as in JobProtocol.cs.

/// <summary>One move of a job, as <c>inspect</c> shows it; a job keeps its last <c>MoveHistory.Kept</c> moves.</summary>
/// <param name="At">When the target had restored it (the target's clock).</param>
/// <param name="CheckpointTakenAt">
/// A failover: <paramref name="To"/> resumed the job from the protection checkpoint taken then, after
/// <paramref name="From"/> was lost. Null for a planned move.
/// </param>
public sealed record MoveRecord(string From, string To, DateTimeOffset At, long CheckpointMs, long TransferMs, long RestoreMs,
    DateTimeOffset? CheckpointTakenAt = null);

/// <summary>A job's status and its history of moves; answered with <see cref="JobDetails"/>.</summary>
public sealed record InspectJob(string JobId) : IJobCommand;

public sealed record JobDetails(JobStatus Status, MoveRecord[] Moves);

/// <summary>
/// Forget a finished job's record. A running job is refused, unless <paramref name="Force"/>: its
/// container is stopped first, then its record forgotten.
/// </summary>
public sealed record RemoveJob(string JobId, bool Force = false) : IJobCommand;

public sealed record JobRemoved(string JobId, string Node);

/// <summary>Sent to any node: forget every finished (completed or failed) job it owns.</summary>
public sealed record PruneJobs : IClientRequest;

public sealed record JobsPruned(string Node, string[] JobIds);

/// <summary>
/// Sent to any node, which passes it to <paramref name="Node"/>: while cordoned, that node takes no
/// new job and is no migration's or drain's target; its running jobs stay. It survives a restart.
/// </summary>
public sealed record CordonNode(string Node, bool Cordoned) : IClientRequest;

public sealed record NodeCordoned(string Node, bool Cordoned);

/// <summary>
/// `node lost NODE`: the operator says the host is gone. The node that hears it asks its own fencing
/// agent to gather the voters' promises never to renew NODE's lease again; only then is NODE lost.
/// A host that is up and reachable is never declared lost.
/// </summary>
public sealed record DeclareNodeLost(string Node) : IClientRequest;

/// <param name="Promisers">The voters whose promises prove it (hosts, or the witness).</param>
public sealed record NodeDeclaredLost(string Node, DateTimeOffset At, string[] Promisers, bool ByOperator);

/// <summary>Sent to any node, which passes it to <paramref name="Node"/>: where a drain would move each container now; nothing moves.</summary>
public sealed record PlanDrain(string Node) : IClientRequest;

/// <param name="Problem">Why the drain would be refused (no peer to take the containers), or null.</param>
public sealed record DrainPlan(string Node, DrainedJob[] Moves, string? Problem);

/// <summary>
/// Cancel a job's migration under way. Before the container is frozen it stops at once; while the
/// checkpoint is written the job resumes here once it is; after that the move runs to its end.
/// </summary>
public sealed record CancelJob(string JobId) : IMigrationCommand;

/// <summary>A command about a job's migration under way: the job's actor passes it to the migration, or refuses it when there is none.</summary>
public interface IMigrationCommand : IJobCommand;

/// <summary>
/// Settle a job whose move is in doubt: the whole checkpoint went to the target, whose answer never
/// came back, and the target has stayed silent since. While the target answers it settles the move
/// itself, and this is refused: only the operator can know that a silent host is gone for good.
/// </summary>
public sealed record ResolveJob(string JobId, ResolveChoice Choice) : IMigrationCommand;

public enum ResolveChoice
{
    /// <summary>The target never ran the job (it is gone, or was wiped): resume it here from its checkpoint.</summary>
    ResumeHere,

    /// <summary>Give the job up here: it ends as failed, its archive deleted, its stopped container kept until rm; if the target restored it, it runs there.</summary>
    Abandon,
}

/// <param name="Outcome">What became of the job.</param>
public sealed record JobResolved(string JobId, string Node, string Outcome);

/// <param name="Outcome">What becomes of the job, e.g. that it runs on where it was.</param>
public sealed record MigrationCancelled(string JobId, string Node, string Outcome);
