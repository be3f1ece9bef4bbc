using System.Collections.Concurrent;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Faults;

/// <summary>
/// The runtime of a node with faults of its own: it dies as it removes a container it has
/// checkpointed (a source removes one only once the target has confirmed the restore, before it
/// records the move or tells anyone), or it fails every restore of an archive from another host.
/// </summary>
public sealed class FaultInjectingRuntime(IContainerRuntime inner, FaultInjection faults) : IContainerRuntime
{
    private readonly ConcurrentDictionary<string, bool> _checkpointed = new();

    public Task RunAsync(string container, JobSpec spec, CancellationToken cancellationToken) =>
        inner.RunAsync(container, spec, cancellationToken);

    public async Task<CheckpointStats> CheckpointAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken)
    {
        var stats = await inner.CheckpointAsync(container, spec, archivePath, cancellationToken);
        _checkpointed[container] = true;
        return stats;
    }

    public Task<CheckpointStats> CheckpointLeaveRunningAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken) =>
        inner.CheckpointLeaveRunningAsync(container, spec, archivePath, cancellationToken);

    public Task<RestoreStats> RestoreAsync(string container, JobSpec spec, string? archivePath, CancellationToken cancellationToken)
    {
        if (faults.FailRestore && archivePath is not null)
        {
            throw new ContainerRuntimeException($"restore of {container} failed (injected fault fail-restore)");
        }
        _checkpointed.TryRemove(container, out _);
        return inner.RestoreAsync(container, spec, archivePath, cancellationToken);
    }

    public Task StopAsync(string container, CancellationToken cancellationToken) => inner.StopAsync(container, cancellationToken);

    public Task<bool> ThawAsync(string container, CancellationToken cancellationToken) => inner.ThawAsync(container, cancellationToken);

    public Task RemoveAsync(string container, CancellationToken cancellationToken)
    {
        if (_checkpointed.TryRemove(container, out _) && faults.DieAfterRestoreConfirmed)
        {
            FaultInjection.Die();
        }
        return inner.RemoveAsync(container, cancellationToken);
    }

    public Task RemoveVolumesAsync(JobSpec spec, CancellationToken cancellationToken) => inner.RemoveVolumesAsync(spec, cancellationToken);

    public Task<IReadOnlyList<string>> CheckpointProblemsAsync(string container, CancellationToken cancellationToken) =>
        inner.CheckpointProblemsAsync(container, cancellationToken);

    public Task<IReadOnlyList<string>> RestoreProblemsAsync(string container, JobSpec spec, CancellationToken cancellationToken) =>
        inner.RestoreProblemsAsync(container, spec, cancellationToken);

    public Task<bool> HasImageAsync(string image, CancellationToken cancellationToken) => inner.HasImageAsync(image, cancellationToken);

    public Task SaveImageAsync(string image, string path, CancellationToken cancellationToken) => inner.SaveImageAsync(image, path, cancellationToken);

    public Task LoadImageAsync(string path, CancellationToken cancellationToken) => inner.LoadImageAsync(path, cancellationToken);

    public Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken) => inner.ImageIdAsync(image, cancellationToken);

    public Task RemoveImageAsync(string image, CancellationToken cancellationToken) => inner.RemoveImageAsync(image, cancellationToken);

    public Task EnableLoopbackAsync(string container, CancellationToken cancellationToken) => inner.EnableLoopbackAsync(container, cancellationToken);

    public Task<ContainerInfo?> InspectAsync(string container, CancellationToken cancellationToken) => inner.InspectAsync(container, cancellationToken);

    public Task<IReadOnlyList<LogLine>> LogsAsync(string container, int tail, CancellationToken cancellationToken) =>
        inner.LogsAsync(container, tail, cancellationToken);
}
