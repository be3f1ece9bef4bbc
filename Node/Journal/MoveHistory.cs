using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Journal;

/// <summary>
/// A job's history of moves, for <c>inspect</c>: bounded, since a service may move every day for
/// years. Each move is written in three steps by the two nodes that make it, in the handoff that
/// travels with the archive: the source adds it after its checkpoint, its archive sender notes the
/// transfer, the target the restore.
/// </summary>
public static class MoveHistory
{
    /// <summary>The most recent moves a job keeps.</summary>
    public const int Kept = 20;

    public static MoveRecord[] Checkpointed(MoveRecord[]? moves, string from, string to, long checkpointMs) =>
        [.. (moves ?? []).TakeLast(Kept - 1), new MoveRecord(from, to, DateTimeOffset.UtcNow, checkpointMs, 0, 0)];

    public static MoveRecord[]? Transferred(MoveRecord[]? moves, long transferMs) =>
        moves is [.., var last] ? [.. moves[..^1], last with { TransferMs = transferMs }] : moves;

    public static MoveRecord[]? Restored(MoveRecord[]? moves, long restoreMs) =>
        moves is [.., var last] ? [.. moves[..^1], last with { RestoreMs = restoreMs, At = DateTimeOffset.UtcNow }] : moves;
}
