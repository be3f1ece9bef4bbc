using Akka.Actor;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// What a node knows of one job, kept on disk so that a restarted node picks up where it was:
/// the work to do, how far it got, and whether the job finished, moved away, or was in the
/// middle of moving (<see cref="Pending"/>) when the node last wrote it.
/// </summary>
/// <param name="Output">
/// The last lines its container printed before it ended (null in records written before every job
/// kept them; without times in records written before lines had one: <see cref="LogLineJson"/>).
/// </param>
/// <param name="FinishedAt">When it completed or failed (null in records written before this was kept).</param>
/// <param name="Moves">Its last moves, the newest last (see <see cref="MoveHistory"/>); they travel with the job.</param>
public sealed record JobRecord(
    string JobId,
    JobSpec Spec,
    int Migrations,
    DateTimeOffset SubmittedAt,
    JobPhase Phase,
    JobResult? Result = null,
    string? Error = null,
    string? MovedTo = null,
    PendingMigration? Pending = null,
    int? ExitCode = null,
    LogLine[]? Output = null,
    DateTimeOffset? FinishedAt = null,
    MoveRecord[]? Moves = null)
{
    public static JobRecord From(JobHandoff job, JobPhase phase) =>
        new(job.JobId, job.Spec, job.Migrations, job.SubmittedAt, phase, Moves: job.Moves);

    public JobHandoff ToHandoff(IActorRef[] waiting) => new(JobId, Spec, waiting, Migrations, SubmittedAt, Moves);

    public bool Settled => Phase is JobPhase.Completed or JobPhase.Failed;

    /// <summary>What a client is told about the job, owned by <paramref name="owner"/>.</summary>
    public JobStatus Status(string owner) => new(JobId, owner, Phase, Spec, Result, Error, Migrations, SubmittedAt, ExitCode, FinishedAt);
}

/// <summary>A migration that had begun: until <see cref="Target"/> says whether it restored the job, the job may run nowhere else.</summary>
public sealed record PendingMigration(string TransferId, string Target);
