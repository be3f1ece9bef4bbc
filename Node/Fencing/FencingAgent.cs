using Akka.Actor;
using AkkaMigration.Shared.Protocol;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Fencing;

/// <summary>
/// The agent's front door for its own host (and, later, its node): what the lease says, and
/// declaring a peer lost (a <see cref="LossDeclaration"/> per request).
/// </summary>
public sealed class FencingAgent : ReceiveActor
{
    public const string ActorName = "fencing-agent";

    public static Props Props(string self, IActorRef renewer, Func<DeclareHostLost, IActorRef, Props> declaration, VoterSet voters) =>
        Akka.Actor.Props.Create(() => new FencingAgent(self, renewer, declaration, voters));

    public FencingAgent(string self, IActorRef renewer, Func<DeclareHostLost, IActorRef, Props> declaration, VoterSet voters)
    {
        Receive<LeaseStatusQuery>(query => renewer.Forward(query));
        Receive<DeclareHostLost>(request =>
        {
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
