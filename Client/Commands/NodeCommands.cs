using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>The subcommands about hosts: their status, drain (or its dry run), cordon and uncordon.</summary>
public static class NodeCommands
{
    public static Command Drain(Terminal terminal)
    {
        var node = Completions.Hosts(new Argument<string>("node") { Description = "The host to empty" });
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait at most for a word from the node, each move's steps included (default: as long as one migration may take)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Only print where each container would go; nothing moves and NODE stays" };
        var command = new Command("drain", "Move every container off NODE to its peers; NODE then leaves the cluster") { node, timeout, dryRun, JsonOption };
        command.SetAction((parse, _) => Execute(parse, terminal, operations =>
        {
            if (parse.GetValue(dryRun))
            {
                return operations.PlanDrainAsync(parse.GetValue(node)!);
            }
            Task<Outcome> Drain(IProgress<MigrationProgress>? progress) => operations.DrainAsync(parse.GetValue(node)!,
                parse.GetValue(timeout) is { } seconds ? TimeSpan.FromSeconds(seconds) : operations.MigrationWait, progress);
            // As migrate's: a live display only for a person, never into --json or a pipe.
            return terminal.OutputIsTerminal && !WantsJson(parse) ? DrainProgressView.ShowAsync(terminal.Rich, Drain) : Drain(null);
        }));
        return command;
    }

    /// <summary>cordon, or with <paramref name="cordon"/> false uncordon.</summary>
    public static Command Cordon(Terminal terminal, bool cordon)
    {
        var node = Completions.Hosts(new Argument<string>("node") { Description = "The host" });
        var command = cordon
            ? new Command("cordon", "NODE takes no new containers and is no migration's or drain's target; what runs there stays (survives a restart)")
            : new Command("uncordon", "NODE takes new containers again");
        command.Add(node);
        command.Add(JsonOption);
        command.SetAction((parse, _) => Execute(parse, terminal, operations => operations.CordonAsync(parse.GetValue(node)!, cordon)));
        return command;
    }

    /// <summary>node lost NODE: the operator says the host is gone (see docs/architecture.md, "Fencing and leases").</summary>
    public static Command Node(Terminal terminal)
    {
        var node = Completions.Hosts(new Argument<string>("node") { Description = "The host that is gone" });
        var lost = new Command("lost", "Say NODE is gone: the fencing agents' voters declare it lost once its lease has run out; its jobs are then answered as lost") { node, JsonOption };
        lost.SetAction((parse, _) => Execute(parse, terminal, operations => operations.DeclareLostAsync(parse.GetValue(node)!)));
        return new Command("node", "What an operator says of a host") { lost };
    }

    public static Command Status(Terminal terminal)
    {
        var command = new Command("status", "Show every host: ready or cordoned, how many jobs it owns (ps lists them) and the members it sees up") { JsonOption };
        command.SetAction(async (parse, _) =>
        {
            var outcome = await WithSession(parse, (operations, _) => operations.StatusAsync());
            if (WantsJson(parse) || outcome.Answer is not ClusterStatus status)
            {
                return Report(terminal, WantsJson(parse), outcome);
            }
            if (status.Nodes.Length > 0)
            {
                terminal.Rich.Write(StatusTable.Build(status));
            }
            foreach (var node in status.Nodes)
            {
                // For people: who sees whom up. The harness waits for the cluster on status --json instead.
                terminal.Out.WriteLine($"{node.Node} sees up: {string.Join(" ", node.UpMembers)}");
            }
            return Report(terminal, json: false, outcome);
        });
        return command;
    }
}
