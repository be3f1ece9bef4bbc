using CliWrap;
using CliWrap.Buffered;
using CliWrap.Builders;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Runtime;

/// <summary>
/// podman on one host's store through CliWrap. Each call is bounded: a podman process still
/// running at its limit is killed, and the call fails.
/// </summary>
/// <param name="enter">
/// nsenter's arguments into a simulated host's namespaces, for the harness, which runs podman in
/// the hosts from outside; null (the node's case): podman runs where this process runs.
/// </param>
public sealed class PodmanCli(HostEntry host, ContainerSettings settings, IReadOnlyList<string>? enter = null)
{
    /// <summary>Inspect, logs, remove, run: podman answers these in well under a second on an idle machine.</summary>
    public static readonly TimeSpan QuickLimit = TimeSpan.FromMinutes(2);

    /// <summary>podman's output; a non-zero exit throws with what it printed.</summary>
    public async Task<string> RunAsync(Action<ArgumentsBuilder> arguments, TimeSpan limit, CancellationToken cancellationToken)
    {
        var result = await ExecuteAsync(arguments, limit, cancellationToken);
        return result.ExitCode == 0 ? result.StandardOutput : throw Failure("podman", result);
    }

    /// <summary>podman's result whatever its exit code, for callers that read the code themselves.</summary>
    public async Task<BufferedCommandResult> ExecuteAsync(Action<ArgumentsBuilder> arguments, TimeSpan limit, CancellationToken cancellationToken)
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

    /// <summary>A podman that serves until it exits by itself or <paramref name="cancellationToken"/> kills it (the REST service).</summary>
    public Task RunUntilExitAsync(Action<ArgumentsBuilder> arguments, CancellationToken cancellationToken) =>
        Command(arguments).ExecuteAsync(cancellationToken).Task;

    public static CancellationTokenSource Limit(TimeSpan limit, CancellationToken cancellationToken)
    {
        var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        return bounded;
    }

    public static ContainerRuntimeException Failure(string what, BufferedCommandResult result)
    {
        var error = result.StandardError.Trim();
        return new ContainerRuntimeException($"{what} failed (exit {result.ExitCode}): {(error.Length > 0 ? error : result.StandardOutput.Trim())}");
    }

    private Command Command(Action<ArgumentsBuilder> arguments) =>
        Cli.Wrap(enter is null ? "podman" : "nsenter")
            .WithArguments(a =>
            {
                if (enter is not null)
                {
                    a.Add(enter).Add("podman");
                }
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
            // The node's own systemd notify socket is not podman's: its REST service would report
            // READY and itself as the unit's main process there.
            .WithEnvironmentVariables(e => e.Set("NOTIFY_SOCKET", null))
            .WithValidation(CommandResultValidation.None);
}
