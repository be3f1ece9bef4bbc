using System.CommandLine;
using AkkaMigration.Client.Console;
using AkkaMigration.Shared.Protocol;
using static AkkaMigration.Client.Commands.ClientCommandLine;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// <c>resolve JOB --resume-here | --abandon</c>: the operator settles a move in doubt whose target
/// has gone silent, which no node can settle alone without risking two copies or none.
/// </summary>
public static class ResolveCommand
{
    public static Command Build(Terminal terminal)
    {
        var job = Completions.Jobs(new Argument<string>("job") { Description = "The job whose move is in doubt" });
        var resumeHere = new Option<bool>("--resume-here") { Description = "The target never ran it: resume it on its source from its checkpoint" };
        var abandon = new Option<bool>("--abandon") { Description = "Give it up on its source: it ends as failed there (if the target restored it, it runs there)" };
        var on = Completions.Hosts(new Option<string?>("--on") { Description = "The host to ask (default: the executor; the request reaches the job's source)" });
        var command = new Command("resolve", "Settle a job whose move is in doubt because its target stays silent; refused while the target answers")
        {
            job, resumeHere, abandon, on, JsonOption,
        };
        command.SetAction((parse, _) => (parse.GetValue(resumeHere), parse.GetValue(abandon)) switch
        {
            (true, false) => Execute(parse, terminal, operations => operations.ResolveAsync(parse.GetValue(job)!, ResolveChoice.ResumeHere, parse.GetValue(on))),
            (false, true) => Execute(parse, terminal, operations => operations.ResolveAsync(parse.GetValue(job)!, ResolveChoice.Abandon, parse.GetValue(on))),
            _ => Task.FromResult(Report(terminal, WantsJson(parse),
                Outcome.BadInput("say how to settle the move: --resume-here (the target never ran it) or --abandon (give it up here); exactly one"))),
        });
        return command;
    }
}
