using CliWrap;
using CliWrap.Buffered;

namespace AkkaMigration.Tests.Support;

/// <summary>Runs a command for a test, bounded in time; the result says what it printed.</summary>
public static class Shell
{
    public static async Task<BufferedCommandResult> RunAsync(
        string program, IEnumerable<string> arguments, TimeSpan limit, string? input = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var timeout = new CancellationTokenSource(limit);
        var command = Cli.Wrap(program)
            .WithArguments(arguments)
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
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {limit}");
        }
    }

    public static async Task<string> CheckedAsync(string program, params string[] arguments)
    {
        var result = await RunAsync(program, arguments, Patience.Command);
        return result.ExitCode == 0
            ? result.StandardOutput
            : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.StandardError}");
    }
}
