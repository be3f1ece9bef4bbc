using Akka.Actor;
using Akka.Event;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Runs the host's <see cref="IFence"/>. A kill for a new reason starts at once, even beside one
/// under way (the lease running out must not wait behind a podman still answering an earlier
/// kill); a kill asked again for the same reason while one runs (every round of an unleased host)
/// runs once after it. Between kills it refreshes the fence's view of the protected containers
/// every <see cref="RescanEvery"/>.
/// </summary>
/// <remarks>
/// States: Idle (refreshing on a timer) and Killing (kills under way, and a repeat asked for meanwhile).
/// </remarks>
public sealed class Fence : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan RescanEvery = TimeSpan.FromSeconds(5);

    private readonly IFence _fence;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    // An unleased host is fenced every round: each reason is worth one warning, not one a second.
    private string? _lastReason;

    /// <summary>Kill the protected containers now; <paramref name="Reason"/> is logged.</summary>
    public sealed record FenceNow(string Reason);

    private sealed record Rescan;

    private sealed record Rescanned(Exception? Failure);

    private sealed record Killed(FenceReport? Report, Exception? Failure);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IFence fence) => Akka.Actor.Props.Create(() => new Fence(fence));

    public Fence(IFence fence)
    {
        _fence = fence;
        Idle();
    }

    protected override void PreStart() => Timers.StartPeriodicTimer(nameof(Rescan), new Rescan(), RescanEvery);

    protected override void PostStop() => _stopping.Cancel();

    private void Idle()
    {
        Receive<FenceNow>(request => Kill(request, running: 0));
        Receive<Rescan>(_ => _fence.RefreshAsync(_stopping.Token).PipeTo(Self, success: () => new Rescanned(null), failure: e => new Rescanned(e)));
        Receive<Rescanned>(r =>
        {
            if (r.Failure is { } e)
            {
                _log.Warning("Fencing: could not list the protected containers: {0}", e.Message);
            }
        });
    }

    /// <param name="running">Kills under way.</param>
    /// <param name="repeat">A kill asked again for the same reason meanwhile: run once they end.</param>
    private void Killing(int running, FenceNow? repeat)
    {
        Receive<FenceNow>(request =>
        {
            if (request.Reason == _lastReason)
            {
                Become(() => Killing(running, request));
            }
            else
            {
                Kill(request, running);
            }
        });
        Receive<Killed>(k =>
        {
            Report(k);
            if (running > 1)
            {
                Become(() => Killing(running - 1, repeat));
            }
            else if (repeat is not null)
            {
                Kill(repeat, running: 0);
            }
            else
            {
                Become(Idle);
            }
        });
        Receive<Rescan>(_ => { });
        Receive<Rescanned>(_ => { });
    }

    private void Kill(FenceNow request, int running)
    {
        if (request.Reason != _lastReason)
        {
            _log.Warning("Fencing: killing the protected containers: {0}", request.Reason);
            _lastReason = request.Reason;
        }
        _fence.KillProtectedAsync(_stopping.Token).PipeTo(Self, success: r => new Killed(r, null), failure: e => new Killed(null, e));
        Become(() => Killing(running + 1, repeat: null));
    }

    private void Report(Killed killed)
    {
        if (killed.Report is { Killed: > 0 } or { Problems.Length: > 0 })
        {
            _log.Warning("Fencing: killed {0} protected processes or containers{1}", killed.Report.Killed,
                killed.Report.Problems.Length == 0 ? "" : "; problems: " + string.Join("; ", killed.Report.Problems));
        }
        else if (killed.Report is not null)
        {
            _log.Debug("Fencing: no protected container was running");
        }
        else
        {
            _log.Error("Fencing: the kill failed: {0}", killed.Failure!.Message);
        }
    }
}
