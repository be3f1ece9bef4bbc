using System.Net;
using System.Net.Security;
using System.Threading.Channels;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using Microsoft.Extensions.Logging;

namespace AkkaMigration.Node.Clients;

/// <summary>
/// Where clients' requests come in (<see cref="ClientWire"/>, on the stream port): one request per
/// connection, handed to the supervisor as if the client had sent it, each answer written back
/// until the final one. The client only ever dials out, so a firewall or NAT in front of it is no
/// matter, and its certificate never reaches the nodes' Akka port. Connections are bounded per
/// certificate and per address (<see cref="ClientConnections"/>), the request in size
/// (<see cref="ClientWire.MaxRequestBytes"/>) and in time.
/// </summary>
/// <param name="connections">The bounds on connections; the defaults when null.</param>
public sealed class ClientGateway(ILogger<ClientGateway> log, ClientConnections? connections = null)
{
    private readonly ClientConnections _connections = connections ?? new ClientConnections();

    /// <summary>A client that connects and says nothing is not kept waiting on forever.</summary>
    private static readonly TimeSpan RequestLimit = TimeSpan.FromSeconds(10);

    /// <summary>What a client may ask the node to wait for at most (a migration, a drain, a job's result).</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromHours(24);

    /// <summary>The node's own bound outlasts the client's, so a client hears its own deadline first.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(5);

    private volatile Opened? _opened;

    /// <summary>Requests are answered from now on; before this the node is starting.</summary>
    public void Open(IActorRefFactory actors, IActorRef supervisor) => _opened = new Opened(actors, supervisor);

    /// <param name="certificate">The client certificate's thumbprint, which its connections are counted by.</param>
    /// <param name="address">The remote address, which its connections are counted by too.</param>
    public async Task ServeAsync(SslStream ssl, string peer, string certificate, IPAddress address, CancellationToken stopping)
    {
        if (_connections.TryEnter(certificate, address) is { } refusal)
        {
            if (refusal.First)
            {
                log.LogWarning("client {Peer} refused: {Reason}; further refusals are not logged until one of them closes", peer, refusal.Reason);
            }
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            limit.CancelAfter(RequestLimit);
            await ClientWire.WriteAnswerAsync(ssl, new CommandRejected("", JobFailure.TooManyConnections, $"too many connections: {refusal.Reason}"), limit.Token);
            return;
        }
        try
        {
            await ServeAdmittedAsync(ssl, peer, stopping);
        }
        finally
        {
            _connections.Leave(certificate, address);
        }
    }

    private async Task ServeAdmittedAsync(SslStream ssl, string peer, CancellationToken stopping)
    {
        IClientRequest request;
        TimeSpan timeout;
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            limit.CancelAfter(RequestLimit);
            try
            {
                (request, timeout) = await ClientWire.ReadRequestAsync(ssl, limit.Token);
            }
            catch (ClientWireException e)
            {
                log.LogWarning("client {Peer} refused: {Reason}", peer, e.Message);
                await ClientWire.WriteAnswerAsync(ssl, new CommandRejected("", JobFailure.NotARequest, $"not a request: {e.Message}"), limit.Token);
                return;
            }
        }
        if (_opened is not { } opened)
        {
            await ClientWire.WriteAnswerAsync(ssl, new CommandRejected((request as IJobCommand)?.JobId ?? "", JobFailure.NodeStarting,
                "the node is still starting; ask again in a moment"), stopping);
            return;
        }
        log.LogDebug("client {Peer} asks {Request}", peer, request);
        await AnswerAsync(ssl, opened, request, timeout, peer, stopping);
    }

    private async Task AnswerAsync(SslStream ssl, Opened opened, IClientRequest request, TimeSpan timeout, string peer, CancellationToken stopping)
    {
        var answers = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        var call = opened.Actors.ActorOf(ClientCall.Props(answers.Writer));
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var bound = (timeout < LongestWait ? timeout : LongestWait) + Margin;
        bounded.CancelAfter(bound);
        var gone = EndWhenClientLeavesAsync(ssl, bounded);
        try
        {
            opened.Supervisor.Tell(request, call);
            await foreach (var answer in answers.Reader.ReadAllAsync(bounded.Token))
            {
                await ClientWire.WriteAnswerAsync(ssl, answer, bounded.Token);
                // As the client does: a request that reports progress is bounded from its last report.
                bounded.CancelAfter(bound);
            }
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            log.LogDebug("client {Peer} left, or its wait ran out, before the answer to {Request}", peer, request);
        }
        finally
        {
            call.Tell(PoisonPill.Instance);
            await bounded.CancelAsync();
            await gone;
        }
    }

    /// <summary>A client sends nothing after its request: anything it does now (Ctrl-C, a lost link) ends the wait.</summary>
    private static async Task EndWhenClientLeavesAsync(SslStream ssl, CancellationTokenSource wait)
    {
        try
        {
            await ssl.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, wait.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        await wait.CancelAsync();
    }

    private sealed record Opened(IActorRefFactory Actors, IActorRef Supervisor);
}
