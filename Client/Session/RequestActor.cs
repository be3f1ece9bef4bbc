using Akka.Actor;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Security;

namespace AkkaMigration.Client.Session;

/// <summary>
/// One request, from sending it to its final answer, over a connection of its own to the node
/// (<see cref="NodeChannel"/>). Progress reports go to the request's callback; a
/// <see cref="JobMoved"/> is followed to the new owner; a connection that drops while the node owes
/// the answer is reported at once, not after the timeout. It tells the asker once, then stops.
/// A job's request sent where the user named no host (to the executor) goes to the other hosts in
/// config.ini's order when that one cannot be reached (<see cref="ConnectTimeout"/> each), since any
/// node sends it on to the job's owner: a lost executor must not make every job unreachable. A host
/// the user named is asked alone, and so is a node about itself (its status, a drain).
/// </summary>
internal sealed class RequestActor : ReceiveActor, IWithTimers
{
    private const int MaxRedirects = 5;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    private readonly MigrationConfig _config;
    private readonly ClusterTls _tls;
    private readonly ClientActor.Request _request;
    private readonly IActorRef _replyTo;
    private readonly CancellationTokenSource _stopping = new();

    public RequestActor(MigrationConfig config, ClusterTls tls, ClientActor.Request request, IActorRef replyTo)
    {
        _config = config;
        _tls = tls;
        _request = request;
        _replyTo = replyTo;
        var host = config.GetHost(request.Host);
        Connecting(new Asking(host, 0, request.FallBack && request.Message is IJobCommand
            ? [.. config.Hosts.Where(h => h.Name != host.Name)]
            : []));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MigrationConfig config, ClusterTls tls, ClientActor.Request request, IActorRef replyTo) =>
        Akka.Actor.Props.Create(() => new RequestActor(config, tls, request, replyTo));

    // One deadline for the whole request, redirects included, pushed back by each progress report.
    protected override void PreStart() => ArmDeadline();

    private void ArmDeadline() => Timers.StartSingleTimer(nameof(DeadlineReached), new DeadlineReached(), _request.Timeout);

    // Not disposed: a read or connect still under way may look at its token after the actor has stopped.
    protected override void PostStop() => _stopping.Cancel();

    /// <summary>Which node is asked, after how many redirects, and who is asked next if it cannot be reached.</summary>
    private sealed record Asking(HostEntry Host, int Redirects, IReadOnlyList<HostEntry> Fallbacks);

    private void Connecting(Asking asking)
    {
        var host = asking.Host;
        NodeChannel.OpenAsync(host, _tls, _request.Message, _request.Timeout, _stopping.Token)
            .WaitAsync(ConnectTimeout, _stopping.Token)
            .PipeTo(Self, success: channel => new Connected(channel),
                failure: e => new NotConnected(e is TimeoutException ? $"no answer within {ConnectTimeout.TotalSeconds:0} s" : e.GetBaseException().Message));
        Receive<Connected>(connected =>
        {
            ReadNext(connected.Channel);
            Become(() => Waiting(asking, connected.Channel));
        });
        Receive<NotConnected>(_ => asking.Fallbacks.Count > 0, _ =>
            Become(() => Connecting(new Asking(asking.Fallbacks[0], asking.Redirects, asking.Fallbacks.Skip(1).ToList()))));
        Receive<NotConnected>(failed => Finish(new ClientActor.Unreachable(host.Name,
            $"node {host.Name} at {host.Address}:{host.StreamPort} can't be reached ({failed.Reason}); is it running?")));
        Receive<DeadlineReached>(_ => Finish(TimedOut(host)));
    }

    private void Waiting(Asking asking, NodeChannel channel)
    {
        var host = asking.Host;
        Receive<Heard>(heard => heard.Answer is MigrationProgress, heard =>
        {
            _request.Progress?.Report((MigrationProgress)heard.Answer);
            // A move that keeps reporting is at work, however large: the wait counts from its last word.
            ArmDeadline();
            ReadNext(channel);
        });
        Receive<Heard>(heard => heard.Answer is JobMoved m && m.Owner != host.Name && asking.Redirects < MaxRedirects && _config.FindHost(m.Owner) is not null,
            heard =>
            {
                Close(channel);
                Become(() => Connecting(new Asking(_config.GetHost(((JobMoved)heard.Answer).Owner), asking.Redirects + 1, [])));
            });
        Receive<Heard>(heard =>
        {
            Close(channel);
            Finish(new ClientActor.Response(host.Name, heard.Answer));
        });
        Receive<ConnectionLost>(lost =>
        {
            Close(channel);
            Finish(new ClientActor.Unreachable(host.Name,
                $"lost the connection to {host.Name} before it answered ({lost.Reason}); it may have finished the request: ask again with query once it is back"));
        });
        Receive<DeadlineReached>(_ =>
        {
            Close(channel);
            Finish(TimedOut(host));
        });
    }

    /// <summary>The request is done with this connection; closing it tells the node so.</summary>
    private static void Close(NodeChannel channel) => _ = channel.DisposeAsync().AsTask();

    private void ReadNext(NodeChannel channel) =>
        channel.ReadAnswerAsync(_stopping.Token).PipeTo(Self,
            success: answer => answer is null ? new ConnectionLost("the node closed it") : new Heard(answer),
            failure: e => new ConnectionLost(e.GetBaseException().Message));

    private ClientActor.Unreachable TimedOut(HostEntry host) => new(host.Name,
        $"node {host.Name} said nothing for {_request.Timeout.TotalSeconds:0} s; it may still be at work: check with status");

    private void Finish(object result)
    {
        _replyTo.Tell(result);
        Context.Stop(Self);
    }

    private sealed record Connected(NodeChannel Channel);

    private sealed record NotConnected(string Reason);

    private sealed record Heard(object Answer);

    private sealed record ConnectionLost(string Reason);

    private sealed record DeadlineReached;
}
