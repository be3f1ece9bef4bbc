using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Client.Commands;

/// <summary>The client's command line: interactive by default, one subcommand per operation for scripts.</summary>
public static class ClientCommandLine
{
    private static readonly Option<FileInfo?> ConfigOption = new("--config")
    {
        Description = $"The cluster's config.ini (default: ${ConfigLocation.Variable}, else {ConfigLocation.Installed}, else ./config.ini)",
        Recursive = true,
    };

    /// <summary>On every subcommand (not the interactive console): scripts get one JSON document on stdout, errors included.</summary>
    private static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print one JSON document on stdout, for scripts (errors too)",
    };

    /// <summary>Parses and runs; bad arguments exit 2 (nothing sent) with a readable message.</summary>
    public static Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken cancellationToken = default)
    {
        var root = Build(terminal);
        // No @file expansion: a container's argument may start with '@'.
        var parse = root.Parse(KeepContainerArguments(root, args), new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            var help = parse.CommandResult.Command == root ? "--help" : $"{parse.CommandResult.Command.Name} --help";
            return Task.FromResult(Report(terminal, parse.GetValue(JsonOption), Outcome.BadInput(
                $"{string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')))}; see {help}")));
        }
        return parse.InvokeAsync(new InvocationConfiguration { Output = terminal.Out, Error = terminal.Error }, cancellationToken);
    }

    private static RootCommand Build(Terminal terminal)
    {
        var root = new RootCommand("The AkkaMigration client. Without a subcommand it runs the interactive console.")
        {
            ConfigOption,
            Submit(terminal),
            Run(terminal),
            Migrate(terminal),
            Query(terminal),
            Logs(terminal),
            Stop(terminal),
            Drain(terminal),
            Status(terminal),
        };
        root.SetAction(async (parse, ct) =>
        {
            var outcome = await WithSession(parse, async (operations, config) =>
                new Outcome(await new InteractiveConsole(operations, config, terminal).RunAsync(ct), []));
            return Report(terminal, json: false, outcome);
        });
        return root;
    }

    private static Command Submit(Terminal terminal)
    {
        var number = new Argument<string>("number") { Description = "The number to add one to" };
        var id = new Option<string?>("--id") { Description = "The job's id (default: a new one)" };
        var on = new Option<string?>("--on") { Description = "The host to run it on (default: the executor)" };
        var work = new Option<int?>("--work-ms") { Description = "How long the work takes (default: config.ini)" };
        var state = new Option<int?>("--state-mb") { Description = "Pseudo-random memory the worker holds (default: config.ini)" };
        var command = new Command("submit", "Start a job that adds one to NUMBER; prints its id") { number, id, on, work, state, JsonOption };
        command.SetAction((parse, _) => Input.TryParseNumber(parse.GetValue(number), out var value, out var error)
            ? Execute(parse, terminal, operations => operations.SubmitAsync(
                value, parse.GetValue(id) ?? Names.NewJobId(), parse.GetValue(on), parse.GetValue(work), parse.GetValue(state)))
            : Task.FromResult(Report(terminal, parse.GetValue(JsonOption), Outcome.BadInput(error))));
        return command;
    }

    private static Command Run(Terminal terminal)
    {
        var name = new Argument<string>("name") { Description = "The container's name, which is its job id" };
        var image = new Argument<string>("image") { Description = "An image the host has" };
        var arguments = new Argument<string[]>("args")
        {
            Description = "Passed to the container as they are, even ones starting with '-' (so put the client's own options before NAME)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var on = new Option<string?>("--on") { Description = "The host to run it on (default: the executor)" };
        var network = new Option<string>("--network")
        {
            Description = "none, or cluster: an address on the service network that moves with it, open connections included",
            DefaultValueFactory = _ => "none",
        };
        network.AcceptOnlyFromAmong("none", "cluster");
        var ip = new Option<string?>("--ip") { Description = "The service's address (default: the cluster picks a free one); implies --network cluster" };
        var env = new Option<string[]>("--env", "-e") { Description = "NAME=VALUE, as many as needed", AllowMultipleArgumentsPerToken = false };
        var volume = new Option<string[]>("--volume", "-v") { Description = "NAME:/path[:ro], a named volume whose data moves with the container" };
        var memory = new Option<string?>("--memory", "-m") { Description = "Memory limit, e.g. 512m" };
        var cpus = new Option<string?>("--cpus") { Description = "CPU limit, e.g. 1.5" };
        var publish = new Option<string[]>("--publish", "-p") { Description = "Not supported: see the error it gives" };
        var command = new Command("run", "Run any image as a managed container that can then be migrated")
        {
            name, image, arguments, on, network, ip, env, volume, memory, cpus, publish, JsonOption,
        };
        command.SetAction((parse, _) =>
        {
            if (parse.GetValue(publish) is { Length: > 0 })
            {
                // A host port leads to one host; after a move it would lead nowhere, and its open connections break.
                return Task.FromResult(Report(terminal, parse.GetValue(JsonOption), Outcome.BadInput(
                    "--publish: a published host port stays on the host the container leaves, so it cannot move; " +
                    "run it with --network cluster and reach it at its own address, which moves with it")));
            }
            var address = parse.GetValue(ip);
            var service = new ServiceOptions(
                address is not null || parse.GetValue(network) == "cluster" ? JobNetwork.Cluster : JobNetwork.None,
                address, parse.GetValue(volume) ?? [], parse.GetValue(memory), parse.GetValue(cpus));
            return Execute(parse, terminal, operations => operations.RunAsync(
                parse.GetValue(name)!, parse.GetValue(image)!, parse.GetValue(arguments) ?? [], parse.GetValue(on), parse.GetValue(env) ?? [], service));
        });
        return command;
    }

    private static Command Migrate(Terminal terminal)
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var target = new Argument<string?>("target")
        {
            Description = "The host to move it to (default: the node picks its least-loaded peer)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var from = new Option<string?>("--from") { Description = "The host to ask first (default: the executor; redirects are followed)" };
        var check = new Option<bool>("--check") { Description = "Only say whether it can move now, and if not, why; nothing is frozen" };
        var command = new Command("migrate", "Live-migrate a running job's container to another host") { job, target, from, check, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations =>
        {
            if (parse.GetValue(check))
            {
                return operations.CheckMigrationAsync(parse.GetValue(job)!, parse.GetValue(target), parse.GetValue(from));
            }
            Task<Outcome> Move(IProgress<MigrationProgress>? progress) =>
                operations.MigrateAsync(parse.GetValue(job)!, parse.GetValue(target), parse.GetValue(from), progress);
            // A live display only for a person: scripts parse stdout, and --json must be its only content.
            return terminal.OutputIsTerminal && !parse.GetValue(JsonOption)
                ? MigrationProgressView.ShowAsync(terminal.Rich, Move)
                : Move(null);
        }));
        return command;
    }

    private static Command Query(Terminal terminal)
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var on = new Option<string?>("--on") { Description = "The host to ask (default: the executor; redirects are followed)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job has finished" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait at most with --wait", DefaultValueFactory = _ => 120 };
        var command = new Command("query", "Show a job's state, or its result once finished") { job, on, wait, timeout, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.QueryAsync(
            parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(wait), TimeSpan.FromSeconds(parse.GetValue(timeout)))));
        return command;
    }

    private static Command Logs(Terminal terminal)
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var on = new Option<string?>("--on") { Description = "The host to ask (default: the executor; redirects are followed)" };
        var tail = new Option<int>("--tail") { Description = "How many of the last lines", DefaultValueFactory = _ => 20 };
        var command = new Command("logs", "Print the last lines a job's container wrote (kept after it ends)") { job, on, tail, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations =>
            operations.LogsAsync(parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(tail))));
        return command;
    }

    private static Command Stop(Terminal terminal)
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var on = new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the owner)" };
        var command = new Command("stop", "Stop a job's container (SIGTERM, SIGKILL after 10 s); the job ends with its exit code") { job, on, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.StopAsync(parse.GetValue(job)!, parse.GetValue(on))));
        return command;
    }

    private static Command Drain(Terminal terminal)
    {
        var node = new Argument<string>("node") { Description = "The host to empty" };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait at most (default: as long as one migration may take)" };
        var command = new Command("drain", "Move every container off NODE to its peers; NODE then leaves the cluster") { node, timeout, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.DrainAsync(parse.GetValue(node)!,
            parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : operations.MigrationWait)));
        return command;
    }

    private static Command Status(Terminal terminal)
    {
        var command = new Command("status", "Show every host, the jobs it owns and the members it sees up") { JsonOption };
        command.SetAction(async (parse, _) =>
        {
            var outcome = await WithSession(parse, (operations, _) => operations.StatusAsync());
            if (parse.GetValue(JsonOption) || outcome.Answer is not ClusterStatus status)
            {
                return Report(terminal, parse.GetValue(JsonOption), outcome);
            }
            if (status.Nodes.Length > 0)
            {
                terminal.Rich.Write(StatusTable.Build(status, DateTimeOffset.Now));
            }
            foreach (var node in status.Nodes)
            {
                // Scripts wait for the cluster by grepping these lines (scripts/lib.sh).
                terminal.Out.WriteLine($"{node.Node} sees up: {string.Join(" ", node.UpMembers)}");
            }
            return Report(terminal, json: false, outcome);
        });
        return command;
    }

    private static async Task<int> Execute(ParseResult parse, Terminal terminal, Func<ClientOperations, Task<Outcome>> operation) =>
        Report(terminal, parse.GetValue(JsonOption), await WithSession(parse, (operations, _) => operation(operations)));

    private static async Task<Outcome> WithSession(ParseResult parse, Func<ClientOperations, MigrationConfig, Task<Outcome>> body)
    {
        MigrationConfig config;
        ClusterTls tls;
        try
        {
            config = ConfigLoader.Discover(parse.GetValue(ConfigOption)?.FullName);
            tls = ClusterTls.ForClient(config);
        }
        catch (ConfigException e)
        {
            return Outcome.BadInput(e.Message);
        }
        await using var session = await ClientSession.StartAsync(config, tls);
        return await body(new ClientOperations(session), config);
    }

    private static int Report(Terminal terminal, bool json, Outcome outcome)
    {
        if (json)
        {
            terminal.Out.WriteLine(OutcomeJson.Serialize(outcome));
            return outcome.ExitCode;
        }
        foreach (var line in outcome.Lines)
        {
            (outcome.Succeeded ? terminal.Out : terminal.Error).WriteLine(line);
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
