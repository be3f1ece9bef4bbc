using Akka.Actor;
using Akka.Remote;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Session;

/// <summary>
/// One request, from sending it to its final answer. The node answers to this actor rather than to
/// an Ask, whose temporary actor would take the first <see cref="MigrationProgress"/> for the answer.
/// A <see cref="JobMoved"/> is followed to the new owner. A node whose connection drops while it owes
/// the answer is reported at once, not after the timeout. It tells the asker once, then stops.
/// </summary>
internal sealed class RequestActor : ReceiveActor, IWithTimers
{
    private const int MaxRedirects = 5;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private readonly MigrationConfig _config;
    private readonly ClientActor.Request _request;
    private readonly IActorRef _replyTo;
    private HostEntry _host;
    private int _redirects;

    public RequestActor(MigrationConfig config, ClientActor.Request request, IActorRef replyTo)
    {
        _config = config;
        _request = request;
        _replyTo = replyTo;
        _host = config.GetHost(request.Host);
        Resolving();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MigrationConfig config, ClientActor.Request request, IActorRef replyTo) =>
        Akka.Actor.Props.Create(() => new RequestActor(config, request, replyTo));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));
        // One deadline for the whole request, redirects included, so the session's own wait outlasts it.
        Timers.StartSingleTimer(nameof(DeadlineReached), new DeadlineReached(), _request.Timeout);
        Resolve();
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Resolve() =>
        Context.ActorSelection(_config.SupervisorPath(_host)).ResolveOne(ResolveTimeout)
            .PipeTo(Self, success: node => new NodeReached(node), failure: _ => new NodeNotFound());

    /// <summary>
    /// Disassociations are ignored here: a connection that never came up is reported by the failed
    /// resolve (over TLS, Akka publishes that failure as a disassociation before the resolve fails).
    /// </summary>
    private void Resolving()
    {
        Receive<NodeReached>(reached =>
        {
            reached.Node.Tell(_request.Message, Self);
            Become(Waiting);
        });
        Receive<NodeNotFound>(_ => Finish(new ClientActor.Unreachable(_host.Name,
            $"node {_host.Name} at {_host.Address}:{_host.Port} can't be reached; is it running?")));
        Receive<DeadlineReached>(_ => Finish(TimedOut()));
        Receive<DisassociatedEvent>(_ => { });
    }

    private void Waiting()
    {
        Receive<MigrationProgress>(p => _request.Progress?.Report(p));
        Receive<DisassociatedEvent>(lost => lost.RemoteAddress.Host == _host.Address && lost.RemoteAddress.Port == _host.Port,
            _ => Finish(new ClientActor.Unreachable(_host.Name,
                $"lost the connection to {_host.Name} before it answered; it may have finished the request: ask again with query once it is back")));
        Receive<DisassociatedEvent>(_ => { });
        Receive<DeadlineReached>(_ => Finish(TimedOut()));
        Receive<JobMoved>(m => m.Owner != _host.Name && _redirects < MaxRedirects && _config.FindHost(m.Owner) is not null, moved =>
        {
            _host = _config.GetHost(moved.Owner);
            _redirects++;
            Become(Resolving);
            Resolve();
        });
        ReceiveAny(answer => Finish(new ClientActor.Response(_host.Name, answer)));
    }

    private ClientActor.Unreachable TimedOut() => new(_host.Name,
        $"node {_host.Name} did not answer within {_request.Timeout.TotalSeconds:0} s; it may still be at work: check with status");

    private void Finish(object result)
    {
        _replyTo.Tell(result);
        Context.Stop(Self);
    }

    /// <summary>The node's supervisor was resolved: the connection to it is up.</summary>
    private sealed record NodeReached(IActorRef Node);

    private sealed record NodeNotFound;

    private sealed record DeadlineReached;
}
