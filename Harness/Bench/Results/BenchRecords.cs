using System.Text.Json.Serialization;
using AkkaMigration.Harness.Demos;

namespace AkkaMigration.Harness.Bench.Results;

/// <summary>
/// One line of a run's results.jsonl: a measurement, a failed part, or what the run was. Each is
/// appended as soon as it is taken, so an interrupted run keeps what it measured.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(RunFacts), "run")]
[JsonDerivedType(typeof(LinkShaped), "link")]
[JsonDerivedType(typeof(HandMove), "hand")]
[JsonDerivedType(typeof(OursMove), "ours")]
[JsonDerivedType(typeof(ServiceMove), "service")]
[JsonDerivedType(typeof(TenMoves), "ten")]
[JsonDerivedType(typeof(ClientStatus), "status")]
[JsonDerivedType(typeof(CompressedMove), "compression")]
[JsonDerivedType(typeof(FailoverTimed), "failover")]
[JsonDerivedType(typeof(ProtectionThroughput), "protect-throughput")]
[JsonDerivedType(typeof(ProtectionPause), "protect-pause")]
[JsonDerivedType(typeof(PartFailed), "failed")]
[JsonDerivedType(typeof(RunEnded), "end")]
public abstract record BenchRecord;

/// <summary>The single moves' two series: the workloads (BENCH_WORKLOADS) and the big containers (BENCH_BIG).</summary>
public enum Series
{
    Main,
    Big,
}

/// <summary>The machine, the software and the knobs of a run, written first.</summary>
/// <param name="OtherNetns">Other simulated hosts' prefixes at the start: the machine was shared.</param>
/// <param name="TestProcesses">dotnet test processes running at the start.</param>
public sealed record RunFacts(
    string Date, int Cpus, string Kernel, string Criu, string Podman, bool PrecopySupported, string Prefix,
    int ChunkKb, int Window, long MaxArchiveMb, int RestoreTimeoutSeconds,
    IReadOnlyList<string> OtherNetns, int TestProcesses, double LoadAtStart, string Command,
    BenchSettings Settings) : BenchRecord;

/// <summary>The qdisc a host's eth0 had once a link was set up.</summary>
public sealed record LinkShaped(string Link, string Host, string Qdisc) : BenchRecord;

/// <summary>By hand's steps, each timed around its command: podman's checkpoint on A, the socat copy, podman's restore on B.</summary>
/// <param name="CheckpointStats">podman's <c>--print-stats</c> of the checkpoint, flattened (µs and counts).</param>
public sealed record HandMove(
    Series Series, string Link, int Mb, int Rep, double Load,
    long CheckpointMs, long CopyMs, long RestoreMs, long TotalMs, long Bytes,
    IReadOnlyDictionary<string, double> CheckpointStats, IReadOnlyDictionary<string, double> RestoreStats) : BenchRecord;

/// <summary>The client's <c>migrate --json</c> answer's figures, and the wall clock around the client process.</summary>
/// <param name="ClientMs">The client's own clock from the request to the answer, its start-up excluded.</param>
public sealed record OursTimings(
    long WallMs, long ClientMs, long NodeTotalMs, long CheckpointMs, long TransferMs, long RestoreMs, long StreamMs, long Bytes);

/// <summary>Both nodes' RSS just before a move and their peak during it (VmHWM after clear_refs), in KiB.</summary>
public sealed record NodeMemory(long RssAKb, long RssBKb, long HwmAKb, long HwmBKb)
{
    /// <summary>The larger of the two nodes' growth, MiB.</summary>
    [JsonIgnore]
    public double GrowthMb => Math.Max(HwmAKb - RssAKb, HwmBKb - RssBKb) / 1024.0;
}

/// <summary>A worker moved nodeA → nodeB through the cluster.</summary>
public sealed record OursMove(Series Series, string Link, int Mb, int Rep, double Load, OursTimings Move, NodeMemory Memory) : BenchRecord;

/// <summary>By hand or ours.</summary>
public enum MovePath
{
    Hand,
    Ours,
}

/// <summary>The key-value service moved while a client writes to it: by hand's steps or ours' figures, and what `worker kv-load` saw on its one connection.</summary>
public sealed record ServiceMove(
    MovePath Path, string Link, int Mb, int Rep, double Load, long KvRssKb,
    HandSteps? Hand, OursTimings? Ours, NodeMemory? Memory, KeyValueLoadSummary Client) : BenchRecord
{
    /// <summary>No write lost and the connection kept.</summary>
    [JsonIgnore]
    public bool KeptEverything => Client.Lost == 0 && Client.ConnectionKept;
}

/// <summary>By hand's timed steps of a service move.</summary>
public sealed record HandSteps(long CheckpointMs, long CopyMs, long RestoreMs, long TotalMs, long Bytes);

/// <summary>Serial or concurrent.</summary>
public enum TenMode
{
    Serial,
    Concurrent,
}

/// <summary>One move of the serial runs: the client process's wall time against the node's own figure.</summary>
public sealed record SerialMoveTime(long ClientWallMs, long NodeMs);

/// <summary>N small jobs moved one after another or all at once.</summary>
public sealed record TenMoves(TenMode Mode, int Rep, double Load, long WallMs, int Ok, int Of, IReadOnlyList<SerialMoveTime> Serial) : BenchRecord;

/// <summary>The wall time of one <c>client status</c> process: the installed client's, then the checkout's dll.</summary>
public sealed record ClientStatus(int Rep, double Load, long WallMs, long DllMs) : BenchRecord;

/// <summary>Ours with the nodes on a config of this compression, incompressible (random) or compressible (text) state.</summary>
public sealed record CompressedMove(string Compression, string State, string Link, int Mb, int Rep, double Load, OursTimings Move, NodeMemory Memory) : BenchRecord;

/// <summary>
/// A protected job's host burnt (three fenced hosts): from the burn's first kill to the survivors' declaring
/// it lost (the lease), from the replica's "resuming it here" to the container running there (the restore),
/// and from the burn to running (the whole failover).
/// </summary>
public sealed record FailoverTimed(int Rep, double Load, long FailoverMs, long LeaseMs, long RestoreMs, string ResumedOn) : BenchRecord;

/// <summary>One worker of the side-by-side window: its protection ("none", "5s", "30s"), the ticks it did in its seconds, its protection checkpoints then.</summary>
public sealed record WorkerThroughput(string Protect, int Ticks, double Seconds, int Checkpoints)
{
    [JsonIgnore]
    public double TicksPerSecond => Seconds > 0 ? Ticks / Seconds : double.NaN;
}

/// <summary>Workers of the same state, unprotected and protected, run side by side on one host for the same wall time.</summary>
public sealed record ProtectionThroughput(int Rep, int StateMb, double Load, IReadOnlyList<WorkerThroughput> Workers) : BenchRecord;

/// <summary>The pause (frozen ms) of each protection checkpoint of a job with this state, and its archive's size.</summary>
public sealed record ProtectionPause(int StateMb, int Rep, double Load, IReadOnlyList<long> FrozenMs, long Bytes) : BenchRecord;

/// <summary>A part of the benchmark that failed: its reason becomes the figures' that needed it.</summary>
public sealed record PartFailed(string Part, string Link, int? Mb, int? Rep, string? Compression, string? State, string Reason) : BenchRecord;

/// <summary>Written last: whether tests ran beside the run at its end.</summary>
public sealed record RunEnded(int TestProcesses) : BenchRecord;
