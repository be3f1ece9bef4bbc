using System.Text.Json;
using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>
/// A child of the supervisor that answers <c>watch</c>'s long polls (<see cref="WatchNode"/>). The
/// supervisor says when something of its status may have changed (<see cref="Changed"/>), as does
/// the cluster when a member comes, goes or goes out of reach; the feed then takes a fresh <see cref="NodeStatus"/>
/// from the supervisor and, when it differs from the last, gives it a new version and answers
/// every client waiting. A client only ever hears answers to its own requests.
/// </summary>
public sealed class StatusFeed : ReceiveActor, IWithTimers
{
    /// <summary>How long a poll waits for a change before it is answered unchanged (well inside a client's wait).</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(20);

    // A restarted node starts its versions afresh: a client's last version never matches them by chance.
    private readonly string _epoch = Guid.NewGuid().ToString("N")[..8];
    private readonly HashSet<IActorRef> _waiting = [];
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public StatusFeed()
    {
        Refreshing(new Shown(null, "", 0), pokedAgain: false);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new StatusFeed());

    /// <summary>From the supervisor: a job's phase, the jobs it owns or its cordon may have changed.</summary>
    public sealed record Changed
    {
        public static readonly Changed Instance = new();
    }

    /// <summary>The last status answered, its version, and how many versions there have been.</summary>
    /// <param name="Fingerprint">The status's content, to tell a real change from a repeat.</param>
    private sealed record Shown(NodeStatus? Status, string Fingerprint, long Versions);

    private sealed record HoldExpired(IActorRef Client);

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Context.Parent.Tell(new GetNodeStatus());
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    /// <summary>No status asked of the supervisor: a change asks for one.</summary>
    private void Idle(Shown shown)
    {
        Polls(shown);
        Receive<Changed>(_ => AskForStatus(shown));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => AskForStatus(shown));
    }

    /// <summary>A status asked of the supervisor; changes meanwhile ask for one more once it comes.</summary>
    private void Refreshing(Shown shown, bool pokedAgain)
    {
        Polls(shown);
        Receive<Changed>(_ => Become(() => Refreshing(shown, pokedAgain: true)));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => Become(() => Refreshing(shown, pokedAgain: true)));
        Receive<NodeStatus>(status =>
        {
            var next = Show(shown, status);
            if (pokedAgain)
            {
                AskForStatus(next);
            }
            else
            {
                Become(() => Idle(next));
            }
        });
    }

    private void Polls(Shown shown)
    {
        Receive<WatchNode>(watch => shown.Status is not null && watch.Seen != shown.Status.Version, _ => Sender.Tell(shown.Status));
        Receive<WatchNode>(_ =>
        {
            _waiting.Add(Sender);
            Context.Watch(Sender);
            Timers.StartSingleTimer(Sender, new HoldExpired(Sender), HoldLimit);
        });
        Receive<HoldExpired>(expired =>
        {
            if (_waiting.Remove(expired.Client) && shown.Status is not null)
            {
                expired.Client.Tell(shown.Status);
            }
            // Before the first status the client hears nothing and asks again when its wait ends.
        });
        Receive<Terminated>(t =>
        {
            _waiting.Remove(t.ActorRef);
            Timers.Cancel(t.ActorRef);
        });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    private void AskForStatus(Shown shown)
    {
        Context.Parent.Tell(new GetNodeStatus());
        Become(() => Refreshing(shown, pokedAgain: false));
    }

    /// <summary>A new version when <paramref name="status"/> differs from what was shown, and every waiting client answered with it.</summary>
    private Shown Show(Shown shown, NodeStatus status)
    {
        var fingerprint = JsonSerializer.Serialize(status with { Version = "" });
        if (fingerprint == shown.Fingerprint)
        {
            return shown;
        }
        var versions = shown.Versions + 1;
        var versioned = status with { Version = $"{_epoch}-{versions}" };
        foreach (var client in _waiting)
        {
            client.Tell(versioned);
            Context.Unwatch(client);
            Timers.Cancel(client);
        }
        _waiting.Clear();
        return new Shown(versioned, fingerprint, versions);
    }
}
