using System.Globalization;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Shared.Config;

/// <summary>
/// config.ini's [ha]: the timers of the fencing agents' leases (docs/architecture.md, "Fencing and
/// leases"), the optional witness that gives two hosts a majority, and the protection a job gets
/// when its request asks for none.
/// </summary>
/// <param name="FenceAfter">An agent that has had no renewal granted by a majority for this long (from the renewal's send) kills its host's protected containers.</param>
/// <param name="FailoverAfter">A voter promises never to grant a host again only once its last grant to that host is this old.</param>
/// <param name="RenewEvery">How often an agent asks the voters to renew its lease.</param>
/// <param name="Witness">A vote-only agent outside the hosts; null: the hosts' agents are the only voters.</param>
public sealed record HaSettings(TimeSpan FenceAfter, TimeSpan FailoverAfter, TimeSpan RenewEvery, WitnessEntry? Witness)
{
    /// <summary>
    /// ρ: how far any host's monotonic clock may run fast or slow against real time. Quartz drifts by
    /// tens of parts per million; a hundred times that leaves room for a VM's virtual clock.
    /// </summary>
    public const double ClockRateBound = 0.01;

    /// <summary>The longest a fence takes to kill its host's protected containers once it starts (Node/Fencing/PodmanFence).</summary>
    public static readonly TimeSpan KillLimit = TimeSpan.FromSeconds(4);

    public static readonly HaSettings Default = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(1), null);

    /// <summary>A protection checkpoint pauses the job: more often than this it would do little else.</summary>
    public static readonly TimeSpan ProtectAtMostEvery = TimeSpan.FromSeconds(1);

    /// <summary>Less often than this a failover would lose more work than protection is worth.</summary>
    public static readonly TimeSpan ProtectAtLeastEvery = TimeSpan.FromHours(1);

    /// <summary>[ha]'s protect_every and replicas: what a job whose request does not say gets (off unless set).</summary>
    public Protection DefaultProtection { get; init; } = Protection.Off;

    /// <summary>
    /// What failover_after must exceed: the longest real time from a host's last granted renewal to
    /// its containers being dead (fence_after on a clock that may run slow, then the kill), as a
    /// voter's clock that may run fast measures it.
    /// </summary>
    public static TimeSpan FailoverBound(TimeSpan fenceAfter) =>
        (fenceAfter / (1 - ClockRateBound) + KillLimit) * (1 + ClockRateBound);

    /// <summary>Null if the timers keep two copies from running, else why not.</summary>
    public static string? Problem(TimeSpan fenceAfter, TimeSpan failoverAfter, TimeSpan renewEvery)
    {
        if (renewEvery * 3 > fenceAfter)
        {
            return $"renew_every = {Text(renewEvery)} leaves fewer than three renewals within fence_after = {Text(fenceAfter)}: " +
                "one lost message would fence the host";
        }
        var bound = FailoverBound(fenceAfter);
        return failoverAfter > bound
            ? null
            : $"failover_after = {Text(failoverAfter)} must exceed (fence_after / {1 - ClockRateBound:0.00} + kill limit {Text(KillLimit)}) × {1 + ClockRateBound:0.00} = " +
              $"{Text(bound)}: a host cut off could still be running its containers when the others fail them over";
    }

    /// <summary>
    /// Null if <paramref name="protection"/> is off or one the cluster can give, else why not.
    /// <paramref name="hosts"/>: config.ini's host count, each replica being a host other than the
    /// owner; null where a protection accepted before is read again, which a shrunk config.ini must not undo.
    /// </summary>
    public static string? ProtectionProblem(Protection protection, int? hosts) => protection switch
    {
        { IsOn: false } => null,
        _ when protection.Every < ProtectAtMostEvery || protection.Every > ProtectAtLeastEvery =>
            $"protection every {Text(protection.Every)} is out of bounds: from {Text(ProtectAtMostEvery)} to {ProtectAtLeastEvery.TotalHours:0}h, e.g. 5s",
        _ when hosts is { } count && protection.Replicas > count - 1 =>
            $"{protection.Replicas} replica(s) need as many hosts besides the owner; config.ini has {count} host(s), so at most {Math.Max(count - 1, 0)}",
        _ => null,
    };

    public static string Text(TimeSpan span) =>
        span.TotalSeconds >= 1 ? $"{span.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)}s" : $"{span.TotalMilliseconds:0}ms";
}

/// <summary>Where the witness's agent listens. Its certificate is a node certificate named <see cref="Name"/>.</summary>
public sealed record WitnessEntry(string Address, int Port)
{
    public const string Name = "witness";
}
