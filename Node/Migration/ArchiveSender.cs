using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Streams one checkpoint archive to the target node while podman is still writing it: it reads
/// the file as it grows, keeps at most a window of chunks unacknowledged (sent again, a bounded
/// number of times, when acknowledgements stop), hashes the bytes as read, and once its parent
/// (<see cref="OutgoingMigration"/>) says the archive is whole (<see cref="ArchiveWritten"/>),
/// sends the rest and the job's pending-result state. Reports to its parent whether the target
/// restored the container, and stops; stopped before that, it tells the target to drop what it
/// received.
/// <code>
/// state               on                                    next
/// AwaitingAcceptance  TransferAccepted                      Opening (the archive stream's TLS handshake)
/// Opening             stream open / cannot open             Streaming / gives up
/// Streaming           ack → read and send more; all acked   AwaitingRestore (EndOfArchive over Akka)
///                     stream broke                          HearingWhy
///                     acks stopped (resent twice),          gives up: the target cannot have restored
///                     target gave up                        anything yet
/// HearingWhy          TransferFailed / 2 s                  gives up with the target's reason / "broke"
/// AwaitingRestore     RestoreConfirmed or ReplicaStored /   Delivered / gives up
///                     TransferFailed
///                     no answer                             gives up in doubt: the target may run it
/// </code>
/// Chunks travel only on the archive stream (<see cref="ArchiveStreams"/>, about twice Akka.Remote's
/// rate: docs/benchmark.md); the handshake, acknowledgements and the end are Akka messages.
/// </summary>
public sealed partial class ArchiveSender : StatefulActor, IWithTimers
{
    /// <summary>How often to look again when the reader has caught up with podman's writing.</summary>
    internal static readonly TimeSpan TailInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);
    /// <summary>How long a broken stream waits for the target's reason.</summary>
    internal static readonly TimeSpan WhyTimeout = TimeSpan.FromSeconds(2);

    private readonly BeginTransfer _begin;
    private readonly HostEntry _streamTo;
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SendWindow _window;
    private readonly Stopwatch _progressClock = new();
    private readonly GrowingArchive _archive;
    private ArchiveWritten? _written;
    /// <summary>The target's side of the transfer: its supervisor, then the transfer's receiver once it answers.</summary>
    private ICanTell _peer;
    /// <summary>The stream, opened or opening: closed when the actor stops, even if it opens only after that.</summary>
    private Task<ArchiveStreamWriter>? _opening;
    /// <summary>The target restored the archive, or was told to drop it.</summary>
    private bool _finished;
    private bool _reading;
    private Stopwatch? _streamClock;

    /// <param name="target">The target's supervisor.</param>
    /// <param name="streamTo">The target host, whose archive stream the chunks take.</param>
    /// <param name="expectedBytes">The archive's estimated size (<see cref="ArchiveEstimate"/>), for the target to check its room; binding there.</param>
    /// <param name="replicaHosts">Non-null for a protection checkpoint, which the target keeps instead of restoring (<see cref="BeginTransfer.ReplicaHosts"/>).</param>
    public ArchiveSender(string transferId, string jobId, string archivePath, ActorSelection target, NodeContext node, HostEntry streamTo, long expectedBytes,
        string[]? replicaHosts = null)
    {
        _begin = new BeginTransfer(transferId, jobId, node.Name, node.Config.Transfer.ChunkBytes, expectedBytes) { ReplicaHosts = replicaHosts };
        _peer = target;
        _node = node;
        _streamTo = streamTo;
        _archive = new GrowingArchive(archivePath, ChunkBytes, new ChunkBuffers(ChunkBytes, node.Config.Transfer.Window + 1));
        _window = new SendWindow(transferId, node.Config.Transfer.Window);
        AwaitingAcceptance();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string transferId, string jobId, string archivePath, ActorSelection target, NodeContext node, HostEntry streamTo,
        long expectedBytes, string[]? replicaHosts = null) =>
        Akka.Actor.Props.Create(() => new ArchiveSender(transferId, jobId, archivePath, target, node, streamTo, expectedBytes, replicaHosts));

    /// <summary>Unacknowledged chunks are sent again this many times before the transfer fails.</summary>
    public const int MaxResends = 2;

    private TimeSpan AckTimeout => _node.Config.Transfer.AckTimeout;

    private int ChunkBytes => _node.Config.Transfer.ChunkBytes;

    protected override void PreStart()
    {
        _peer.Tell(_begin, Self);
        ArmTimeout("the target did not answer the transfer request", AckTimeout);
    }
    /// <summary>The target's answers name this transfer; one that names another is not this transfer's business, whoever sent it.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is ITransferMessage answer && answer.TransferId != _begin.TransferId)
        {
            _log.Warning("dropped {0} naming transfer {1} from {2}: this is transfer {3}", message.GetType().Name, answer.TransferId, Sender.Path, _begin.TransferId);
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    protected override void PostStop()
    {
        if (!_finished)
        {
            Abort(MigrationFailure.SourceStopped, "the source stopped the transfer");
        }
        _opening?.ContinueWith(t => t.Result.DisposeAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
        _archive.Dispose();
        base.PostStop();
    }

    private void AwaitingAcceptance()
    {
        Receive<TransferAccepted>(_ =>
        {
            var receiver = Sender;
            _peer = receiver;
            if (_node.Streams is { } streams)
            {
                OpenStream(streams, _streamTo, receiver);
            }
            else
            {
                GiveUp(MigrationFailure.StreamFailed, $"{_node.Name} has no archive streams to send with");
            }
        });
        Receive<TransferRefused>(r => GiveUp(MigrationFailure.TargetRefused, $"the target refused the transfer: {r.Reason}"));
        Receive<TimedOut>(t => GiveUp(MigrationFailure.TargetSilent, t.Reason));
        Receive<ArchiveWritten>(w => _written = w);
    }

    /// <summary>Podman is still dumping the container, so the stream's handshake costs the migration nothing.</summary>
    private void OpenStream(ArchiveStreams streams, HostEntry target, IActorRef receiver)
    {
        Timers.Cancel(nameof(TimedOut));
        _opening = streams.OpenAsync(target, _begin.TransferId, Self, AckTimeout, _node.Config.Transfer.PacksChunks, Stopping);
        _opening.PipeTo(Self, success: w => new StreamOpened(w), failure: e => new StreamUnavailable(e.Message));
        Become(() =>
        {
            Receive<StreamOpened>(o => StartStreaming(new Link(receiver, o.Writer)));
            Receive<StreamUnavailable>(u => GiveUp(MigrationFailure.StreamFailed, $"could not open the archive stream to {target.Name}: {u.Reason}"));
            Receive<TransferFailed>(f => GiveUp(MigrationFailure.TargetFailed, $"the target gave up: {f.Reason}"));
            // Until the stream starts nothing is read; StartStreaming pumps then.
            Receive<ArchiveWritten>(w => _written = w);
        });
    }

    private void StartStreaming(Link link)
    {
        Become(() => Streaming(link));
        ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
        _progressClock.Start();
        Pump(link);
    }

    private void Streaming(Link link)
    {
        Receive<ChunkRead>(r => OnChunkRead(link, r));
        Receive<TailAgain>(_ => Pump(link));
        Receive<ReadFailed>(f => GiveUp(MigrationFailure.ArchiveUnreadable, $"reading the archive failed: {f.Reason}"));
        Receive<ChunkAck>(ack =>
        {
            if (_window.Acknowledge(ack.Sequence) is { } buffer)
            {
                _archive.Reuse(buffer);
                ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
                if (_progressClock.Elapsed >= ProgressInterval)
                {
                    _progressClock.Restart();
                    Context.Parent.Tell(new Progress(_window.AcknowledgedBytes));
                }
                Pump(link);
            }
        });
        Receive<TransferFailed>(f => GiveUp(MigrationFailure.TargetFailed, $"the target gave up: {f.Reason}"));
        // The end of the archive has not gone out: the target cannot have restored anything.
        Receive<ArchiveStreamWriter.Broken>(b =>
        {
            Become(() => HearingWhy(b.Reason));
            ArmTimeout(b.Reason, WhyTimeout);
        });
        Receive<TimedOut>(t =>
        {
            if (_window.Unacknowledged == 0)
            {
                // Nothing in flight: the wait is for podman to write more, not for the target, which hears so.
                link.Receiver.Tell(new TransferAlive(_begin.TransferId), Self);
                ArmTimeout(t.Reason, AckTimeout);
                return;
            }
            if (_window.Resends == MaxResends)
            {
                GiveUp(MigrationFailure.TargetSilent, $"{t.Reason} ({AckTimeout.TotalSeconds:0.#} s, {MaxResends + 1} tries)");
                return;
            }
            // Acknowledgements travel over Akka, whose link may drop and come back losing them; the receiver takes duplicates.
            var again = _window.Resend();
            _log.Warning("no acknowledgement for {0} s; sending {1} chunks again ({2} of {3})", AckTimeout.TotalSeconds, again.Count, _window.Resends, MaxResends);
            foreach (var chunk in again)
            {
                link.Stream.TryWrite(chunk);
            }
            ArmTimeout(t.Reason, AckTimeout);
        });
        Receive<ArchiveWritten>(w =>
        {
            _written = w;
            Pump(link);
        });
    }

    /// <summary>
    /// A target that gives up (its disk full, say) closes the stream as it tells why, and the
    /// close often arrives first: its reason is worth a moment's wait over "the stream broke".
    /// </summary>
    private void HearingWhy(string broke)
    {
        Receive<TransferFailed>(f => GiveUp(MigrationFailure.TargetFailed, $"the target gave up: {f.Reason}"));
        Receive<TimedOut>(_ => GiveUp(MigrationFailure.StreamFailed, $"the archive stream to {_streamTo.Name} broke: {broke}"));
        ReceiveAny(_ => { });
    }

    private void AwaitingRestore(IActorRef receiver, EndOfArchive end)
    {
        var restoring = false;
        var resends = 0;
        Receive<RestoreStarted>(_ =>
        {
            if (!restoring)
            {
                restoring = true;
                ArmTimeout("the target did not confirm the restore in time", _node.Config.Transfer.RestoreTimeout);
            }
        });
        // The end of the archive may be lost like any chunk: send it again until the target says it restores.
        Receive<TimedOut>(_ => !restoring && resends < MaxResends, t =>
        {
            resends++;
            receiver.Tell(end, Self);
            ArmTimeout(t.Reason, AckTimeout);
        });
        Receive<RestoreConfirmed>(c => Deliver(c.Node, c.RestoreMs));
        Receive<ReplicaStored>(s => Deliver(s.Node, 0));
        Receive<TransferFailed>(f => GiveUp(MigrationFailure.TargetFailed, $"the target could not take the job: {f.Reason}"));
        Receive<TimedOut>(t => GiveUp(MigrationFailure.TargetSilent, t.Reason, inDoubt: true));
        Receive<ChunkAck>(_ => { });
    }

    private void Deliver(string node, long restoreMs)
    {
        _finished = true;
        Context.Parent.Tell(new Delivered(node, restoreMs));
        Context.Stop(Self);
    }

    /// <summary>
    /// Keeps one read outstanding while the window has room. A short read means the reader has
    /// caught up with podman: the partial chunk waits for more bytes, or, once the archive is
    /// whole, goes out as the last one. Ends the stream when all is read and acknowledged.
    /// </summary>
    private void Pump(Link link)
    {
        if (_reading || _window.IsFull)
        {
            return;
        }
        var archive = _archive;
        if (_written is { } written && archive.Read == written.TotalBytes)
        {
            if (archive.TakeRest() is { } last)
            {
                SendChunk(link, last);
            }
            if (_window.Unacknowledged == 0)
            {
                SendEnd(link, written);
            }
            return;
        }
        if (!archive.TryOpen(out var error))
        {
            if (error is not null)
            {
                GiveUp(MigrationFailure.ArchiveUnreadable, $"could not open the archive: {error}");
                return;
            }
            Timers.StartSingleTimer(nameof(TailAgain), TailAgain.Instance, TailInterval);
            return;
        }
        _reading = true;
        archive.ReadMoreAsync(_written?.TotalBytes).PipeTo(Self, success: n => new ChunkRead(n), failure: e => new ReadFailed(e.Message));
    }

    private void OnChunkRead(Link link, ChunkRead read)
    {
        _reading = false;
        if (_archive.Advance(read.Length) is { } chunk)
        {
            SendChunk(link, chunk);
            Pump(link);
        }
        else if (read.Length == 0 && _written is { } written && _archive.Read < written.TotalBytes)
        {
            GiveUp(MigrationFailure.ArchiveUnreadable, $"the archive ended at {_archive.Read} bytes, but podman wrote {written.TotalBytes}");
        }
        else if (read.Length == 0 && _written is null)
        {
            Timers.StartSingleTimer(nameof(TailAgain), TailAgain.Instance, TailInterval);
        }
        else
        {
            Pump(link);
        }
    }

    /// <summary>Sends the chunk just read: the archive's last <paramref name="data"/>.Length bytes so far.</summary>
    private void SendChunk(Link link, byte[] data)
    {
        // Timed from the first chunk: until podman has dumped the container there is nothing to send.
        _streamClock ??= Stopwatch.StartNew();
        // False only once the stream is closed or broken, and then Broken is on its way.
        link.Stream.TryWrite(_window.Add(_archive.Read - data.Length, data));
    }

    private void SendEnd(Link link, ArchiveWritten written)
    {
        // Everything on it is acknowledged; the end goes over Akka.
        WarnOnFailure(link.Stream.DisposeAsync().AsTask(), _log, "closing the archive stream");
        var transferMs = (long)Stopwatch.GetElapsedTime(written.WrittenAt).TotalMilliseconds;
        var handoff = written.Handoff with { Moves = MoveHistory.Transferred(written.Handoff.Moves, transferMs) };
        var end = new EndOfArchive(_begin.TransferId, _window.Sent, _archive.Read, _archive.Sha256(), handoff);
        link.Receiver.Tell(end, Self);
        var streamMs = _streamClock?.ElapsedMilliseconds ?? 0;
        _log.Info("sent {0} bytes in {1} chunks to {2} in {3} ms; waiting for the restore", _archive.Read, _window.Sent, _streamTo.Name, streamMs);
        Context.Parent.Tell(new Restoring(streamMs));
        Become(() => AwaitingRestore(link.Receiver, end));
        ArmTimeout("the target did not acknowledge the end of the archive", AckTimeout);
    }

    private void GiveUp(MigrationFailure code, string reason, bool inDoubt = false)
    {
        Abort(code, reason);
        Context.Parent.Tell(new GaveUp(code, reason, inDoubt));
        Context.Stop(Self);
    }

    /// <summary>The receiver, or before it answered the target's supervisor, drops what it has.</summary>
    private void Abort(MigrationFailure code, string reason)
    {
        _finished = true;
        _peer.Tell(new AbortTransfer(_begin.TransferId, code, reason), Self);
    }

    private void ArmTimeout(string reason, TimeSpan after) => Timers.StartSingleTimer(nameof(TimedOut), new TimedOut(reason), after);
}
