using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>The subcommands that list, inspect and forget jobs: ps, inspect, rm, prune.</summary>
public static class JobRecordCommands
{
    public static Command List(Terminal terminal)
    {
        var node = Completions.Hosts(new Option<string?>("--node") { Description = "Only the jobs this host owns" });
        var phase = new Option<string?>("--phase") { Description = "Only jobs in this phase" };
        phase.AcceptOnlyFromAmong([.. Enum.GetNames<JobPhase>().Select(p => p.ToLowerInvariant())]);
        var image = new Option<string?>("--image") { Description = "Only jobs whose image's name contains this" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the job ids, one a line" };
        var command = new Command("ps", "List the cluster's jobs, asking every host") { node, phase, image, quiet, JsonOption, FormatOption };
        command.SetAction(async (parse, _) =>
        {
            var outcome = await WithSession(parse, (operations, _) => operations.ListAsync(
                parse.GetValue(node), parse.GetValue(phase) is { } p ? Enum.Parse<JobPhase>(p, ignoreCase: true) : null, parse.GetValue(image)));
            if (!WantsJson(parse) && outcome.Answer is JobList list)
            {
                if (parse.GetValue(quiet))
                {
                    list.Jobs.Select(j => j.JobId).ToList().ForEach(terminal.Out.WriteLine);
                }
                else
                {
                    terminal.Rich.Write(JobTable.Build(list.Jobs, DateTimeOffset.Now));
                }
            }
            return Report(terminal, WantsJson(parse), outcome);
        });
        return command;
    }

    public static Command Inspect(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the owner)" });
        var command = new Command("inspect", "Show a job's spec, owner, phase, address and its moves with their timings") { job, on, JsonOption, FormatOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.InspectAsync(parse.GetValue(job)!, parse.GetValue(on))));
        return command;
    }

    public static Command Remove(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job's id" });
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the owner)" });
        var force = new Option<bool>("--force", "-f") { Description = "Stop a running job's container first, then remove it" };
        var command = new Command("rm", "Forget a finished job (its record and result); a running one needs stop first, or -f") { job, on, force, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations =>
            operations.RemoveAsync(parse.GetValue(job)!, parse.GetValue(on), parse.GetValue(force))));
        return command;
    }

    public static Command Prune(Terminal terminal)
    {
        var node = Completions.Hosts(new Option<string?>("--node") { Description = "Only this host's finished jobs (default: every host's)" });
        var command = new Command("prune", "Forget every finished (completed or failed) job; nodes also do it after config.ini's [jobs] keep_finished")
        {
            node, JsonOption,
        };
        command.SetAction(async (parse, _) =>
        {
            var outcome = await WithSession(parse, (operations, _) => operations.PruneAsync(parse.GetValue(node)));
            // What the hosts that answered did goes to stdout, even when another could not be reached.
            if (!WantsJson(parse) && outcome.Answer is PruneReport report)
            {
                foreach (var pruned in report.Nodes)
                {
                    terminal.Out.WriteLine(pruned.JobIds.Length == 0
                        ? $"{pruned.Node}: no finished job to forget"
                        : $"{pruned.Node}: forgot {string.Join(", ", pruned.JobIds)}");
                }
            }
            return Report(terminal, WantsJson(parse), outcome);
        });
        return command;
    }
}
