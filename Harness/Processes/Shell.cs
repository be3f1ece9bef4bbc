using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Harness.Processes;

/// <summary>Runs a command, bounded in time; the result says what it printed.</summary>
public static class Shell
{
    /// <summary>What a quick command (ip, nft, tc, podman ps, a client call) may take on a busy machine, and a little more.</summary>
    public static readonly TimeSpan QuickLimit = TimeSpan.FromMinutes(3);

    public static async Task<BufferedCommandResult> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan limit, string? input = null,
        IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        var command = Cli.Wrap(program)
            .WithArguments(list)
            .WithWorkingDirectory(Repo.Root)
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithValidation(CommandResultValidation.None);
        if (input is not null)
        {
            command = command.WithStandardInputPipe(PipeSource.FromString(input));
        }
        try
        {
            return await command.ExecuteBufferedAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{program} {string.Join(' ', list)} did not finish within {limit}");
        }
    }

    /// <summary>The command's output; a non-zero exit throws with what it printed.</summary>
    public static async Task<string> CheckedAsync(
        string program, IEnumerable<string> arguments, TimeSpan limit, string? input = null, CancellationToken cancellationToken = default)
    {
        var list = arguments.ToList();
        var result = await RunAsync(program, list, limit, input, cancellationToken: cancellationToken);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"{program} {string.Join(' ', list)} failed ({result.ExitCode}): {result.StandardError.Trim()}{result.StandardOutput.Trim()}");
    }

    public static Task<string> CheckedAsync(string program, params string[] arguments) => CheckedAsync(program, arguments, QuickLimit);
}
