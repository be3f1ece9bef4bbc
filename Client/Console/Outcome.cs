namespace AkkaMigration.Client.Console;

/// <summary>What a client operation printed and how the process should exit.</summary>
/// <param name="Lines">Plain text; the last line is the headline a script reads.</param>
public sealed record Outcome(int ExitCode, IReadOnlyList<string> Lines)
{
    public static Outcome Ok(params string[] lines) => new(ExitCodes.Ok, lines);

    public static Outcome Refused(string reason) => new(ExitCodes.Refused, [$"error: {reason}"]);

    public static Outcome BadInput(string reason) => new(ExitCodes.BadInput, [$"error: {reason}"]);

    public static Outcome Unreachable(string reason) => new(ExitCodes.Unreachable, [$"error: {reason}"]);

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
