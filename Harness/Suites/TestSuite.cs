using AkkaMigration.Harness.Processes;
using CliWrap;

namespace AkkaMigration.Harness.Suites;

/// <summary>One category of Tests/ run alone on the simulated hosts (real podman and CRIU), its console kept in a file.</summary>
public static class TestSuite
{
    /// <returns>dotnet test's exit code.</returns>
    public static async Task<int> RunAsync(string category, string consoleLog, IReadOnlyDictionary<string, string?> environment, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(limit);
        await using var console = File.Create(consoleLog);
        var result = await Cli.Wrap("dotnet")
            .WithArguments(["test", Repo.Path("Tests", "Tests.csproj"), "-c", "Release", "--no-build", "-nologo",
                "--filter", $"Category={category}", "--logger", "console;verbosity=detailed"])
            .WithWorkingDirectory(Repo.Root)
            .WithEnvironmentVariables(environment)
            .WithStandardOutputPipe(PipeTarget.ToStream(console))
            .WithStandardErrorPipe(PipeTarget.ToStream(console))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(bounded.Token);
        return result.ExitCode;
    }

    /// <summary>The last lines of a console log, for a failure that left no result.</summary>
    public static string Tail(string consoleLog, int lines = 30) =>
        File.Exists(consoleLog) ? string.Join('\n', File.ReadLines(consoleLog).TakeLast(lines)) : "";
}
