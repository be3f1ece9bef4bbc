using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Hosting;
using Akka.Remote.Hosting;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Shared.Protocol;
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

    /// <exception cref="SessionStartException">The client's own endpoint could not start.</exception>
    public static async Task<ClientSession> StartAsync(MigrationConfig config, ClusterTls tls, string? bindAddress)
    {
        var address = bindAddress ?? config.Client.Address;
        CheckCanListen(address, config.Client.Port);
        // No defaults: nothing reads appsettings or the environment's configuration, and their reload
        // on change would watch the working directory's whole tree for every file written in it.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // A console tool: Akka's connection chatter would bury the answer; errors still show, one line
        // each and on stderr, since stdout is for answers (--json must be its only content).
        builder.Logging.ClearProviders()
            .AddOneLineConsole(stackTraces: false, toStderrFrom: LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Error)
            // A failed start is reported once, by SessionStartException, not by the host as well.
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None)
            .AddFilter("Akka.Hosting", LogLevel.None);
        builder.Services.AddAkka($"{config.SystemName}-client", akka =>
        {
            foreach (var hocon in HoconFiles.For(config, HoconFiles.Client))
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            // Akka's logger of last resort speaks before the one above has started; a failed start is
            // the SessionStartException's to report.
            akka.AddHocon("akka.stdout-loglevel = OFF", HoconAddMode.Prepend);
            akka.ConfigureLoggers(l => l.AddAkkaLogBridge(LogLevel.Error))
                .WithRemoting(new RemoteOptions { HostName = address, Port = config.Client.Port, Ssl = tls.RemoteSsl() })
                .WithActors((system, registry) =>
                    registry.Register<ClientActor>(system.ActorOf(ClientActor.Props(config), "console")));
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch (Exception e)
        {
            host.Dispose();
            throw new SessionStartException(
                $"the client could not start on {address}:{config.Client.Port} ({e.GetBaseException().Message}); " +
                "set [client] address in config.ini, or --bind, to an address of this machine");
        }
        var console = await host.Services.GetRequiredService<ActorRegistry>().GetAsync<ClientActor>();
        return new ClientSession(host, console, config);
    }

    /// <summary>
    /// Akka.Hosting prints a failed start's whole exception chain to stdout, whatever the logging
    /// says; the usual cause, an address that is not this machine's, is found out here first.
    /// </summary>
    private static void CheckCanListen(string address, int port)
    {
        try
        {
            var ip = IPAddress.TryParse(address, out var parsed) ? parsed : Dns.GetHostAddresses(address)[0];
            var listener = new TcpListener(ip, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException e)
        {
            throw new SessionStartException(
                $"the client can't listen on {address}:{port} ({e.Message}); set [client] address in config.ini, or --bind, to an address of this machine");
        }
    }

    /// <summary>A <see cref="ClientActor.Response"/> or an <see cref="ClientActor.Unreachable"/>.</summary>
    /// <param name="progress">Hears the node's <see cref="MigrationProgress"/> reports before its answer (see <see cref="ClientActor.Request"/>).</param>
    public Task<object> AskAsync(string host, object message, TimeSpan timeout, IProgress<MigrationProgress>? progress = null) =>
        // The console actor bounds every wait itself; the extra margin only catches a stuck client.
        _console.Ask<object>(new ClientActor.Request(host, message, timeout, progress), timeout + TimeSpan.FromSeconds(10));

    /// <summary>
    /// Set by the client's process, which exits right after its command: its ActorSystem is then not
    /// shut down gracefully but dropped with the process, whose sockets the kernel closes at once.
    /// A graceful shutdown keeps the listener open for a while, and a node that connects back in that
    /// while (a late answer) fails its TLS handshake, which Akka.NET answers by shutting the node
    /// down (exit code 79).
    /// </summary>
    public static bool EndsWithProcess { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (EndsWithProcess)
        {
            return;
        }
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>The client's own ActorSystem did not start, most often because its address is not this machine's.</summary>
public sealed class SessionStartException(string message) : Exception(message);
