using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// The host's lifetime for a node that drains on SIGTERM: it leaves the signals to
/// <see cref="DrainBeforeLeaving"/>, where the console lifetime would stop the host at once.
/// The node stops when its ActorSystem has shut down (Akka.Hosting then stops the host).
/// Under systemd it says READY=1 once every hosted service has started (the ActorSystem is up and
/// the archive stream listens), so that `systemctl start` returns only then (Type=notify).
/// </summary>
public sealed class SignalFreeLifetime(IHostApplicationLifetime application, ISystemdNotifier notifier) : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        if (notifier.IsEnabled)
        {
            application.ApplicationStarted.Register(() => notifier.Notify(ServiceState.Ready));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
