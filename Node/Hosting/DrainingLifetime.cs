using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Hosting;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// Replaces the console lifetime so that SIGTERM (a service manager stopping the node, a host
/// going down for maintenance) drains the node instead of stopping it: its containers move to
/// peers, then it leaves the cluster through CoordinatedShutdown and exits. If a container cannot
/// move, the node stays up and says why. Ctrl-C (SIGINT) still stops it at once.
/// </summary>
public sealed class DrainingLifetime(IHostApplicationLifetime lifetime, ActorRegistry registry, string nodeName, ILogger<DrainingLifetime> log)
    : IHostLifetime, IDisposable
{
    private PosixSignalRegistration? _terminate;
    private PosixSignalRegistration? _interrupt;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            log.LogInformation("SIGTERM: draining {Node} before it leaves the cluster", nodeName);
            // The supervisor logs the outcome and, once every container has moved, shuts the node down.
            registry.Get<ContainerSupervisor>().Tell(new DrainNode(nodeName), ActorRefs.NoSender);
        });
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            lifetime.StopApplication();
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _terminate?.Dispose();
        _interrupt?.Dispose();
    }
}
