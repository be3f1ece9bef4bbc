using Akka.Actor;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Client.Session;

/// <summary>
/// The client's actor: sends a request to a node's supervisor and follows redirects to the job's
/// new owner, so the console only ever sees a final answer, a refusal or "unreachable".
/// </summary>
public sealed class ClientActor : ReceiveActor
{
    private const int MaxRedirects = 5;
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    private readonly MigrationConfig _config;

    public ClientActor(MigrationConfig config)
    {
        _config = config;
        Receive<Request>(r => Send(r, Sender, redirects: 0));
        Receive<NodeAnswered>(OnAnswer);
    }

    public static Props Props(MigrationConfig config) => Akka.Actor.Props.Create(() => new ClientActor(config));

    /// <summary>Ask <paramref name="Host"/> and wait up to <paramref name="Timeout"/> for the answer.</summary>
    public sealed record Request(string Host, object Message, TimeSpan Timeout);

    /// <summary>The final answer, from the node that gave it (after any redirects).</summary>
    public sealed record Response(string Host, object Answer);

    /// <summary>The node could not be reached, or did not answer in time.</summary>
    public sealed record Unreachable(string Host, string Reason);

    private void Send(Request request, IActorRef replyTo, int redirects)
    {
        var host = _config.GetHost(request.Host);
        var supervisor = Context.ActorSelection(_config.SupervisorPath(host));
        AskAsync(supervisor, host, request)
            .PipeTo(Self, success: answer => new NodeAnswered(request, replyTo, redirects, answer));
    }

    private static async Task<object> AskAsync(ActorSelection supervisor, HostEntry host, Request request)
    {
        IActorRef node;
        try
        {
            node = await supervisor.ResolveOne(ResolveTimeout);
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
        if (answered.Answer is JobMoved moved && moved.Owner != answered.Request.Host)
        {
            if (answered.Redirects >= MaxRedirects || _config.FindHost(moved.Owner) is null)
            {
                answered.ReplyTo.Tell(new Response(answered.Request.Host, answered.Answer));
                return;
            }
            Send(answered.Request with { Host = moved.Owner }, answered.ReplyTo, answered.Redirects + 1);
            return;
        }
        answered.ReplyTo.Tell(answered.Answer is Unreachable ? answered.Answer : new Response(answered.Request.Host, answered.Answer));
    }

    private sealed record NodeAnswered(Request Request, IActorRef ReplyTo, int Redirects, object Answer);
}
