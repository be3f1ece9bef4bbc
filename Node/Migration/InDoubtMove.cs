using System.Diagnostics;
using Akka.Actor;
using AkkaMigration.Node.Actors;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// A child of <see cref="OutgoingMigration"/> while its move is in doubt (the whole archive went to
/// the target, whose answer never came back): it asks the target whether it restored the job, more
/// and more slowly, until it answers, and weighs an operator's <see cref="ResolveJob"/>, which may
/// overrule only a target silent for <paramref name="peerSilence"/>. It tells its parent one
/// <see cref="IVerdict"/> and stops.
/// </summary>
public sealed class InDoubtMove : StatefulActor, IWithTimers
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    /// <summary>The slowest the target is asked; a live target answers within it and an answer's way back.</summary>
    public static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(10);

    public InDoubtMove(string jobId, string transferId, ActorSelection target, string targetName, TimeSpan peerSilence)
    {
        // Since the wait began, or since the target last answered: only a target silent this long may be overruled.
        var heard = Stopwatch.StartNew();
        Receive<Ask>(ask =>
        {
            target.Tell(new TransferOutcomeQuery(transferId, jobId), Self);
            // Asked until it answers: giving up would mean losing the job or risking two copies.
            var delay = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(ask.Attempt - 1, 8)));
            Timers.StartSingleTimer(nameof(Ask), new Ask(ask.Attempt + 1), delay);
        });
        Receive<TransferOutcome>(o => o.TransferId == transferId && o.JobId == jobId, o =>
        {
            heard.Restart();
            switch (o.State)
            {
                case TransferState.Restored:
                    Decide(new TargetRestored());
                    break;
                case TransferState.Absent:
                    Decide(new TargetHoldsNothing());
                    break;
            }
        });
        Receive<ResolveJob>(_ => heard.Elapsed < peerSilence, r => Sender.Tell(new CommandRejected(r.JobId, JobFailure.TargetNotSilent,
            $"{targetName} was heard from {heard.Elapsed.TotalSeconds:0} s ago and is asked again until it says whether it restored job {jobId}; " +
            $"resolve settles a move only once its target has been silent for {peerSilence.TotalSeconds:0} s")));
        Receive<ResolveJob>(r => Decide(new OperatorChose(r.Choice, heard.Elapsed, Sender)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string jobId, string transferId, ActorSelection target, string targetName, TimeSpan peerSilence) =>
        Akka.Actor.Props.Create(() => new InDoubtMove(jobId, transferId, target, targetName, peerSilence));

    protected override void PreStart() => Self.Tell(new Ask(1));

    /// <summary>How the doubt ended.</summary>
    public interface IVerdict;

    /// <summary>The target runs the job: the move succeeded.</summary>
    public sealed record TargetRestored : IVerdict;

    /// <summary>The target holds nothing of the transfer: the job may resume here.</summary>
    public sealed record TargetHoldsNothing : IVerdict;

    /// <summary>The target stayed silent and the operator settled the move; <paramref name="Operator"/> hears the end.</summary>
    public sealed record OperatorChose(ResolveChoice Choice, TimeSpan Silence, IActorRef Operator) : IVerdict;

    private void Decide(IVerdict verdict)
    {
        Context.Parent.Tell(verdict);
        Context.Stop(Self);
    }

    private sealed record Ask(int Attempt) : ILateReply;
}
