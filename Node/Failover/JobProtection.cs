using Akka.Actor;
using AkkaMigration.Node.Journal;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Failover;

/// <summary>
/// A job actor's protection: its <see cref="ProtectionRound"/> child while the job runs here, and
/// the last round's checkpoint, shown in the job's status. In memory only: it changes every round.
/// Used on the job actor's thread only.
/// </summary>
public sealed class JobProtection(NodeContext node, IActorContext context)
{
    private IActorRef? _round;

    public ProtectionCheckpoint? Last { get; private set; }

    /// <summary>Starts the rounds if the job is protected and they do not run yet.</summary>
    public void Start(JobRecord record)
    {
        if (record.Spec.Protection is { IsOn: true } && _round is null)
        {
            _round = context.ActorOf(ProtectionRound.Props(record, node, context.Parent));
        }
    }

    /// <summary>Ends the rounds; their replica hosts drop what they keep of the job.</summary>
    public void Stop()
    {
        if (_round is not null)
        {
            context.Stop(_round);
            (_round, Last) = (null, null);
        }
    }

    /// <summary>A round's report, taken only from the current rounds: false for one that outlived them.</summary>
    public bool Took(ProtectionRound.Protected round, IActorRef sender)
    {
        if (!sender.Equals(_round))
        {
            return false;
        }
        Last = new ProtectionCheckpoint(round.TakenAt, round.Bytes, round.PauseMs, round.Hosts);
        node.Metrics.ProtectionPaused(round.PauseMs);
        return true;
    }
}
