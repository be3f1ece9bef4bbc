using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Routing;

/// <summary>
/// One request this node passed on to another (the job's owner, or the host it names), standing in
/// as its sender: answers go back to the requester as they come, and if the other node drops out
/// of the cluster's reach first, the requester hears <see cref="NodeLost"/> at once instead of
/// waiting out its whole deadline (a migration's is many minutes) for an answer that cannot come.
/// <code>
/// state     on                                  next
/// Waiting   an interim answer (progress)        Waiting (passed back)
///           the final answer                    stops (passed back)
///           the node unreachable or removed     stops (NodeLost to the requester)
///           nothing for a day                   stops
/// </code>
/// </summary>
public sealed class PassedOnRequest : ReceiveActor
{
    /// <summary>As long as a client may wait for anything: after that nobody listens.</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(24);

    /// <param name="what">The request's name as the requester knows it, for <see cref="NodeLost"/>.</param>
    public PassedOnRequest(object request, string what, HostEntry node, string supervisorPath, IActorRef requester)
    {
        var cluster = Cluster.Get(Context.System);
        cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved));
        Context.ActorSelection(supervisorPath).Tell(request, Self);
        Context.SetReceiveTimeout(LongestWait);

        Receive<ClusterEvent.UnreachableMember>(u => IsNode(u.Member, node), _ => Lost(requester, what, node, "went out of reach"));
        Receive<ClusterEvent.MemberRemoved>(r => IsNode(r.Member, node), _ => Lost(requester, what, node, "left the cluster"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
        Receive<ReceiveTimeout>(_ => Context.Stop(Self));
        ReceiveAny(answer =>
        {
            // As the answering actor's own: the requester sees who answered, as without a stand-in.
            requester.Tell(answer, Sender);
            if (!ClientWire.IsInterim(answer))
            {
                Context.Stop(Self);
            }
        });
    }

    public static Props Props(object request, string what, HostEntry node, string supervisorPath, IActorRef requester) =>
        Akka.Actor.Props.Create(() => new PassedOnRequest(request, what, node, supervisorPath, requester));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);

    private static bool IsNode(Member member, HostEntry node) => member.Address.Host == node.Address && member.Address.Port == node.Port;

    private void Lost(IActorRef requester, string what, HostEntry node, string how)
    {
        requester.Tell(new NodeLost(node.Name, $"{node.Name} {how} before it answered {what}; " +
            "it may have acted on it: ask again (query, status) once it is back"));
        Context.Stop(Self);
    }
}
