using Akka.Actor;
using Akka.Event;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Runs the host's <see cref="IFence"/>, one kill at a time: a kill asked for while one runs is run
/// again right after it (a container may have started in between). Between kills it refreshes the
/// fence's view of the protected containers every <see cref="RescanEvery"/>.
/// </summary>
/// <remarks>
/// States: Idle (refreshing on a timer) and Killing (one kill under way, and the next one asked for meanwhile).
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
        Receive<FenceNow>(Kill);
        Receive<Rescan>(_ => _fence.RefreshAsync(_stopping.Token).PipeTo(Self, success: () => new Rescanned(null), failure: e => new Rescanned(e)));
        Receive<Rescanned>(r =>
        {
            if (r.Failure is { } e)
            {
                _log.Warning("Fencing: could not list the protected containers: {0}", e.Message);
            }
        });
    }

    /// <param name="next">A kill asked for while this one runs: run right after it.</param>
    private void Killing(FenceNow? next)
    {
        Receive<FenceNow>(request => Become(() => Killing(request)));
        Receive<Killed>(k =>
        {
            if (k.Report is { Killed: > 0 } or { Problems.Length: > 0 })
            {
                _log.Warning("Fencing: killed {0} protected processes or containers{1}", k.Report.Killed,
                    k.Report.Problems.Length == 0 ? "" : "; problems: " + string.Join("; ", k.Report.Problems));
            }
            else if (k.Report is not null)
            {
                _log.Debug("Fencing: no protected container was running");
            }
            else
            {
                _log.Error("Fencing: the kill failed: {0}", k.Failure!.Message);
            }
            if (next is not null)
            {
                Kill(next);
            }
            else
            {
                Become(Idle);
            }
        });
        Receive<Rescan>(_ => { });
        Receive<Rescanned>(_ => { });
    }

    private void Kill(FenceNow request)
    {
        if (request.Reason != _lastReason)
        {
            _log.Warning("Fencing: killing the protected containers: {0}", request.Reason);
            _lastReason = request.Reason;
        }
        _fence.KillProtectedAsync(_stopping.Token).PipeTo(Self, success: r => new Killed(r, null), failure: e => new Killed(null, e));
        Become(() => Killing(next: null));
    }
}
