using System.Threading.Channels;
using Akka.Actor;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Clients;

/// <summary>
/// A client's request as the node's actors see it: the sender they answer. It passes each answer to
/// the client's connection and stops after the final one (<see cref="ClientWire.IsInterim"/>).
/// </summary>
internal sealed class ClientCall : ReceiveActor
{
    private readonly ChannelWriter<object> _answers;

    public ClientCall(ChannelWriter<object> answers)
    {
        _answers = answers;
        ReceiveAny(answer =>
        {
            _answers.TryWrite(answer);
            if (!ClientWire.IsInterim(answer))
            {
                Context.Stop(Self);
            }
        });
    }

    public static Props Props(ChannelWriter<object> answers) => Akka.Actor.Props.Create(() => new ClientCall(answers));

    protected override void PostStop() => _answers.TryComplete();
}
