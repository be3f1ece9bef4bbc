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

    /// <summary>Starts the ActorSystem and loads the client's certificate side by side.</summary>
    /// <exception cref="ConfigException">The certificate is missing or wrong (see <see cref="ClusterTls.ForClient"/>), or the Akka settings are missing.</exception>
    public static async Task<ClientSession> StartAsync(MigrationConfig config)
    {
        // Its first use of OpenSSL costs the certificate about a tenth of a second, which a
        // short-lived client spends while the ActorSystem starts rather than after.
        var loading = Task.Run(() => ClusterTls.ForClient(config));
        IHost host;
        try
        {
            host = Build(config);
        }
        catch (ConfigException)
        {
            // Of two mistakes the certificate is named first: the usual one, as a host is set up.
            await loading;
            throw;
        }
        await host.StartAsync();
        ClusterTls tls;
        try
        {
            tls = await loading;
        }
        catch
        {
            await host.StopAsync();
            host.Dispose();
            throw;
        }
        var console = host.Services.GetRequiredService<ActorSystem>().ActorOf(ClientActor.Props(config, tls), "console");
        return new ClientSession(host, console, config);
    }

    private static IHost Build(MigrationConfig config)
    {
        // No defaults: nothing reads appsettings or the environment's configuration, and their reload
        // on change would watch the working directory's whole tree for every file written in it.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // A console tool: errors show, one line each and on stderr, since stdout is for answers
        // (--json must be its only content).
        builder.Logging.ClearProviders()
            .AddOneLineConsole(stackTraces: false, toStderrFrom: LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Error);
        // Read here, not when the ActorSystem starts, so that a missing file is a ConfigException of Build.
        var hocons = HoconFiles.For(config, HoconFiles.Client);
        builder.Services.AddAkka($"{config.SystemName}-client", akka =>
        {
            foreach (var hocon in hocons)
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            akka.ConfigureLoggers(l => l.AddAkkaLogBridge(LogLevel.Error));
        });
        return builder.Build();
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
