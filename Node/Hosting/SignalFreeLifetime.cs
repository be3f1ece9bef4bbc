using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// The host's lifetime for a node that drains on SIGTERM: it leaves the signals to
/// <see cref="DrainBeforeLeaving"/>, where the console lifetime would stop the host at once.
/// The node stops when its ActorSystem has shut down (Akka.Hosting then stops the host).
/// Under systemd it says READY=1 once every hosted service has started (the ActorSystem is up and
/// the archive stream listens), so that `systemctl start` returns only then (Type=notify).
/// </summary>
public sealed class SignalFreeLifetime(IHostApplicationLifetime application, ISystemdNotifier notifier, ILogger<SignalFreeLifetime> log)
    : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        application.ApplicationStarted.Register(() => TryNotify(notifier, ServiceState.Ready, log));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Tells systemd, if the node runs under it. A notify socket that cannot be reached costs a
    /// warning, never the node's start or its drain.
    /// </summary>
    public static void TryNotify(ISystemdNotifier? notifier, ServiceState state, ILogger log)
    {
        if (notifier is not { IsEnabled: true })
        {
            return;
        }
        try
        {
            notifier.Notify(state);
        }
        catch (SocketException e)
        {
            log.LogWarning("could not tell systemd {State} on $NOTIFY_SOCKET: {Reason}", state, e.Message);
        }
    }
}
