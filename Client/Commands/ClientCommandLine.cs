using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Commands;

/// <summary>The client's command line: interactive by default, one subcommand per operation for scripts.</summary>
public static class ClientCommandLine
{
    internal static readonly Option<FileInfo?> ConfigOption = new("--config")
    {
        Description = $"The cluster's config.ini (default: ${ConfigLocation.Variable}, else {ConfigLocation.Installed}, else ./config.ini)",
        Recursive = true,
    };

    /// <summary>On every subcommand (not the interactive console): scripts get one JSON document on stdout, errors included.</summary>
    internal static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print one JSON document on stdout, for scripts (errors too)",
    };

    /// <summary>podman's spelling of <c>--json</c>, on the verbs podman users list and look with: ps and inspect.</summary>
    internal static readonly Option<string?> FormatOption = CreateFormatOption();

    private static Option<string?> CreateFormatOption()
    {
        var format = new Option<string?>("--format") { Description = "json: one JSON document, as --json; table: the default" };
        format.AcceptOnlyFromAmong("json", "table");
        return format;
    }

    /// <summary>Whether the command line asks for JSON, by <c>--json</c> or <c>--format json</c>.</summary>
    internal static bool WantsJson(ParseResult parse) => parse.GetValue(JsonOption) || parse.GetValue(FormatOption) == "json";

    /// <summary>The interactive console's session, which a verb typed at its prompt uses instead of starting one of its own.</summary>
    private static readonly AsyncLocal<ConsoleSession?> InConsole = new();

    private sealed record ConsoleSession(ClientOperations Operations, MigrationConfig Config);

    /// <summary>Parses and runs; bad arguments exit 2 (nothing sent) with a readable message.</summary>
    public static Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken cancellationToken = default) =>
        ParseAndInvokeAsync(args, terminal, new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error }, cancellationToken);

    /// <summary>
    /// Runs one command line typed at the interactive console's prompt, as the command line would run
    /// it, on the console's own session. Ctrl-C, which ends a <c>watch</c> or <c>logs -f</c>, ends the console too.
    /// </summary>
    internal static async Task<int> RunInConsoleAsync(string[] args, Terminal terminal, ClientOperations operations, MigrationConfig config,
        CancellationToken cancellationToken)
    {
        // Set in this async method, so it holds for this command only.
        InConsole.Value = new ConsoleSession(operations, config);
        // The console's own invocation already turns Ctrl-C into the token.
        return await ParseAndInvokeAsync(args, terminal,
            new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error, ProcessTerminationTimeout = null }, cancellationToken);
    }

    private static Task<int> ParseAndInvokeAsync(string[] args, Terminal terminal, InvocationConfiguration invocation, CancellationToken cancellationToken)
    {
        var root = Build(terminal);
        // No @file expansion: a container's argument may start with '@'.
        var parse = root.Parse(KeepContainerArguments(root, args), new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            var help = parse.CommandResult.Command == root ? "--help" : $"{parse.CommandResult.Command.Name} --help";
            return Task.FromResult(Report(terminal, WantsJson(parse), Outcome.BadInput(
                $"{string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')))}; see {help}")));
        }
        return parse.InvokeAsync(invocation, cancellationToken);
    }

    private static RootCommand Build(Terminal terminal)
    {
        var root = new RootCommand("The AkkaMigration client. Without a subcommand it runs the interactive console.")
        {
            ConfigOption,
            JobCommands.Submit(terminal),
            JobCommands.Run(terminal),
            JobCommands.Migrate(terminal),
            JobCommands.Query(terminal),
            JobCommands.Logs(terminal),
            JobCommands.Stop(terminal),
            JobCommands.Cancel(terminal),
            ResolveCommand.Build(terminal),
            JobRecordCommands.List(terminal),
            JobRecordCommands.Inspect(terminal),
            JobRecordCommands.Remove(terminal),
            JobRecordCommands.Prune(terminal),
            NodeCommands.Drain(terminal),
            NodeCommands.Cordon(terminal, cordon: true),
            NodeCommands.Cordon(terminal, cordon: false),
            NodeCommands.Status(terminal),
            NodeCommands.Node(terminal),
            WatchCommand.Build(terminal),
            CompletionCommand.Build(terminal),
        };
        root.SetAction(async (parse, ct) =>
        {
            var outcome = await WithSession(parse, async (operations, config) =>
                new Outcome(await new InteractiveConsole(operations, config, terminal,
                    new CommandVerbs([.. root.Subcommands.Select(c => c.Name)], (args, verbCt) => RunInConsoleAsync(args, terminal, operations, config, verbCt))).RunAsync(ct), []));
            return Report(terminal, json: false, outcome);
        });
        return root;
    }

    internal static async Task<int> Execute(ParseResult parse, Terminal terminal, Func<ClientOperations, Task<Outcome>> operation) =>
        Report(terminal, WantsJson(parse), await WithSession(parse, (operations, _) => operation(operations)));

    internal static async Task<Outcome> WithSession(ParseResult parse, Func<ClientOperations, MigrationConfig, Task<Outcome>> body)
    {
        if (InConsole.Value is { } console)
        {
            return await body(console.Operations, console.Config);
        }
        ClientSession session;
        try
        {
            session = await ClientSession.StartAsync(ConfigLoader.Discover(parse.GetValue(ConfigOption)?.FullName));
        }
        catch (ConfigException e)
        {
            return Outcome.BadInput(e.Message);
        }
        await using (session)
        {
            return await body(new ClientOperations(session), session.Config);
        }
    }

    internal static int Report(Terminal terminal, bool json, Outcome outcome)
    {
        if (json)
        {
            terminal.Out.WriteLine(OutcomeJson.Serialize(outcome));
            return outcome.ExitCode;
        }
        foreach (var line in outcome.Lines)
        {
            // A node's text (a failed worker's last line is in its error) reaches the terminal only printable.
            (outcome.Succeeded ? terminal.Out : terminal.Error).WriteLine(TerminalText.Printable(line));
        }
        return outcome.ExitCode;
    }

    /// <summary>
    /// Like docker run: everything after run's IMAGE is the container's, even "--port" or "--json".
    /// A "--" put right after IMAGE makes System.CommandLine take the rest as arguments.
    /// </summary>
    private static string[] KeepContainerArguments(RootCommand root, string[] args)
    {
        var run = root.Subcommands.Single(c => c.Name == "run");
        Option[] runOptions = [.. run.Options, .. root.Options.Where(o => o.Recursive)];
        var i = SkipOptions(root.Options, args, 0);
        if (i >= args.Length || args[i] != run.Name)
        {
            return args;
        }
        // To NAME, then to IMAGE, each maybe after some of run's options.
        for (var positional = 0; positional < 2; positional++)
        {
            i = SkipOptions(runOptions, args, i + 1);
            if (i >= args.Length || args[i] == "--")
            {
                return args;
            }
        }
        return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
    }

    /// <summary>The index of the first token from <paramref name="i"/> on that is neither one of <paramref name="options"/> nor its value.</summary>
    private static int SkipOptions(IList<Option> options, string[] args, int i)
    {
        while (i < args.Length)
        {
            var name = args[i].Split('=', ':')[0];
            var option = options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name));
            if (option is null)
            {
                return i;
            }
            var separateValue = option.Arity.MaximumNumberOfValues > 0 && option.ValueType != typeof(bool) && name.Length == args[i].Length;
            i += separateValue ? 2 : 1;
        }
        return i;
    }
}
