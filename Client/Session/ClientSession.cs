using Akka.Actor;
using Akka.Hosting;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Client.Session;

/// <summary>
/// The client's ActorSystem (local only: it neither listens nor joins) and its console actor, whose
/// requests each dial out to a node (<see cref="NodeChannel"/>).
/// </summary>
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

    public static async Task<ClientSession> StartAsync(MigrationConfig config, ClusterTls tls)
    {
        // No defaults: nothing reads appsettings or the environment's configuration, and their reload
        // on change would watch the working directory's whole tree for every file written in it.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // A console tool: errors show, one line each and on stderr, since stdout is for answers
        // (--json must be its only content).
        builder.Logging.ClearProviders()
            .AddOneLineConsole(stackTraces: false, toStderrFrom: LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Error);
        builder.Services.AddAkka($"{config.SystemName}-client", akka =>
        {
            foreach (var hocon in HoconFiles.For(config, HoconFiles.Client))
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            akka.ConfigureLoggers(l => l.AddAkkaLogBridge(LogLevel.Error))
                .WithActors((system, registry) =>
                    registry.Register<ClientActor>(system.ActorOf(ClientActor.Props(config, tls), "console")));
        });
        var host = builder.Build();
        await host.StartAsync();
        var console = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ClientActor>();
        return new ClientSession(host, console, config);
    }

    /// <summary>A <see cref="ClientActor.Response"/> or an <see cref="ClientActor.Unreachable"/>.</summary>
    /// <param name="progress">Hears the node's <see cref="MigrationProgress"/> reports before its answer (see <see cref="ClientActor.Request"/>).</param>
    /// <param name="fallBack">Whether a job's request may go to another host when this one cannot be reached (see <see cref="ClientActor.Request"/>).</param>
    public Task<object> AskAsync(string host, IClientRequest message, TimeSpan timeout, IProgress<MigrationProgress>? progress = null, bool fallBack = false) =>
        // The request's actor bounds every wait itself (from the node's last word, which progress
        // reports push back); this bound only catches a stuck client.
        _console.Ask<object>(new ClientActor.Request(host, message, timeout, progress, fallBack), progress is null ? timeout + TimeSpan.FromSeconds(10) : StuckClient);

    /// <summary>How long a request that hears progress may last at most, as the node's own bound (a day).</summary>
    private static readonly TimeSpan StuckClient = TimeSpan.FromHours(24);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
