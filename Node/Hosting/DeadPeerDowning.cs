using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Hosting;

/// <summary>
/// Downs an unreachable member whose node process is gone for sure (<see cref="PeerProbe"/>: its host
/// refuses connections to the node's stream port), so that the others carry on without it. The split brain
/// resolver (keep-oldest) cannot tell a dead peer from a partition: in a cluster of two, the younger
/// node downs itself when the oldest is lost, even when the oldest was killed for good. A refusal is
/// proof a partition cannot give, so downing on it never leaves two halves that both believe they
/// are the cluster; on silence the resolver still decides, as before.
/// <code>
/// on                                   then
/// a member of config.ini unreachable   probe its stream port
/// refused                              probe again in a second
/// refused RefusalsToDown times in a row  down it (the leader then removes it)
/// accepted, or silent                  probe again in 5 s (an accepted probe costs the peer a log line)
/// reachable again, or removed          stop probing it
/// </code>
/// </summary>
public sealed class DeadPeerDowning : ReceiveActor, IWithTimers
{
    /// <summary>A peer restarting at once binds its port again within these few seconds and is not downed for it.</summary>
    private const int RefusalsToDown = 3;
    private static readonly TimeSpan ProbeAfterRefusal = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeAfterAnswer = TimeSpan.FromSeconds(5);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly MigrationConfig _config;
    // The unreachable members, and how often each has refused in a row.
    private readonly Dictionary<UniqueAddress, int> _refusals = [];

    public DeadPeerDowning(MigrationConfig config)
    {
        _config = config;
        // A member config.ini does not name is MembershipGuard's to down.
        Receive<ClusterEvent.UnreachableMember>(e => e.Member.UniqueAddress != _cluster.SelfUniqueAddress && HostOf(e.Member.Address) is not null, e =>
        {
            if (_refusals.TryAdd(e.Member.UniqueAddress, 0))
            {
                Probe(e.Member.UniqueAddress);
            }
        });
        Receive<ClusterEvent.ReachableMember>(e => Forget(e.Member.UniqueAddress));
        Receive<ClusterEvent.MemberRemoved>(e => Forget(e.Member.UniqueAddress));
        Receive<ProbeAgain>(again => _refusals.ContainsKey(again.Member), again => Probe(again.Member));
        Receive<Probed>(probed => _refusals.ContainsKey(probed.Member), probed =>
        {
            var refusals = probed.Refused ? _refusals[probed.Member] + 1 : 0;
            if (refusals < RefusalsToDown)
            {
                _refusals[probed.Member] = refusals;
                Timers.StartSingleTimer(probed.Member, new ProbeAgain(probed.Member), probed.Refused ? ProbeAfterRefusal : ProbeAfterAnswer);
                return;
            }
            _log.Warning("downing {0}: unreachable, and its host refuses connections to its stream port (its node process is gone)",
                probed.Member.Address);
            Forget(probed.Member);
            _cluster.Down(probed.Member.Address);
        });
        // Late answers about members no longer unreachable, and the events nothing here needs.
        Receive<ProbeAgain>(_ => { });
        Receive<Probed>(_ => { });
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MigrationConfig config) => Akka.Actor.Props.Create(() => new DeadPeerDowning(config));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        _stopping.Cancel();
    }

    private void Forget(UniqueAddress member)
    {
        _refusals.Remove(member);
        Timers.Cancel(member);
    }

    private HostEntry? HostOf(Address address) =>
        _config.Hosts.FirstOrDefault(h => h.Address == address.Host && h.Port == address.Port);

    private void Probe(UniqueAddress member) =>
        PeerProbe.RefusesAsync(HostOf(member.Address)!, _stopping.Token)
            .PipeTo(Self, success: refused => new Probed(member, refused), failure: _ => new Probed(member, false));

    private sealed record ProbeAgain(UniqueAddress Member);

    private sealed record Probed(UniqueAddress Member, bool Refused);
}
