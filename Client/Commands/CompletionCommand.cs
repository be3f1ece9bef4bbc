using System.CommandLine;
using AkkaMigration.Client.Console;

namespace AkkaMigration.Client.Commands;

/// <summary>
/// <c>completion bash</c>: a script for bash's <c>complete</c> that asks the client itself what may
/// come next (System.CommandLine's <c>[suggest]</c> directive): verbs, options, host names from
/// config.ini and the cluster's job ids. No dotnet-suggest tool is needed.
/// </summary>
public static class CompletionCommand
{
    public static Command Build(Terminal terminal)
    {
        var shell = new Argument<string>("shell") { Description = "The shell (bash)" };
        shell.AcceptOnlyFromAmong("bash");
        var command = new Command("completion", "Print a shell completion script: source <(akka-migration completion bash)") { shell };
        command.SetAction(_ =>
        {
            terminal.Out.Write(BashScript);
            return 0;
        });
        return command;
    }

    // COMP_LINE without the program's name, and the cursor's place in it, is what [suggest:N] takes.
    private const string BashScript = """
        # akka-migration's completion for bash: source <(akka-migration completion bash)
        _akka_migration() {
          local program=${COMP_WORDS[0]} line=${COMP_LINE#*[[:space:]]}
          local cursor=$((COMP_POINT - ${#COMP_LINE} + ${#line}))
          [ "$line" = "$COMP_LINE" ] && { line=""; cursor=0; }
          local IFS=$'\n'
          COMPREPLY=($(compgen -W "$("$program" "[suggest:$cursor]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -F _akka_migration akka-migration AkkaMigration.Client

        """;
}
