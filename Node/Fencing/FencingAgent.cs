using Akka.Actor;
using Akka.Event;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// The agent's front door for its own host and its node: what the lease says, and declaring a peer
/// lost (a <see cref="LossDeclaration"/> per request). Any node certificate passes TLS, so a remote
/// asker must speak from this host's own address: another host's node may not declare anything here.
/// </summary>
public sealed class FencingAgent : ReceiveActor
{
    public const string ActorName = "fencing-agent";

    /// <param name="ownAddress">This host's address (config.ini): the only one a remote asker may speak from.</param>
    public static Props Props(string self, IActorRef renewer, Func<DeclareHostLost, IActorRef, Props> declaration, VoterSet voters, string? ownAddress = null) =>
        Akka.Actor.Props.Create(() => new FencingAgent(self, renewer, declaration, voters, ownAddress));

    public FencingAgent(string self, IActorRef renewer, Func<DeclareHostLost, IActorRef, Props> declaration, VoterSet voters, string? ownAddress)
    {
        var log = Context.GetLogger();
        Receive<LeaseStatusQuery>(query => renewer.Forward(query));
        Receive<DeclareHostLost>(request =>
        {
            if (Sender.Path.Address.HasGlobalScope && Sender.Path.Address.Host != ownAddress)
            {
                log.Warning("Fencing: refused to declare {0} lost for {1}: only this host's own node may ask", request.Host, Sender.Path.Address);
                Sender.Tell(new LossNotDeclarable(request.Host, $"only {self}'s own node may ask its agent to declare a host lost"));
                return;
            }
            if (LossDeclaration.Problem(self, request, voters) is { } problem)
            {
                Sender.Tell(new LossNotDeclarable(request.Host, problem));
                return;
            }
            // Each asker has its own declaration: promises are idempotent, so two at once only ask twice.
            Context.ActorOf(declaration(request, Sender));
        });
    }
}
