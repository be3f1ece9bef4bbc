using Akka.DistributedData;
using AkkaMigration.Shared.Protocol.Fencing;

namespace AkkaMigration.Node.HostLoss;

/// <summary>A host the voters declared lost: when, and the signed promises that prove it.</summary>
/// <param name="Promises">Each voter's promise never to renew the host's lease again, under its own seal.</param>
public sealed record HostLossRecord(DateTimeOffset At, LossPromised[] Promises, bool ByOperator);

/// <summary>The hosts declared lost, replicated to every node: a job of such a host is answered as lost, never "ask again once it is back".</summary>
public static class LostHosts
{
    public static readonly LWWDictionaryKey<string, HostLossRecord> Key = new("lost-hosts");
}
