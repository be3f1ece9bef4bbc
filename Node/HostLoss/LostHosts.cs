using Akka.DistributedData;
using AkkaMigration.Node.Fencing;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.HostLoss;

/// <summary>A host the voters declared lost: when, and the signed promises that prove it.</summary>
/// <param name="Promises">Each voter's promise never to renew the host's lease again, under its own seal.</param>
public sealed record HostLossRecord(DateTimeOffset At, LossPromised[] Promises, bool ByOperator);

/// <summary>
/// The hosts declared lost, replicated to every node: a job of such a host is answered as lost, never "ask again once it is back".
/// Any member can write replicated data, so a node believes a record only on its promises' seals (<see cref="Problem"/>).
/// </summary>
public static class LostHosts
{
    public static readonly LWWDictionaryKey<string, HostLossRecord> Key = new("lost-hosts");

    /// <summary>
    /// Null if <paramref name="record"/> proves <paramref name="host"/> lost, else why not: it needs the
    /// promises of a majority of config.ini's voters, each sealed by that voter's own certificate and none
    /// the host's own; an operator's word counts only between two voters, where the survivor's voter alone
    /// can promise (<see cref="Voter"/> takes it from its own host only).
    /// </summary>
    /// <param name="seals">Null on a node without TLS (specs), which can prove nothing.</param>
    public static string? Problem(string host, HostLossRecord record, MigrationConfig config, FencingSeals? seals)
    {
        if (seals is null)
        {
            return "this node cannot check the voters' seals";
        }
        var voters = VoterSet.NamesOf(config);
        var needed = record.ByOperator && voters.Count == 2 ? 1 : voters.Count / 2 + 1;
        var problems = new List<string>();
        var sealedBy = new HashSet<string>();
        foreach (var promise in record.Promises)
        {
            var problem = promise.Host != host ? $"a promise about {promise.Host}"
                : promise.Voter == host ? $"a promise by {host} against itself"
                : !voters.Contains(promise.Voter) ? $"a promise by {promise.Voter}, who is no voter"
                : seals.Problem(promise) is { } seal ? $"{promise.Voter}'s promise: {seal}"
                : null;
            if (problem is null)
            {
                sealedBy.Add(promise.Voter);
            }
            else
            {
                problems.Add(problem);
            }
        }
        return sealedBy.Count >= needed ? null
            : $"it carries {sealedBy.Count} sealed promise(s) of the {needed} it needs"
              + (problems.Count > 0 ? $" ({string.Join("; ", problems)})" : "");
    }
}
