using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using AkkaMigration.Node.Clients;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Observability;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Logging;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Hosting;

/// <summary>Wires one cluster node: the HOCON from hocon/, address, seed and TLS from config.ini, the supervisor.</summary>
public static class NodeHost
{
    /// <param name="drainOnTerminate">A stopping node drains first (see <see cref="DrainBeforeLeaving"/>); only for a node process of its own.</param>
    public static IHost Build(MigrationConfig config, HostEntry self, ClusterTls tls, IContainerRuntime runtime,
        LogLevel logLevel = LogLevel.Information, FaultInjection? faults = null, bool drainOnTerminate = false)
    {
        // The fault suite's faults come in here, around the runtime and on the wire, never inside the actors.
        faults ??= FaultInjection.None;
        var streams = new ArchiveStreams(self, tls, faults);
        var node = NodeContext.Create(self, config, faults.Around(runtime), streams);
        // No defaults: nothing reads appsettings or the environment's configuration, and their reload
        // on change would watch the working directory's whole tree for every file written in it.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(streams).AddSingleton(node.Images!).AddSingleton<ClientGateway>()
            .AddHostedService<StreamPortListener>();
        builder.AddNodeObservability(node);
        // A node's log is read by whoever runs it: real errors keep their stack traces.
        builder.Logging.ClearProviders().AddOneLineConsole(stackTraces: true).SetMinimumLevel(logLevel);
        builder.Services.AddAkka(config.SystemName, akka =>
        {
            foreach (var hocon in HoconFiles.For(config, HoconFiles.Node))
            {
                akka.AddHocon(hocon, HoconAddMode.Prepend);
            }
            // Peers' messages make only the protocol's types (Shared/Security/WireTypes.cs).
            akka.AddSetup(WireTypes.Setup);
            akka.ConfigureLoggers(l => l.AddAkkaLogBridge(logLevel))
                .WithRemoting(new RemoteOptions { HostName = self.Address, Port = self.Port, Ssl = tls.RemoteSsl() })
                .WithClustering(new ClusterOptions { SeedNodes = [.. config.SeedNodes], Roles = [self.Executor ? "executor" : "node"] })
                .WithActors((system, registry, resolver) =>
                {
                    var supervisor = system.ActorOf(ContainerSupervisor.Props(node), ActorNames.ContainerSupervisor);
                    registry.Register<ContainerSupervisor>(supervisor);
                    // When the executor is lost (docs/architecture.md): the survivors down a peer that is
                    // gone for sure, and a full restart without the executor still forms a cluster.
                    system.ActorOf(DeadPeerDowning.Props(config), "dead-peer-downing");
                    if (!self.Executor)
                    {
                        system.ActorOf(FoundWithoutEarlierHosts.Props(config, self), "found-without-earlier-hosts");
                    }
                    resolver.GetService<ClientGateway>().Open(system, supervisor);
                    if (drainOnTerminate)
                    {
                        DrainBeforeLeaving.Register(system, supervisor, self.Name, resolver.GetService<ILogger<DrainBeforeLeaving>>(),
                            resolver.GetService<ISystemdNotifier>());
                    }
                });
        });
        if (drainOnTerminate)
        {
            // Under systemd (Type=notify, NOTIFY_SOCKET set) the node says when it is ready and when it
            // drains; elsewhere the notifier does nothing. Not UseSystemd's lifetime: it would stop the
            // host on SIGTERM, where this node drains first, and replace the one-line log format.
            builder.Services.AddSingleton<ISystemdNotifier>(new SystemdNotifier());
            // The notifier has read it; podman must not: given $NOTIFY_SOCKET, podman and conmon would
            // speak to this unit's socket for the containers they start.
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", null);
            builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        }
        var host = builder.Build();
        node.Images!.Log = host.Services.GetRequiredService<ILogger<ImageShipping>>();
        return host;
    }
}
