using System.Diagnostics;
using System.Text.Json;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using CliWrap;
using CliWrap.Buffered;
using CliWrap.Builders;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// Podman (with runc and CRIU underneath) driven through CliWrap, against one host's store. Each
/// call is bounded: a podman process still running at its limit is killed, and the call fails.
/// </summary>
public sealed class PodmanRuntime(HostEntry host, ContainerSettings settings) : IContainerRuntime
{
    /// <summary>Inspect, logs, remove, run: podman answers these in well under a second on an idle machine.</summary>
    private static readonly TimeSpan QuickLimit = TimeSpan.FromMinutes(2);

    public Task RunAsync(string container, JobSpec spec, CancellationToken cancellationToken) =>
        Podman(a =>
        {
            a.Add("run").Add("--detach").Add("--name").Add(container)
                // No network: the workload needs none, and CRIU then has no sockets to carry.
                .Add("--network").Add("none");
            foreach (var ulimit in settings.Ulimits)
            {
                a.Add("--ulimit").Add(ulimit);
            }
            foreach (var variable in spec.Environment)
            {
                a.Add("--env").Add(variable);
            }
            a.Add(spec.Image).Add(spec.Arguments);
        }, QuickLimit, cancellationToken);

    public async Task<CheckpointStats> CheckpointAsync(string container, string archivePath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Podman(a => a
            .Add("container").Add("checkpoint").Add(container)
            .Add("--export").Add(archivePath)
            .Add("--compress").Add(settings.Compression), settings.CheckpointLimit, cancellationToken);
        return new CheckpointStats(clock.ElapsedMilliseconds, new FileInfo(archivePath).Length);
    }

    public async Task<RestoreStats> RestoreAsync(string container, string? archivePath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Podman(a =>
        {
            a.Add("container").Add("restore");
            // Without --name an import keeps the original name and ID, so the container can move again.
            a.Add(archivePath is null ? [container] : ["--import", archivePath]);
        }, settings.CheckpointLimit, cancellationToken);
        return new RestoreStats(clock.ElapsedMilliseconds);
    }

    public async Task<ContainerInfo?> InspectAsync(string container, CancellationToken cancellationToken)
    {
        var result = await Execute(a => a.Add("container").Add("inspect").Add(container), QuickLimit, cancellationToken);
        if (result.ExitCode != 0)
        {
            return result.StandardError.Contains("no such container", StringComparison.OrdinalIgnoreCase)
                ? null
                : throw Failure("inspect", result);
        }
        using var json = JsonDocument.Parse(result.StandardOutput);
        var state = json.RootElement[0].GetProperty("State");
        return new ContainerInfo(
            container,
            state.GetProperty("Status").GetString() switch
            {
                "created" or "configured" => ContainerState.Created,
                "running" => ContainerState.Running,
                "paused" => ContainerState.Paused,
                "exited" or "stopped" => ContainerState.Exited,
                _ => ContainerState.Other,
            },
            state.GetProperty("ExitCode").GetInt32(),
            state.GetProperty("Pid").GetInt32(),
            state.TryGetProperty("Checkpointed", out var checkpointed) && checkpointed.GetBoolean());
    }

    public Task RemoveAsync(string container, CancellationToken cancellationToken) =>
        Podman(a => a.Add("rm").Add("--force").Add("--ignore").Add("--time").Add("0").Add(container), QuickLimit, cancellationToken);

    public async Task<IReadOnlyList<string>> LogsAsync(string container, int tail, CancellationToken cancellationToken)
    {
        var output = await Podman(a => a.Add("logs").Add("--tail").Add(tail).Add(container), QuickLimit, cancellationToken);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    // A workload that talks to itself over 127.0.0.1 would stall without it.
    public async Task EnableLoopbackAsync(string container, CancellationToken cancellationToken)
    {
        var info = await InspectAsync(container, cancellationToken);
        if (info is not { State: ContainerState.Running, Pid: > 0 })
        {
            return;
        }
        using var limit = Limit(QuickLimit, cancellationToken);
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

    private async Task<string> Podman(Action<ArgumentsBuilder> arguments, TimeSpan limit, CancellationToken cancellationToken)
    {
        var result = await Execute(arguments, limit, cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput : throw Failure("podman", result);
    }

    private async Task<BufferedCommandResult> Execute(Action<ArgumentsBuilder> arguments, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var bounded = Limit(limit, cancellationToken);
        try
        {
            return await Command(arguments).ExecuteBufferedAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ContainerRuntimeException($"podman did not finish within {limit.TotalSeconds:0} s and was stopped");
        }
    }

    private static CancellationTokenSource Limit(TimeSpan limit, CancellationToken cancellationToken)
    {
        var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        return bounded;
    }

    private Command Command(Action<ArgumentsBuilder> arguments) =>
        Cli.Wrap("podman")
            .WithArguments(a =>
            {
                // Empty means podman's defaults; whatever they are, every host must share them,
                // since a checkpoint records these paths and the restore uses them.
                if (host.PodmanRoot.Length > 0)
                {
                    a.Add("--root").Add(host.PodmanRoot);
                }
                if (host.PodmanRunRoot.Length > 0)
                {
                    a.Add("--runroot").Add(host.PodmanRunRoot);
                }
                a.Add("--runtime").Add(settings.Runtime);
                arguments(a);
            })
            .WithValidation(CommandResultValidation.None);

    private static ContainerRuntimeException Failure(string what, BufferedCommandResult result)
    {
        var error = result.StandardError.Trim();
        return new ContainerRuntimeException($"{what} failed (exit {result.ExitCode}): {(error.Length > 0 ? error : result.StandardOutput.Trim())}");
    }
}
