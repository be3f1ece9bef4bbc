using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.HostLoss;

/// <summary>
/// Declares hosts lost, through this host's fencing agent (docs/architecture.md, "Fencing and
/// leases"): on an operator's word (<see cref="DeclareNodeLost"/>), or on its own once a peer has
/// been unreachable or gone for failover_after and a majority of voters can form without it. The
/// agent answers only once a majority of voters promised never to renew that host's lease again, so
/// a host whose agent still renews (its node process alone dead, say) is never declared lost. A
/// declared host is written to <see cref="LostHosts"/> with the promises and downed in the cluster.
/// </summary>
/// <remarks>
/// One state: the hosts gone since when, and the declarations under way with the operators waiting
/// on each. A host without a fencing agent (fence_port 0, as in specs) declares nothing.
/// </remarks>
public sealed class HostLossWatch : ReceiveActor, IWithTimers
{
    private readonly HostEntry _self;
    private readonly MigrationConfig _config;
    private readonly ICanTell? _agent;
    private readonly VoterSet _voters;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, TimeSpan> _goneSince = [];
    private readonly Dictionary<string, List<IActorRef>> _declaring = [];
    private readonly HashSet<string> _agentSilenceLogged = [];
    private readonly FencingSeals? _seals;
    /// <summary>Records refused, each logged once: host and time.</summary>
    private readonly HashSet<(string, DateTimeOffset)> _disbelieved = [];
    private IReadOnlyDictionary<string, HostLossRecord> _lost = new Dictionary<string, HostLossRecord>();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Tick;

    private sealed record AgentAnswered(string Host, object Answer);

    /// <summary>To the parent: the hosts proven lost, and when, each time the replicated record changes.</summary>
    public sealed record LostHostsProven(IReadOnlyDictionary<string, DateTimeOffset> Hosts);

    public static Props Props(HostEntry self, MigrationConfig config, FencingSeals? seals) =>
        Akka.Actor.Props.Create(() => new HostLossWatch(self, config, seals));

    public HostLossWatch(HostEntry self, MigrationConfig config, FencingSeals? seals)
    {
        _self = self;
        _config = config;
        _seals = seals;
        _voters = VoterSet.Of(config, Context.System);
        _agent = self.FencePort == 0 ? null
            : Context.ActorSelection($"akka.ssl.tcp://{VoterSet.SystemName(config)}@{self.Address}:{self.FencePort}/user/{FencingAgent.ActorName}");

        Receive<DeclareNodeLost>(OnOperator);
        Receive<AgentAnswered>(OnAgentAnswered);
        Receive<Tick>(_ => DeclareLongGone());
        Receive<ClusterEvent.UnreachableMember>(u => Gone(u.Member));
        Receive<ClusterEvent.MemberRemoved>(r => Gone(r.Member));
        Receive<ClusterEvent.ReachableMember>(r => Back(r.Member));
        Receive<ClusterEvent.MemberUp>(u => Back(u.Member));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<Changed>(c => c.Key.Equals(LostHosts.Key), c => Believe(c.Get(LostHosts.Key).Entries));
        Receive<IUpdateResponse>(u =>
        {
            if (u is not UpdateSuccess)
            {
                _log.Warning("HostLoss: a majority has not confirmed the record of a lost host yet ({0}); gossip carries it on", u);
            }
        });
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        _replicator.Tell(Dsl.Subscribe(LostHosts.Key, Self));
        if (_agent is not null)
        {
            Timers.StartPeriodicTimer(nameof(Tick), new Tick(), _config.Ha.RenewEvery);
        }
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private TimeSpan Now => Context.System.Scheduler.MonotonicClock;

    private void OnOperator(DeclareNodeLost request)
    {
        var host = request.Node;
        if (_config.FindHost(host) is null)
        {
            Sender.Tell(new CommandRejected("", JobFailure.UnknownHost, $"unknown host '{host}'; known hosts: {string.Join(", ", _config.Hosts.Select(h => h.Name))}"));
        }
        else if (host == _self.Name)
        {
            Sender.Tell(new CommandRejected("", JobFailure.HostAnswers, $"{host} answered this request: a host that answers is not lost; ask another host"));
        }
        else if (_lost.TryGetValue(host, out var record))
        {
            Sender.Tell(Declared(host, record));
        }
        else if (ReachableUp(host))
        {
            Sender.Tell(new CommandRejected("", JobFailure.HostAnswers, $"{host} is up and reachable from {_self.Name}: a host that answers is not lost"));
        }
        else if (_agent is null)
        {
            Sender.Tell(new CommandRejected("", JobFailure.FencingAgentSilent, $"{_self.Name} runs no fencing agent (fence_port 0): nothing can prove {host} lost"));
        }
        else
        {
            _log.Warning("HostLoss: an operator says {0} is gone; asking the voters to declare it lost", host);
            Declare(host, Sender);
        }
    }

    /// <summary>Asks the agent once per host at a time; every operator asking meanwhile hears the same answer.</summary>
    private void Declare(string host, IActorRef? operatorAsking)
    {
        if (_declaring.TryGetValue(host, out var waiting))
        {
            if (operatorAsking is not null)
            {
                waiting.Add(operatorAsking);
            }
            return;
        }
        _declaring[host] = operatorAsking is null ? [] : [operatorAsking];
        // Two voters and no witness: the operator's word is the only way; with a majority without the host, it decides.
        var request = new DeclareHostLost(host, ByOperator: operatorAsking is not null && !_voters.MajorityWithout(host));
        var limit = _config.Ha.FailoverAfter * 2 + _config.Ha.FenceAfter + TimeSpan.FromSeconds(5);
        _agent!.Ask<object>(request, limit)
            .PipeTo(Self, success: answer => new AgentAnswered(host, answer),
                failure: _ => new AgentAnswered(host, new CommandRejected("", JobFailure.FencingAgentSilent,
                    $"the fencing agent of {_self.Name} did not answer within {limit.TotalSeconds:0} s; is akka-migration-fence running there?")));
    }

    private void OnAgentAnswered(AgentAnswered answered)
    {
        var waiting = _declaring.Remove(answered.Host, out var asking) ? asking : [];
        object reply;
        switch (answered.Answer)
        {
            case HostDeclaredLost declared:
                var record = new HostLossRecord(DateTimeOffset.UtcNow, declared.Promises, declared.ByOperator);
                _replicator.Tell(Dsl.Update(LostHosts.Key, LWWDictionary<string, HostLossRecord>.Empty, new WriteMajority(TimeSpan.FromSeconds(3)),
                    map => map.SetItem(_cluster, answered.Host, record)));
                _lost = new Dictionary<string, HostLossRecord>(_lost) { [answered.Host] = record };
                DownMember(answered.Host);
                _log.Warning("HostLoss: {0} is declared lost by the promises of {1}", answered.Host, string.Join(", ", declared.Promisers));
                reply = Declared(answered.Host, record);
                break;
            case LossNotDeclarable refused:
                _log.Info("HostLoss: {0} is not declared lost: {1}", answered.Host, refused.Reason);
                reply = new CommandRejected("", JobFailure.LossNotDeclarable, $"{answered.Host} is not declared lost: {refused.Reason}");
                break;
            case CommandRejected silent:
                if (_agentSilenceLogged.Add(answered.Host) || waiting.Count > 0)
                {
                    _log.Warning("HostLoss: {0}", silent.Reason);
                }
                reply = silent;
                break;
            default:
                reply = new CommandRejected("", JobFailure.Unknown, $"the fencing agent answered {answered.Answer.GetType().Name}");
                break;
        }
        foreach (var asker in waiting)
        {
            asker.Tell(reply);
        }
    }

    /// <summary>Where a record of lost hosts enters this node: only the ones their promises prove, whoever wrote them.</summary>
    private void Believe(IImmutableDictionary<string, HostLossRecord> records)
    {
        var proven = new Dictionary<string, HostLossRecord>();
        foreach (var (host, record) in records)
        {
            if (LostHosts.Problem(host, record, _config, _seals) is not { } problem)
            {
                proven[host] = record;
            }
            else if (_disbelieved.Add((host, record.At)))
            {
                _log.Warning("HostLoss: a record that {0} was lost at {1:HH:mm:ss} UTC is not believed: {2}", host, record.At, problem);
            }
        }
        _lost = proven;
        Context.Parent.Tell(new LostHostsProven(proven.ToDictionary(e => e.Key, e => e.Value.At)));
    }

    private void DeclareLongGone()
    {
        foreach (var (host, since) in _goneSince)
        {
            if (Now - since >= _config.Ha.FailoverAfter && !_lost.ContainsKey(host) && !_declaring.ContainsKey(host) && _voters.MajorityWithout(host))
            {
                Declare(host, operatorAsking: null);
            }
        }
    }

    private void Gone(Member member)
    {
        if (HostOf(member) is { } host && host != _self.Name && !_goneSince.ContainsKey(host))
        {
            _goneSince[host] = Now;
        }
    }

    private void Back(Member member)
    {
        if (HostOf(member) is { } host)
        {
            _goneSince.Remove(host);
        }
    }

    private bool ReachableUp(string host) =>
        _cluster.State.Members.Any(m => m.Status == MemberStatus.Up && HostOf(m) == host && !_cluster.State.Unreachable.Contains(m));

    /// <summary>The lost host leaves the membership: its node, should it come back, must join anew.</summary>
    private void DownMember(string host)
    {
        foreach (var member in _cluster.State.Members.Where(m => HostOf(m) == host))
        {
            _cluster.Down(member.Address);
        }
    }

    private string? HostOf(Member member) =>
        _config.Hosts.FirstOrDefault(h => h.Address == member.Address.Host && h.Port == member.Address.Port)?.Name;

    private static NodeDeclaredLost Declared(string host, HostLossRecord record) =>
        new(host, record.At, [.. record.Promises.Select(p => p.Voter)], record.ByOperator);
}
