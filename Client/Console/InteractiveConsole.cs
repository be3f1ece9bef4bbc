using AkkaMigration.Shared.Config;
using Spectre.Console;

namespace AkkaMigration.Client.Console;

/// <summary>
/// The seed demo's prompt flow: insert a number, request a migration before the work is done,
/// query the result on the other node. With piped input (scripts, tests) it reads plain lines.
/// </summary>
public sealed class InteractiveConsole(ClientOperations operations, MigrationConfig config, IAnsiConsole console, TextReader input)
{
    private bool Interactive => console.Profile.Capabilities.Interactive && !System.Console.IsInputRedirected;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (System.Console.IsOutputRedirected)
        {
            // Piped into a log or a script: one answer per line, never wrapped at 80 columns.
            console.Profile.Width = 240;
        }
        console.Write(new Rule($"[bold]AkkaMigration[/] · cluster [blue]{config.SystemName}[/] · executor [blue]{config.Executor.Name}[/]").LeftJustified());
        var others = config.Hosts.Where(h => !h.Executor).Select(h => h.Name).ToList();
        var lastExit = ExitCodes.Ok;
        while (!cancellationToken.IsCancellationRequested)
        {
            var text = Ask("Insert a number (empty to quit)", "");
            if (string.IsNullOrWhiteSpace(text))
            {
                break;
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

            var target = Ask($"Migrate {jobId} to which host, before its {config.Container.WorkMillis / 1000.0:0.#} s are up? ({string.Join(", ", config.Hosts.Select(h => h.Name))}; 'no' to skip)",
                others.FirstOrDefault() ?? "no");
            // Where the job should be now: the target if it moved, else where it started.
            var owner = config.Executor.Name;
            if (!target.Equals("no", StringComparison.OrdinalIgnoreCase))
            {
                var migrated = await Progress($"migrating {jobId} to {target}", () => operations.MigrateAsync(jobId, target, null));
                Show(migrated);
                owner = migrated.Succeeded ? target : owner;
            }

            var on = Ask("Query the result on which host?", owner);
            var result = await Progress($"waiting for {jobId}", () => operations.QueryAsync(jobId, on, wait: true, TimeSpan.FromMinutes(10)));
            Show(result);
            lastExit = result.ExitCode;
        }
        return lastExit;
    }

    private string Ask(string question, string defaultAnswer)
    {
        if (Interactive)
        {
            return console.Prompt(new TextPrompt<string>(question).DefaultValue(defaultAnswer).AllowEmpty());
        }
        console.MarkupLine($"{Markup.Escape(question)} [[{Markup.Escape(defaultAnswer)}]]: ");
        var line = input.ReadLine()?.Trim();
        return string.IsNullOrEmpty(line) ? defaultAnswer : line;
    }

    private async Task<Outcome> Progress(string what, Func<Task<Outcome>> operation) =>
        Interactive
            ? await console.Status().StartAsync(what, _ => operation())
            : await operation();

    private void Show(Outcome outcome)
    {
        var colour = outcome.Succeeded ? "green" : "red";
        foreach (var line in outcome.Lines)
        {
            console.MarkupLine($"[{colour}]{Markup.Escape(line)}[/]");
        }
    }
}
