using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaMigration.Shared.Config;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// Downs any member config.ini does not name. A certificate of the cluster CA passes Akka's TLS,
/// so a process holding one (a client's, copied) could otherwise join and be moved to Up by the
/// leader, and then take part in gossip and in the job directory. Every node runs one.
/// </summary>
public sealed class MembershipGuard : ReceiveActor
{
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public MembershipGuard(MigrationConfig config)
    {
        var log = Context.GetLogger();
        Receive<ClusterEvent.IMemberEvent>(e => !config.IsNodeAddress(e.Member.Address) && e.Member.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up, e =>
        {
            log.Error("downing {0}: a member at an address config.ini does not name", e.Member.Address);
            _cluster.Down(e.Member.Address);
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(MigrationConfig config) => Akka.Actor.Props.Create(() => new MembershipGuard(config));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
