using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using AkkaMigration.Client.Console;
using AkkaMigration.Client.Session;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using Spectre.Console;

namespace AkkaMigration.Client.Commands;

/// <summary>The client's command line: interactive by default, one subcommand per operation for scripts.</summary>
public static class ClientCommandLine
{
    private static readonly Option<FileInfo> ConfigOption = new("--config")
    {
        Description = "The cluster's config.ini",
        DefaultValueFactory = _ => new FileInfo(ConfigLoader.DefaultFileName),
        Recursive = true,
    };

    private static readonly Option<string?> BindOption = new("--bind")
    {
        Description = "The client's own address, if not config.ini's [client] address",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("The AkkaMigration client. Without a subcommand it runs the interactive console.")
        {
            ConfigOption,
            BindOption,
            Submit(),
            Migrate(),
            Query(),
            Status(),
        };
        root.SetAction((parse, ct) => WithSession(parse, (operations, config) =>
            new InteractiveConsole(operations, config, AnsiConsole.Console, System.Console.In).RunAsync(ct)));
        return root;
    }

    private static Command Submit()
    {
        var number = new Argument<string>("number") { Description = "The number to add one to" };
        var id = new Option<string?>("--id") { Description = "The job's id (default: a new one)" };
        var on = new Option<string?>("--on") { Description = "The host to run it on (default: the executor)" };
        var work = new Option<int?>("--work-ms") { Description = "How long the work takes (default: config.ini)" };
        var state = new Option<int?>("--state-mb") { Description = "Pseudo-random memory the worker holds (default: config.ini)" };
        var command = new Command("submit", "Start a job that adds one to NUMBER; prints its id") { number, id, on, work, state };
        command.SetAction((parse, _) =>
        {
            if (!Input.TryParseNumber(parse.GetValue(number), out var value, out var error))
            {
                return Task.FromResult(Print(Outcome.BadInput(error)));
            }
            return WithSession(parse, async (operations, _) => Print(await operations.SubmitAsync(
                value, parse.GetValue(id) ?? Names.NewJobId(), parse.GetValue(on), parse.GetValue(work), parse.GetValue(state))));
        });
        return command;
    }

    private static Command Migrate()
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var target = new Argument<string>("target") { Description = "The host to move it to" };
        var from = new Option<string?>("--from") { Description = "The host to ask first (default: the executor; redirects are followed)" };
        var command = new Command("migrate", "Live-migrate a running job's container to another host") { job, target, from };
        command.SetAction((parse, _) => WithSession(parse, async (operations, _) =>
            Print(await operations.MigrateAsync(parse.GetValue(job)!, parse.GetValue(target)!, parse.GetValue(from)))));
        return command;
    }

    private static Command Query()
    {
        var job = new Argument<string>("job") { Description = "The job's id" };
        var on = new Option<string?>("--on") { Description = "The host to ask (default: the executor; redirects are followed)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job has finished" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait at most with --wait", DefaultValueFactory = _ => 120 };
        var command = new Command("query", "Show a job's state, or its result once finished") { job, on, wait, timeout };
        command.SetAction((parse, _) => WithSession(parse, async (operations, _) => Print(await operations.QueryAsync(
            parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(wait), TimeSpan.FromSeconds(parse.GetValue(timeout))))));
        return command;
    }

    private static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    private static Command Status()
    {
        var json = new Option<bool>("--json") { Description = "Print the hosts' answers as JSON, for scripts" };
        var command = new Command("status", "Show every host and the jobs it owns") { json };
        command.SetAction((parse, _) => WithSession(parse, async (operations, _) =>
        {
            var (nodes, unreachable) = await operations.StatusAsync();
            if (parse.GetValue(json))
            {
                System.Console.WriteLine(JsonSerializer.Serialize(new { nodes, unreachable }, JsonOutput));
                return unreachable.Count == 0 ? ExitCodes.Ok : ExitCodes.Unreachable;
            }
            var table = new Table().AddColumns("host", "job", "phase", "number", "result", "migrations", "submitted");
            foreach (var node in nodes)
            {
                if (node.Jobs.Length == 0)
                {
                    table.AddRow(node.Node, "-", "-", "", "", "", "");
                }
                foreach (var j in node.Jobs)
                {
                    table.AddRow(node.Node, j.JobId, j.Phase.ToString().ToLowerInvariant(), j.Number?.ToString() ?? "",
                        j.Result?.Value.ToString() ?? Markup.Escape(j.Error ?? ""), j.Migrations.ToString(), j.SubmittedAt.ToString("HH:mm:ss"));
                }
            }
            AnsiConsole.Write(table);
            foreach (var node in nodes)
            {
                AnsiConsole.MarkupLine($"{node.Node} sees up: {Markup.Escape(string.Join(" ", node.UpMembers))}");
            }
            foreach (var reason in unreachable)
            {
                AnsiConsole.MarkupLine($"[red]error: {Markup.Escape(reason)}[/]");
            }
            return unreachable.Count == 0 ? ExitCodes.Ok : ExitCodes.Unreachable;
        }));
        return command;
    }

    private static async Task<int> WithSession(ParseResult parse, Func<ClientOperations, MigrationConfig, Task<int>> body)
    {
        MigrationConfig config;
        ClusterTls tls;
        try
        {
            config = ConfigLoader.Load(parse.GetValue(ConfigOption)!.FullName);
            tls = ClusterTls.ForClient(config);
        }
        catch (ConfigException e)
        {
            return Print(Outcome.BadInput(e.Message));
        }
        await using var session = await ClientSession.StartAsync(config, tls, parse.GetValue(BindOption));
        return await body(new ClientOperations(session), config);
    }

    private static int Print(Outcome outcome)
    {
        foreach (var line in outcome.Lines)
        {
            (outcome.Succeeded ? System.Console.Out : System.Console.Error).WriteLine(line);
        }
        return outcome.ExitCode;
    }
}
