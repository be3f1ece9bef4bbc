using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using AkkaMigration.Node.Faults;
using AkkaMigration.Node.Supervision;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Migration;

/// <summary>
/// Streams one checkpoint archive to the target node: at most a window of chunks unacknowledged
/// (sent again, a bounded number of times, when acknowledgements stop), a SHA-256 over the bytes as
/// read, then the job's pending-result state. Reports to its parent (the job actor) whether the
/// target restored the container, and stops.
/// </summary>
public sealed class ArchiveSender : ReceiveActor, IWithTimers
{
    private readonly string _transferId;
    private readonly string _archivePath;
    private readonly JobHandoff _handoff;
    private readonly ActorSelection _target;
    private readonly NodeContext _node;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Dictionary<long, ArchiveChunk> _unacknowledged = [];
    private FileStream? _archive;
    private IActorRef? _receiver;
    private bool _reading;
    private bool _endOfFile;
    private long _nextSequence;
    private long _offset;
    private int _resends;

    public ArchiveSender(string transferId, string archivePath, JobHandoff handoff, ActorSelection target, NodeContext node)
    {
        _transferId = transferId;
        _archivePath = archivePath;
        _handoff = handoff;
        _target = target;
        _node = node;
        AwaitingAcceptance();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string transferId, string archivePath, JobHandoff handoff, ActorSelection target, NodeContext node) =>
        Akka.Actor.Props.Create(() => new ArchiveSender(transferId, archivePath, handoff, target, node));

    /// <summary>The target restored the container and its job actor owns the job now.</summary>
    public sealed record Delivered(string NewOwner, long RestoreMs);

    /// <summary>The transfer failed.</summary>
    /// <param name="InDoubt">
    /// The whole archive went out and the target's answer did not come back: it may have restored
    /// the job. Otherwise the target cannot have restored it (it restores only after the end of the archive).
    /// </param>
    public sealed record GaveUp(string Reason, bool InDoubt = false);

    /// <summary>Unacknowledged chunks are sent again this many times before the transfer fails.</summary>
    public const int MaxResends = 2;

    private TimeSpan AckTimeout => _node.Config.Transfer.AckTimeout;

    protected override void PreStart()
    {
        _target.Tell(new BeginTransfer(_transferId, _handoff.JobId, _node.Name, _node.Config.Transfer.ChunkBytes), Self);
        ArmTimeout("the target did not answer the transfer request", AckTimeout);
    }

    protected override void PostStop()
    {
        _archive?.Dispose();
        _hash.Dispose();
    }

    private void AwaitingAcceptance()
    {
        Receive<TransferAccepted>(_ =>
        {
            _receiver = Sender;
            _archive = new FileStream(_archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            Become(Streaming);
            ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
            Pump();
        });
        Receive<TransferRefused>(r => GiveUp($"the target refused the transfer: {r.Reason}"));
        Receive<TimedOut>(t => GiveUp(t.Reason));
    }

    private void Streaming()
    {
        Receive<ChunkRead>(OnChunkRead);
        Receive<ReadFailed>(f => GiveUp($"reading the archive failed: {f.Reason}"));
        Receive<ChunkAck>(ack =>
        {
            if (_unacknowledged.Remove(ack.Sequence))
            {
                _resends = 0;
                ArmTimeout("the target stopped acknowledging chunks", AckTimeout);
                Pump();
            }
        });
        Receive<TransferFailed>(f => GiveUp($"the target gave up: {f.Reason}"));
        Receive<TimedOut>(t =>
        {
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
                _receiver!.Tell(chunk, Self);
            }
            ArmTimeout(t.Reason, AckTimeout);
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
            if (_node.Faults.DieAfterRestoreConfirmed)
            {
                FaultInjection.Die();
            }
            Context.Parent.Tell(new Delivered(c.Node, c.RestoreMs));
            Context.Stop(Self);
        });
        Receive<TransferFailed>(f => GiveUp($"the target could not take the job: {f.Reason}"));
        Receive<TimedOut>(t => GiveUp(t.Reason, inDoubt: true));
        Receive<ChunkAck>(_ => { });
    }

    /// <summary>Keeps one read outstanding while the window has room; ends the stream when all is acknowledged.</summary>
    private void Pump()
    {
        if (!_reading && !_endOfFile && _unacknowledged.Count < _node.Config.Transfer.Window)
        {
            _reading = true;
            var buffer = new byte[_node.Config.Transfer.ChunkBytes];
            _archive!.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)
                .PipeTo(Self, success: n => new ChunkRead(buffer, n), failure: e => new ReadFailed(e.Message));
        }
        else if (_endOfFile && _unacknowledged.Count == 0)
        {
            var end = new EndOfArchive(_transferId, _nextSequence, _offset, Convert.ToHexStringLower(_hash.GetHashAndReset()), _handoff);
            _receiver!.Tell(end, Self);
            _log.Info("sent {0} bytes in {1} chunks to {2}; waiting for the restore", _offset, _nextSequence, _receiver.Path.Address);
            Become(() => AwaitingRestore(end));
            ArmTimeout("the target did not acknowledge the end of the archive", AckTimeout);
        }
    }

    private void OnChunkRead(ChunkRead read)
    {
        _reading = false;
        if (read.Length > 0)
        {
            var data = read.Length == read.Buffer.Length ? read.Buffer : read.Buffer[..read.Length];
            _hash.AppendData(data);
            if (_node.Faults.CorruptChunk == _nextSequence)
            {
                data = [.. data];
                data[data.Length / 2] ^= 0x5A;
            }
            var chunk = new ArchiveChunk(_transferId, _nextSequence, _offset, data);
            _receiver!.Tell(chunk, Self);
            _unacknowledged.Add(_nextSequence, chunk);
            _nextSequence++;
            _offset += read.Length;
        }
        _endOfFile = read.Length < read.Buffer.Length;
        Pump();
    }

    private void GiveUp(string reason, bool inDoubt = false)
    {
        // Tell the receiver (or, before it answered, the target's supervisor) to drop what it has.
        var abort = new AbortTransfer(_transferId, reason);
        if (_receiver is not null)
        {
            _receiver.Tell(abort, Self);
        }
        else
        {
            _target.Tell(abort, Self);
        }
        Context.Parent.Tell(new GaveUp(reason, inDoubt));
        Context.Stop(Self);
    }

    private void ArmTimeout(string reason, TimeSpan after) => Timers.StartSingleTimer(nameof(TimedOut), new TimedOut(reason), after);

    private sealed record ChunkRead(byte[] Buffer, int Length);
    private sealed record ReadFailed(string Reason);
    private sealed record TimedOut(string Reason);
}
