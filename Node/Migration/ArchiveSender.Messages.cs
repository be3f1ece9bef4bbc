using Akka.Actor;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>What an <see cref="ArchiveSender"/> and its parent, the outgoing migration, tell each other; then what it tells itself.</summary>
public sealed partial class ArchiveSender
{
    /// <summary>From the parent: the checkpoint finished and the archive file is whole; this is the state to hand over with it.</summary>
    public sealed record ArchiveWritten(long TotalBytes, JobHandoff Handoff)
    {
        /// <summary>When the checkpoint ended (a <see cref="System.Diagnostics.Stopwatch"/> timestamp): what the transfer added is timed from here.</summary>
        public long WrittenAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    /// <summary>To the parent, now and then: bytes the target has acknowledged so far.</summary>
    public sealed record Progress(long BytesAcknowledged) : ILateReply;

    /// <summary>To the parent: the target has the whole archive and is restoring it.</summary>
    /// <param name="StreamMs">From the first chunk sent until the last was acknowledged.</param>
    public sealed record Restoring(long StreamMs) : ILateReply;

    /// <summary>The target restored the container and its job actor owns the job now.</summary>
    public sealed record Delivered(string NewOwner, long RestoreMs);

    /// <summary>The transfer failed.</summary>
    /// <param name="InDoubt">
    /// The whole archive went out and the target's answer did not come back: it may have restored
    /// the job. Otherwise the target cannot have restored it (it restores only after the end of the archive).
    /// </param>
    public sealed record GaveUp(MigrationFailure Code, string Reason, bool InDoubt = false) : ILateReply;

    /// <summary>Where chunks go and who acknowledges them, once the target accepted and its stream opened.</summary>
    private sealed record Link(IActorRef Receiver, ArchiveStreamWriter Stream);

    private sealed record StreamOpened(ArchiveStreamWriter Writer);
    private sealed record StreamUnavailable(string Reason);
    private sealed record ChunkRead(int Length);
    private sealed record ReadFailed(string Reason);
    private sealed record TimedOut(string Reason);
    private sealed record TailAgain : ILateReply
    {
        public static readonly TailAgain Instance = new();
    }
}
