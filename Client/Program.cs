using AkkaMigration.Client.Commands;
using AkkaMigration.Client.Console;
using AkkaMigration.Client.Session;

ClientSession.EndsWithProcess = true;
var exitCode = await ClientCommandLine.RunAsync(args, Terminal.FromSystemConsole());
Console.Out.Flush();
Console.Error.Flush();
Environment.Exit(exitCode);
