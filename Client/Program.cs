using AkkaMigration.Client.Commands;
using AkkaMigration.Client.Console;

var exitCode = await ClientCommandLine.RunAsync(args, Terminal.FromSystemConsole());
Console.Out.Flush();
Console.Error.Flush();
Environment.Exit(exitCode);
