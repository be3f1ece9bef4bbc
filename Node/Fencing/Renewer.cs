using Akka.Actor;
using Akka.Event;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// The host's own lease. Every renew_every it asks every voter to renew; the lease runs fence_after
/// from the <b>send</b> of the last renewal a quorum granted, on this agent's monotonic clock (a grant
/// says the voter saw the request after it was sent, never how long after). When the lease runs out,
/// the host's protected containers are killed (<see cref="Fence"/>), and they are killed again every
/// round until a lease is held. A voter that says the host was declared lost ends the renewing for good.
/// </summary>
/// <remarks>
/// States: Unleased (the start: an agent that has just started holds no lease, so it fences first;
/// and after a lease ran out), Leased (the fence deadline armed), DeclaredLost (no renewing; fenced every round).
/// </remarks>
public sealed class Renewer : ReceiveActor, IWithTimers
{
    private readonly string _host;
    private readonly FencingSeals _seals;
    private readonly VoterSet _voters;
    private readonly PromiseStore _promises;
    private readonly AgentClock _clock;
    private readonly HaSettings _ha;
    private readonly IActorRef _fence;
    private readonly long _incarnation = Random.Shared.NextInt64();
    private readonly Dictionary<long, Round> _rounds = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _sequence;
    private TimeSpan? _leaseFrom;
    private bool _fenced;
    private bool _declaredLost;

    private sealed record Round(TimeSpan SentAt, HashSet<string> Grants);

    private sealed record Renew;

    private sealed record LeaseRunsOut(TimeSpan LeaseFrom);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string host, FencingSeals seals, VoterSet voters, PromiseStore promises, AgentClock clock, HaSettings ha, IActorRef fence) =>
        Akka.Actor.Props.Create(() => new Renewer(host, seals, voters, promises, clock, ha, fence));

    public Renewer(string host, FencingSeals seals, VoterSet voters, PromiseStore promises, AgentClock clock, HaSettings ha, IActorRef fence)
    {
        _host = host;
        _seals = seals;
        _voters = voters;
        _promises = promises;
        _clock = clock;
        _ha = ha;
        _fence = fence;
        Unleased();
    }

    protected override void PreStart()
    {
        FenceNow($"{_host}'s agent started and holds no lease yet");
        Timers.StartPeriodicTimer(nameof(Renew), new Renew(), TimeSpan.Zero, _ha.RenewEvery);
    }

    private void Unleased()
    {
        Receive<Renew>(_ =>
        {
            SendRenewals();
            // A container the node started meanwhile must not run unleased either.
            if (_fenced)
            {
                _fence.Tell(new Fence.FenceNow($"{_host} still holds no lease"));
            }
        });
        Common();
    }

    private void Leased()
    {
        Receive<Renew>(_ => SendRenewals());
        Receive<LeaseRunsOut>(r => r.LeaseFrom == _leaseFrom, _ =>
        {
            FenceNow($"no renewal of {_host}'s lease was granted by a quorum for fence_after = {HaSettings.Text(_ha.FenceAfter)}");
            Become(Unleased);
        });
        Common();
    }

    private void DeclaredLost()
    {
        Receive<Renew>(_ => _fence.Tell(new Fence.FenceNow($"{_host} was declared lost")));
        Receive<LeaseStatusQuery>(_ => Sender.Tell(Status()));
        ReceiveAny(_ => { });
    }

    private void Common()
    {
        Receive<LeaseGranted>(Granted);
        Receive<LeaseRefused>(Refused);
        Receive<LeaseRunsOut>(_ => { });
        Receive<LeaseStatusQuery>(_ => Sender.Tell(Status()));
    }

    private void SendRenewals()
    {
        var now = _clock.Now;
        // A grant for a renewal sent fence_after ago or earlier could not extend the lease.
        foreach (var stale in _rounds.Where(r => now - r.Value.SentAt >= _ha.FenceAfter).Select(r => r.Key).ToList())
        {
            _rounds.Remove(stale);
        }
        var request = new LeaseRequest(_host, _incarnation, ++_sequence, FencingSeal.None);
        _rounds[_sequence] = new Round(now, []);
        _voters.TellAll(request with { Seal = _seals.Seal(request.SignedText()) }, Self);
    }

    private void Granted(LeaseGranted grant)
    {
        if (grant.Host != _host || grant.Incarnation != _incarnation || !_rounds.TryGetValue(grant.Sequence, out var round))
        {
            return;
        }
        if (!_voters.Contains(grant.Voter) || _seals.Problem(grant) is { } problem && Ignored(grant, problem))
        {
            return;
        }
        round.Grants.Add(grant.Voter);
        var quorum = _voters.RenewalQuorum(_promises.All.Where(p => p.ByOperator).Select(p => p.Host));
        if (round.Grants.Count < quorum || round.SentAt <= _leaseFrom)
        {
            return;
        }
        var left = round.SentAt + _ha.FenceAfter - _clock.Now;
        if (left <= TimeSpan.Zero)
        {
            return;
        }
        if (_leaseFrom is null || _fenced)
        {
            _log.Info("Fencing: {0} holds its lease (granted by {1})", _host, string.Join(", ", round.Grants.Order(StringComparer.Ordinal)));
        }
        _leaseFrom = round.SentAt;
        _fenced = false;
        Timers.StartSingleTimer(nameof(LeaseRunsOut), new LeaseRunsOut(round.SentAt), left);
        Become(Leased);
    }

    private void Refused(LeaseRefused refusal)
    {
        if (refusal.Host != _host || !_voters.Contains(refusal.Voter) || _seals.Problem(refusal) is { } problem && Ignored(refusal, problem))
        {
            return;
        }
        if (!refusal.DeclaredLost)
        {
            _log.Warning("Fencing: {0} refused to renew {1}'s lease: {2}", refusal.Voter, _host, refusal.Reason);
            return;
        }
        // Its copies may already run elsewhere: they stay dead, and the node must remove them (Node/Fencing's LeaseStatus says so).
        _declaredLost = true;
        _leaseFrom = null;
        Timers.Cancel(nameof(LeaseRunsOut));
        FenceNow($"{refusal.Voter} says {_host} was declared lost: {refusal.Reason}");
        Become(DeclaredLost);
    }

    private bool Ignored(ISignedFencingMessage message, string problem)
    {
        _log.Warning("Fencing: {0} ignored {1} from {2}: {3}", _host, message.GetType().Name, Sender.Path.Address, problem);
        return true;
    }

    private void FenceNow(string reason)
    {
        _fenced = true;
        _fence.Tell(new Fence.FenceNow(reason));
    }

    private LeaseStatus Status() => new(_host, Leased: _leaseFrom is { } from && _clock.Now - from < _ha.FenceAfter && !_fenced,
        LeaseAgeMs: _leaseFrom is { } since ? (long)(_clock.Now - since).TotalMilliseconds : null, _fenced, _declaredLost);
}
