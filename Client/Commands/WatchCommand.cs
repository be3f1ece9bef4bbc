using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// <c>watch</c>: every host and every job, shown again as soon as a host reports a change (each
/// node holds the client's poll until it has one), migrations first, until Ctrl-C. On a terminal
/// each view replaces the last; redirected, each is printed under a header.
/// </summary>
public static class WatchCommand
{
    public static Command Build(Terminal terminal)
    {
        var count = new Option<int?>("--count") { Description = "Stop after this many views (default: until Ctrl-C)" };
        var command = new Command("watch", "A live view of every host and job, migrations first, redrawn as they change, until Ctrl-C") { count };
        command.SetAction(async (parse, cancellation) =>
        {
            var views = parse.GetValue(count);
            if (views is < 1)
            {
                return Report(terminal, json: false, Outcome.BadInput("--count takes 1 or more"));
            }
            var outcome = await WithSession(parse, (operations, _) =>
                operations.WatchAsync(views, status => Show(terminal, status), cancellation));
            return Report(terminal, json: false, outcome);
        });
        return command;
    }

    private static void Show(Terminal terminal, ClusterStatus status)
    {
        var now = DateTimeOffset.Now;
        // Migrations first: what an operator watches for; then by job, as ps lists them.
        var jobs = status.Nodes.SelectMany(n => n.Jobs)
            .OrderBy(j => j.Phase == JobPhase.Migrating ? 0 : 1).ThenBy(j => j.JobId, StringComparer.Ordinal).ToList();
        if (terminal.OutputIsTerminal)
        {
            terminal.Rich.Clear(home: true);
        }
        terminal.Out.WriteLine($"{now:HH:mm:ss}  {status.Nodes.Length} host(s) answering, {jobs.Count} job(s), " +
            $"{jobs.Count(j => j.Phase == JobPhase.Migrating)} migrating (Ctrl-C stops)");
        if (status.Nodes.Length > 0)
        {
            terminal.Rich.Write(StatusTable.Build(status));
        }
        if (jobs.Count > 0)
        {
            terminal.Rich.Write(JobTable.Build(jobs, now));
        }
        foreach (var unreachable in status.Unreachable)
        {
            terminal.Error.WriteLine($"error: {unreachable}");
        }
    }
}
