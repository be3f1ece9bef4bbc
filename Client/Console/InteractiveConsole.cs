using System.CommandLine.Parsing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>
/// The seed demo's prompt flow: insert a number, request a migration before the work is done,
/// query the result on the other node. At the same prompt, any verb of the command line runs as it
/// would there (<c>ps</c>, <c>logs -f JOB</c>, <c>help</c>). A person gets Spectre prompts; piped
/// input (scripts, tests) is read as plain lines, one answer each, an empty line taking the default.
/// </summary>
public sealed class InteractiveConsole(ClientOperations operations, MigrationConfig config, Terminal terminal, CommandVerbs verbs)
{
    private const string Help = "help";

    private const string Skip = "no";
    private const string AnyPeer = "any";

    private IAnsiConsole Screen => terminal.Rich;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        Screen.Write(new Rule($"[bold]AkkaMigration[/] · cluster [blue]{Markup.Escape(config.SystemName)}[/] · executor [blue]{Markup.Escape(config.Executor.Name)}[/]").LeftJustified());
        var hosts = config.Hosts.Select(h => h.Name).ToList();
        var others = config.Hosts.Where(h => !h.Executor).Select(h => h.Name).ToList();
        var lastExit = ExitCodes.Ok;
        while (!cancellationToken.IsCancellationRequested)
        {
            var text = AskNumberOrVerb();
            if (string.IsNullOrWhiteSpace(text))
            {
                break;
            }
            if (AsVerb(text) is { } command)
            {
                lastExit = await verbs.Run(command, cancellationToken);
                continue;
            }
            if (!Input.TryParseNumber(text, out var number, out var error))
            {
                Show(Outcome.BadInput(error));
                continue;
            }

            var jobId = Names.NewJobId();
            var submitted = await operations.SubmitAsync(number, jobId, null, null, null);
            Show(submitted);
            if (!submitted.Succeeded)
            {
                lastExit = submitted.ExitCode;
                continue;
            }

            var target = Ask($"Migrate {jobId} to which host, before its {config.Container.WorkMillis / 1000.0:0.#} s are up? ({string.Join(", ", hosts)}; '{AnyPeer}' for the least-loaded; '{Skip}' to skip)",
                [.. others, AnyPeer, .. hosts.Except(others), Skip]);
            // Where the job should be now: where it moved, else where it started.
            var owner = config.Executor.Name;
            if (!target.Equals(Skip, StringComparison.OrdinalIgnoreCase))
            {
                var migrated = await MigrateAsync(jobId, target.Equals(AnyPeer, StringComparison.OrdinalIgnoreCase) ? null : target);
                Show(migrated);
                owner = migrated.Answer is MigrationSucceeded moved ? moved.To : owner;
            }

            var on = Ask("Query the result on which host?", [owner, .. hosts.Where(h => h != owner)]);
            var result = await Busy($"waiting for {jobId}", () => operations.QueryAsync(jobId, on, wait: true, TimeSpan.FromMinutes(10)));
            Show(result);
            lastExit = result.ExitCode;
        }
        return lastExit;
    }

    private string AskNumberOrVerb()
    {
        const string question = "Insert a number, or a command such as ps, watch or logs -f JOB ('help' lists them; empty to quit)";
        if (!terminal.CanPrompt)
        {
            return AskLine(question, "");
        }
        return Screen.Prompt(new TextPrompt<string>(question).AllowEmpty().Validate(text =>
            string.IsNullOrWhiteSpace(text) || AsVerb(text) is not null || Input.TryParseNumber(text, out _, out var error)
                ? ValidationResult.Success()
                : ValidationResult.Error($"[red]{Markup.Escape(error)}[/]")));
    }

    /// <param name="choices">The default first.</param>
    private string Ask(string question, IReadOnlyList<string> choices) =>
        terminal.CanPrompt
            ? Screen.Prompt(new SelectionPrompt<string>().Title(Markup.Escape(question)).AddChoices(choices).UseConverter(choice => choice switch
            {
                AnyPeer => "any: the least-loaded peer",
                Skip => "no: let it finish where it is",
                _ => Markup.Escape(choice),
            }))
            : AskLine(question, choices[0]);

    private string AskLine(string question, string defaultAnswer)
    {
        Screen.MarkupLine($"{Markup.Escape(question)} [[{Markup.Escape(defaultAnswer)}]]: ");
        var line = terminal.In.ReadLine()?.Trim();
        return string.IsNullOrEmpty(line) ? defaultAnswer : line;
    }

    /// <summary>The words of a command line whose first is a verb (or help), else null: a number, or a mistake in one.</summary>
    private string[]? AsVerb(string text)
    {
        string[] words = [.. CommandLineParser.SplitCommandLine(text)];
        return words switch
        {
            [Help or "--help" or "-h", ..] => ["--help"],
            [var verb, ..] when verbs.Names.Contains(verb) => words,
            _ => null,
        };
    }

    private Task<Outcome> MigrateAsync(string jobId, string? target) =>
        terminal.OutputIsTerminal
            ? MigrationProgressView.ShowAsync(Screen, progress => operations.MigrateAsync(jobId, target, null, progress))
            : operations.MigrateAsync(jobId, target, null);

    private async Task<Outcome> Busy(string what, Func<Task<Outcome>> operation) =>
        terminal.OutputIsTerminal
            ? await Screen.Status().StartAsync(what, _ => operation())
            : await operation();

    private void Show(Outcome outcome)
    {
        var colour = outcome.Succeeded ? "green" : "red";
        foreach (var line in outcome.Lines)
        {
            Screen.MarkupLine($"[{colour}]{Markup.Escape(TerminalText.Printable(line))}[/]");
        }
    }
}

/// <summary>The command line's verbs, for the console to offer: their names, and how one typed line runs.</summary>
public sealed record CommandVerbs(IReadOnlyList<string> Names, Func<string[], CancellationToken, Task<int>> Run);
