using System.Diagnostics;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// The agent's monotonic clock: leases and grants are measured on it, never on the wall clock, which
/// an administrator or NTP may step. On Linux it is CLOCK_MONOTONIC, which stands still while the
/// whole machine is suspended: the residual window of docs/architecture.md, "Fencing and leases".
/// Specs read Akka's TestScheduler instead.
/// </summary>
public sealed class AgentClock(Func<TimeSpan> read)
{
    private static readonly long Start = Stopwatch.GetTimestamp();

    public static AgentClock Monotonic { get; } = new(() => Stopwatch.GetElapsedTime(Start));

    public TimeSpan Now => read();
}
