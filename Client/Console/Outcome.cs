namespace AkkaMigration.Client.Console;

/// <summary>What a client operation printed, how the process should exit, and what a script gets as JSON.</summary>
/// <param name="Lines">Plain text; the last line is the headline a script reads.</param>
/// <param name="Answer">The node's record behind the outcome (or the client's own report), for <c>--json</c>.</param>
/// <param name="Error">Why it failed, without the <c>error:</c> prefix of <paramref name="Lines"/>.</param>
/// <param name="ClientMs">How long the client waited for the answer, once a first request had shown the node reachable.</param>
public sealed record Outcome(int ExitCode, IReadOnlyList<string> Lines, object? Answer = null, string? Error = null, long? ClientMs = null)
{
    public static Outcome Ok(object? answer, params string[] lines) => new(ExitCodes.Ok, lines, answer);

    public static Outcome Refused(string reason, object? answer = null, params string[] details) =>
        Failed(ExitCodes.Refused, reason, answer, details);

    public static Outcome BadInput(string reason) => Failed(ExitCodes.BadInput, reason, null, []);

    public static Outcome Unreachable(string reason) => Failed(ExitCodes.Unreachable, reason, null, []);

    /// <param name="details">Lines before the error, such as what a refused drain did move.</param>
    public static Outcome Failed(int exitCode, string reason, object? answer, string[] details) =>
        new(exitCode, [.. details, $"error: {reason}"], answer, reason);

    public bool Succeeded => ExitCode == ExitCodes.Ok;
}

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The cluster refused or the operation failed; nothing was lost.</summary>
    public const int Refused = 1;
    /// <summary>The input was wrong; nothing was sent.</summary>
    public const int BadInput = 2;
    /// <summary>A node could not be reached or did not answer in time.</summary>
    public const int Unreachable = 3;
}
