using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>The subcommands that start, move, stop and ask about one job.</summary>
public static class JobCommands
{
    /// <summary>How often <c>logs -f</c> asks for new lines.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromSeconds(1);

    public static Command Submit(Terminal terminal)
    {
        var number = new Argument<string>("number") { Description = "The number to add one to" };
        var id = new Option<string?>("--id") { Description = "The job's id (default: a new one)" };
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to run it on (default: the executor)" });
        var work = new Option<int?>("--work-ms") { Description = "How long the work takes (default: config.ini)" };
        var state = new Option<int?>("--state-mb") { Description = "Pseudo-random memory the worker holds (default: config.ini)" };
        var (protect, replicas) = ProtectionOptions();
        var command = new Command("submit", "Start a job that adds one to NUMBER; prints its id") { number, id, on, work, state, protect, replicas, JsonOption };
        command.SetAction((parse, _) =>
            Input.TryParseNumber(parse.GetValue(number), out var value, out var error)
            && Input.TryParseProtection(parse.GetValue(protect), parse.GetValue(replicas), out var protection, out error)
                ? Execute(parse, terminal, operations => operations.SubmitAsync(
                    value, parse.GetValue(id) ?? Names.NewJobId(), parse.GetValue(on), parse.GetValue(work), parse.GetValue(state), protection))
                : Task.FromResult(Report(terminal, WantsJson(parse), Outcome.BadInput(error))));
        return command;
    }

    public static Command Run(Terminal terminal)
    {
        var name = new Argument<string>("name") { Description = "The container's name, which is its job id" };
        var image = new Argument<string>("image") { Description = "An image the host has" };
        var arguments = new Argument<string[]>("args")
        {
            Description = "Passed to the container as they are, even ones starting with '-' (so put the client's own options before NAME)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to run it on (default: the executor)" });
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
        var (protect, replicas) = ProtectionOptions();
        var command = new Command("run", "Run any image as a managed container that can then be migrated")
        {
            name, image, arguments, on, network, ip, env, volume, memory, cpus, publish, protect, replicas, JsonOption,
        };
        command.SetAction((parse, _) =>
        {
            if (parse.GetValue(publish) is { Length: > 0 })
            {
                // A host port leads to one host; after a move it would lead nowhere, and its open connections break.
                return Task.FromResult(Report(terminal, WantsJson(parse), Outcome.BadInput(
                    "--publish: a published host port stays on the host the container leaves, so it cannot move; " +
                    "run it with --network cluster and reach it at its own address, which moves with it")));
            }
            if (!Input.TryParseProtection(parse.GetValue(protect), parse.GetValue(replicas), out var protection, out var error))
            {
                return Task.FromResult(Report(terminal, WantsJson(parse), Outcome.BadInput(error)));
            }
            var address = parse.GetValue(ip);
            var service = new ServiceOptions(
                address is not null || parse.GetValue(network) == "cluster" ? JobNetwork.Cluster : JobNetwork.None,
                address, parse.GetValue(volume) ?? [], parse.GetValue(memory), parse.GetValue(cpus));
            return Execute(parse, terminal, operations => operations.RunAsync(
                parse.GetValue(name)!, parse.GetValue(image)!, parse.GetValue(arguments) ?? [], parse.GetValue(on), parse.GetValue(env) ?? [], service, protection));
        });
        return command;
    }

    /// <summary>run's and submit's --protect and --replicas, read by <see cref="Input.TryParseProtection"/>.</summary>
    private static (Option<string?> Protect, Option<int?> Replicas) ProtectionOptions()
    {
        var protect = new Option<string?>("--protect")
        {
            HelpName = "EVERY",
            Description = "Checkpoint the job this often (e.g. 5s, 1m) onto other hosts, which resume it if its host is lost; off: not at all (default: config.ini's [ha])",
        };
        protect.CompletionSources.Add("off", "2s", "5s", "30s", "1m");
        var replicas = new Option<int?>("--replicas") { HelpName = "N", Description = "How many other hosts keep its latest checkpoint, with --protect (default: 1)" };
        return (protect, replicas);
    }

    public static Command Migrate(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var target = Completions.Hosts(new Argument<string?>("target")
        {
            Description = "The host to move it to (default: the node picks its least-loaded peer)",
            Arity = ArgumentArity.ZeroOrOne,
        });
        var from = Completions.Hosts(new Option<string?>("--from") { Description = "The host to ask first (default: the executor; redirects are followed)" });
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
            return terminal.OutputIsTerminal && !WantsJson(parse)
                ? MigrationProgressView.ShowAsync(terminal.Rich, Move)
                : Move(null);
        }));
        return command;
    }

    public static Command Query(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; redirects are followed)" });
        var wait = new Option<bool>("--wait") { Description = "Wait until the job has finished" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait at most with --wait", DefaultValueFactory = _ => 120 };
        var command = new Command("query", "Show a job's state, or its result once finished") { job, on, wait, timeout, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.QueryAsync(
            parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(wait), TimeSpan.FromSeconds(parse.GetValue(timeout)))));
        return command;
    }

    public static Command Logs(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; redirects are followed)" });
        var tail = new Option<int>("--tail") { Description = "How many of the last lines", DefaultValueFactory = _ => 20 };
        var follow = new Option<bool>("--follow", "-f")
        {
            Description = "Then print new lines as they come, following the job when it moves, until it ends or Ctrl-C",
        };
        var timestamps = new Option<bool>("--timestamps", "-t") { Description = "Each line after the second it was logged (UTC)" };
        var command = new Command("logs", "Print the last lines a job's container wrote (kept after it ends); with -f, new ones as they come")
        {
            job, on, tail, follow, timestamps, JsonOption,
        };
        command.SetAction((parse, cancellation) =>
        {
            if (!parse.GetValue(follow))
            {
                return Execute(parse, terminal, operations => operations.LogsAsync(parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(tail), parse.GetValue(timestamps)));
            }
            if (WantsJson(parse))
            {
                return Task.FromResult(Report(terminal, json: true, Outcome.BadInput("--follow prints lines as they come; --json prints one document: choose one")));
            }
            // The container's lines on stdout as they are; the client's remarks on stderr, out of their way.
            return Execute(parse, terminal, operations => operations.FollowLogsAsync(parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(tail),
                parse.GetValue(timestamps), FollowInterval, terminal.Out.WriteLine, terminal.Error.WriteLine, cancellation));
        });
        return command;
    }

    public static Command Stop(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the owner)" });
        var command = new Command("stop", "Stop a job's container (SIGTERM, SIGKILL after 10 s); the job ends with its exit code") { job, on, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.StopAsync(parse.GetValue(job)!, parse.GetValue(on))));
        return command;
    }

    public static Command Cancel(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the owner)" });
        var command = new Command("cancel", "Cancel a job's migration: before the freeze it stops at once; during the checkpoint the job resumes where it was; later it says why not")
        {
            job, on, JsonOption,
        };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.CancelAsync(parse.GetValue(job)!, parse.GetValue(on))));
        return command;
    }
}
