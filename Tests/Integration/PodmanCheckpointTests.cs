using System.Globalization;
using System.Security.Cryptography;
using AkkaMigration.Node.Jobs;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Tests.EndToEnd;
using AkkaMigration.Tests.Support;
using AkkaMigration.Worker;

namespace AkkaMigration.Tests.Integration;

/// <summary>Real podman, runc and CRIU: a checkpoint taken on one simulated host, restored on the other.</summary>
[Collection(RealHostsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PodmanCheckpointTests(SimulatedHosts hosts)
{
    [Fact]
    public async Task A_checkpoint_from_one_store_restores_into_another_and_the_worker_continues()
    {
        var name = ContainerNames.For("it-continue");
        // /tmp is not private to a host: it stands for the copy from A to B.
        var archive = $"/tmp/it-continue-{Guid.NewGuid():N}.tar";
        var ticks = Patience.OutlastingWorkMs / Workload.TickMillis;
        await hosts.PodmanAsync("nodeA", ["run", "--detach", "--name", name, "--network", "none",
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", ClusterSteps.WorkerImage, .. JobSpec.AddOne(ClusterSteps.WorkerImage, 41, Patience.OutlastingWorkMs, 8).Arguments]);
        // Checkpointed once at work, long before done.
        await Poll.UntilAsync($"{name} at work", () => LogAsync("nodeA", name), lines => Progress(lines).Any(), describe: lines => string.Join(" | ", lines));

        await hosts.PodmanAsync("nodeA", "container", "checkpoint", name, "--export", archive);
        var progressAtCheckpoint = Progress(await LogAsync("nodeA", name)).Last();
        await hosts.PodmanAsync("nodeA", "rm", "-f", name);
        await hosts.PodmanAsync("nodeB", "container", "restore", "--import", archive);
        var lines = await WaitForExitAsync("nodeB", name);
        File.Delete(archive);

        // The whole log (A's lines travel in the archive) counts up once, without starting over.
        Assert.Single(lines, l => l.StartsWith("STARTED"));
        Assert.Equal(Enumerable.Range(1, ticks), Progress(lines));
        Assert.InRange(progressAtCheckpoint, 1, ticks - 1);
        Assert.Equal((42L, $"{Workload.ExpectedChecksum(41, 8):x16}", true), JobResults.WorkerResult(lines));
    }

    [Fact]
    public async Task A_migrated_container_comes_back_with_its_loopback_up()
    {
        await hosts.SubmitAsync("it-loopback", 1, Patience.OutlastingWorkMs);
        await hosts.ClientOkAsync("migrate", "it-loopback", "nodeB");

        var pid = await hosts.PodmanAsync("nodeB", "inspect", "--format", "{{.State.Pid}}", ContainerNames.For("it-loopback"));

        // The node brings it up just after the restore, without holding the migration's answer for it.
        await Poll.UntilAsync("the restored container's loopback up",
            async () => (await hosts.InHostAsync("nodeB", ["nsenter", "--target", pid, "--net", "ip", "-o", "link", "show", "lo"])).StandardOutput,
            link => link.Contains("LOOPBACK,UP"));
    }

    [Fact]
    public async Task A_container_with_more_changed_files_than_memory_moves_whole()
    {
        // The archive carries the container's changed files: announced from memory alone, the target cut it off.
        await hosts.SubmitAsync("it-files", 1, Patience.OutlastingWorkMs);
        var big = $"/tmp/it-files-{Guid.NewGuid():N}";
        await File.WriteAllBytesAsync(big, RandomNumberGenerator.GetBytes(160 * 1024 * 1024));
        try
        {
            await hosts.PodmanAsync("nodeA", "cp", big, $"{ContainerNames.For("it-files")}:/written");
        }
        finally
        {
            File.Delete(big);
        }

        await hosts.ClientOkAsync("migrate", "it-files", "nodeB");

        var listed = await hosts.PodmanAsync("nodeB", "diff", ContainerNames.For("it-files"));
        Assert.Contains("/written", listed);
    }

    [Fact]
    public async Task Inspecting_a_container_that_does_not_exist_says_so()
    {
        Assert.Null(await MachineStore.Runtime().InspectAsync("amig-never-created", default));
    }

    [Fact]
    public async Task A_failing_podman_command_reports_what_podman_said()
    {
        var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
            MachineStore.Runtime().CheckpointAsync("amig-never-created", Jobs.AddOneSpec(1), "/tmp/never.tar", default));

        Assert.Contains("no such container", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_failed_checkpoint_quotes_the_error_CRIU_logged_and_the_container_runs_on()
    {
        // CRIU cannot seize a process another tracer holds: a dump that fails inside CRIU, not in podman.
        var runtime = MachineStore.Runtime();
        var name = ContainerNames.For("it-dump-fails");
        var spec = Jobs.AddOneSpec(1, Patience.OutlastingWorkMs);
        await runtime.RunAsync(name, spec, default);
        try
        {
            var pid = (await runtime.InspectAsync(name, default))!.Pid;
            using var tracer = Tracer.Seize(pid);

            var error = await Assert.ThrowsAsync<ContainerRuntimeException>(() =>
                runtime.CheckpointAsync(name, spec, $"/tmp/it-dump-fails-{Guid.NewGuid():N}.tar", default));

            Assert.Contains("CRIU said: Error (", error.Message);
            Assert.Equal(ContainerState.Running, (await runtime.InspectAsync(name, default))!.State);
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
        }
    }

    [Fact]
    public async Task A_job_s_environment_reaches_its_container_through_a_file_gone_once_podman_ran_and_stays_through_a_restore()
    {
        var runtime = MachineStore.Runtime();
        var name = ContainerNames.For("it-environment");
        var spec = Jobs.AddOneSpec(1, Patience.OutlastingWorkMs) with { Environment = ["AMIG_SECRET=s3cret value"] };
        var archive = $"/tmp/{name}-{Guid.NewGuid():N}.tar";
        await runtime.RunAsync(name, spec, default);
        try
        {
            var ran = await EnvironmentOfAsync(runtime, name);
            // No file for the restore: the variables are in the container's config, which the archive carries.
            Assert.False(File.Exists(Path.Combine(MachineStore.StateDirectory, EnvironmentFile.FolderName, $"{name}.env")));
            await runtime.CheckpointAsync(name, spec, archive, default);
            await runtime.RemoveAsync(name, default);
            await runtime.RestoreAsync(name, spec, archive, default);

            Assert.Contains("AMIG_SECRET=s3cret value", ran);
            Assert.Contains("AMIG_SECRET=s3cret value", await EnvironmentOfAsync(runtime, name));
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
            File.Delete(archive);
        }
    }

    /// <summary>The environment of the container's first process, as the kernel has it.</summary>
    private static async Task<string[]> EnvironmentOfAsync(PodmanRuntime runtime, string name) =>
        (await File.ReadAllTextAsync($"/proc/{(await runtime.InspectAsync(name, default))!.Pid}/environ")).Split('\0');

    [Theory]
    [InlineData("privileged", "it is privileged")]
    [InlineData("host-folder", "it mounts the host's /etc at /host-etc")]
    [InlineData("other-name", "it names container 'amig-someone-else'")]
    public async Task An_archive_not_made_as_this_cluster_makes_containers_is_refused_and_nothing_is_restored(string crafted, string reason)
    {
        var runtime = MachineStore.Runtime();
        var name = ContainerNames.For($"it-crafted-{crafted}");
        var spec = Jobs.AddOneSpec(1, Patience.OutlastingWorkMs);
        var (archive, craftedArchive) = ($"/tmp/{name}-{Guid.NewGuid():N}.tar", $"/tmp/{name}-{Guid.NewGuid():N}-crafted.tar");
        await runtime.RunAsync(name, spec, default);
        try
        {
            await runtime.CheckpointAsync(name, spec, archive, default);
            await runtime.RemoveAsync(name, default);
            CheckpointArchives.Rewrite(archive, craftedArchive, crafted);

            var error = await Assert.ThrowsAsync<ArchiveRefusedException>(() => runtime.RestoreAsync(name, spec, craftedArchive, default));

            Assert.Contains($"refused to restore the archive: {reason}", error.Message);
            Assert.Null(await runtime.InspectAsync(name, default));
            // The same archive, as the source made it, restores.
            await runtime.RestoreAsync(name, spec, archive, default);
            Assert.Equal(ContainerState.Running, (await runtime.InspectAsync(name, default))!.State);
        }
        finally
        {
            await runtime.RemoveAsync(name, default);
            File.Delete(archive);
            File.Delete(craftedArchive);
        }
    }

    private async Task<string[]> WaitForExitAsync(string host, string name)
    {
        await Poll.UntilAsync($"{name} to exit", () => hosts.PodmanAsync(host, "inspect", "--format", "{{.State.Status}}", name), status => status != "running");
        var lines = await LogAsync(host, name);
        await hosts.PodmanAsync(host, "rm", "-f", name);
        return lines;
    }

    private async Task<string[]> LogAsync(string host, string name) => (await hosts.PodmanAsync(host, "logs", name)).Split('\n');

    /// <summary>The ticks done that the worker's "PROGRESS done/total" lines report, in order.</summary>
    private static IEnumerable<int> Progress(IEnumerable<string> lines) =>
        lines.Where(l => l.StartsWith("PROGRESS")).Select(l => int.Parse(l.Split(' ', '/')[1], CultureInfo.InvariantCulture));
}
