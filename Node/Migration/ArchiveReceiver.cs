using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Actors;
using AkkaMigration.Node.Journal;
using AkkaMigration.Node.Observability;
using AkkaMigration.Node.Routing;
using AkkaMigration.Node.Runtime;
using AkkaMigration.Node.Streaming;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;
using Microsoft.Win32.SafeHandles;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Takes one incoming archive: writes chunks where they belong (in any order, duplicates
/// acknowledged again), checks the SHA-256, restores the container, records the job as this
/// node's and hands it to its parent (<see cref="IncomingTransfers"/>), whose supervisor confirms to
/// the source. On any failure it deletes what it received and leaves no container behind.
/// <code>
/// state      on                                      next
/// Receiving  chunk → write, hash, acknowledge        Receiving (idle timer from the last chunk)
///            end of the archive, complete            Restoring (verify, then podman restore)
///            incomplete, malformed, idle, abort      stops, archive deleted
/// Restoring  restored (and not aborted meanwhile)    Adopted: the record says the job runs here
///            failed, or aborted                      container removed, stops
/// </code>
/// </summary>
public sealed class ArchiveReceiver : StatefulActor, IWithTimers
{
    private readonly BeginTransfer _begin;
    private readonly IActorRef _source;
    private readonly NodeContext _node;
    private readonly string _path;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly HashSet<long> _written = [];
    private readonly HashSet<long> _writing = [];
    // The SHA-256 runs over the archive's prefix as chunks arrive, so the end of a transfer need
    // not read the whole file again. Chunks ahead of a gap wait here (a window's worth, normally).
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly SortedDictionary<long, byte[]> _aheadOfHash = [];
    private const int MaxAheadOfHash = 64;
    private long _hashedTo;
    private bool _hashFromFile;
    /// <summary>Held only to close it when the actor stops; Receiving gets it as its data.</summary>
    private FileStream? _file;
    private long _bytes;
    private readonly ChunkBuffers _buffers;
    private readonly AnnouncedSize _size;
    private readonly JobLocation? _recorded;

    /// <param name="recorded">What the cluster records for the job (the directory's entry); null for this node's own transfers.</param>
    public ArchiveReceiver(BeginTransfer begin, IActorRef source, NodeContext node, JobLocation? recorded = null)
    {
        _begin = begin;
        _source = source;
        _node = node;
        _recorded = recorded;
        _path = node.Archives.PathFor(begin.JobId, begin.TransferId);
        // The stream reads ahead of the writes by a window's worth, at most, when the source keeps its window.
        _buffers = new ChunkBuffers(begin.ChunkBytes, node.Config.Transfer.Window * 2);
        _size = new AnnouncedSize(begin.ExpectedBytes, node.Config.Transfer);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(BeginTransfer begin, IActorRef source, NodeContext node, JobLocation? recorded = null) =>
        Akka.Actor.Props.Create(() => new ArchiveReceiver(begin, source, node, recorded));

    private string Container => ContainerNames.For(_begin.JobId);

    protected override void PreStart()
    {
        FileStream file;
        try
        {
            _file = file = _node.Archives.Create(_path);
        }
        catch (IOException e)
        {
            _source.Tell(new TransferRefused(_begin.TransferId, TransferFailure.StorageFailed, $"cannot store the archive: {e.Message}"), Self);
            Context.Stop(Self);
            return;
        }
        _log.Info("receiving job {0} from {1} (transfer {2})", _begin.JobId, _begin.SourceNode, _begin.TransferId);
        _node.Streams?.Expect(_begin.TransferId, new ArchiveStreams.Inbound(Self, _source, _begin.SourceNode, _begin.ChunkBytes, _buffers));
        Become(() => Receiving(file));
        ArmIdleTimeout();
        _source.Tell(new TransferAccepted(_begin.TransferId), Self);
    }

    /// <summary>
    /// A transfer's messages only from the source that began it (the archive stream delivers its
    /// chunks as from the source): anyone who learns the receiver's path could otherwise write into
    /// the archive, end it with a handoff of their own, or abort it.
    /// </summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is ITransferMessage && !Sender.Path.Address.Equals(_source.Path.Address))
        {
            _log.Warning("transfer {0}: refused {1} from {2}, not its source ({3})", _begin.TransferId, message.GetType().Name,
                Sender.Path.Address, _source.Path.Address);
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    protected override void PostStop()
    {
        _node.Streams?.Forget(_begin.TransferId);
        _hash.Dispose();
        _file?.Dispose();
        ArchiveStore.Delete(_path);
        base.PostStop();
    }

    private void Receiving(FileStream file)
    {
        Receive<ArchiveChunk>(c => OnChunk(file.SafeFileHandle, c));
        Receive<ChunkWritten>(w =>
        {
            _writing.Remove(w.Sequence);
            _written.Add(w.Sequence);
            _bytes += w.Data.Length;
            if (Hash(w.Offset, w.Data) && w.ReplyTo.Path.Address.HasGlobalScope)
            {
                // Written and hashed, and the chunk is this actor's own copy (from the stream, or
                // deserialized): its buffer can take another chunk. A local sender may still hold it.
                _buffers.Return(w.Data);
            }
            else
            {
                // Held ahead of the hash (bounded by MaxAheadOfHash), or a local sender's: the stream may read on.
                _buffers.Release(w.Data);
            }
            // Armed before the acknowledgement: once the source hears it, the patience already counts from it.
            ArmIdleTimeout();
            w.ReplyTo.Tell(new ChunkAck(_begin.TransferId, w.Sequence), Self);
        });
        Receive<WriteFailed>(f => Fail(TransferFailure.StorageFailed, $"writing the archive failed: {f.Reason}"));
        Receive<EndOfArchive>(e => OnEnd(file, e));
        Receive<AbortTransfer>(a => a.TransferId == _begin.TransferId, a => Abandon($"the source aborted: {a.Reason}"));
        // Its patience runs from the last sign of life: a chunk, or the source saying podman is still dumping.
        Receive<TransferAlive>(a => a.TransferId == _begin.TransferId, _ => ArmIdleTimeout());
        Receive<IdleTimeout>(_ => Fail(TransferFailure.SourceSilent, "no chunk arrived in time"));
    }

    private void OnChunk(SafeFileHandle file, ArchiveChunk chunk)
    {
        if (chunk.TransferId != _begin.TransferId)
        {
            Fail(TransferFailure.ForeignChunk, $"a chunk of transfer {chunk.TransferId} arrived at transfer {_begin.TransferId}");
            return;
        }
        if (_written.Contains(chunk.Sequence))
        {
            // A duplicate: its first copy is on disk; acknowledge again in case the first ack was lost.
            _buffers.Release(chunk.Data);
            Sender.Tell(new ChunkAck(_begin.TransferId, chunk.Sequence), Self);
            return;
        }
        if (_writing.Contains(chunk.Sequence))
        {
            _buffers.Release(chunk.Data);
            return;
        }
        if (chunk.Sequence < 0 || chunk.Offset < 0 || chunk.Data.Length == 0 || chunk.Data.Length > _begin.ChunkBytes)
        {
            Fail(TransferFailure.MalformedChunk, $"chunk {chunk.Sequence} is malformed");
            return;
        }
        if (_size.Take(chunk.Offset, chunk.Data.Length) is { } outgrown)
        {
            Fail(TransferFailure.ArchiveOutgrown, $"chunk {chunk.Sequence} is refused: {outgrown}");
            return;
        }
        _writing.Add(chunk.Sequence);
        var replyTo = Sender;
        RandomAccess.WriteAsync(file, chunk.Data, chunk.Offset).AsTask()
            .PipeTo(Self, success: () => new ChunkWritten(chunk.Sequence, chunk.Offset, chunk.Data, replyTo), failure: e => new WriteFailed(e.Message));
    }

    /// <returns>False if the data waits, ahead of a gap, to be hashed later.</returns>
    private bool Hash(long offset, byte[] data)
    {
        if (_hashFromFile)
        {
            return true;
        }
        if (offset != _hashedTo)
        {
            // Overlapping chunks, or too many past a gap: hash the file at the end instead.
            _hashFromFile = offset < _hashedTo || _aheadOfHash.Count >= MaxAheadOfHash || !_aheadOfHash.TryAdd(offset, data);
            return _hashFromFile;
        }
        _hash.AppendData(data);
        _hashedTo += data.Length;
        while (_aheadOfHash.Remove(_hashedTo, out var next))
        {
            _hash.AppendData(next);
            _hashedTo += next.Length;
        }
        return true;
    }

    private void OnEnd(FileStream file, EndOfArchive end)
    {
        if (end.Handoff.JobId != _begin.JobId)
        {
            Fail(TransferFailure.HandoffMismatch, $"the handoff names job {end.Handoff.JobId}, the transfer job {_begin.JobId}");
            return;
        }
        // The spec reaches podman's arguments and nft's rules: checked as a new job's is, whoever sent it.
        if (JobSpecRules.Problem(end.Handoff.Spec, _node.Config.ServiceNetwork) is { } invalid)
        {
            Fail(TransferFailure.InvalidSpec, $"the handoff's spec is refused: {invalid}");
            return;
        }
        // The handoff is the source's word; the address the cluster gave the job is the directory's.
        if (_recorded is not null && end.Handoff.Spec.Service.Address != _recorded.Address)
        {
            Fail(TransferFailure.HandoffMismatch, $"the handoff's service address ({end.Handoff.Spec.Service.Address ?? "none"}) is not the one the cluster records for job {_begin.JobId} ({_recorded.Address ?? "none"})");
            return;
        }
        var missing = end.ChunkCount - _written.Count;
        if (_writing.Count > 0 || missing != 0 || _bytes != end.TotalBytes
            || Enumerable.Range(0, (int)end.ChunkCount).Any(i => !_written.Contains(i)))
        {
            Fail(TransferFailure.Incomplete, $"the archive is incomplete: {_written.Count} of {end.ChunkCount} chunks, {_bytes} of {end.TotalBytes} bytes");
            return;
        }
        Timers.Cancel(nameof(IdleTimeout));
        file.Dispose();
        var clock = Stopwatch.StartNew();
        _source.Tell(new RestoreStarted(_begin.TransferId), Self);
        Become(() => Restoring(end, clock));
        var streamed = !_hashFromFile && _hashedTo == end.TotalBytes ? Convert.ToHexStringLower(_hash.GetHashAndReset()) : null;
        (_begin.ReplicaHosts is { } replicaHosts ? VerifyAndKeepAsync(end.Handoff, replicaHosts, end.Sha256, streamed) : VerifyAndRestoreAsync(end.Handoff.Spec, end.Sha256, streamed))
            .PipeTo(Self, success: () => new Restored(), failure: e => new RestoreFailed(e switch
            {
                ChecksumMismatchException => TransferFailure.ChecksumMismatch,
                ArchiveRefusedException => TransferFailure.ArchiveRefused,
                _ => TransferFailure.RestoreFailed,
            }, e.Message));
    }

    /// <param name="streamedSha256">The hash taken as the chunks arrived, or null to hash the file.</param>
    private async Task VerifyAndRestoreAsync(JobSpec spec, string expectedSha256, string? streamedSha256)
    {
        await VerifyAsync(expectedSha256, streamedSha256);
        // Until the job's record says it runs here, a restarted node removes what this restore left.
        _node.Journal.MarkRestoring(_begin.JobId, _begin.TransferId);
        try
        {
            await _node.Runtime.RestoreAsync(Container, spec, _path, Stopping);
        }
        catch
        {
            // Leave nothing half-restored: the source resumes the job, so it must not run here too.
            await RemoveContainerAsync();
            throw;
        }
    }

    /// <summary>A protection checkpoint: kept whole and verified, restored only if its owner's host is lost.</summary>
    private async Task VerifyAndKeepAsync(JobHandoff handoff, string[] replicaHosts, string expectedSha256, string? streamedSha256)
    {
        await VerifyAsync(expectedSha256, streamedSha256);
        // File I/O with fsyncs: off the actor's thread.
        await Task.Run(() => _node.Replicas.Keep(JobRecord.From(handoff, JobPhase.Running), _begin.SourceNode, replicaHosts, _path), Stopping);
    }

    private async Task VerifyAsync(string expectedSha256, string? streamedSha256)
    {
        var actual = streamedSha256 ?? await HashFileAsync();
        if (actual != expectedSha256)
        {
            throw new ChecksumMismatchException($"checksum mismatch: received {actual}, sent {expectedSha256}");
        }
    }

    private async Task<string> HashFileAsync()
    {
        await using var archive = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(archive));
    }

    private async Task RemoveContainerAsync()
    {
        // Not the actor's token: a restore's leftovers go even when the receiver stops.
        await _node.Runtime.RemoveAsync(Container, CancellationToken.None);
        _node.Journal.ClearRestoring(_begin.JobId);
    }

    private void Restoring(EndOfArchive end, Stopwatch clock)
    {
        var aborted = false;
        Receive<Restored>(_ => _begin.ReplicaHosts is not null, _ =>
        {
            _log.Info("keeps a protection checkpoint of job {0} from {1} ({2} bytes)", _begin.JobId, _begin.SourceNode, _bytes);
            _node.Metrics.ArchiveBytes(_bytes, MigrationDirection.In);
            _source.Tell(new ReplicaStored(_begin.TransferId, _begin.JobId, _node.Name), Self);
            Context.Parent.Tell(new IncomingTransfers.Kept());
            Become(Adopted);
        });
        Receive<Restored>(_ =>
        {
            if (aborted)
            {
                // The source stopped waiting and will ask what became of the job: it must not run here.
                RemoveContainerAsync().PipeTo(Self,
                    success: () => new RestoreFailed(TransferFailure.SourceAborted, "the source aborted while the container was being restored"),
                    failure: e => new RestoreFailed(TransferFailure.SourceAborted, $"the source aborted during the restore, and removing the container failed: {e.Message}"));
                return;
            }
            var restoreMs = clock.ElapsedMilliseconds;
            _log.Info("restored job {0} from {1} in {2} ms", _begin.JobId, _begin.SourceNode, restoreMs);
            // On disk before anyone hears of it: a node restarted from here on still owns the job.
            var record = JobRecord.From(end.Handoff with
            {
                Migrations = end.Handoff.Migrations + 1,
                Moves = MoveHistory.Restored(end.Handoff.Moves, restoreMs),
            }, JobPhase.Running);
            // Remembered for good before anything else: a source that asks about this transfer after
            // the job has moved on from here must hear "restored", or it would resume its own copy.
            _node.Journal.MarkCompleted(_begin.TransferId);
            _node.Journal.Save(record);
            _node.Metrics.ArchiveBytes(_bytes, MigrationDirection.In);
            Context.Parent.Tell(new IncomingTransfers.Restored(record, end.Handoff.Waiting, _source, restoreMs));
            Become(Adopted);
        });
        Receive<RestoreFailed>(f => Fail(f.Code, $"restore failed: {f.Reason}"));
        Receive<AbortTransfer>(_ => { aborted = true; });
        Receive<EndOfArchive>(_ => Sender.Tell(new RestoreStarted(_begin.TransferId), Self));
        Receive<ArchiveChunk>(c => Sender.Tell(new ChunkAck(_begin.TransferId, c.Sequence), Self));
    }

    /// <summary>The supervisor took the job over and confirms to the source (or the replica is kept); the parent stops this actor.</summary>
    private void Adopted()
    {
        Receive<EndOfArchive>(_ => { });
        Receive<ArchiveChunk>(_ => { });
        Receive<AbortTransfer>(_ => { });
    }

    private void Fail(TransferFailure code, string reason)
    {
        _log.Warning("transfer {0} of job {1} failed: {2}", _begin.TransferId, _begin.JobId, reason);
        _source.Tell(new TransferFailed(_begin.TransferId, code, reason), Self);
        Context.Stop(Self);
    }

    private void Abandon(string reason)
    {
        _log.Warning("transfer {0} of job {1} abandoned: {2}", _begin.TransferId, _begin.JobId, reason);
        Context.Stop(Self);
    }

    /// <summary>Longer than the sender's resends take, so a sender that is still trying is never cut off.</summary>
    private void ArmIdleTimeout() =>
        Timers.StartSingleTimer(nameof(IdleTimeout), new IdleTimeout(), _node.Config.Transfer.AckTimeout * (ArchiveSender.MaxResends + 2));

    private sealed record ChunkWritten(long Sequence, long Offset, byte[] Data, IActorRef ReplyTo);
    private sealed record WriteFailed(string Reason);
    private sealed record IdleTimeout;
    private sealed record Restored;
    private sealed record RestoreFailed(TransferFailure Code, string Reason);

    private sealed class ChecksumMismatchException(string message) : Exception(message);
}
