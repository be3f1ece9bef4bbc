using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// Lets a host other than the executor found the cluster once every host before it in config.ini's
/// order (the executor first) is gone for sure (<see cref="PeerProbe"/>), so that a full restart
/// without the executor still forms one. Akka lets only a node that lists itself as the first seed
/// found a cluster; every node lists the executor first, so the others only ever wait to join.
/// <code>
/// state    on                                          next
/// Waiting  FoundAfter passed (then every CheckEvery)   Probing, unless this node has joined: stops
/// Probing  a host before this one answers or is silent Waiting
///          every host before this one refuses          joins with itself as the first seed: stops
/// </code>
/// As the first seed, the node joins the cluster of any seed that answers its InitJoin and founds
/// one only when none does (Akka's FirstSeedNodeProcess). Only the first live host in config.ini's
/// order passes the test, so two nodes never found at once while both run: a later host waits for
/// it, and it joins a later host that founded while it was down. A partition proves nothing (a
/// silent host is not gone), so a node cut off from the hosts before it never founds an island.
/// </summary>
public sealed class FoundWithoutEarlierHosts : ReceiveActor, IWithTimers
{
    /// <summary>
    /// Longer than Akka's seed-node-timeout (5 s) with a retry to spare, so that a node which started
    /// while a later host was founding has joined that host before it would found one of its own.
    /// </summary>
    public static readonly TimeSpan FoundAfter = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(5);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly IReadOnlyList<HostEntry> _earlier;
    private readonly IReadOnlyList<Address> _seeds;

    public FoundWithoutEarlierHosts(MigrationConfig config, HostEntry self)
    {
        var ordered = config.Hosts.OrderByDescending(h => h.Executor).ToList();
        _earlier = [.. ordered.TakeWhile(h => h.Name != self.Name)];
        var own = _cluster.SelfAddress;
        _seeds = [own, .. config.SeedNodes.Select(Address.Parse).Where(a => a != own)];
        Waiting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MigrationConfig config, HostEntry self) =>
        Akka.Actor.Props.Create(() => new FoundWithoutEarlierHosts(config, self));

    protected override void PreStart() => Timers.StartPeriodicTimer(nameof(Check), new Check(), FoundAfter, CheckEvery);

    protected override void PostStop() => _stopping.Cancel();

    private void Waiting()
    {
        Receive<Check>(_ => _cluster.IsTerminated || _cluster.SelfMember.Status != MemberStatus.Removed, _ => Context.Stop(Self));
        Receive<Check>(_ =>
        {
            Task.WhenAll(_earlier.Select(h => PeerProbe.RefusesAsync(h, _stopping.Token)))
                .PipeTo(Self, success: refused => new Probed(refused.All(r => r)), failure: _ => new Probed(false));
            Become(Probing);
        });
    }

    private void Probing()
    {
        Receive<Probed>(probed => probed.AllGone, _ =>
        {
            _log.Warning("not in a cluster after {0} s, and no node runs on {1}: founding the cluster, or joining one a seed answers for",
                FoundAfter.TotalSeconds, string.Join(", ", _earlier.Select(h => h.Name)));
            _cluster.JoinSeedNodes(_seeds);
            Context.Stop(Self);
        });
        Receive<Probed>(_ => Become(Waiting));
        // A check while the probes are out: they answer it.
        Receive<Check>(_ => { });
    }

    private sealed record Check;

    private sealed record Probed(bool AllGone);
}
