using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>How a source resumes a job whose move failed or was cancelled: what podman does, apart from the migration's states.</summary>
public static class LocalResume
{
    /// <summary>Back to running here: from the local checkpoint, else from the archive; untouched if never frozen.</summary>
    /// <returns>Whether it restored the container (false: it was never frozen, or is gone with no archive).</returns>
    public static async Task<bool> RunAsync(IContainerRuntime runtime, string container, JobSpec spec, string? archive, CancellationToken stopping)
    {
        var info = await runtime.InspectAsync(container, stopping);
        if (info is { Checkpointed: true })
        {
            try
            {
                await runtime.RestoreAsync(container, spec, null, stopping);
            }
            catch (ContainerRuntimeException) when (File.Exists(archive))
            {
                await runtime.RemoveAsync(container, stopping);
                await runtime.RestoreAsync(container, spec, archive, stopping);
            }
            return true;
        }
        if (info is null && File.Exists(archive))
        {
            await runtime.RestoreAsync(container, spec, archive, stopping);
            return true;
        }
        if (info is { State: ContainerState.Running })
        {
            // A node that died while podman hung on its checkpoint left the cgroup frozen. A CRIU still
            // dumping has thawed it already (the tasks wait under its ptrace): nothing changes then.
            await runtime.ThawAsync(container, stopping);
        }
        return false;
    }
}
