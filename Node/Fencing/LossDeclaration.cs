using Akka.Actor;
using Akka.Event;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// Declares one host lost for whoever asked (<see cref="DeclareHostLost"/>): asks the voters every
/// renew_every to promise never to grant it again, until a majority has promised, then answers
/// <see cref="HostDeclaredLost"/> and stops. Each voter promises only once its own last grant to the
/// host is older than failover_after, so the answer is the proof that the host's protected copies can
/// no longer run. Where no majority can form without the lost host (two hosts, no witness) it needs
/// an operator's word, which only this agent's own voter takes: then its promise alone declares it.
/// </summary>
public sealed class LossDeclaration : ReceiveActor, IWithTimers
{
    private readonly string _self;
    private readonly DeclareHostLost _request;
    private readonly IActorRef _requester;
    private readonly FencingSeals _seals;
    private readonly VoterSet _voters;
    private readonly Dictionary<string, LossPromised> _promised = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, string> _withheld = [];
    private readonly TimeSpan _askEvery;
    private readonly TimeSpan _giveUpAfter;

    private sealed record Ask;

    private sealed record GiveUp;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string self, DeclareHostLost request, IActorRef requester, FencingSeals seals, VoterSet voters, HaSettings ha) =>
        Akka.Actor.Props.Create(() => new LossDeclaration(self, request, requester, seals, voters, ha));

    /// <param name="self">This agent's host: an operator's word goes to its voter alone.</param>
    public LossDeclaration(string self, DeclareHostLost request, IActorRef requester, FencingSeals seals, VoterSet voters, HaSettings ha)
    {
        _self = self;
        _request = request;
        _requester = requester;
        _seals = seals;
        _voters = voters;
        _askEvery = ha.RenewEvery;
        _giveUpAfter = ha.FailoverAfter * 2 + ha.FenceAfter;
        Receive<Ask>(_ => AskVoters());
        Receive<GiveUp>(_ =>
        {
            // A host whose lease a voter keeps renewing is alive: the asker may ask again later.
            var why = _withheld.Count == 0 ? "no voter answered" : string.Join("; ", _withheld.Select(w => $"{w.Key}: {w.Value}"));
            _requester.Tell(new LossNotDeclarable(_request.Host, $"not declared within {_giveUpAfter.TotalSeconds:0} s: {why}"));
            Context.Stop(Self);
        });
        Receive<LossPromised>(Promised);
        Receive<PromiseWithheld>(w =>
        {
            if (w.Host == _request.Host && _voters.Contains(w.Voter) && _seals.Problem(w) is null && _withheld.GetValueOrDefault(w.Voter) != w.Reason)
            {
                _withheld[w.Voter] = w.Reason;
                _log.Info("Fencing: declaring {0} lost: {1} withholds its promise: {2}", _request.Host, w.Voter, w.Reason);
            }
        });
    }

    /// <remarks>The first ask goes at once, not by a timer due now: a scheduler only runs what is due when its clock next moves.</remarks>
    protected override void PreStart()
    {
        Self.Tell(new Ask());
        Timers.StartPeriodicTimer(nameof(Ask), new Ask(), _askEvery);
        Timers.StartSingleTimer(nameof(GiveUp), new GiveUp(), _giveUpAfter);
    }

    /// <summary>Null if <paramref name="request"/> can be declared by the voters, else why not (answered as <see cref="LossNotDeclarable"/>).</summary>
    public static string? Problem(string self, DeclareHostLost request, VoterSet voters) =>
        request.Host == self ? $"{self} cannot declare itself lost"
        : !voters.Contains(request.Host) || request.Host == WitnessEntry.Name ? $"{request.Host} is not a host of config.ini"
        : request.ByOperator && voters.MajorityWithout(request.Host)
            ? $"a majority of the voters can decide whether {request.Host} is lost, without an operator"
        : !request.ByOperator && !voters.MajorityWithout(request.Host)
            ? $"no majority of the voters can form without {request.Host} (two hosts, no witness): only an operator can say it is gone (node lost {request.Host})"
        : null;

    private void AskVoters()
    {
        var ask = new PromiseRequest(_self, _request.Host, _request.ByOperator, FencingSeal.None);
        ask = ask with { Seal = _seals.Seal(ask.SignedText()) };
        if (_request.ByOperator)
        {
            _voters.Tell(_self, ask, Self);
        }
        else
        {
            _voters.TellAll(ask, Self);
        }
    }

    private void Promised(LossPromised promise)
    {
        if (promise.Host != _request.Host || !_voters.Contains(promise.Voter) || _seals.Problem(promise) is not null)
        {
            return;
        }
        _promised[promise.Voter] = promise;
        if (_promised.Count < (_request.ByOperator ? 1 : _voters.Majority))
        {
            return;
        }
        var promises = _promised.Values.OrderBy(p => p.Voter, StringComparer.Ordinal).ToArray();
        _log.Warning("Fencing: {0} is declared lost, by the promises of {1}{2}", _request.Host, string.Join(", ", promises.Select(p => p.Voter)),
            _request.ByOperator ? " on an operator's word" : "");
        _requester.Tell(new HostDeclaredLost(_request.Host, promises, _request.ByOperator));
        Context.Stop(Self);
    }
}
