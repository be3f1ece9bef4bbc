using Akka.Actor;
using Akka.Event;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// A child of the supervisor, where config.ini's [jobs] keep_finished is set: now and then it asks
/// the supervisor to forget the jobs that finished longer ago than that, and logs which went.
/// </summary>
public sealed class FinishedJobsPruner : ReceiveActor, IWithTimers
{
    private readonly TimeSpan _keep;

    public FinishedJobsPruner(TimeSpan keep)
    {
        var log = Context.GetLogger();
        Receive<Tick>(_ => Context.Parent.Tell(new PruneFinishedBefore(DateTimeOffset.UtcNow - keep)));
        Receive<JobsPruned>(p => p.JobIds.Length > 0, p =>
            log.Info("forgot {0} job(s) finished more than {1} ago (keep_finished): {2}", p.JobIds.Length, keep, string.Join(", ", p.JobIds)));
        Receive<JobsPruned>(_ => { });
        _keep = keep;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // Often enough that a job goes within a tenth of its age limit of it, and at most once a second.
    protected override void PreStart() =>
        Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, TimeSpan.Zero,
            TimeSpan.FromTicks(Math.Clamp(_keep.Ticks / 10, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute * 10)));

    public static Props Props(TimeSpan keep) => Akka.Actor.Props.Create(() => new FinishedJobsPruner(keep));

    /// <summary>To the supervisor, which answers with <see cref="JobsPruned"/>.</summary>
    public sealed record PruneFinishedBefore(DateTimeOffset FinishedBefore);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }
}
