using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// The few container operations a node needs; podman in production, a fake in actor specs. Every
/// call ends: an implementation bounds each one in time, and callers cancel it when they stop.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>Starts <paramref name="spec"/> as a detached container named <paramref name="container"/>.</summary>
    Task RunAsync(string container, JobSpec spec, CancellationToken cancellationToken);

    /// <summary>
    /// Checkpoints a running container into an archive, its open TCP connections included; the
    /// container stops and keeps its checkpoint. <paramref name="spec"/> says what else to look after
    /// (a service's address, which takes no new connections meanwhile).
    /// </summary>
    Task<CheckpointStats> CheckpointAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken);

    /// <summary>
    /// Checkpoints a running container into an archive as <see cref="CheckpointAsync"/> does, but the
    /// container runs on afterwards: a protection checkpoint, which costs the job only its freeze.
    /// </summary>
    Task<CheckpointStats> CheckpointLeaveRunningAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken);

    /// <summary>
    /// Restores a container under its original name: from <paramref name="archivePath"/> when given
    /// (another host's checkpoint), else from the checkpoint it keeps locally.
    /// </summary>
    Task<RestoreStats> RestoreAsync(string container, JobSpec spec, string? archivePath, CancellationToken cancellationToken);

    /// <summary>
    /// Brings a restored container's loopback up (podman restores a --network none container with
    /// it down). Apart from the restore, so the container counts as running without waiting for it.
    /// </summary>
    Task EnableLoopbackAsync(string container, CancellationToken cancellationToken);

    /// <summary>The container's state, or null when there is no such container.</summary>
    Task<ContainerInfo?> InspectAsync(string container, CancellationToken cancellationToken);

    /// <summary>
    /// Lets a running container whose cgroup a dump left frozen run on (a dump killed, or a runtime
    /// hung, between CRIU's freeze and its seize). True when it was frozen.
    /// </summary>
    Task<bool> ThawAsync(string container, CancellationToken cancellationToken);

    /// <summary>Stops the container and keeps it (its files stay for a human); no error when it is gone or stopped.</summary>
    Task StopAsync(string container, CancellationToken cancellationToken);

    /// <summary>Removes the container, running or not; no error when it is already gone.</summary>
    Task RemoveAsync(string container, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the named volumes of <paramref name="spec"/> once its container has moved away: the
    /// archive carried their data, and a restore here later fails if they still exist.
    /// </summary>
    Task RemoveVolumesAsync(JobSpec spec, CancellationToken cancellationToken);

    /// <summary>What in the running container CRIU could not dump (an io_uring, say); empty when nothing is known to stop it.</summary>
    Task<IReadOnlyList<string>> CheckpointProblemsAsync(string container, CancellationToken cancellationToken);

    /// <summary>Why a restore of <paramref name="container"/> running <paramref name="spec"/> would fail here (image, name, volumes, CRIU); empty when none is known.</summary>
    Task<IReadOnlyList<string>> RestoreProblemsAsync(string container, JobSpec spec, CancellationToken cancellationToken);

    /// <summary>Whether this host's store has <paramref name="image"/>.</summary>
    Task<bool> HasImageAsync(string image, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="image"/> to an archive at <paramref name="path"/> (podman save), for a host that lacks it.</summary>
    Task SaveImageAsync(string image, string path, CancellationToken cancellationToken);

    /// <summary>Loads an image archive another host saved.</summary>
    Task LoadImageAsync(string path, CancellationToken cancellationToken);

    /// <summary>The id (SHA-256 of its config, hex) of <paramref name="image"/> in this host's store, or null when it is not here.</summary>
    Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken);

    /// <summary>Removes <paramref name="image"/>'s name from this host's store (podman rmi): an image loaded that was not the one expected.</summary>
    Task RemoveImageAsync(string image, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="tail"/> lines the container printed, each with its time when the log keeps one.</summary>
    Task<IReadOnlyList<LogLine>> LogsAsync(string container, int tail, CancellationToken cancellationToken);
}

public enum ContainerState
{
    Created,
    Running,
    Paused,
    Exited,
    Other,
}

/// <param name="Checkpointed">Stopped by a checkpoint rather than by its own exit.</param>
public sealed record ContainerInfo(string Name, ContainerState State, int ExitCode, int Pid, bool Checkpointed);

/// <param name="Dump">podman's and CRIU's figures of the dump, where podman printed them.</param>
public sealed record CheckpointStats(long DurationMs, long ArchiveBytes, DumpTimings? Dump = null);

public sealed record RestoreStats(long DurationMs);

/// <summary>The runtime refused or failed an operation; the message says what it printed.</summary>
public class ContainerRuntimeException(string message) : Exception(message);

/// <summary>A peer's archive that inspection refused before podman saw it: the source's doing, not this host's.</summary>
public sealed class ArchiveRefusedException(string refusal) : ContainerRuntimeException($"refused to restore the archive: {refusal}");
