namespace AkkaMigration.Shared.Protocol;

// What each failure record's code means; the record's text says the same to a person. Each enum's
// first value, 0, is what a message from an older node reads as: it sent only the text. A new
// value goes at the end: the nodes' own serializer carries these as numbers.

/// <summary>Why a node refused a client's request (<see cref="CommandRejected"/>).</summary>
public enum JobFailure
{
    /// <summary>An older node's refusal, which carried no code: read its text.</summary>
    Unknown,

    /// <summary>What the client sent was not a request of this protocol.</summary>
    NotARequest,

    /// <summary>The node is still starting.</summary>
    NodeStarting,

    /// <summary>The job id breaks the naming rule.</summary>
    InvalidJobId,

    /// <summary>The container's spec breaks a rule (image name, arguments, environment, service).</summary>
    InvalidSpec,

    /// <summary>A job of that id exists, or ran on this node before.</summary>
    JobExists,

    /// <summary>The node is cordoned or draining: it takes no new job.</summary>
    NodeTakesNoJobs,

    /// <summary>The service address asked for belongs to another job.</summary>
    AddressTaken,

    /// <summary>No free service address is left in the node's share.</summary>
    NoFreeAddress,

    /// <summary>The node could not write a record to disk (is it full?); nothing changed.</summary>
    RecordNotWritten,

    /// <summary>The node that owns the job is not up.</summary>
    OwnerDown,

    /// <summary>config.ini names no such host.</summary>
    UnknownHost,

    /// <summary>No other host that is up and not cordoned can take the job.</summary>
    NoTarget,

    /// <summary>The job already runs on the host it should move to.</summary>
    AlreadyOnTarget,

    /// <summary>The target host is not an up member of the cluster.</summary>
    TargetDown,

    /// <summary>The target host is up, but this node cannot reach it now.</summary>
    TargetUnreachable,

    /// <summary>The target host is cordoned.</summary>
    TargetCordoned,

    /// <summary>The pre-flight check found why the job cannot move; the text lists every problem.</summary>
    PreflightFailed,

    /// <summary>The job is migrating (or resuming from a failed move): not now.</summary>
    JobMigrating,

    /// <summary>The job has ended; there is nothing to move or stop.</summary>
    JobEnded,

    /// <summary>The job still runs: stop it first, or remove it with force.</summary>
    JobRunning,

    /// <summary>The job is not migrating: there is nothing to cancel or resolve.</summary>
    NotMigrating,

    /// <summary>The move has gone too far to cancel, or is being cancelled already.</summary>
    TooLateToCancel,

    /// <summary>The move is not in doubt: it settles itself.</summary>
    NotInDoubt,

    /// <summary>The in-doubt move's target has not been silent long enough for the operator to settle it.</summary>
    TargetNotSilent,

    /// <summary>Resuming the job here from its checkpoint failed.</summary>
    ResumeFailed,

    /// <summary>A podman command on the job's container failed.</summary>
    ContainerCommandFailed,

    /// <summary>The job's host was declared lost, and the job with it: it was not protected.</summary>
    JobLostWithHost,

    /// <summary>The host asked to be declared lost is up and reachable: a host that answers is not lost.</summary>
    HostAnswers,

    /// <summary>The voters did not promise: the host's lease is too fresh, or no majority can form without it.</summary>
    LossNotDeclarable,

    /// <summary>This host's fencing agent did not answer (is akka-migration-fence running?).</summary>
    FencingAgentSilent,

    /// <summary>The client's certificate or address already holds as many connections to the node as it may.</summary>
    TooManyConnections,

    /// <summary>A protected job was asked of a host whose fencing agent holds no lease now: its fence would kill the container.</summary>
    HostNotLeased,
}

/// <summary>Why a migration ended without moving the job (<see cref="MigrationFailed"/>, <see cref="AbortTransfer"/>).</summary>
public enum MigrationFailure
{
    /// <summary>An older node's failure, which carried no code: read its text.</summary>
    Unknown,

    /// <summary>The operator cancelled the move.</summary>
    Cancelled,

    /// <summary>podman's checkpoint failed.</summary>
    CheckpointFailed,

    /// <summary>Reading the archive to send it failed.</summary>
    ArchiveUnreadable,

    /// <summary>The target refused the transfer (<see cref="TransferRefused"/>).</summary>
    TargetRefused,

    /// <summary>The target gave up on the transfer or the restore (<see cref="TransferFailed"/>).</summary>
    TargetFailed,

    /// <summary>The target did not answer in time.</summary>
    TargetSilent,

    /// <summary>The archive stream to the target could not be opened, or broke.</summary>
    StreamFailed,

    /// <summary>The move was in doubt and the operator settled it (resumed here or abandoned).</summary>
    SettledByOperator,

    /// <summary>The node restarted during the move and resumed the job from its checkpoint.</summary>
    NodeRestarted,

    /// <summary>The source stopped sending: its move was cancelled, its checkpoint failed, or the node is stopping.</summary>
    SourceStopped,
}

/// <summary>Why a target refused or gave up an incoming transfer (<see cref="TransferRefused"/>, <see cref="TransferFailed"/>).</summary>
public enum TransferFailure
{
    /// <summary>An older node's failure, which carried no code: read its text.</summary>
    Unknown,

    /// <summary>The sender is not one of the cluster's nodes.</summary>
    NotANode,

    /// <summary>The transfer's job id, transfer id or chunk size is invalid.</summary>
    InvalidTransfer,

    /// <summary>The target takes no job: cordoned, draining, or it runs the job already.</summary>
    NotAdmitted,

    /// <summary>That transfer, or one of the same job, is already under way.</summary>
    AlreadyUnderWay,

    /// <summary>The target receives as many transfers as it may.</summary>
    TooManyTransfers,

    /// <summary>The target's archive folder has no room for the archive.</summary>
    NoSpace,

    /// <summary>Storing the archive on the target failed.</summary>
    StorageFailed,

    /// <summary>No chunk arrived in time.</summary>
    SourceSilent,

    /// <summary>A chunk belongs to another transfer.</summary>
    ForeignChunk,

    /// <summary>A chunk is malformed or beyond the archive size limit.</summary>
    MalformedChunk,

    /// <summary>The end of the archive hands over another job than the transfer's.</summary>
    HandoffMismatch,

    /// <summary>Chunks are missing at the end of the archive.</summary>
    Incomplete,

    /// <summary>The archive's checksum differs from the source's.</summary>
    ChecksumMismatch,

    /// <summary>podman's restore failed.</summary>
    RestoreFailed,

    /// <summary>The source aborted during the restore.</summary>
    SourceAborted,

    /// <summary>The transfer's id was used before: a replayed transfer.</summary>
    TransferIdUsed,

    /// <summary>The handoff's job spec breaks the rules a job's spec must keep.</summary>
    InvalidSpec,

    /// <summary>The archive holds what a checkpoint of one of our containers must not.</summary>
    ArchiveRefused,

    /// <summary>The source announced no size for the archive, or more than an archive may have.</summary>
    SizeRefused,

    /// <summary>The source sent more than the size it announced, with the margin the target's room was checked for.</summary>
    ArchiveOutgrown,
}

/// <summary>Why a node did not drain (<see cref="DrainRefused"/>).</summary>
public enum DrainFailure
{
    /// <summary>An older node's refusal, which carried no code: read its text.</summary>
    Unknown,

    /// <summary>config.ini names no such host.</summary>
    UnknownHost,

    /// <summary>The node is draining already.</summary>
    AlreadyDraining,

    /// <summary>No peer can take the containers.</summary>
    NoTargets,

    /// <summary>Some containers could not move; the text gives each one's cause.</summary>
    ContainersStuck,
}

/// <summary>Why a target did not fetch and load an image (<see cref="ImageFetched"/>).</summary>
public enum ImageFailure
{
    /// <summary>An older node's failure, which carried no code: read its text.</summary>
    Unknown,

    /// <summary>The request names no valid image, image id or host of config.ini.</summary>
    InvalidRequest,

    /// <summary>The request did not come from the host it names as the image's source.</summary>
    NotFromSource,

    /// <summary>The target has an image of that name already, with another id.</summary>
    ImageDiffers,

    /// <summary>The source refused to send the image (no move of its needs it here, or it sends too many).</summary>
    SourceRefused,

    /// <summary>The image did not arrive whole, in time, or loaded.</summary>
    FetchFailed,

    /// <summary>What arrived is not the image expected: another id, or other names. Nothing of it is kept.</summary>
    WrongImage,
}
