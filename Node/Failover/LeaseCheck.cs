using Akka.Actor;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.Failover;

/// <summary>
/// Whether this host may start a protected job now: its fencing agent must hold its lease, or its
/// fence kills the container (an agent that has just started, or is cut off from the others, holds
/// none). A host without an agent (fence_port 0, as in specs) takes protected jobs, and fails none over.
/// </summary>
public static class LeaseCheck
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);

    /// <returns>Null when the job may start here, else why not.</returns>
    public static async Task<string?> ProblemAsync(HostEntry self, MigrationConfig config, ActorSystem system, CancellationToken cancellationToken)
    {
        if (self.FencePort == 0)
        {
            return null;
        }
        var agent = system.ActorSelection($"akka.ssl.tcp://{VoterSet.SystemName(config)}@{self.Address}:{self.FencePort}/user/{FencingAgent.ActorName}");
        try
        {
            var status = await agent.Ask<LeaseStatus>(LeaseStatusQuery.Instance, Limit, cancellationToken);
            return status.Leased ? null
                : status.DeclaredLost ? $"{self.Name} was declared lost: its fencing agent never holds a lease again, and would kill a protected container"
                : $"{self.Name}'s fencing agent holds no lease now (it has just started, or cannot reach a majority of the agents), so its fence would kill a protected container; try again shortly, or run the job unprotected";
        }
        catch (AskTimeoutException)
        {
            return $"{self.Name}'s fencing agent did not answer within {Limit.TotalSeconds:0} s (is akka-migration-fence running?): a protected job needs it";
        }
    }
}
