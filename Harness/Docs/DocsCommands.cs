using System.CommandLine;
using AkkaMigration.Harness.Hosts;
using AkkaMigration.Harness.Processes;
using AkkaMigration.Harness.Verbs;

namespace AkkaMigration.Harness.Docs;

/// <summary><c>docs</c>, <c>timeline</c> and <c>views</c>: the pictures and terminal captures of docs/.</summary>
public static class DocsCommands
{
    public static IEnumerable<Command> All() => [Draw(), TimelineCommand(), ViewsCommand()];

    private static Command Draw()
    {
        var command = new Command("docs", "Draw docs/*.png again from docs/*.dot (Graphviz) and docs/*.gp (gnuplot); installs them if missing");
        Actions.Set(command, (_, ct) => Pictures.DrawAsync(ct));
        return command;
    }

    private static Command TimelineCommand()
    {
        var run = new Argument<string>("run") { Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => Repo.Path("build", "demo"), Description = "A run's folder with nodeA.log and nodeB.log (default build/demo)" };
        var command = new Command("timeline", "docs/timeline.log and docs/timeline.tsv from a demo run's node logs (then make docs draws docs/timeline.png)") { run };
        Actions.Set(command, (parse, _) =>
        {
            Console.Write(Timeline.Write(parse.GetValue(run)!));
            return Task.CompletedTask;
        });
        return command;
    }

    private static Command ViewsCommand()
    {
        var command = new Command("views", "docs/views/*.txt: client migrate and watch as a terminal shows them (tmux), about a minute");
        Actions.Set(command, async (_, ct) => Console.WriteLine(await Views.CaptureAsync(Repo.ConfigPath, SimulatedHosts.DefaultPrefix, ct)));
        return command;
    }
}
