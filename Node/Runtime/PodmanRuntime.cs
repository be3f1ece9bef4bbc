using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// Podman (with runc and CRIU underneath) against one host's store, through <see cref="PodmanCli"/>,
/// whose every call is bounded.
/// </summary>
public sealed class PodmanRuntime(HostEntry host, ContainerSettings settings, ServiceNetworkSettings? network) : IContainerRuntime
{
    private static readonly TimeSpan QuickLimit = PodmanCli.QuickLimit;

    /// <summary>Processes a container may have at most, like the nproc ulimit the hosts need anyway.</summary>
    private const int PidsLimit = 1024;

    private readonly PodmanCli _podman = new(host, settings);
    private readonly ServiceNetwork _network = new(new PodmanCli(host, settings), network);
    private readonly CriuDiagnostics _criu = new(new PodmanCli(host, settings));
    private readonly CheckpointSlots _checkpointSlots = CheckpointSlots.PerCore();
    private readonly PodmanService _service = new(new PodmanCli(host, settings));

    /// <summary>
    /// For a node, before it runs anything: podman's service for its questions stays up while the node
    /// lives (<see cref="PodmanService.KeepUp"/>), and no job's environment outlives a run a crash cut short.
    /// </summary>
    public PodmanRuntime KeepServiceUp()
    {
        EnvironmentFile.RemoveLeftovers(host.StateDirectory);
        _service.KeepUp();
        return this;
    }

    /// <summary>
    /// podman's arguments that start a job's container, after the global ones (<see cref="PodmanCli.GlobalArguments"/>).
    /// The benchmark's by-hand baseline starts its containers with these too.
    /// </summary>
    /// <param name="serviceNetwork">The service network's name, for a job on the cluster's network.</param>
    /// <param name="environmentFile">
    /// The job's environment written by <see cref="EnvironmentFile"/>, required when it has one: its
    /// values never go on the command line, where every local user could read them.
    /// </param>
    public static IReadOnlyList<string> RunArguments(string container, JobSpec spec, ContainerSettings settings, string? serviceNetwork,
        string? environmentFile = null)
    {
        var service = spec.Service;
        // Only images the host has (a move ships a missing one), nothing gained by exec'ing
        // a setuid binary, and a bound on processes, whatever the image asks for.
        List<string> a = ["run", "--detach", "--name", container, "--pull=never", "--security-opt", "no-new-privileges",
            "--pids-limit", PidsLimit.ToString(CultureInfo.InvariantCulture)];
        // The host's fencing agent kills these when its lease lapses: a replica may resume them elsewhere.
        if (spec.Protection is { IsOn: true })
        {
            a.AddRange(["--label", Fencing.IFence.ProtectedLabel]);
        }
        // The address is the cluster's to give: each host's IPAM knows only its own containers.
        a.AddRange(service.Network == JobNetwork.Cluster
            ? ["--network", serviceNetwork ?? throw new ArgumentException("a service needs the service network", nameof(serviceNetwork)),
               "--ip", service.Address ?? throw new ArgumentException("a service needs its address", nameof(spec))]
            : ["--network", "none"]);
        foreach (var ulimit in settings.Ulimits)
        {
            a.AddRange(["--ulimit", ulimit]);
        }
        if (spec.Environment.Length > 0)
        {
            a.AddRange(["--env-file", environmentFile ?? throw new ArgumentException("a job's environment goes in a file", nameof(environmentFile))]);
        }
        foreach (var volume in service.Volumes)
        {
            a.AddRange(["--volume", volume]);
        }
        if (service.Memory is { } memory)
        {
            a.AddRange(["--memory", memory]);
        }
        if (service.Cpus is { } cpus)
        {
            a.AddRange(["--cpus", cpus]);
        }
        a.Add(spec.Image);
        a.AddRange(spec.Arguments);
        return a;
    }

    /// <summary>podman's arguments that checkpoint a container into <paramref name="archivePath"/>, printing CRIU's statistics.</summary>
    /// <param name="leaveRunning">A protection checkpoint: the container runs on once it is dumped.</param>
    public static IReadOnlyList<string> CheckpointArguments(string container, string archivePath, ContainerSettings settings, bool leaveRunning = false) =>
        ["container", "checkpoint", container, "--export", archivePath, "--tcp-established", "--compress", settings.Compression, "--print-stats",
         .. leaveRunning ? new[] { "--leave-running" } : []];

    /// <summary>podman's arguments that restore a container: from its archive, or in place when <paramref name="archivePath"/> is null.</summary>
    public static IReadOnlyList<string> RestoreArguments(string container, string? archivePath) =>
        // Without --name an import keeps the original name and ID, so the container can move again.
        ["container", "restore", "--tcp-established", .. archivePath is null ? [container] : new[] { "--import", archivePath }];

    public async Task RunAsync(string container, JobSpec spec, CancellationToken cancellationToken)
    {
        var service = spec.Service;
        if (service.Network == JobNetwork.Cluster)
        {
            await _network.EnsureAsync(cancellationToken);
        }
        // Only podman run reads it: the variables are in the container's config from then on, and a restore keeps them.
        using var environment = spec.Environment.Length > 0 ? EnvironmentFile.Write(host.StateDirectory, container, spec.Environment) : null;
        await _podman.RunAsync(a => a.Add(RunArguments(container, spec, settings, service.Network == JobNetwork.Cluster ? _network.Settings.Name : null,
            environment?.Path)), QuickLimit, cancellationToken);
    }

    public Task<CheckpointStats> CheckpointAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken) =>
        CheckpointAsync(container, spec, archivePath, leaveRunning: false, cancellationToken);

    public Task<CheckpointStats> CheckpointLeaveRunningAsync(string container, JobSpec spec, string archivePath, CancellationToken cancellationToken) =>
        CheckpointAsync(container, spec, archivePath, leaveRunning: true, cancellationToken);

    private async Task<CheckpointStats> CheckpointAsync(string container, JobSpec spec, string archivePath, bool leaveRunning, CancellationToken cancellationToken)
    {
        // Not timed: the container runs on while its move waits for a slot.
        using var slot = await _checkpointSlots.TakeAsync(settings.CheckpointLimit, cancellationToken);
        var clock = Stopwatch.StartNew();
        // A connection still being opened when CRIU freezes the process fails the dump: hold new ones.
        await using (await _network.GuardAsync(spec, (g, address) => g.HoldNewConnections(address, cancellationToken)))
        {
            try
            {
                var checkpoint = _podman.RunAsync(a => a.Add(CheckpointArguments(container, archivePath, settings, leaveRunning)), settings.CheckpointLimit, cancellationToken);
                await _criu.WithErrorsAsync(container, "dump.log", checkpoint, cancellationToken);
                return new CheckpointStats(clock.ElapsedMilliseconds, new FileInfo(archivePath).Length, CheckpointStatistics.Parse(checkpoint.Result));
            }
            catch (Exception e) when (e is ContainerRuntimeException or OperationCanceledException)
            {
                throw await ResumedInPlaceAsync(container, e);
            }
        }
    }

    /// <summary>
    /// After a failed or stopped dump the container must run on where it is: podman killed at its limit
    /// (or a dump that died) can leave its cgroup frozen while it still reads as running.
    /// </summary>
    /// <returns>What to throw: <paramref name="failure"/>, saying so if the container had to be thawed.</returns>
    private async Task<Exception> ResumedInPlaceAsync(string container, Exception failure)
    {
        try
        {
            // Not the caller's token: a node that stops must not leave the container frozen either.
            if (await ThawAsync(container, CancellationToken.None))
            {
                return failure is ContainerRuntimeException
                    ? new ContainerRuntimeException($"{failure.Message}; the container was left frozen and is thawed, running on here")
                    : failure;
            }
        }
        catch (Exception e) when (e is ContainerRuntimeException or IOException or UnauthorizedAccessException)
        {
            return new ContainerRuntimeException($"{failure.Message}; and it could not be checked that the container runs on: {e.Message}");
        }
        return failure;
    }

    public async Task<bool> ThawAsync(string container, CancellationToken cancellationToken)
    {
        if (await InspectAsync(container, cancellationToken) is not { State: ContainerState.Running, Pid: > 0, Checkpointed: false } info)
        {
            return false;
        }
        try
        {
            return CgroupFreezer.ThawIfFrozen(info.Pid);
        }
        catch (IOException)
        {
            // The process ended since the inspect: nothing is frozen, and the container's watch sees the exit.
            return false;
        }
    }

    public async Task<RestoreStats> RestoreAsync(string container, JobSpec spec, string? archivePath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (spec.Service.Network == JobNetwork.Cluster)
        {
            await _network.EnsureAsync(cancellationToken);
        }
        // Restored as root: another host's archive must describe the container this job is, made as this cluster makes them.
        // Off the caller's thread: the receiver calls this from its receive, and reading the archive is file I/O.
        if (archivePath is not null && await Task.Run(() => ArchiveInspection.Problem(archivePath, container, spec, host, cancellationToken), cancellationToken) is { } refusal)
        {
            throw new ArchiveRefusedException(refusal);
        }
        // The address is up before the sockets are back; a packet arriving between would be answered with a reset.
        await using (await _network.GuardAsync(spec, (g, address) => g.DropTraffic(address, cancellationToken)))
        {
            await _criu.WithErrorsAsync(container, "restore.log",
                _podman.RunAsync(a => a.Add(RestoreArguments(container, archivePath)), settings.CheckpointLimit, cancellationToken), cancellationToken);
        }
        return new RestoreStats(clock.ElapsedMilliseconds);
    }

    public async Task RemoveVolumesAsync(JobSpec spec, CancellationToken cancellationToken)
    {
        foreach (var volume in spec.Service.VolumeNames())
        {
            await _podman.RunAsync(a => a.Add("volume").Add("rm").Add("--force").Add(volume), QuickLimit, cancellationToken);
        }
    }

    public async Task<IReadOnlyList<string>> CheckpointProblemsAsync(string container, CancellationToken cancellationToken)
    {
        if (await InspectAsync(container, cancellationToken) is not { State: ContainerState.Running, Pid: > 0 } info)
        {
            return [$"container {container} is not running"];
        }
        return ProcessChecks.UndumpableIn(info.Pid);
    }

    public async Task<IReadOnlyList<string>> RestoreProblemsAsync(string container, JobSpec spec, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (await InspectAsync(container, cancellationToken) is not null)
        {
            problems.Add($"a container named {container} is already here");
        }
        foreach (var volume in spec.Service.VolumeNames())
        {
            if (await _service.VolumeExistsAsync(volume, cancellationToken)
                ?? (await _podman.ExecuteAsync(a => a.Add("volume").Add("exists").Add(volume), QuickLimit, cancellationToken)).ExitCode == 0)
            {
                problems.Add($"a volume named {volume} is already here, and the archive brings its own");
            }
        }
        if (spec.Service.Network == JobNetwork.Cluster && !_network.IsConfigured)
        {
            problems.Add("no [service_network] in this host's config.ini, so the service's address cannot come up here");
        }
        if (await _criu.CheckProblemAsync(cancellationToken) is { } criu)
        {
            problems.Add(criu);
        }
        return problems;
    }

    public async Task<bool> HasImageAsync(string image, CancellationToken cancellationToken) =>
        await _service.ImageExistsAsync(image, cancellationToken)
        ?? (await _podman.ExecuteAsync(a => a.Add("image").Add("exists").Add(image), QuickLimit, cancellationToken)).ExitCode == 0;

    public Task SaveImageAsync(string image, string path, CancellationToken cancellationToken) =>
        _podman.RunAsync(a => a.Add("save").Add("--quiet").Add("--output").Add(path).Add(image), settings.CheckpointLimit, cancellationToken);

    public Task LoadImageAsync(string path, CancellationToken cancellationToken) =>
        _podman.RunAsync(a => a.Add("load").Add("--quiet").Add("--input").Add(path), settings.CheckpointLimit, cancellationToken);

    public async Task<string?> ImageIdAsync(string image, CancellationToken cancellationToken)
    {
        var result = await _podman.ExecuteAsync(a => a.Add("image").Add("inspect").Add("--format").Add("{{.Id}}").Add(image), QuickLimit, cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput.Trim() : null;
    }

    public Task RemoveImageAsync(string image, CancellationToken cancellationToken) =>
        _podman.RunAsync(a => a.Add("rmi").Add(image), QuickLimit, cancellationToken);

    public async Task<ContainerInfo?> InspectAsync(string container, CancellationToken cancellationToken)
    {
        if (await _service.InspectAsync(container, cancellationToken) is { } known)
        {
            return known.Value;
        }
        var result = await _podman.ExecuteAsync(a => a.Add("container").Add("inspect").Add(container), QuickLimit, cancellationToken);
        if (result.ExitCode != 0)
        {
            return result.StandardError.Contains("no such container", StringComparison.OrdinalIgnoreCase)
                ? null
                : throw PodmanCli.Failure("inspect", result);
        }
        using var json = JsonDocument.Parse(result.StandardOutput);
        return PodmanService.InfoFrom(container, json.RootElement[0]);
    }

    public Task StopAsync(string container, CancellationToken cancellationToken) =>
        _podman.RunAsync(a => a.Add("stop").Add("--ignore").Add("--time").Add(10).Add(container), QuickLimit, cancellationToken);

    public Task RemoveAsync(string container, CancellationToken cancellationToken) =>
        _podman.RunAsync(a => a.Add("rm").Add("--force").Add("--ignore").Add("--time").Add("0").Add(container), QuickLimit, cancellationToken);

    public async Task<IReadOnlyList<LogLine>> LogsAsync(string container, int tail, CancellationToken cancellationToken)
    {
        if (await _service.LogsAsync(container, tail, cancellationToken) is { } lines)
        {
            return lines;
        }
        var result = await _podman.ExecuteAsync(a => a.Add("logs").Add("--timestamps").Add("--tail").Add(tail).Add(container), QuickLimit, cancellationToken);
        return result.ExitCode == 0 ? StampedLine.Merge(result.StandardOutput, result.StandardError) : throw PodmanCli.Failure("podman logs", result);
    }

    // A workload that talks to itself over 127.0.0.1 would stall without it.
    public async Task EnableLoopbackAsync(string container, CancellationToken cancellationToken)
    {
        var info = await InspectAsync(container, cancellationToken);
        if (info is not { State: ContainerState.Running, Pid: > 0 })
        {
            return;
        }
        using var limit = PodmanCli.Limit(QuickLimit, cancellationToken);
        var result = await Cli.Wrap("nsenter")
            .WithArguments(a => a.Add("--target").Add(info.Pid).Add("--net").Add("ip").Add("link").Add("set").Add("lo").Add("up"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(limit.Token);
        // The container may have finished in the meantime; only a live one needs its loopback.
        if (result.ExitCode != 0 && await InspectAsync(container, cancellationToken) is { State: ContainerState.Running })
        {
            throw new ContainerRuntimeException($"could not bring up loopback in {container}: {result.StandardError.Trim()}");
        }
    }
}
