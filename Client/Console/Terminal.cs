using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>
/// Where the client writes and reads. Answers go to <see cref="Out"/>, which scripts parse, and errors
/// to <see cref="Error"/>; <see cref="Rich"/> renders tables, prompts and live displays onto <see cref="Out"/>.
/// </summary>
/// <param name="OutputIsTerminal">A person watches stdout: live progress may be drawn there.</param>
/// <param name="InputIsTerminal">A person types: Spectre prompts may be used instead of plain lines.</param>
public sealed record Terminal(TextWriter Out, TextWriter Error, TextReader In, IAnsiConsole Rich, bool OutputIsTerminal, bool InputIsTerminal)
{
    /// <summary>Piped into a log or a script: one answer per line, never wrapped at 80 columns.</summary>
    private const int RedirectedWidth = 240;

    public bool CanPrompt => InputIsTerminal && Rich.Profile.Capabilities.Interactive;

    public static Terminal FromSystemConsole()
    {
        var rich = AnsiConsole.Console;
        if (System.Console.IsOutputRedirected)
        {
            rich.Profile.Width = RedirectedWidth;
        }
        return new Terminal(System.Console.Out, System.Console.Error, System.Console.In, rich,
            !System.Console.IsOutputRedirected, !System.Console.IsInputRedirected);
    }

    /// <summary>Plain text only, no colours, prompts or live displays: what a script sees, and what specs capture.</summary>
    public static Terminal Redirected(TextWriter output, TextWriter error, TextReader input)
    {
        var rich = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        rich.Profile.Width = RedirectedWidth;
        return new Terminal(output, error, input, rich, OutputIsTerminal: false, InputIsTerminal: false);
    }
}
