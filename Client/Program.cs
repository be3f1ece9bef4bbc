using AkkaMigration.Client.Commands;

return await ClientCommandLine.Build().Parse(args).InvokeAsync();
