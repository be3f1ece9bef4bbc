using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Client.Session;

/// <summary>A running client ActorSystem (remote only, not a cluster member) and its console actor.</summary>
public sealed class ClientSession : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly IActorRef _console;

    private ClientSession(IHost host, IActorRef console, MigrationConfig config)
    {
        _host = host;
        _console = console;
        Config = config;
    }

    public MigrationConfig Config { get; }

    public static async Task<ClientSession> StartAsync(MigrationConfig config, ClusterTls tls, string? bindAddress)
    {
        var builder = Host.CreateApplicationBuilder();
        // A console tool: Akka's connection chatter would bury the answer; errors still show.
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Error);
        builder.Services.AddAkka($"{config.SystemName}-client", akka =>
        {
            foreach (var hocon in HoconFiles.For(config, HoconFiles.Client))
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            akka.ConfigureLoggers(l =>
                {
                    l.LogLevel = Akka.Event.LogLevel.ErrorLevel;
                    l.AddLoggerFactory();
                })
                .WithRemoting(new RemoteOptions { HostName = bindAddress ?? config.Client.Address, Port = config.Client.Port, Ssl = tls.RemoteSsl() })
                .WithActors((system, registry) =>
                    registry.Register<ClientActor>(system.ActorOf(ClientActor.Props(config), "console")));
        });
        var host = builder.Build();
        await host.StartAsync();
        var console = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ClientActor>();
        return new ClientSession(host, console, config);
    }

    /// <summary>A <see cref="ClientActor.Response"/> or an <see cref="ClientActor.Unreachable"/>.</summary>
    public Task<object> AskAsync(string host, object message, TimeSpan timeout) =>
        // The console actor bounds every wait itself; the extra margin only catches a stuck client.
        _console.Ask<object>(new ClientActor.Request(host, message, timeout), timeout + TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
