using Akka.Actor;
using Akka.Event;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// One vote on every host's lease (one per agent, the witness's included). It grants a host's renewal
/// unless it has promised that host away, and promises a host away only once its last grant to it is
/// older than failover_after on its own clock. A promise is on disk before it is answered, and is
/// never taken back: two majorities intersect, so once a majority has promised, no renewal of the
/// lost host can gather a majority again.
/// </summary>
/// <remarks>
/// The last grants live in memory. A restarted voter cannot know when it last granted, so it counts
/// every host as granted at its start: it promises nothing until failover_after has passed since.
/// </remarks>
public sealed class Voter : ReceiveActor
{
    private readonly FencingSeals _seals;
    private readonly PromiseStore _promises;
    private readonly AgentClock _clock;
    private readonly HaSettings _ha;
    private readonly VoterSet _voters;
    private readonly IReadOnlySet<string> _hosts;
    private readonly TimeSpan _startedAt;
    private readonly Dictionary<string, TimeSpan> _lastGrant = [];
    private readonly Dictionary<string, (long Incarnation, long Sequence)> _lastRequest = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public static Props Props(FencingSeals seals, PromiseStore promises, AgentClock clock, HaSettings ha, VoterSet voters, IEnumerable<string> hosts) =>
        Akka.Actor.Props.Create(() => new Voter(seals, promises, clock, ha, voters, hosts));

    private string Name => _seals.Name;

    /// <param name="hosts">The hosts whose leases this voter keeps: config.ini's, never the witness.</param>
    public Voter(FencingSeals seals, PromiseStore promises, AgentClock clock, HaSettings ha, VoterSet voters, IEnumerable<string> hosts)
    {
        _seals = seals;
        _promises = promises;
        _clock = clock;
        _ha = ha;
        _voters = voters;
        _hosts = hosts.ToHashSet();
        _startedAt = clock.Now;
        Receive<LeaseRequest>(Renew);
        Receive<PromiseRequest>(Promise);
        Receive<VoterStatusQuery>(_ => Sender.Tell(new VoterStatus(Name, [.. _promises.All.Select(p => p.Host)])));
    }

    private void Renew(LeaseRequest request)
    {
        if (Refusal(request, request.Host) is { } refusal)
        {
            Sender.Tell(Refused(request, declaredLost: false, refusal));
            return;
        }
        if (_promises.Promised(request.Host))
        {
            Sender.Tell(Refused(request, declaredLost: true, $"{Name} has promised never to grant {request.Host} again: it was declared lost"));
            return;
        }
        // A renewal repeated or overtaken (the network may duplicate and reorder) is answered by the one after it.
        if (_lastRequest.TryGetValue(request.Host, out var last) && last.Incarnation == request.Incarnation && last.Sequence >= request.Sequence)
        {
            return;
        }
        _lastRequest[request.Host] = (request.Incarnation, request.Sequence);
        _lastGrant[request.Host] = _clock.Now;
        var granted = new LeaseGranted(Name, request.Host, request.Incarnation, request.Sequence, FencingSeal.None);
        Sender.Tell(granted with { Seal = _seals.Seal(granted.SignedText()) });
    }

    private void Promise(PromiseRequest request)
    {
        if (Refusal(request, request.Asker) is { } refusal)
        {
            Sender.Tell(Withheld(request.Host, TimeSpan.Zero, refusal));
            return;
        }
        if (request.Host == Name || !_hosts.Contains(request.Host))
        {
            Sender.Tell(Withheld(request.Host, TimeSpan.Zero, $"{request.Host} is not a host {Name} can promise away"));
            return;
        }
        // An operator speaks only through the survivor's own agent, and only where no majority can decide.
        if (request.ByOperator && (request.Asker != Name || _voters.MajorityWithout(request.Host)))
        {
            Sender.Tell(Withheld(request.Host, TimeSpan.Zero, _voters.MajorityWithout(request.Host)
                ? $"the voters can declare {request.Host} lost by a majority; an operator's word is for two hosts without a witness"
                : $"an operator's word is taken only by the asker's own voter, not {Name}"));
            return;
        }
        if (!_promises.Promised(request.Host))
        {
            var since = _clock.Now - _lastGrant.GetValueOrDefault(request.Host, _startedAt);
            if (since < _ha.FailoverAfter)
            {
                Sender.Tell(Withheld(request.Host, since,
                    $"{Name} granted {request.Host} a lease (or started) {HaSettings.Text(since)} ago, less than failover_after = {HaSettings.Text(_ha.FailoverAfter)}"));
                return;
            }
            _promises.Add(new PromiseStore.Promise(request.Host, request.ByOperator, DateTimeOffset.Now));
            _log.Warning("Fencing: {0} promises never to grant {1} a lease again (asked by {2}{3}; last grant {4} ago)",
                Name, request.Host, request.Asker, request.ByOperator ? " on an operator's word" : "", HaSettings.Text(since));
        }
        var promised = new LossPromised(Name, request.Host, FencingSeal.None);
        Sender.Tell(promised with { Seal = _seals.Seal(promised.SignedText()) });
    }

    /// <summary>Null if <paramref name="message"/> comes from host <paramref name="signer"/> of the cluster, sealed by its own certificate.</summary>
    private string? Refusal(ISignedFencingMessage message, string signer)
    {
        var problem = !_hosts.Contains(signer) ? $"{signer} is not a host of config.ini" : _seals.Problem(message);
        if (problem is not null)
        {
            _log.Warning("Fencing: {0} refused {1} from {2}: {3}", Name, message.GetType().Name, Sender.Path.Address, problem);
        }
        return problem;
    }

    private LeaseRefused Refused(LeaseRequest request, bool declaredLost, string reason)
    {
        var refused = new LeaseRefused(Name, request.Host, request.Incarnation, request.Sequence, declaredLost, reason, FencingSeal.None);
        return refused with { Seal = _seals.Seal(refused.SignedText()) };
    }

    private PromiseWithheld Withheld(string host, TimeSpan since, string reason)
    {
        var withheld = new PromiseWithheld(Name, host, (long)since.TotalMilliseconds, reason, FencingSeal.None);
        return withheld with { Seal = _seals.Seal(withheld.SignedText()) };
    }
}
