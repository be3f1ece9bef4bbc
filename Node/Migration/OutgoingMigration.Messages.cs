using Akka.Actor;
using AkkaMigration.Node.Journal;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>Why an <see cref="OutgoingMigration"/> is made, and the one outcome it answers its parent, the job's actor, with.</summary>
public sealed partial class OutgoingMigration
{
    /// <summary>Why the actor is made.</summary>
    public abstract record Start;

    /// <summary>Checkpoint the running container and move it to the pending migration's target.</summary>
    /// <param name="Pid">The container's process, whose memory estimates the archive's size; 0 when unknown.</param>
    public sealed record Move(PendingMigration Pending, IActorRef Requester, JobHandoff Handoff, int Pid) : Start;

    /// <summary>The node restarted, or lost the target's answer, with the whole archive sent: ask the target first.</summary>
    public sealed record Resolve(PendingMigration Pending, string Reason) : Start;

    /// <summary>A checkpoint outlived the node process that asked for it: resume the job here (from the pending migration's archive, if any).</summary>
    public sealed record RollBack(PendingMigration? Pending, string Reason) : Start;

    /// <summary>The one answer to the job's actor.</summary>
    public interface IOutcome;

    /// <summary>
    /// The target owns the job now and the archive is deleted. The job actor removes the local
    /// container, and only then tells <paramref name="Requester"/> of <paramref name="Success"/>
    /// (null after a restart: nobody asked this process).
    /// </summary>
    public sealed record Moved(string Owner, IActorRef Requester, MigrationSucceeded? Success) : IOutcome;

    /// <summary>The job runs here again; <paramref name="Restored"/> when it had to be restored (its loopback needs bringing up).</summary>
    public sealed record ResumedHere(bool Restored) : IOutcome;

    /// <summary>The move failed and the job could not be resumed here either.</summary>
    public sealed record Lost(string Reason) : IOutcome;
}
