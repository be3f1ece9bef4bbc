using Akka.Actor;
using Akka.Event;

namespace AkkaMigration.Node.Actors;

/// <summary>
/// A reply that may reach its actor after the actor has moved to a state that no longer expects it:
/// a podman call or a timer that outlived the phase it served, a child's report sent as it stopped.
/// One that reaches an actor already stopped (a call its token cancelled) is no dead letter worth a log line.
/// </summary>
public interface ILateReply : IDeadLetterSuppression;

/// <summary>
/// The base of the node's actors with explicit states: late replies are dropped here, in one
/// place, instead of being listed in every state; and <see cref="Stopping"/> cancels whatever the
/// actor still awaits (podman calls, streams) once it stops.
/// </summary>
public abstract class StatefulActor : ReceiveActor
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the actor stops: pass it to every call whose answer is piped back.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    /// <summary>
    /// For a call nothing waits for: its failure is logged. The adapter is safe off the actor's
    /// thread, and nothing of the actor's state is touched there.
    /// </summary>
    internal static void WarnOnFailure(Task task, ILoggingAdapter log, string what) =>
        task.ContinueWith(t => log.Warning("{0}: {1}", what, t.Exception?.GetBaseException().Message), TaskContinuationOptions.OnlyOnFaulted);

    protected override void PostStop()
    {
        // Not disposed: a continuation may still read the token after the actor has stopped.
        _stopping.Cancel();
        base.PostStop();
    }

    protected override void Unhandled(object message)
    {
        if (message is not ILateReply)
        {
            base.Unhandled(message);
        }
    }
}
