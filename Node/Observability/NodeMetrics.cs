using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using AkkaMigration.Shared.Protocol;

namespace AkkaMigration.Node.Observability;

/// <summary>
/// What one node counts and measures, on a <see cref="Meter"/> of its own named <see cref="MeterName"/>
/// (several nodes share one process in the specs, so each node's exporter keeps to its own instance).
/// The actors call it where they already hold the figures; tags are few-valued, never a job id.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "AkkaMigration.Node";

    /// <summary>Milliseconds: a small job moves in well under a second, a large one in minutes.</summary>
    private static readonly double[] DurationBuckets = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];

    private static readonly JobPhase[] Phases = Enum.GetValues<JobPhase>();

    private readonly Counter<long> _migrations;
    private readonly Histogram<double> _durations;
    private readonly Histogram<double> _downtime;
    private readonly Counter<long> _archiveBytes;
    private readonly Histogram<double> _failovers;
    private readonly Histogram<double> _protectionPause;
    // Written by the actors, read by the exporter's thread: whole values swapped, never mutated in place.
    private volatile int[] _jobsByPhase = new int[Phases.Length];
    private int _outgoing;
    private int _incoming;
    /// <summary>UTC ticks of the oldest last protection checkpoint among the running jobs owned here; 0: none.</summary>
    private long _oldestProtection;
    private volatile Cluster? _cluster;
    private volatile IActorRef? _supervisor;

    public NodeMetrics()
    {
        Meter = new Meter(MeterName, typeof(NodeMetrics).Assembly.GetName().Version?.ToString());
        _migrations = Meter.CreateCounter<long>("akkamigration.migrations", "{migration}",
            "Migrations that ended on this node, by result (moved, failed, resumed, lost) and direction (out: this node was the source; in: the target)");
        _durations = Meter.CreateHistogram<double>("akkamigration.migration.duration", "ms",
            "Where a successful migration's time went, by phase: checkpoint, transfer (what it added after the checkpoint), restore, total; measured on the source",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _downtime = Meter.CreateHistogram<double>("akkamigration.migration.downtime", "ms",
            "How long the container was frozen in a successful migration: checkpoint, transfer and restore back to back; measured on the source",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _archiveBytes = Meter.CreateCounter<long>("akkamigration.archive", "By",
            "Checkpoint archive bytes of successful migrations, by direction (out: sent, in: received)");
        _failovers = Meter.CreateHistogram<double>("akkamigration.failover.restore", "ms",
            "Jobs this node resumed from a replica after their owner's host was lost (the count), and how long each restore took",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _protectionPause = Meter.CreateHistogram<double>("akkamigration.protection.pause", "ms",
            "How long each protection checkpoint kept a job's container frozen, on its owner",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        Meter.CreateObservableGauge("akkamigration.protection.checkpoint.age.max", ObserveProtectionAge, "s",
            "The age of the oldest last protection checkpoint among the protected jobs running here: the most work a failover would lose now");
        Meter.CreateObservableGauge("akkamigration.jobs", ObserveJobs, "{job}", "Jobs this node owns, by phase");
        Meter.CreateObservableGauge("akkamigration.transfers.active", ObserveTransfers, "{transfer}",
            "Migrations under way on this node, by direction (out: as source, in: as target)");
        Meter.CreateObservableGauge("akkamigration.cluster.members.up", ObserveMembers, "{node}", "Cluster members this node sees Up");
    }

    public Meter Meter { get; }

    /// <summary>The cluster this node is a member of, once its supervisor has started; for readiness.</summary>
    public Cluster? Cluster => _cluster;

    /// <summary>The node's supervisor, once started; for readiness.</summary>
    public IActorRef? Supervisor => _supervisor;

    /// <summary>Called by the supervisor as it starts: the cluster's view feeds the members gauge and readiness.</summary>
    public void Attach(Cluster cluster, IActorRef supervisor) => (_cluster, _supervisor) = (cluster, supervisor);

    /// <summary>A migration's end; a move's timeline where it was taken.</summary>
    /// <param name="timings">Null where none were taken: a failed move, or one settled after a restart.</param>
    /// <param name="whole">False when the target's answers were lost (the source settled the move by asking): only the checkpoint was measured.</param>
    public void Ended(MigrationResult result, MigrationDirection direction, MigrationTimings? timings = null, bool whole = false)
    {
        _migrations.Add(1, Tag("result", result), Tag("direction", direction));
        if (timings is null)
        {
            return;
        }
        ArchiveBytes(timings.ArchiveBytes, direction);
        _durations.Record(timings.CheckpointMs, Phase("checkpoint"));
        if (timings.Dump is { } dump)
        {
            // CRIU's share of the checkpoint: the rest is podman and runc around it, and the archive's export.
            _durations.Record(dump.FrozenMs, Phase("criu_dump"));
        }
        if (!whole)
        {
            return;
        }
        _durations.Record(timings.TransferMs, Phase("transfer"));
        _durations.Record(timings.RestoreMs, Phase("restore"));
        _durations.Record(timings.TotalMs, Phase("total"));
        _downtime.Record(Downtime(timings));
    }

    /// <summary>The container is frozen from the checkpoint's start until the restore's end: those three phases back to back.</summary>
    public static long Downtime(MigrationTimings timings) => timings.CheckpointMs + timings.TransferMs + timings.RestoreMs;

    public void ArchiveBytes(long bytes, MigrationDirection direction) => _archiveBytes.Add(bytes, Tag("direction", direction));

    /// <summary>The jobs the supervisor owns, counted as it changes them.</summary>
    public void Jobs(IEnumerable<JobStatus> owned)
    {
        var counts = new int[Phases.Length];
        var oldest = long.MaxValue;
        foreach (var job in owned)
        {
            counts[(int)job.Phase]++;
            if (job is { Phase: JobPhase.Running, LastProtection: { } last })
            {
                oldest = Math.Min(oldest, last.TakenAt.UtcTicks);
            }
        }
        _jobsByPhase = counts;
        Volatile.Write(ref _oldestProtection, oldest == long.MaxValue ? 0 : oldest);
    }

    public void ProtectionPaused(long pauseMs) => _protectionPause.Record(pauseMs);

    public void FailedOver(long restoreMs) => _failovers.Record(restoreMs);

    public void OutgoingStarted() => Interlocked.Increment(ref _outgoing);

    public void OutgoingEnded() => Interlocked.Decrement(ref _outgoing);

    public void Incoming(int transfers) => Volatile.Write(ref _incoming, transfers);

    private IEnumerable<Measurement<int>> ObserveJobs()
    {
        var counts = _jobsByPhase;
        return Phases.Select(p => new Measurement<int>(counts[(int)p], new KeyValuePair<string, object?>("phase", p.ToString().ToLowerInvariant())));
    }

    private IEnumerable<Measurement<double>> ObserveProtectionAge() => Volatile.Read(ref _oldestProtection) is var ticks and > 0
        ? [new(Math.Max(0, (DateTimeOffset.UtcNow - new DateTimeOffset(ticks, TimeSpan.Zero)).TotalSeconds))]
        : [];

    private IEnumerable<Measurement<int>> ObserveTransfers() =>
    [
        new(Volatile.Read(ref _outgoing), Tag("direction", MigrationDirection.Out)),
        new(Volatile.Read(ref _incoming), Tag("direction", MigrationDirection.In)),
    ];

    /// <summary>Cluster.State is a snapshot Akka replaces as gossip arrives: safe to read from the exporter's thread.</summary>
    private IEnumerable<Measurement<int>> ObserveMembers() =>
        _cluster is { } cluster ? [new(cluster.State.Members.Count(m => m.Status == MemberStatus.Up))] : [];

    private static KeyValuePair<string, object?> Phase(string phase) => new("phase", phase);

    private static KeyValuePair<string, object?> Tag<T>(string key, T value) where T : Enum =>
        new(key, value.ToString().ToLowerInvariant());

    public void Dispose() => Meter.Dispose();
}

public enum MigrationResult
{
    /// <summary>The job runs on the target now.</summary>
    Moved,
    /// <summary>The target took nothing: its transfer failed or was given up (counted by the target).</summary>
    Failed,
    /// <summary>The move failed and the job runs on at its source (counted by the source).</summary>
    Resumed,
    /// <summary>The move failed and the job could not be resumed at its source either.</summary>
    Lost,
}

public enum MigrationDirection
{
    Out,
    In,
}
