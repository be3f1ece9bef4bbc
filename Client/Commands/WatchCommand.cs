using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// <c>watch</c>: every host and every job, asked again each interval until Ctrl-C, migrations
/// first. On a terminal each view replaces the last; redirected, each is printed under a header.
/// </summary>
public static class WatchCommand
{
    public static Command Build(Terminal terminal)
    {
        var interval = new Option<double>("--interval")
        {
            Description = "Seconds between views (0.2 to 3600)",
            DefaultValueFactory = _ => 1,
        };
        var count = new Option<int?>("--count") { Description = "Stop after this many views (default: until Ctrl-C)" };
        var command = new Command("watch", "A live view of every host and job, migrations first, until Ctrl-C") { interval, count };
        command.SetAction(async (parse, cancellation) =>
        {
            var seconds = parse.GetValue(interval);
            var views = parse.GetValue(count);
            if (seconds is < 0.2 or > 3600 || views is < 1)
            {
                return Report(terminal, json: false, Outcome.BadInput("--interval takes 0.2 to 3600 seconds and --count 1 or more"));
            }
            var outcome = await WithSession(parse, async (operations, _) =>
            {
                for (var view = 1; !cancellation.IsCancellationRequested; view++)
                {
                    Show(terminal, await operations.StatusAsync());
                    if (view == views)
                    {
                        break;
                    }
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellation);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
                return Outcome.Ok(null);
            });
            return Report(terminal, json: false, outcome);
        });
        return command;
    }

    private static void Show(Terminal terminal, Outcome outcome)
    {
        if (outcome.Answer is not ClusterStatus status)
        {
            Report(terminal, json: false, outcome);
            return;
        }
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
