using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Supervision;

/// <summary>What a node answers a sender that is no node of the cluster, when it sends a node message.</summary>
public static class NodeMessages
{
    /// <summary>A refusal for the questions whose asker waits for an answer; null for the rest, which go unanswered.</summary>
    public static object? RefusalToStranger(object message, string node) => message switch
    {
        BeginTransfer b => new TransferRefused(b.TransferId ?? "", TransferFailure.NotANode, "only the cluster's nodes may begin a transfer"),
        CheckRestore c => new RestoreCheck(c.JobId ?? "", node, ["only the cluster's nodes may ask"]),
        FetchImage f => new ImageFetched(f.Image ?? "", 0, 0, "only the cluster's nodes may ask"),
        _ => null,
    };
}
