using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Shared.Config;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Streams one checkpoint archive to the target node while podman is still writing it: it reads
/// the file as it grows, keeps at most a window of chunks unacknowledged (sent again, a bounded
/// number of times, when acknowledgements stop), hashes the bytes as read, and once its parent (the
/// job actor) says the archive is whole (<see cref="ArchiveWritten"/>), sends the rest and the
/// job's pending-result state. Reports to its parent whether the target restored the container, and stops;
/// stopped before that, it tells the target to drop what it received.
/// Chunks go over the target's archive stream where it has one (<see cref="ArchiveStreams"/>), else,
/// or once that stream breaks, as Akka messages; everything else is Akka messages either way.
/// </summary>
public sealed class ArchiveSender : StatefulActor, IWithTimers
{
    /// <summary>How often to look again when the reader has caught up with podman's writing.</summary>
    private static readonly TimeSpan TailInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _transferId;
    private readonly string _jobId;
    private readonly string _archivePath;
    private readonly ActorSelection _target;
    private readonly HostEntry? _streamTo;
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Dictionary<long, ArchiveChunk> _unacknowledged = [];
    private readonly Stopwatch _progressClock = new();
    private ArchiveWritten? _written;
    private GrowingArchive? _archive;
    private IActorRef? _receiver;
    private ArchiveStreamWriter? _stream;
    private Task<ArchiveStreamWriter>? _opening;
    /// <summary>The target restored the archive, or was told to drop it.</summary>
    private bool _finished;
    private ChunkBuffers? _buffers;
    private bool _reading;
    private bool _streaming;
    private long _nextSequence;
    private long _acknowledged;
    private int _resends;
    private Stopwatch? _streamClock;

    /// <param name="streamTo">The target host, whose archive stream the chunks take; null for Akka messages only.</param>
    public ArchiveSender(string transferId, string jobId, string archivePath, ActorSelection target, NodeContext node, HostEntry? streamTo)
    {
        _transferId = transferId;
        _jobId = jobId;
        _archivePath = archivePath;
        _target = target;
        _node = node;
        _streamTo = streamTo;
        AwaitingAcceptance();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string transferId, string jobId, string archivePath, ActorSelection target, NodeContext node, HostEntry? streamTo = null) =>
        Akka.Actor.Props.Create(() => new ArchiveSender(transferId, jobId, archivePath, target, node, streamTo));

    /// <summary>From the parent: the checkpoint finished and the archive file is whole; this is the state to hand over with it.</summary>
    public sealed record ArchiveWritten(long TotalBytes, JobHandoff Handoff);

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
    public sealed record GaveUp(string Reason, bool InDoubt = false) : ILateReply;

    /// <summary>Unacknowledged chunks are sent again this many times before the transfer fails.</summary>
    public const int MaxResends = 2;

    private TimeSpan AckTimeout => _node.Config.Transfer.AckTimeout;

    private int ChunkBytes => _node.Config.Transfer.ChunkBytes;

    protected override void PreStart()
    {
        _target.Tell(new BeginTransfer(_transferId, _jobId, _node.Name, ChunkBytes), Self);
        ArmTimeout("the target did not answer the transfer request", AckTimeout);
    }
    protected override void PostStop()
    {
        if (!_finished)
        {
            Abort("the source stopped the transfer");
        }
        CloseStream();
        // A stream that opened after this actor gave up is nobody's: close it when it is there.
        _opening?.ContinueWith(t => t.Result.DisposeAsync(), TaskContinuationOptions.OnlyOnRanToCompletion);
        _archive?.Dispose();
        _hash.Dispose();
        base.PostStop();
    }

    private void AwaitingAcceptance()
    {
        Receive<TransferAccepted>(_ =>
        {
            _receiver = Sender;
            // A receiver in another ActorSystem gets a copy of each chunk (serialized, or on the
            // archive stream), and once it has acknowledged one the buffer is this actor's again.
            // A local receiver holds the very array, so its buffers are never used again.
            _buffers = _receiver.Path.Address.HasGlobalScope ? new ChunkBuffers(ChunkBytes, _node.Config.Transfer.Window + 1) : null;
            _archive = new GrowingArchive(_archivePath, ChunkBytes, _buffers);
            if (_node.Streams is { } streams && _streamTo is { StreamPort: > 0 } target)
            {
                OpenStream(streams, target);
            }
            else
            {
                StartStreaming();
            }
        });
        Receive<TransferRefused>(r => GiveUp($"the target refused the transfer: {r.Reason}"));
        Receive<TimedOut>(t => GiveUp(t.Reason));
        ParentMessages();
    }

    /// <summary>Podman is still dumping the container, so the stream's handshake costs the migration nothing.</summary>
    private void OpenStream(ArchiveStreams streams, HostEntry target)
    {
        Timers.Cancel(nameof(TimedOut));
        var limit = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
        limit.CancelAfter(AckTimeout);
        _opening = streams.OpenAsync(target, _transferId, Self, limit.Token);
        _opening.ContinueWith(_ => limit.Dispose(), TaskScheduler.Default);
        _opening.PipeTo(Self, success: w => new StreamOpened(w), failure: e => new StreamUnavailable(e.Message));
        Become(() =>
        {
            Receive<StreamOpened>(o =>
            {
                _opening = null;
                _stream = o.Writer;
                StartStreaming();
            });
            Receive<StreamUnavailable>(u =>
            {
                _opening = null;
                _log.Warning("no archive stream to {0} ({1}); sending the archive as Akka messages", target.Name, u.Reason);
                StartStreaming();
            });
            Receive<TransferFailed>(f => GiveUp($"the target gave up: {f.Reason}"));
            ParentMessages();
        });
    }

    private void StartStreaming()
    {
        _streaming = true;
        Become(Streaming);
        ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
        _progressClock.Start();
        Pump();
    }

    private void Streaming()
    {
        Receive<ChunkRead>(OnChunkRead);
        Receive<TailAgain>(_ => Pump());
        Receive<ReadFailed>(f => GiveUp($"reading the archive failed: {f.Reason}"));
        Receive<ChunkAck>(ack =>
        {
            if (_unacknowledged.Remove(ack.Sequence, out var chunk))
            {
                _acknowledged += chunk.Data.Length;
                _buffers?.Return(chunk.Data);
                _resends = 0;
                ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
                if (_progressClock.Elapsed >= ProgressInterval)
                {
                    _progressClock.Restart();
                    Context.Parent.Tell(new Progress(_acknowledged));
                }
                Pump();
            }
        });
        Receive<TransferFailed>(f => GiveUp($"the target gave up: {f.Reason}"));
        Receive<ArchiveStreamWriter.Broken>(b =>
        {
            // What was in flight on it may be lost: the rest, and those again, go as Akka messages.
            _log.Warning("the archive stream broke ({0}); sending the rest as Akka messages", b.Reason);
            CloseStream();
            foreach (var chunk in _unacknowledged.Values.OrderBy(c => c.Sequence))
            {
                _receiver!.Tell(chunk, Self);
            }
        });
        Receive<TimedOut>(t =>
        {
            if (_unacknowledged.Count == 0)
            {
                // Nothing in flight: the wait is for podman to write more, not for the target.
                ArmTimeout(t.Reason, AckTimeout);
                return;
            }
            if (_resends == MaxResends)
            {
                GiveUp($"{t.Reason} ({AckTimeout.TotalSeconds:0.#} s, {MaxResends + 1} tries)");
                return;
            }
            // A link that dropped and came back loses what was in flight; the receiver takes duplicates.
            _resends++;
            _log.Warning("no acknowledgement for {0} s; sending {1} chunks again ({2} of {3})",
                AckTimeout.TotalSeconds, _unacknowledged.Count, _resends, MaxResends);
            foreach (var chunk in _unacknowledged.Values.OrderBy(c => c.Sequence))
            {
                Deliver(chunk);
            }
            ArmTimeout(t.Reason, AckTimeout);
        });
        ParentMessages();
    }

    private void ParentMessages()
    {
        Receive<ArchiveWritten>(w =>
        {
            _written = w;
            // Until the stream starts (the target's answer, the archive stream's handshake) nothing
            // is read; StartStreaming pumps then.
            if (_streaming)
            {
                Pump();
            }
        });
    }

    private void AwaitingRestore(EndOfArchive end)
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
            _receiver!.Tell(end, Self);
            ArmTimeout(t.Reason, AckTimeout);
        });
        Receive<RestoreConfirmed>(c =>
        {
            _finished = true;
            Context.Parent.Tell(new Delivered(c.Node, c.RestoreMs));
            Context.Stop(Self);
        });
        Receive<TransferFailed>(f => GiveUp($"the target could not take the job: {f.Reason}"));
        Receive<TimedOut>(t => GiveUp(t.Reason, inDoubt: true));
        Receive<ChunkAck>(_ => { });
        Receive<TailAgain>(_ => { });
        Receive<ArchiveStreamWriter.Broken>(_ => { });
    }

    /// <summary>
    /// Keeps one read outstanding while the window has room. A short read means the reader has
    /// caught up with podman: the partial chunk waits for more bytes, or, once the archive is
    /// whole, goes out as the last one. Ends the stream when all is read and acknowledged.
    /// </summary>
    private void Pump()
    {
        if (_reading || _unacknowledged.Count >= _node.Config.Transfer.Window)
        {
            return;
        }
        var archive = _archive!;
        if (_written is { } written && archive.Read == written.TotalBytes)
        {
            if (archive.TakeRest() is { } last)
            {
                SendChunk(last);
            }
            if (_unacknowledged.Count == 0)
            {
                SendEnd(written);
            }
            return;
        }
        bool opened;
        try
        {
            opened = archive.TryOpen();
        }
        catch (IOException e)
        {
            GiveUp($"could not open the archive: {e.Message}");
            return;
        }
        if (!opened)
        {
            Timers.StartSingleTimer(nameof(TailAgain), TailAgain.Instance, TailInterval);
            return;
        }
        _reading = true;
        archive.ReadMoreAsync(_written?.TotalBytes).PipeTo(Self, success: n => new ChunkRead(n), failure: e => new ReadFailed(e.Message));
    }

    private void OnChunkRead(ChunkRead read)
    {
        _reading = false;
        if (_archive!.Advance(read.Length) is { } chunk)
        {
            SendChunk(chunk);
            Pump();
        }
        else if (read.Length == 0 && _written is { } written && _archive.Read < written.TotalBytes)
        {
            GiveUp($"the archive ended at {_archive.Read} bytes, but podman wrote {written.TotalBytes}");
        }
        else if (read.Length == 0 && _written is null)
        {
            Timers.StartSingleTimer(nameof(TailAgain), TailAgain.Instance, TailInterval);
        }
        else
        {
            Pump();
        }
    }

    /// <summary>Sends the chunk just read: the archive's last <paramref name="data"/>.Length bytes so far.</summary>
    private void SendChunk(byte[] data)
    {
        // Timed from the first chunk: until podman has dumped the container there is nothing to send.
        _streamClock ??= Stopwatch.StartNew();
        _hash.AppendData(data);
        var chunk = new ArchiveChunk(_transferId, _nextSequence, _archive!.Read - data.Length, data);
        Deliver(chunk);
        _unacknowledged.Add(_nextSequence, chunk);
        _nextSequence++;
    }

    private void Deliver(ArchiveChunk chunk)
    {
        if (_stream?.TryWrite(chunk) != true)
        {
            _receiver!.Tell(chunk, Self);
        }
    }

    private void CloseStream()
    {
        _stream?.DisposeAsync();
        _stream = null;
    }

    private void SendEnd(ArchiveWritten written)
    {
        var viaStream = _stream is not null;
        CloseStream();
        var end = new EndOfArchive(_transferId, _nextSequence, _archive!.Read, Convert.ToHexStringLower(_hash.GetHashAndReset()), written.Handoff);
        _receiver!.Tell(end, Self);
        var streamMs = _streamClock?.ElapsedMilliseconds ?? 0;
        _log.Info("sent {0} bytes in {1} chunks to {2} in {3} ms, {4}; waiting for the restore",
            _archive.Read, _nextSequence, _receiver.Path.Address, streamMs, viaStream ? "on the archive stream" : "as Akka messages");
        Context.Parent.Tell(new Restoring(streamMs));
        Become(() => AwaitingRestore(end));
        ArmTimeout("the target did not acknowledge the end of the archive", AckTimeout);
    }

    private void GiveUp(string reason, bool inDoubt = false)
    {
        Abort(reason);
        Context.Parent.Tell(new GaveUp(reason, inDoubt));
        Context.Stop(Self);
    }

    /// <summary>The receiver, or before it answered the target's supervisor, drops what it has.</summary>
    private void Abort(string reason)
    {
        _finished = true;
        (_receiver ?? (ICanTell)_target).Tell(new AbortTransfer(_transferId, reason), Self);
    }

    private void ArmTimeout(string reason, TimeSpan after) => Timers.StartSingleTimer(nameof(TimedOut), new TimedOut(reason), after);

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
