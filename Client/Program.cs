using AkkaMigration.Client.Commands;
using AkkaMigration.Client.Console;

return await ClientCommandLine.RunAsync(args, Terminal.FromSystemConsole());
