using Microsoft.Extensions.Hosting;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// The host's lifetime for a node that drains on SIGTERM: it leaves the signals to
/// <see cref="DrainBeforeLeaving"/>, where the console lifetime would stop the host at once.
/// The node stops when its ActorSystem has shut down (Akka.Hosting then stops the host).
/// </summary>
public sealed class SignalFreeLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
