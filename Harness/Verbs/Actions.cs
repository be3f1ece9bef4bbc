using System.CommandLine;

namespace AkkaMigration.Harness.Verbs;

/// <summary>A command's action: its failure is one red line on stderr and exit 1, not a stack trace.</summary>
public static class Actions
{
    public static void Set(Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await action(parse, cancellationToken);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or TimeoutException or IOException
                or AkkaMigration.Shared.Config.ConfigException or AkkaMigration.Node.Runtime.ContainerRuntimeException)
            {
                Progress.Fail(command.Name, e.Message);
                return 1;
            }
        });

    public static void Set(Command command, Func<ParseResult, CancellationToken, Task> action) =>
        Set(command, async (parse, cancellationToken) =>
        {
            await action(parse, cancellationToken);
            return 0;
        });
}
