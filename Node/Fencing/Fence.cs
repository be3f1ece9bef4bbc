using Akka.Actor;
using Akka.Event;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Runs the host's <see cref="IFence"/>, one kill at a time: a kill asked for while one runs is run
/// again right after it (a container may have started in between). Between kills it refreshes the
/// fence's view of the protected containers every <see cref="RescanEvery"/>.
/// </summary>
/// <remarks>
/// States: Idle (refreshing on a timer) and Killing (one kill under way; <c>again</c> when another was asked for).
/// </remarks>
public sealed class Fence : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan RescanEvery = TimeSpan.FromSeconds(5);

    private readonly IFence _fence;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();

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

    private void Killing(bool again)
    {
        Receive<FenceNow>(_ => Become(() => Killing(again: true)));
        Receive<Killed>(k =>
        {
            if (k.Report is { } report)
            {
                _log.Warning("Fencing: killed {0} protected processes or containers{1}", report.Killed,
                    report.Problems.Length == 0 ? "" : "; problems: " + string.Join("; ", report.Problems));
            }
            else
            {
                _log.Error("Fencing: the kill failed: {0}", k.Failure!.Message);
            }
            if (again)
            {
                Kill(new FenceNow("asked again while killing"));
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
        _log.Warning("Fencing: killing the protected containers: {0}", request.Reason);
        _fence.KillProtectedAsync(_stopping.Token).PipeTo(Self, success: r => new Killed(r, null), failure: e => new Killed(null, e));
        Become(() => Killing(again: false));
    }
}
