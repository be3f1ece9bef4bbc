using Akka.Actor;

namespace AkkaMigration.Shared.Protocol;

/// <summary>Sent only by a cluster node: a node refuses one from any other sender, a client's included.</summary>
public interface INodeMessage;

/// <summary>Node-to-node messages that move one checkpoint archive; all carry the transfer they belong to.</summary>
public interface ITransferMessage : INodeMessage
{
    string TransferId { get; }
}

/// <summary>
/// Before anything is frozen, the source asks the target whether it could restore the job: what
/// the archive will need (image, volumes, address, OCI runtime, CPU features) against what it has.
/// </summary>
/// <param name="CpuFlags">The source CPU's features (/proc/cpuinfo): a restored process may use any of them.</param>
/// <param name="ExpectedBytes">The archive's size as the source estimates it (the target needs room for it); required, at least 1.</param>
public sealed record CheckRestore(string JobId, JobSpec Spec, string SourceNode, string Runtime, string[] CpuFlags, long ExpectedBytes) : INodeMessage;

/// <summary>The target's answer: it can restore the job when <paramref name="Problems"/> is empty.</summary>
/// <param name="ImageMissing">The target lacks the job's image: not a problem, the source ships it first (<see cref="FetchImage"/>).</param>
public sealed record RestoreCheck(string JobId, string Node, string[] Problems, bool ImageMissing = false);

/// <summary>
/// To a target that lacks <paramref name="Image"/>: fetch it from <paramref name="FromNode"/>'s archive
/// stream and load it. No registry is needed. Only <paramref name="FromNode"/> itself may ask, and the
/// target keeps the image only if its id is <paramref name="ImageId"/>.
/// </summary>
/// <param name="ImageId">The image's id on the source (podman's, 64 hex digits); a request without one is refused.</param>
public sealed record FetchImage(string Image, string FromNode, string? ImageId = null) : INodeMessage;

/// <summary>The image is loaded (<paramref name="Error"/> null), or why not (<paramref name="Code"/>).</summary>
public sealed record ImageFetched(string Image, long Bytes, long Milliseconds, string? Error = null, ImageFailure Code = ImageFailure.Unknown);

/// <summary>Sent by the source to the target's supervisor; answered by the receiver that will take the chunks.</summary>
/// <param name="ExpectedBytes">
/// The archive's size as the source estimates it before podman has written it; required, at least 1,
/// and binding: the target refuses more than this with the margin it checked its room for.
/// </param>
public sealed record BeginTransfer(string TransferId, string JobId, string SourceNode, int ChunkBytes, long ExpectedBytes) : ITransferMessage
{
    /// <summary>
    /// Non-null for a protection checkpoint: the target keeps the archive as a replica instead of
    /// restoring it. The hosts the owner keeps replicas on, in the order they would take the job over.
    /// </summary>
    public string[]? ReplicaHosts { get; init; }
}

public sealed record TransferAccepted(string TransferId) : ITransferMessage;

public sealed record TransferRefused(string TransferId, TransferFailure Code, string Reason) : ITransferMessage;

/// <summary>
/// Bytes <paramref name="Offset"/> onwards of the archive; chunks may arrive out of order or twice.
/// They travel only on the nodes' archive streams (docs/architecture.md), never as Akka messages.
/// </summary>
public sealed record ArchiveChunk(string TransferId, long Sequence, long Offset, byte[] Data) : ITransferMessage;

public sealed record ChunkAck(string TransferId, long Sequence) : ITransferMessage;

/// <summary>
/// The source is alive and podman is still writing the archive: a large container's dump takes
/// longer than the target's patience for a silent transfer, and podman writes no byte until it ends.
/// </summary>
public sealed record TransferAlive(string TransferId) : ITransferMessage;

/// <summary>All chunks are sent: verify, restore and take the job over.</summary>
public sealed record EndOfArchive(string TransferId, long ChunkCount, long TotalBytes, string Sha256, JobHandoff Handoff) : ITransferMessage;

/// <summary>The target has the whole archive and is verifying and restoring it; the restore timeout runs from here.</summary>
public sealed record RestoreStarted(string TransferId) : ITransferMessage;

/// <summary>The container runs on <paramref name="Node"/> now and its job actor owns it.</summary>
public sealed record RestoreConfirmed(string TransferId, string JobId, string Node, long RestoreMs) : ITransferMessage;

/// <summary>The replica host has the protection checkpoint, verified and on disk, and keeps it in place of the one before.</summary>
public sealed record ReplicaStored(string TransferId, string JobId, string Node) : ITransferMessage;

/// <summary>
/// From a job's owner to a replica host: the job ended or moved away, so the replica of it that the
/// owner sent is of no more use. A replica another host sent stays.
/// </summary>
public sealed record DropReplica(string JobId) : INodeMessage;

/// <summary>The target gave up; it has deleted what it received and runs nothing of the job.</summary>
public sealed record TransferFailed(string TransferId, TransferFailure Code, string Reason) : ITransferMessage;

/// <summary>The source gave up; the target drops what it received.</summary>
/// <param name="Code">Why the source gave up: its migration's failure.</param>
public sealed record AbortTransfer(string TransferId, MigrationFailure Code, string Reason) : ITransferMessage;

/// <summary>
/// From a source that does not know whether the target restored the job (it stopped hearing from
/// it after the whole archive was sent, or the source itself restarted): the job may run nowhere
/// else until the target answers.
/// </summary>
public sealed record TransferOutcomeQuery(string TransferId, string JobId) : ITransferMessage;

public sealed record TransferOutcome(string TransferId, string JobId, TransferState State) : ITransferMessage;

public enum TransferState
{
    /// <summary>The job runs on (or finished on) the target, which owns it now.</summary>
    Restored,

    /// <summary>The target is still receiving or restoring it: ask again.</summary>
    InProgress,

    /// <summary>The target holds nothing of the job: the source resumes it.</summary>
    Absent,
}

/// <summary>The pending-result state of a job, handed to its new owner with the archive.</summary>
/// <param name="Waiting">Who asked for the result and is still waiting for it.</param>
/// <param name="Moves">
/// The job's moves, this one last: the source fills in its checkpoint and transfer, the target its
/// restore. Null from a node that kept no history.
/// </param>
public sealed record JobHandoff(string JobId, JobSpec Spec, IActorRef[] Waiting, int Migrations, DateTimeOffset SubmittedAt, MoveRecord[]? Moves = null);

/// <summary>
/// A target admitting a transfer asks each other host whether it runs the job: the job directory is
/// replicated data any member may write, but a host vouches for what it runs itself.
/// </summary>
public sealed record OwnsJob(string JobId) : INodeMessage;

/// <param name="Owns">The job's container is this host's: running, frozen for a move, or finished here.</param>
public sealed record JobOwnership(string JobId, string Node, bool Owns) : INodeMessage;
