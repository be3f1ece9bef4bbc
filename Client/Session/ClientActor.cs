using Akka.Actor;
using Akka.Remote;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Session;

/// <summary>
/// The client's actor: sends a request to a node's supervisor and follows redirects to the job's
/// new owner, so the console only ever sees a final answer, a refusal or "unreachable". A node
/// whose connection drops while it owes an answer is reported at once, not after the timeout.
/// </summary>
public sealed class ClientActor : ReceiveActor
{
    private const int MaxRedirects = 5;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private readonly MigrationConfig _config;
    private readonly Dictionary<long, Pending> _pending = [];
    private long _nextId;

    public ClientActor(MigrationConfig config)
    {
        _config = config;
        Receive<Request>(r => Send(r, Sender, redirects: 0));
        Receive<NodeAnswered>(OnAnswer);
        Receive<NodeReached>(OnReached);
        Receive<DisassociatedEvent>(OnConnectionLost);
    }

    public static Props Props(MigrationConfig config) => Akka.Actor.Props.Create(() => new ClientActor(config));

    /// <summary>Ask <paramref name="Host"/> and wait up to <paramref name="Timeout"/> for the answer.</summary>
    public sealed record Request(string Host, object Message, TimeSpan Timeout);

    /// <summary>The final answer, from the node that gave it (after any redirects).</summary>
    public sealed record Response(string Host, object Answer);

    /// <summary>The node could not be reached, or did not answer in time.</summary>
    public sealed record Unreachable(string Host, string Reason);

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(DisassociatedEvent));

    private void Send(Request request, IActorRef replyTo, int redirects)
    {
        var host = _config.GetHost(request.Host);
        var id = _nextId++;
        _pending[id] = new Pending(request, replyTo, redirects, host);
        AskAsync(Context.ActorSelection(_config.SupervisorPath(host)), host, request, Self, id)
            .PipeTo(Self, success: answer => new NodeAnswered(id, answer));
    }

    private static async Task<object> AskAsync(ActorSelection supervisor, HostEntry host, Request request, IActorRef self, long id)
    {
        IActorRef node;
        try
        {
            node = await supervisor.ResolveOne(ResolveTimeout);
            self.Tell(new NodeReached(id));
        }
        catch (Exception e) when (e is ActorNotFoundException or TimeoutException or AskTimeoutException)
        {
            return new Unreachable(host.Name, $"node {host.Name} at {host.Address}:{host.Port} can't be reached; is it running?");
        }
        try
        {
            return await node.Ask<object>(request.Message, request.Timeout);
        }
        catch (AskTimeoutException)
        {
            return new Unreachable(host.Name, $"node {host.Name} did not answer within {request.Timeout.TotalSeconds:0} s");
        }
    }

    private void OnAnswer(NodeAnswered answered)
    {
        // Already answered as unreachable when the connection dropped.
        if (!_pending.Remove(answered.Id, out var pending))
        {
            return;
        }
        if (answered.Answer is JobMoved moved && moved.Owner != pending.Request.Host)
        {
            if (pending.Redirects >= MaxRedirects || _config.FindHost(moved.Owner) is null)
            {
                pending.ReplyTo.Tell(new Response(pending.Request.Host, answered.Answer));
                return;
            }
            Send(pending.Request with { Host = moved.Owner }, pending.ReplyTo, pending.Redirects + 1);
            return;
        }
        pending.ReplyTo.Tell(answered.Answer is Unreachable ? answered.Answer : new Response(pending.Request.Host, answered.Answer));
    }

    private void OnReached(NodeReached reached)
    {
        if (_pending.TryGetValue(reached.Id, out var pending))
        {
            _pending[reached.Id] = pending with { Reached = true };
        }
    }

    /// <summary>
    /// A node's connection dropped (its process died, or the link did): what it owed will not come.
    /// Only for requests that reached it: a connection that never came up is reported as such by
    /// AskAsync (over TLS, Akka publishes that failure as a disassociation before the resolve fails).
    /// </summary>
    private void OnConnectionLost(DisassociatedEvent lost)
    {
        foreach (var (id, pending) in _pending.Where(p => p.Value.Reached && p.Value.Host.Address == lost.RemoteAddress.Host && p.Value.Host.Port == lost.RemoteAddress.Port).ToList())
        {
            _pending.Remove(id);
            pending.ReplyTo.Tell(new Unreachable(pending.Host.Name,
                $"lost the connection to {pending.Host.Name} before it answered; it may have finished the request: ask again with query once it is back"));
        }
    }

    private sealed record Pending(Request Request, IActorRef ReplyTo, int Redirects, HostEntry Host, bool Reached = false);

    private sealed record NodeAnswered(long Id, object Answer);

    /// <summary>The node's supervisor was resolved: the connection to it is up.</summary>
    private sealed record NodeReached(long Id);
}
