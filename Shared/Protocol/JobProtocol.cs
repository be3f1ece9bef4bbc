namespace AkkaMigration.Shared.Protocol;

// Collections in these records are arrays: the JSON serializer names a value's concrete type,
// and a collection expression typed as an interface would name a compiler-made type.

/// <summary>
/// What a client may ask a node, over the node's client channel; nothing else is read from a client.
/// Every answer is a record of this namespace.
/// </summary>
public interface IClientRequest;

/// <summary>A request about one job; a node routes it to the actor that owns the job.</summary>
public interface IJobCommand : IClientRequest
{
    string JobId { get; }
}

/// <summary>Run <paramref name="Spec"/> as a managed container named after <paramref name="JobId"/>; it can then be migrated.</summary>
public sealed record RunJob(string JobId, JobSpec Spec) : IJobCommand;

/// <param name="Address">A service's address on the cluster network, which its clients use wherever it runs.</param>
public sealed record JobAccepted(string JobId, string Node, string? Address = null);

/// <summary>Move a running job's container to <paramref name="TargetNode"/>, or, when null, to the least-loaded peer.</summary>
/// <param name="CheckOnly">Only say whether it could move (answered with <see cref="MigrationCheck"/>); nothing is frozen.</param>
public sealed record MigrateJob(string JobId, string? TargetNode = null, bool CheckOnly = false) : IJobCommand;

/// <summary>Stop a running job's container (podman stop: SIGTERM, then SIGKILL after 10 s); the job then ends with its exit code.</summary>
public sealed record StopJob(string JobId) : IJobCommand;

/// <summary>The container has stopped; the job's status says how it ended.</summary>
public sealed record JobStopped(string JobId, string Node);

/// <summary>Whether a job could move from <paramref name="From"/> to <paramref name="To"/> now: it can when <paramref name="Problems"/> is empty.</summary>
public sealed record MigrationCheck(string JobId, string From, string To, string[] Problems);

public enum MigrationStep
{
    Checkpoint,
    Transfer,
    Restore,
}

/// <summary>
/// Sent to whoever asked for a migration, before the final answer, as each step begins and as the
/// archive goes out. <paramref name="ExpectedBytes"/> is the size the source announced (its processes'
/// memory and changed files) while the archive is still being written, its size once it is whole.
/// </summary>
/// <param name="Checkpointed">
/// podman's checkpoint has ended and the archive is whole. The transfer begins while podman still
/// writes it, so the checkpoint and the transfer run side by side until then.
/// </param>
public sealed record MigrationProgress(string JobId, MigrationStep Step, long Bytes, long ExpectedBytes, bool Checkpointed = false);

public sealed record MigrationSucceeded(string JobId, string From, string To, MigrationTimings Timings);

/// <summary>Where the time of one migration went, in milliseconds.</summary>
/// <param name="CheckpointMs">podman's checkpoint: the freeze, CRIU's dump and the archive's export.</param>
/// <param name="TransferMs">
/// What the transfer added after the checkpoint: the archive streams while podman writes it, so
/// most of it overlaps <paramref name="CheckpointMs"/>.
/// </param>
/// <param name="TotalMs">From the request until the target confirmed the restore; the container is frozen for nearly all of it.</param>
/// <param name="StreamMs">From the first chunk sent until the last was acknowledged: ArchiveBytes over this is the wire rate.</param>
/// <param name="Dump">CRIU's own figures of the dump inside <paramref name="CheckpointMs"/>; null when podman printed none.</param>
public sealed record MigrationTimings(long CheckpointMs, long TransferMs, long RestoreMs, long ArchiveBytes, long TotalMs, long StreamMs = 0,
    DumpTimings? Dump = null)
{
    /// <summary>
    /// How long the container was frozen: from the checkpoint's start until the restore's end, those
    /// three phases back to back (an upper bound: podman starts before CRIU freezes). Derived, so the
    /// wire carries nothing new; 0 when the target's figures were lost (<see cref="RestoreMs"/> 0).
    /// </summary>
    public long FrozenMs => RestoreMs == 0 ? 0 : CheckpointMs + TransferMs + RestoreMs;
}

/// <summary>
/// Where the checkpoint's time went, from podman's and CRIU's own statistics (podman checkpoint
/// --print-stats), in milliseconds: what the node's clock alone cannot split.
/// </summary>
/// <param name="FreezingMs">CRIU freezing the container's processes (the cgroup freezer).</param>
/// <param name="FrozenMs">The processes frozen while CRIU dumped them; they stay stopped after it, until the restore.</param>
/// <param name="MemdumpMs">Of <paramref name="FrozenMs"/>, reading the memory pages.</param>
/// <param name="MemwriteMs">Writing the pages out.</param>
/// <param name="RuntimeMs">The OCI runtime's checkpoint (runc, around CRIU); the rest of CheckpointMs is podman exporting the archive.</param>
public sealed record DumpTimings(long FreezingMs, long FrozenMs, long MemdumpMs, long MemwriteMs, long PagesWritten, long RuntimeMs);

/// <summary>Ask for a job's state; with <paramref name="WaitForResult"/> the answer comes once it has finished.</summary>
public sealed record QueryJob(string JobId, bool WaitForResult = false) : IJobCommand;

public enum JobPhase
{
    Starting,
    Running,
    Migrating,
    Completed,
    Failed,
}

/// <param name="ExitCode">How a container whose result is its exit code ended, once it has.</param>
/// <param name="FinishedAt">When it completed or failed; pruning counts the age of a finished job from here.</param>
public sealed record JobStatus(
    string JobId,
    string Owner,
    JobPhase Phase,
    JobSpec Spec,
    JobResult? Result,
    string? Error,
    int Migrations,
    DateTimeOffset SubmittedAt,
    int? ExitCode = null,
    DateTimeOffset? FinishedAt = null)
{
    // Every answer about a job (query, ps, inspect, watch) is a JobStatus: its environment's values,
    // often secrets, stay on the node, however the status is made, copied or read from the wire.
    private readonly JobSpec _spec = Spec?.WithEnvironmentNamesOnly()!;

    /// <summary>The job's spec, its <see cref="JobSpec.Environment"/> holding the variables' names only.</summary>
    public JobSpec Spec
    {
        get => _spec;
        init => _spec = value?.WithEnvironmentNamesOnly()!;
    }

    /// <summary>The job's last complete protection checkpoint while it runs protected here; null when unprotected or none is complete yet.</summary>
    public ProtectionCheckpoint? LastProtection { get; init; }
}

/// <summary>A protection checkpoint kept whole by its replica hosts (those that took it).</summary>
/// <param name="TakenAt">When the checkpoint began (the owner's clock): a failover to it loses the work done since.</param>
/// <param name="PauseMs">How long the container was frozen for it.</param>
/// <param name="Hosts">The hosts keeping it, in the order they would take the job over.</param>
public sealed record ProtectionCheckpoint(DateTimeOffset TakenAt, long Bytes, long PauseMs, string[] Hosts);

/// <summary>The worker's answer and the checksum of the memory it held, with the node that produced it.</summary>
public sealed record JobResult(long Value, string Checksum, bool MemoryIntact, string ProducedBy);

/// <summary>This node handed the job to <paramref name="Owner"/>: ask there.</summary>
public sealed record JobMoved(string JobId, string Owner);

public sealed record UnknownJob(string JobId, string Node);

/// <summary>The request was refused; nothing changed.</summary>
/// <param name="Code">What refused it, for scripts and tests; <paramref name="Reason"/> says it to a person. A refusal with several causes names them all in its text, under the first one's code.</param>
public sealed record CommandRejected(string JobId, JobFailure Code, string Reason);

/// <summary>A migration was tried and failed; the job went on where it was.</summary>
/// <param name="Code">What ended it; <paramref name="Reason"/> tells the whole story (a later cause, such as the target holding nothing, is added to its text).</param>
public sealed record MigrationFailed(string JobId, MigrationFailure Code, string Reason, string StillOn);

/// <summary>The last <paramref name="Tail"/> lines a managed container printed (kept after it ends).</summary>
public sealed record GetLogs(string JobId, int Tail = 20) : IJobCommand;

/// <param name="Ended">The job has ended: these lines are the last it will ever have.</param>
public sealed record JobLogs(string JobId, string Node, LogLine[] Lines, bool Ended = false);

/// <summary>One line a container printed.</summary>
/// <param name="At">
/// The second podman logged it, when known (not in lines an older node kept of an ended job): a
/// follower tells a line repeated word for word from the one it already printed by it.
/// </param>
public sealed record LogLine(string Text, DateTimeOffset? At = null);

/// <summary>
/// Sent to <paramref name="Node"/> itself: move every running container to peers, then leave the
/// cluster and exit. A node that cannot place every container stays up and says why.
/// </summary>
/// <param name="Progress">Whoever asked hears each move's steps (<see cref="MigrationProgress"/>) before the answer, and can wait from the last of them.</param>
public sealed record DrainNode(string Node, bool Progress = false) : IClientRequest;

public sealed record DrainedJob(string JobId, string To);

/// <summary>Every container moved; the node leaves the cluster now.</summary>
public sealed record NodeDrained(string Node, DrainedJob[] Moved);

/// <summary>Some containers could not move; the node stays up with them (the others did move).</summary>
/// <param name="Code">Why; for <see cref="DrainFailure.ContainersStuck"/>, <paramref name="Reason"/> gives each stuck container's own cause.</param>
public sealed record DrainRefused(string Node, DrainFailure Code, string Reason, DrainedJob[] Moved, string[] Stuck);

public sealed record GetNodeStatus : IClientRequest;

/// <summary>
/// A long poll for <c>watch</c>: answered with the node's <see cref="NodeStatus"/> as soon as its
/// <see cref="NodeStatus.Version"/> differs from <paramref name="Seen"/> (at once when it already
/// does), else after at most <c>StatusFeed.HoldLimit</c> with the same version, to be asked again.
/// Only ever an answer to the client's own request: the node never dials a client.
/// </summary>
/// <param name="Seen">The version of the last status the client has shown; empty for none.</param>
public sealed record WatchNode(string Seen) : IClientRequest;

/// <param name="UpMembers">The hosts this node sees as up members of the cluster and can reach.</param>
/// <param name="Cordoned">The node takes no new job and no incoming migration (<see cref="CordonNode"/>).</param>
/// <param name="Version">Changes whenever anything above does (a <see cref="WatchNode"/> answer); empty otherwise.</param>
public sealed record NodeStatus(string Node, JobStatus[] Jobs, string[] UpMembers, bool Cordoned = false, string Version = "");

/// <summary>
/// From the node a client asked, which passed the request on: the node meant to answer went out of
/// the cluster's reach first. Whether it acted on the request is unknown; <paramref name="Reason"/> says what to do.
/// </summary>
public sealed record NodeLost(string Node, string Reason);
