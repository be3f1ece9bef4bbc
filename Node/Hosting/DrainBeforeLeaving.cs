using System.Runtime.InteropServices;
using Akka;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// A node asked to stop (SIGTERM from a service manager, a host going down for maintenance) first
/// moves its containers to peers: a CoordinatedShutdown task, in the phase before the node leaves
/// the cluster, drains it. When a container cannot move, the task keeps the shutdown waiting and
/// the node up, says why, and tries again now and then, so nothing is lost and the node leaves
/// once its peers can take what it runs. Ctrl-C (SIGINT) skips the drain and stops at once.
/// </summary>
public sealed class DrainBeforeLeaving
{
    private static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(30);

    private readonly IActorRef _supervisor;
    private readonly string _node;
    private readonly ILogger _log;
    private readonly ActorSystem _system;
    private readonly ISystemdNotifier? _systemd;
    private readonly CancellationTokenSource _interrupted = new();
    // Held for the life of the process, as is this object (by its shutdown task).
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    private DrainBeforeLeaving(ActorSystem system, IActorRef supervisor, string node, ILogger log, ISystemdNotifier? systemd)
    {
        _system = system;
        _systemd = systemd;
        _supervisor = supervisor;
        _node = node;
        _log = log;
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            _interrupted.Cancel();
            CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        });
        // SIGTERM starts the shutdown, which waits for the drain; the runtime's own answer, ending
        // the process, must not come (the host's console lifetime is replaced, see SignalFreeLifetime).
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        });
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseBeforeServiceUnbind, "drain-containers", DrainAsync);
    }

    public static DrainBeforeLeaving Register(ActorSystem system, IActorRef supervisor, string node, ILogger log, ISystemdNotifier? systemd = null) =>
        new(system, supervisor, node, log, systemd);

    private async Task<Done> DrainAsync()
    {
        // systemctl status shows why the stop takes a while; STOPPING=1 also covers a drain asked by a client.
        SignalFreeLifetime.TryNotify(_systemd, ServiceState.Stopping, _log);
        SignalFreeLifetime.TryNotify(_systemd, new ServiceState("STATUS=moving its containers to peers before leaving the cluster"), _log);
        // Only an operator's stop drains. A node the cluster downed is no longer a member: nothing can
        // move. A shutdown Akka started for its own reasons (a failed TLS handshake, exit code 79) is
        // no reason to move every container away: they run on, and the restarted node carries on with them.
        var reason = CoordinatedShutdown.Get(_system).ShutdownReason;
        if (reason is not (CoordinatedShutdown.ClrExitReason or CoordinatedShutdown.ClusterLeavingReason))
        {
            return Done.Instance;
        }
        try
        {
            await DrainUntilDoneAsync(_interrupted.Token);
        }
        catch (OperationCanceledException)
        {
            _log.LogWarning("{Node} interrupted: stopping without moving the rest of its containers", _node);
        }
        return Done.Instance;
    }

    private async Task DrainUntilDoneAsync(CancellationToken interrupted)
    {
        while (true)
        {
            _log.LogInformation("{Node} is stopping: moving its containers to peers first", _node);
            // No deadline of its own: the drainer bounds each move (MigrationLimit from its last step) and always answers.
            var answer = await _supervisor.Ask<object>(new DrainNode(_node), null, interrupted);
            if (answer is NodeDrained drained)
            {
                // The supervisor has said so already ("drained: every container moved; leaving the cluster").
                _log.LogDebug("{Node} drained ({Count} container(s) moved); leaving the cluster", _node, drained.Moved.Length);
                return;
            }
            var reason = answer is DrainRefused refused ? refused.Reason : answer.ToString();
            _log.LogWarning("{Node} stays up: {Reason}. Trying again in {Seconds} s (Ctrl-C or SIGKILL stops it regardless)",
                _node, reason, RetryEvery.TotalSeconds);
            await Task.Delay(RetryEvery, interrupted);
        }
    }
}
